package ld

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	jsonld "github.com/piprate/json-gold/ld"

	"github.com/idmesh/idmesh/credential"
)

// ErrAliasedTerm reports a member, type or identifier whose JSON spelling
// differs from what it means in the RDF graph a proof signs, where the
// checks of a verifier read the spelling: a VC or security vocabulary IRI
// named by anything but its standard term, a standard term that does not
// mean its standard IRI, a keyword alias, or a node described twice.
// [CheckTerms] reports it with the code [credential.MalformedValueError].
var ErrAliasedTerm = errors.New("member does not mean what its name says")

// Protected vocabularies: an IRI in one of these namespaces may only be
// named by a term that a bundled context defines for it. Three IRIs are
// protected alone: rdf:type (a property that means it would add types
// the checks do not read), and the IRIs of a proof's created and a
// related resource's mediaType, which checks read too.
var protectedNamespaces = []string{
	"https://www.w3.org/2018/credentials#",
	"https://w3id.org/security#",
	"https://www.w3.org/ns/credentials/status#",
	"https://w3id.org/vc/status-list#",
}

// credVerifiableCredential is the property of a presentation's
// credentials.
const credVerifiableCredential = "https://www.w3.org/2018/credentials#verifiableCredential"

// protectedIRI reports whether iri is in a protected vocabulary.
func protectedIRI(iri string) bool {
	switch iri {
	case rdfType, "http://purl.org/dc/terms/created", "https://schema.org/encodingFormat":
		return true
	}
	for _, ns := range protectedNamespaces {
		if strings.HasPrefix(iri, ns) {
			return true
		}
	}
	return false
}

// standard is what the bundled contexts define: every term's IRIs (in any
// bundled context, at the top or in a scoped context), and the terms that
// name a protected IRI or a keyword somewhere, which must mean one of
// their standard IRIs wherever they appear.
type standard struct {
	iris     map[string]map[string]bool // term → IRIs (or keywords) it is defined as
	reserved map[string]bool            // terms defined as a protected IRI or a keyword
}

// means reports whether a bundled context defines term as iri.
func (s *standard) means(term, iri string) bool { return s.iris[term][iri] }

// spelled lists the terms bundled contexts define as iri, for a message.
func (s *standard) spelled(iri string) string {
	var out []string
	for t, m := range s.iris {
		if m[iri] {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return "no term: it may not be used"
	}
	sort.Strings(out)
	return "only " + strings.Join(out, ", ") + " may name it"
}

// standardTerms is computed once from the pinned contexts.
var standardTerms = sync.OnceValue(func() *standard {
	s := &standard{iris: map[string]map[string]bool{}, reserved: map[string]bool{}}
	opts := newJSONLDOptions(false)
	// Under each bundled context, a scoped context is explored once per
	// term and IRI that carries it, at most four levels down, terms in
	// order.
	var explored map[[2]string]bool
	var visit func(c *jsonld.Context, depth int)
	visit = func(c *jsonld.Context, depth int) {
		terms := slices.Sorted(maps.Keys(c.TermDefinitions))
		for _, term := range terms {
			td := c.TermDefinitions[term]
			if td == nil || strings.Contains(term, ":") {
				continue
			}
			if s.iris[term] == nil {
				s.iris[term] = map[string]bool{}
			}
			s.iris[term][td.ID] = true
			if protectedIRI(td.ID) || jsonld.IsKeyword(td.ID) {
				s.reserved[term] = true
			}
			if k := [2]string{term, td.ID}; td.HasContext && depth < 4 && !explored[k] {
				explored[k] = true
				if sc, err := parseOverridingProtected(c, td.Context); err == nil {
					visit(sc, depth+1)
				}
			}
		}
	}
	for _, url := range Known() {
		c, err := jsonld.NewContext(nil, opts).Parse(url)
		if err != nil {
			continue // it needs a context that is not bundled: never usable
		}
		explored = map[[2]string]bool{}
		visit(c, 0)
	}
	return s
})

// termCheck is the state of [CheckTerms]'s walk, which rides on the
// expansion: the expander calls it with every member name, type and
// identifier it expands, in the active context it expands them in.
type termCheck struct {
	std *standard
	// graph numbers the graph being expanded (0: the default graph;
	// each @graph container value is a graph of its own), described the
	// nodes that got protected statements from a node object, by graph.
	graph, graphs int
	described     map[graphNode]bool
}

type graphNode struct {
	graph int
	id    string
}

func aliased(format string, args ...any) error {
	return credential.Errorf(credential.MalformedValueError, "%w: "+format, append([]any{ErrAliasedTerm}, args...)...)
}

// valueKeywords are the keywords a value object may use as member names.
var valueKeywords = map[string]bool{"@value": true, "@language": true, "@direction": true, "@type": true}

// member checks a member name key of a node or value object, which
// expands to iri with the term definition td (nil when key is not a
// term) in the active context.
func (t *termCheck) member(key, iri string, td *jsonld.TermDefinition, isValue bool, active *jsonld.Context) error {
	if jsonld.IsKeyword(iri) {
		switch {
		case key == "id" && iri == "@id", key == "type" && iri == "@type":
			return nil
		case key == iri && isValue && valueKeywords[key]:
			return nil
		case key == iri:
			return aliased("the keyword %s is not accepted as a member name", key)
		}
		return aliased("member %q is an alias of the keyword %s; only id and type may alias keywords", key, iri)
	}
	if t.std.reserved[key] && !t.std.means(key, iri) {
		return aliased("member %q means <%s>, not what the bundled contexts define it as", key, iri)
	}
	if protectedIRI(iri) {
		if !t.std.means(key, iri) {
			return aliased("member %q means <%s>, of the VC or security vocabulary: %s", key, iri, t.std.spelled(iri))
		}
		if td != nil && td.Reverse {
			return aliased("member %q is a reverse property of <%s>", key, iri)
		}
	}
	if td != nil && td.Index != "" {
		return aliased("member %q is a property-valued index map, which is not accepted", key)
	}
	for _, c := range []string{"@id", "@type"} {
		if active.HasContainerMapping(key, c) {
			return aliased("member %q is a %s map, which is not accepted", key, c)
		}
	}
	return nil
}

// typeValue checks one type s of a node object, which expands to iri.
func (t *termCheck) typeValue(s, iri string) error {
	if t.std.reserved[s] && !t.std.means(s, iri) {
		return aliased("type %q means <%s>, not what the bundled contexts define it as", s, iri)
	}
	if protectedIRI(iri) && !t.std.means(s, iri) {
		return aliased("type %q means <%s>, of the VC or security vocabulary: %s", s, iri, t.std.spelled(iri))
	}
	return nil
}

// identifier checks that an IRI written out (it has a scheme) is the IRI
// it expands to: a context may define "did" or "urn" as a prefix, and
// then "did:example:1" would name another node than the one the checks
// read.
func (t *termCheck) identifier(s, iri string) error {
	if strings.Contains(s, ":") && !strings.HasPrefix(s, "_:") && s != iri {
		return aliased("the identifier %q means <%s>: a context redefines its scheme as a prefix", s, iri)
	}
	return nil
}

// node records that a node object gave the node id statements in a
// protected vocabulary: a second node object that does so for the same
// node in the same graph is refused, since the checks read each node's
// members from one object.
func (t *termCheck) node(id string) error {
	k := graphNode{t.graph, id}
	if t.described[k] {
		return aliased("the node %s is described by more than one object", id)
	}
	t.described[k] = true
	return nil
}

// enterGraph starts a named graph; the returned function ends it.
func (t *termCheck) enterGraph() func() {
	saved := t.graph
	t.graphs++
	t.graph = t.graphs
	return func() { t.graph = saved }
}

// hasProtected reports whether an expanded node object states something
// in a protected vocabulary (a property or a type).
func hasProtected(result map[string]any) bool {
	for k, v := range result {
		if k == "@type" {
			for _, ty := range jsonld.Arrayify(v) {
				if s, ok := ty.(string); ok && protectedIRI(s) {
					return true
				}
			}
			continue
		}
		if protectedIRI(k) {
			return true
		}
	}
	return false
}

// CheckTerms reports an error unless every member name, type and
// identifier of doc (a credential or presentation, with its proofs and
// the credentials it carries) means in the RDF graph what it says in
// JSON, so that checks which read JSON members by name see what an
// eddsa-rdfc-2022 proof signs.
//
// A document whose every @context is a URL (bundled contexts define the
// VC and security terms as protected), whose member names are terms (no
// ':', no keyword but @context and those of value objects:
// [credential.CheckPlain]), in which no id repeats, no type has a ':' and
// no string starts with a bundled term and ':' (a compact IRI) is
// accepted without JSON-LD work. Any other document (inline context
// objects, IRI or compact IRI member names or types, a repeated id) is
// expanded with the bundled contexts only, within opts's bounds and
// opts.Budget, and refused (MalformedValueError wrapping
// [ErrAliasedTerm]) if, in the context active where it appears:
//
//   - a member name, or a type of a node, means an IRI of the VC
//     (https://www.w3.org/2018/credentials#,
//     https://www.w3.org/ns/credentials/status#,
//     https://w3id.org/vc/status-list#) or security
//     (https://w3id.org/security#) vocabularies, or rdf:type, but is not
//     a term that a bundled context defines as that IRI;
//   - a term that a bundled context defines as such an IRI or a keyword
//     (validUntil, type, id, …) means something else;
//   - a member name is a keyword, or an alias of one, other than id
//     (@id), type (@type), @context and a value object's @value,
//     @language, @direction and @type;
//   - a property of a protected IRI is reverse, or a member is an @id or
//     @type map or a property-valued index map;
//   - an identifier written with a scheme expands to another IRI (a
//     context made its scheme a prefix);
//   - two objects in one graph give the same node statements in these
//     vocabularies.
//
// A presentation's credentials (verifiableCredential) are not walked:
// each is a graph of its own, expanded from an empty context, and the
// verifier checks each on its own. The registered claims of a JWT are
// not JSON-LD: a caller names them in opts.Ignore (or removes them).
// Other errors are those of
// expansion: UnknownContextError for a context
// URL that is not bundled, UndefinedTermError, ParsingError (a protected
// term redefined), LimitExceededError.
func CheckTerms(ctx context.Context, doc map[string]any, opts Options) error {
	std := standardTerms()
	// The fast path reads doc without the ignored members. CheckPlain
	// refuses a document for one of its members, so one that passes
	// passes without some of them; only one that fails is checked again
	// without them (a copy).
	plain := credential.CheckPlain(doc) == nil
	if !plain && hasAny(doc, opts.Ignore) {
		plain = credential.CheckPlain(without(doc, opts.Ignore)) == nil
	}
	if plain && (&fastPath{std: std, ignore: opts.Ignore}).ok(doc, true) {
		return nil
	}
	doc = without(doc, opts.Ignore)
	if err := ctx.Err(); err != nil {
		return credential.Errorf(credential.MalformedValueError, "check terms: %w", err)
	}
	lim := opts.limits()
	if opts.Budget != nil && !opts.Budget.clamp(&lim) {
		return credential.Errorf(credential.LimitExceededError,
			"check terms: %w: the JSON-LD work budget of this request (one document's bounds for all its documents) is spent", ErrTooMuchWork)
	}
	if err := CheckDocument(doc, opts); err != nil {
		return err
	}
	if n := inlineContextValues(doc, false); n > MaxInlineContextValues {
		return limitError("check terms", ErrDocumentTooLarge, MaxInlineContextValues, "JSON values in inline contexts")
	}
	if inlineImports(doc, false) {
		// An @import brings a whole bundled context into a few values,
		// past the bound above, for every scope that uses it.
		return credential.Errorf(credential.MalformedValueError, "check terms: @import is not accepted in inline contexts: name the context by URL in @context")
	}
	check := &termCheck{std: std, described: map[graphNode]bool{}}
	expanded, err := expandWith(doc, !opts.AllowUndefinedTerms, lim.contexts, check)
	if err != nil {
		return err
	}
	// The expansion's values are charged as Canonicalize charges them, so
	// that a presentation's documents share one bound.
	budget := newNodeMapBudget(lim.quads, lim.nodeMapWork)
	err = budget.walk(expanded, "@default", "", "", false, false)
	if opts.Budget != nil {
		opts.Budget.take(Spent{Quads: budget.values, NodeMapWork: budget.work})
	}
	return err
}

// MaxInlineContextValues bounds the JSON values of all the inline context
// objects of a document (CheckTerms refuses more with
// LimitExceededError): each term of an inline context is processed by
// json-gold, and again by every scoped context derived from it, so 15,000
// terms cost a quarter of a second. Inline contexts in credentials define
// a few terms; 500 values are a hundred or more with their definitions.
const MaxInlineContextValues = 500

// inlineContextValues counts the JSON values inside the @context members
// of v that are not a URL (in counts whether v is inside one).
func inlineContextValues(v any, in bool) int {
	n := 0
	if in {
		n = 1
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "@context" && !in {
				if _, isURL := e.(string); !isURL {
					n += inlineContextValues(e, true)
				}
				continue
			}
			n += inlineContextValues(e, in)
		}
	case []any:
		for _, e := range x {
			n += inlineContextValues(e, in)
		}
	}
	return n
}

// inlineImports reports whether an inline context of v (in says whether
// v is inside one) has an @import.
func inlineImports(v any, in bool) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			switch {
			case in && k == "@import":
				return true
			case k == "@context" && !in:
				if _, isURL := e.(string); !isURL && inlineImports(e, true) {
					return true
				}
			case inlineImports(e, in):
				return true
			}
		}
	case []any:
		for _, e := range x {
			if inlineImports(e, in) {
				return true
			}
		}
	}
	return false
}

// without returns doc without the members of names: doc itself when it
// has none of them, else a copy.
func without(doc map[string]any, names []string) map[string]any {
	if !hasAny(doc, names) {
		return doc
	}
	out := doc
	for _, n := range names {
		if _, ok := doc[n]; ok {
			if len(out) == len(doc) {
				out = maps.Clone(doc)
			}
			delete(out, n)
		}
	}
	return out
}

// hasAny reports whether doc has a member of names.
func hasAny(doc map[string]any, names []string) bool {
	for _, n := range names {
		if _, ok := doc[n]; ok {
			return true
		}
	}
	return false
}

// fastPath walks a document that credential.CheckPlain accepts and
// reports whether it may skip expansion: no "id" repeats on two objects
// (a presentation's credentials, checked on their own, aside), no type
// is an IRI or compact IRI, and no string starts with the name of a
// bundled term and a colon (which JSON-LD would read as a compact IRI:
// "sec:x").
type fastPath struct {
	std *standard
	// ignore are top-level members left out (Options.Ignore).
	ignore []string
	// ids are the first objects' ids, seen the others' (most documents
	// have a few: no map for them).
	ids  [8]string
	nids int
	seen map[string]bool
}

// see records id, reporting false if an object had it already.
func (f *fastPath) see(id string) bool {
	for _, s := range f.ids[:f.nids] {
		if s == id {
			return false
		}
	}
	if f.seen[id] {
		return false
	}
	if f.nids < len(f.ids) {
		f.ids[f.nids] = id
		f.nids++
		return true
	}
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	f.seen[id] = true
	return true
}

func (f *fastPath) ok(v any, top bool) bool {
	switch x := v.(type) {
	case map[string]any:
		ignored := top && slices.Contains(f.ignore, "id")
		if id, isString := x["id"].(string); isString && !ignored && !f.see(id) {
			return false
		}
		t := x["type"]
		if top && slices.Contains(f.ignore, "type") {
			t = nil
		}
		switch t := t.(type) {
		case string:
			if strings.Contains(t, ":") {
				return false
			}
		case []any:
			for _, e := range t {
				if s, isString := e.(string); isString && strings.Contains(s, ":") {
					return false
				}
			}
		}
		for k, e := range x {
			if top && (k == "verifiableCredential" || slices.Contains(f.ignore, k)) {
				continue // a presentation's credentials are checked on their own
			}
			if !f.ok(e, false) {
				return false
			}
		}
	case []any:
		for _, e := range x {
			if !f.ok(e, false) {
				return false
			}
		}
	case string:
		if prefix, rest, found := strings.Cut(x, ":"); found && !strings.HasPrefix(rest, "//") && f.std.iris[prefix] != nil {
			return false
		}
	}
	return true
}

package ld

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gowebpki/jcs"
	jsonld "github.com/piprate/json-gold/ld"

	"github.com/idmesh/idmesh/credential"
)

// Package defaults of the bounds in [Options].
const (
	// DefaultMaxQuads bounds the quads of a dataset, and the values and
	// list items of the expanded document (each makes at least one quad).
	// Credentials have tens; at the bound, the whole of Canonicalize
	// takes about 25 ms (BenchmarkWorstCase in credential/dataintegrity).
	DefaultMaxQuads      = 5_000
	DefaultMaxBlankNodes = 1_000
	// DefaultMaxWork bounds the steps of the N-degree hashing (calls,
	// permutations and related-node hashes). Real credentials need none or
	// a few dozen; a poison graph exhausts it in tens of milliseconds (a
	// 5-clique of blank nodes costs about 8,500 units, a 6-clique 77,000).
	DefaultMaxWork = 20_000
)

// Errors of Canonicalize, wrapped in a [*credential.Error].
var (
	// ErrTooLarge reports a dataset with more quads or blank nodes than
	// Options allow.
	ErrTooLarge = errors.New("RDF dataset too large")
	// ErrTooMuchWork reports a document whose processing would exceed a
	// bound on work: Options.MaxWork (blank nodes so symmetric that the
	// N-degree hashing explodes), MaxNodeMapWork or MaxContexts.
	ErrTooMuchWork = errors.New("RDF canonicalization work limit exceeded")
	// ErrDocumentTooLarge reports a JSON document over a bound of
	// [CheckDocument]: values, depth or bytes of strings.
	ErrDocumentTooLarge = errors.New("JSON-LD document too large")
	// ErrUndefinedTerm reports data that JSON-LD processing would drop or
	// could not map to an absolute IRI (safe mode).
	ErrUndefinedTerm = errors.New("undefined term")
)

// Options of Canonicalize. The zero value is the safe default.
type Options struct {
	// AllowUndefinedTerms turns off "safe mode": by default a term or
	// property that no context defines, a relative IRI that cannot be
	// resolved, or any value JSON-LD expansion would silently drop is an
	// error (credential.UndefinedTermError), as VC Data Integrity requires.
	AllowUndefinedTerms bool
	// MaxQuads, MaxBlankNodes, MaxWork bound the work; zero means the
	// package defaults (DefaultMaxQuads, DefaultMaxBlankNodes,
	// DefaultMaxWork). A negative value means no bound. MaxQuads also
	// bounds the values and list items of the expanded document.
	MaxQuads, MaxBlankNodes, MaxWork int
	// MaxNodes, MaxContexts and MaxNodeMapWork bound the JSON values of
	// the document, the contexts processed outside the cache and the
	// comparisons of node map generation, with the same conventions
	// (DefaultMaxNodes, DefaultMaxContexts, DefaultMaxNodeMapWork).
	MaxNodes, MaxContexts, MaxNodeMapWork int
	// Ignore names top-level members of the document that are not
	// JSON-LD (the registered claims of a JWT's payload): CheckTerms reads
	// the document as if they were absent. Canonicalize does not read it.
	Ignore []string
	// Budget, when set, is shared with other calls (the documents of one
	// request): the bounds on quads, blank nodes, work and node-map work
	// are then at most what remains of it, and this call's work is taken
	// from it. See [Budget].
	Budget *Budget
}

// bounds are the effective bounds of Options.
type bounds struct {
	quads, blanks, work, nodes, contexts, nodeMapWork int
}

func (o Options) limits() bounds {
	pick := func(v, def int) int {
		switch {
		case v == 0:
			return def
		case v < 0:
			return math.MaxInt
		}
		return v
	}
	return bounds{
		quads: pick(o.MaxQuads, DefaultMaxQuads), blanks: pick(o.MaxBlankNodes, DefaultMaxBlankNodes), work: pick(o.MaxWork, DefaultMaxWork),
		nodes: pick(o.MaxNodes, DefaultMaxNodes), contexts: pick(o.MaxContexts, DefaultMaxContexts), nodeMapWork: pick(o.MaxNodeMapWork, DefaultMaxNodeMapWork),
	}
}

// Canonicalize expands doc (a JSON value as decoded by encoding/json, i.e.
// map[string]any) with the bundled contexts only, converts it to an RDF
// dataset and returns its RDFC-1.0 canonical N-Quads (each line ending in
// "\n", lines sorted).
//
// Errors carry a [credential.Code]: UnknownContextError (wrapping
// [ErrUnknownContext]) for a context that is not bundled,
// UndefinedTermError in safe mode, ParsingError for JSON-LD that cannot be
// expanded, LimitExceededError for a document over a bound
// ([ErrDocumentTooLarge], [ErrTooLarge], [ErrTooMuchWork]; see
// [CheckDocument] and [Options]), and MalformedValueError for a cancelled
// ctx. Every bound is checked before or while the work it bounds is done.
func Canonicalize(ctx context.Context, doc any, opts Options) ([]byte, error) {
	lim := opts.limits()
	if opts.Budget != nil && !opts.Budget.clamp(&lim) {
		return nil, credential.Errorf(credential.LimitExceededError,
			"canonicalize: %w: the JSON-LD work budget of this request (one document's bounds for all its documents) is spent", ErrTooMuchWork)
	}
	if err := CheckDocument(doc, opts); err != nil {
		return nil, err
	}
	safe := !opts.AllowUndefinedTerms
	expanded, err := expand(doc, safe, lim.contexts)
	if err != nil {
		return nil, err
	}
	var spent Spent
	if opts.Budget != nil {
		defer func() { opts.Budget.take(spent) }()
	}
	budget := newNodeMapBudget(lim.quads, lim.nodeMapWork)
	err = budget.walk(expanded, "@default", "", "", false, false)
	spent.Quads, spent.NodeMapWork = budget.values, budget.work
	if err != nil {
		return nil, err
	}
	quads, err := toRDF(expanded, safe, lim.quads, budget.values)
	if err != nil {
		return nil, err
	}
	c := newCanonicalizer(ctx, quads, lim.work)
	spent.BlankNodes = len(c.bnQuads)
	if n := len(c.bnQuads); n > lim.blanks {
		return nil, limitError("canonicalize", ErrTooLarge, lim.blanks, "blank nodes")
	}
	out, err := c.run()
	spent.Work = c.work
	if errors.Is(err, ErrTooMuchWork) {
		return nil, credential.Errorf(credential.LimitExceededError, "canonicalize: %w", err)
	}
	if err != nil {
		return nil, credential.Errorf(credential.MalformedValueError, "canonicalize: %w", err)
	}
	return out, nil
}

// ctxCache holds processed top-level contexts, keyed by safe mode and the
// list of context URLs, so that json-gold's slow context processing runs
// once per combination; each entry also keeps the property- and
// type-scoped contexts derived from it (ctxNode). A json-gold Context is
// read-only during expansion (processing a context copies it), so sharing
// it between goroutines is safe. The cache is bounded: past
// maxCachedContexts top-level entries, or maxScopedContexts derived ones,
// new combinations are processed every time.
var (
	ctxCache        sync.Map // ctxKey → *ctxNode
	ctxCacheSize    atomic.Int64
	scopedCacheSize atomic.Int64
)

const (
	maxCachedContexts = 256
	maxScopedContexts = 4096
)

type ctxKey struct {
	safe bool
	urls string
}

// ctxNode is a cached processed context and the scoped contexts derived
// from it, keyed by the term definition (of a cached context) whose local
// context was applied, and whether it was applied as a type-scoped
// context.
type ctxNode struct {
	ctx *jsonld.Context
	// prev is the context that reverting a type-scoped context yields
	// (json-gold's previousContext), nil if there is none.
	prev     *ctxNode
	children sync.Map // scopedKey → *ctxNode
}

type scopedKey struct {
	td         *jsonld.TermDefinition
	typeScoped bool
}

func (n *ctxNode) child(td *jsonld.TermDefinition, typeScoped bool) *ctxNode {
	if c, ok := n.children.Load(scopedKey{td, typeScoped}); ok {
		return c.(*ctxNode)
	}
	return nil
}

// addChild caches c, the result of applying td's local context to n.ctx,
// and returns the cached node (nil when c is not cached).
func (n *ctxNode) addChild(td *jsonld.TermDefinition, typeScoped bool, c *jsonld.Context) *ctxNode {
	if scopedCacheSize.Load() >= maxScopedContexts {
		return nil
	}
	// Which context c reverts to: the one n.ctx reverts to, which c
	// inherits, or n.ctx itself when c is not propagated. A null in the
	// local context starts from an empty context; such a c is cached only
	// when it reverts to nothing.
	hasPrev := c.RevertToPreviousContext() != c
	child := &ctxNode{ctx: c}
	switch {
	case slices.Contains(jsonld.Arrayify(td.Context), nil):
		if hasPrev {
			return nil
		}
	case n.prev != nil:
		if !hasPrev {
			return nil // not what json-gold does; do not guess
		}
		child.prev = n.prev
	case hasPrev:
		child.prev = n
	}
	got, loaded := n.children.LoadOrStore(scopedKey{td, typeScoped}, child)
	if !loaded {
		scopedCacheSize.Add(1)
	}
	return got.(*ctxNode)
}

func newJSONLDOptions(safe bool) *jsonld.JsonLdOptions {
	o := jsonld.NewJsonLdOptions("")
	o.DocumentLoader = loader{}
	o.ProcessingMode = jsonld.JsonLd_1_1
	o.SafeMode = safe
	return o
}

// expand runs JSON-LD expansion with the bundled contexts only.
func expand(doc any, safe bool, maxContexts int) ([]any, error) {
	return expandWith(doc, safe, maxContexts, nil)
}

// expandWith is expand with check, when not nil, called on every member
// name, type and identifier in the context it is expanded in.
func expandWith(doc any, safe bool, maxContexts int, check *termCheck) (out []any, err error) {
	defer func() {
		// json-gold has code paths that panic on malformed input (type
		// assertions); they must not take the caller down.
		if r := recover(); r != nil {
			out, err = nil, credential.Errorf(credential.ParsingError, "expand JSON-LD: invalid document (%v)", r)
		}
	}()
	opts := newJSONLDOptions(safe)
	e := &expander{safe: safe, nodes: map[*jsonld.Context]*ctxNode{}, maxContexts: maxContexts, check: check}
	active := jsonld.NewContext(nil, opts)
	body := doc
	if m, isMap := doc.(map[string]any); isMap {
		if local, hasCtx := m["@context"]; hasCtx {
			n, c, err := activeContext(local, safe, opts)
			if err != nil {
				return nil, expandError(err)
			}
			active = c
			if n != nil {
				e.nodes[c] = n
			}
			b := make(map[string]any, len(m)-1)
			for k, v := range m {
				if k != "@context" {
					b[k] = v
				}
			}
			body = b
		}
	}
	expanded, err := e.expand(active, "", body, false, nil)
	if err != nil {
		return nil, expandError(err)
	}
	// The final steps of the expansion algorithm (JsonLdProcessor.expand).
	if em, ok := expanded.(map[string]any); ok {
		if g, ok := em["@graph"]; ok && len(em) == 1 {
			expanded = g
		} else if len(em) == 0 {
			expanded = nil
		}
	}
	switch e := expanded.(type) {
	case nil:
		return []any{}, nil
	case []any:
		return e, nil
	default:
		return []any{e}, nil
	}
}

// activeContext processes a top-level @context, from the cache when it is
// a URL or a list of URLs; the node is nil when it is not cached.
func activeContext(local any, safe bool, opts *jsonld.JsonLdOptions) (*ctxNode, *jsonld.Context, error) {
	key, cacheable := contextKey(local)
	if cacheable {
		if n, ok := ctxCache.Load(ctxKey{safe, key}); ok {
			return n.(*ctxNode), n.(*ctxNode).ctx, nil
		}
	}
	c, err := jsonld.NewContext(nil, opts).Parse(local)
	if err != nil {
		return nil, nil, err
	}
	if !cacheable || c.RevertToPreviousContext() != c || ctxCacheSize.Load() >= maxCachedContexts {
		return nil, c, nil
	}
	// The key outlives the document: its own copy, not a substring of
	// the request (review R8).
	n, loaded := ctxCache.LoadOrStore(ctxKey{safe, strings.Clone(key)}, &ctxNode{ctx: c})
	if !loaded {
		ctxCacheSize.Add(1)
	}
	return n.(*ctxNode), n.(*ctxNode).ctx, nil
}

func contextKey(local any) (string, bool) {
	switch v := local.(type) {
	case string:
		// A URL with a newline is no bundled context; as a key it would
		// be the list of the URLs it joins.
		return v, !strings.Contains(v, "\n")
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok || strings.Contains(s, "\n") {
				return "", false
			}
			parts[i] = s
		}
		return strings.Join(parts, "\n"), true
	}
	return "", false
}

func expandError(err error) error {
	if credential.CodeOf(err, "") == credential.LimitExceededError || errors.Is(err, ErrAliasedTerm) {
		return err
	}
	if errors.Is(err, ErrUnknownContext) {
		return credential.Errorf(credential.UnknownContextError, "expand JSON-LD: %w", err)
	}
	var je *jsonld.JsonLdError
	if errors.As(err, &je) && je.Code == jsonld.InvalidProperty {
		return credential.Errorf(credential.UndefinedTermError, "expand JSON-LD: %w", fmt.Errorf("%w: %w", ErrUndefinedTerm, err))
	}
	return credential.Errorf(credential.ParsingError, "expand JSON-LD: %w", err)
}

// RDF terms and quads.

type termKind uint8

const (
	kindNone    termKind = iota // the default graph
	kindIRI                     // value is the IRI
	kindBlank                   // value is the label, without "_:"
	kindLiteral                 // value, datatype and lang
)

type term struct {
	kind            termKind
	value, datatype string
	lang            string
}

type quad struct{ s, p, o, g term }

const (
	xsdString     = "http://www.w3.org/2001/XMLSchema#string"
	xsdBoolean    = "http://www.w3.org/2001/XMLSchema#boolean"
	xsdInteger    = "http://www.w3.org/2001/XMLSchema#integer"
	xsdDouble     = "http://www.w3.org/2001/XMLSchema#double"
	rdfType       = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
	rdfFirst      = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
	rdfRest       = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"
	rdfNil        = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"
	rdfLangString = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
	rdfJSON       = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
)

// rdfBuilder runs the JSON-LD "Deserialize JSON-LD to RDF" algorithm over
// json-gold's node map. In safe mode anything the algorithm would skip is
// an error instead.
type rdfBuilder struct {
	safe     bool
	maxQuads int
	issuer   *jsonld.IdentifierIssuer
	quads    []quad
}

// toRDF converts an expanded document of about sizeHint values to quads.
func toRDF(expanded []any, safe bool, maxQuads, sizeHint int) (out []quad, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, credential.Errorf(credential.ParsingError, "convert JSON-LD to RDF: invalid document (%v)", r)
		}
	}()
	issuer := jsonld.NewIdentifierIssuer("_:b")
	nodeMap := map[string]any{"@default": map[string]any{}}
	if _, err := jsonld.NewJsonLdApi().GenerateNodeMap(expanded, nodeMap, "@default", issuer, "", "", nil); err != nil {
		return nil, credential.Errorf(credential.ParsingError, "convert JSON-LD to RDF: %w", err)
	}
	b := &rdfBuilder{safe: safe, maxQuads: maxQuads, issuer: issuer, quads: make([]quad, 0, min(sizeHint, maxQuads))}
	for graphName, g := range nodeMap {
		var gt term
		if graphName != "@default" {
			var ok bool
			if gt, ok, err = b.node(graphName, "graph name"); err != nil {
				return nil, err
			} else if !ok {
				continue
			}
		}
		if err := b.graph(gt, g.(map[string]any)); err != nil {
			return nil, err
		}
	}
	return b.quads, nil
}

// dropped reports data the conversion skips: an error in safe mode.
func (b *rdfBuilder) dropped(format string, args ...any) error {
	if !b.safe {
		return nil
	}
	return credential.Errorf(credential.UndefinedTermError, "convert JSON-LD to RDF: %w: "+format, append([]any{ErrUndefinedTerm}, args...)...)
}

// node maps a node identifier to an IRI or blank node term; ok is false
// when it is neither (a relative or malformed IRI).
func (b *rdfBuilder) node(id, what string) (term, bool, error) {
	if l, ok := strings.CutPrefix(id, "_:"); ok {
		return term{kind: kindBlank, value: l}, true, nil
	}
	if !absoluteIRI(id) {
		return term{}, false, b.dropped("%s %q is not an absolute IRI", what, id)
	}
	return term{kind: kindIRI, value: id}, true, nil
}

func (b *rdfBuilder) add(q quad) error {
	if len(b.quads) >= b.maxQuads {
		return limitError("convert JSON-LD to RDF", ErrTooLarge, b.maxQuads, "quads")
	}
	b.quads = append(b.quads, q)
	return nil
}

func (b *rdfBuilder) graph(g term, nodes map[string]any) error {
	for id, n := range nodes {
		s, ok, err := b.node(id, "subject")
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		node := n.(map[string]any)
		for prop, vals := range node {
			var p term
			switch {
			case prop == "@type":
				for _, t := range vals.([]any) {
					o, ok, err := b.node(t.(string), "type")
					if err != nil {
						return err
					}
					if ok {
						if err := b.add(quad{s, term{kind: kindIRI, value: rdfType}, o, g}); err != nil {
							return err
						}
					}
				}
				continue
			case jsonld.IsKeyword(prop):
				continue
			case strings.HasPrefix(prop, "_:"):
				if err := b.dropped("blank node property %q", prop); err != nil {
					return err
				}
				continue
			case !absoluteIRI(prop):
				if err := b.dropped("property %q is not an absolute IRI", prop); err != nil {
					return err
				}
				continue
			default:
				p = term{kind: kindIRI, value: prop}
			}
			for _, item := range vals.([]any) {
				o, ok, err := b.object(item, g)
				if err != nil {
					return err
				}
				if ok {
					if err := b.add(quad{s, p, o, g}); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

var langTag = regexp.MustCompile(`^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$`)

// object converts a value, list or node reference (JSON-LD "Object to RDF
// Conversion"). ok is false when the item yields no term.
func (b *rdfBuilder) object(item any, g term) (term, bool, error) {
	m, isMap := item.(map[string]any)
	if !isMap {
		return term{}, false, b.dropped("free-floating value %v", item)
	}
	if l, isList := m["@list"]; isList {
		return b.list(l.([]any), g)
	}
	v, isValue := m["@value"]
	if !isValue {
		id, _ := m["@id"].(string)
		return b.node(id, "node identifier")
	}
	dt, _ := m["@type"].(string)
	if dt != "" && dt != "@json" && !absoluteIRI(dt) {
		return term{}, false, b.dropped("datatype %q is not an absolute IRI", dt)
	}
	if dir, hasDir := m["@direction"]; hasDir {
		s, isString := v.(string)
		if isString {
			return b.directional(s, m["@language"], dir)
		}
		// Where JSON-LD 1.1 keeps the direction (an i18n datatype) and
		// jsonld.js drops it: an error in safe mode, dropped otherwise.
		if err := b.dropped("@direction on the non-string value %v", v); err != nil {
			return term{}, false, err
		}
	}
	lit := term{kind: kindLiteral, datatype: dt}
	if dt == "@json" {
		raw, err := json.Marshal(v)
		if err != nil {
			return term{}, false, credential.Errorf(credential.ParsingError, "convert JSON literal: %w", err)
		}
		c, err := jcs.Transform(raw)
		if err != nil {
			return term{}, false, credential.Errorf(credential.ParsingError, "canonicalize JSON literal: %w", err)
		}
		lit.value, lit.datatype = string(c), rdfJSON
		return lit, true, nil
	}
	if n, ok := v.(json.Number); ok {
		f, err := n.Float64()
		if err != nil {
			return term{}, false, credential.Errorf(credential.ParsingError, "convert number %s: %w", n, err)
		}
		v = f
	}
	switch x := v.(type) {
	case bool:
		lit.value = strconv.FormatBool(x)
		if lit.datatype == "" {
			lit.datatype = xsdBoolean
		}
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return term{}, false, credential.Errorf(credential.ParsingError, "convert number: %v is not JSON", x)
		}
		if x != math.Trunc(x) || math.Abs(x) >= 1e21 || lit.datatype == xsdDouble {
			lit.value = jsonld.GetCanonicalDouble(x)
			if lit.datatype == "" {
				lit.datatype = xsdDouble
			}
		} else {
			lit.value = strconv.FormatFloat(x, 'f', -1, 64)
			if lit.datatype == "" {
				lit.datatype = xsdInteger
			}
		}
	case string:
		lit.value = x
		if lang, ok := m["@language"].(string); ok {
			if !langTag.MatchString(lang) {
				return term{}, false, b.dropped("language tag %q is not well-formed", lang)
			}
			lit.lang, lit.datatype = lang, rdfLangString
		} else if lit.datatype == "" {
			lit.datatype = xsdString
		}
	default:
		return term{}, false, b.dropped("value %v of type %T", v, v)
	}
	return lit, true, nil
}

// i18nNamespace is the namespace of the datatypes of literals with a base
// direction (JSON-LD 1.1, "The i18n Namespace").
const i18nNamespace = "https://www.w3.org/ns/i18n#"

// directional converts a value object with @direction as JSON-LD 1.1
// toRdf does with rdfDirection "i18n-datatype" (Object to RDF Conversion,
// step 13): a literal whose datatype is the i18n namespace followed by the
// language in lower case (empty without one), "_" and the direction, so
// "شهادة" in ar, rtl is "شهادة"^^<https://www.w3.org/ns/i18n#ar_rtl>.
// This is the option the eddsa-rdfc-2022 and ecdsa-rdfc-2019 cryptosuites
// and jsonld-signatures (since 11.5.0) canonicalize with; VC Data Integrity
// leaves rdfDirection unspecified (w3c/vc-data-integrity#366), and without
// it the direction would be lost.
func (b *rdfBuilder) directional(s string, lang, dir any) (term, bool, error) {
	d, _ := dir.(string)
	if d != "ltr" && d != "rtl" {
		return term{}, false, credential.Errorf(credential.ParsingError, "convert JSON-LD to RDF: @direction %v is neither ltr nor rtl", dir)
	}
	l, _ := lang.(string)
	if lang != nil && !langTag.MatchString(l) {
		return term{}, false, b.dropped("language tag %q is not well-formed", lang)
	}
	return term{kind: kindLiteral, value: s, datatype: i18nNamespace + strings.ToLower(l) + "_" + d}, true, nil
}

// list converts a list to rdf:first/rdf:rest quads and returns its head.
func (b *rdfBuilder) list(items []any, g term) (term, bool, error) {
	if len(items) == 0 {
		return term{kind: kindIRI, value: rdfNil}, true, nil
	}
	first, rest := term{kind: kindIRI, value: rdfFirst}, term{kind: kindIRI, value: rdfRest}
	head := term{kind: kindBlank, value: strings.TrimPrefix(b.issuer.GetId(""), "_:")}
	cur := head
	for i, item := range items {
		o, ok, err := b.object(item, g)
		if err != nil {
			return term{}, false, err
		}
		if ok {
			if err := b.add(quad{cur, first, o, g}); err != nil {
				return term{}, false, err
			}
		}
		next := term{kind: kindIRI, value: rdfNil}
		if i < len(items)-1 {
			next = term{kind: kindBlank, value: strings.TrimPrefix(b.issuer.GetId(""), "_:")}
		}
		if err := b.add(quad{cur, rest, next, g}); err != nil {
			return term{}, false, err
		}
		cur = next
	}
	return head, true, nil
}

// absoluteIRI reports whether s has a scheme and no character that an
// N-Quads IRIREF cannot hold.
func absoluteIRI(s string) bool {
	colon := strings.IndexByte(s, ':')
	if colon < 1 {
		return false
	}
	for i := 0; i < colon; i++ {
		c := s[i]
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		digit := c >= '0' && c <= '9'
		if i == 0 && !alpha || !alpha && !digit && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= 0x20, c == '<', c == '>', c == '"', c == '{', c == '}', c == '|', c == '^', c == '`', c == '\\':
			return false
		}
	}
	return true
}

package credential

import (
	"slices"
	"strconv"
	"strings"
)

// CheckPlain reports an error (MALFORMED_VALUE_ERROR) unless obj is plain
// JSON-LD: every @context entry is a URL, no member name anywhere is an
// IRI or compact IRI (contains ':'), and the only keywords used as member
// names are @context at the top and @value, @language, @direction and
// @type inside value objects.
//
// An eddsa-rdfc-2022 proof signs a document's RDF graph, not its JSON: a
// holder could rename credentialStatus or validUntil to their full IRIs, or
// alias them in an inline context, and keep the signature while a reader
// of JSON members no longer sees them. With only bundled contexts, whose
// VC terms are protected, and plain member names, what the verifier reads
// by name is what the proof covers. credential/ld's CheckTerms, which the
// issuer and the verifier call, uses it for its fast path and decides
// every other document from its JSON-LD expansion.
func CheckPlain(obj map[string]any) error {
	return checkPlain(obj, make([]string, 0, 8), true)
}

var valueKeywords = map[string]bool{"@value": true, "@language": true, "@direction": true, "@type": true}

// checkPlain walks v; contextOK says whether v may carry an @context (the
// document itself, its proofs, whose eddsa-jcs-2022 options do, and a
// presentation's credentials). at is the path of v as segments, joined
// only for an error: the walk runs on every verification.
func checkPlain(v any, at []string, contextOK bool) error {
	switch x := v.(type) {
	case map[string]any:
		_, isValue := x["@value"]
		for k, e := range x {
			switch {
			case k == "@context" && contextOK:
				if err := contextURLs(e, at); err != nil {
					return err
				}
				continue
			case strings.HasPrefix(k, "@") && (!isValue || !valueKeywords[k]):
				return Errorf(MalformedValueError, "%s: the keyword %s is not accepted as a member name", path(at, k), k)
			case strings.Contains(k, ":"):
				return Errorf(MalformedValueError, "%s: member names must be terms of the contexts, not IRIs", path(at, k))
			}
			switch e.(type) {
			case map[string]any, []any:
				if err := checkPlain(e, append(at, k), k == "proof" || k == "verifiableCredential"); err != nil {
					return err
				}
			}
		}
	case []any:
		// The proofs of a proof set, and a presentation's credentials,
		// are the array's objects.
		last := ""
		if len(at) > 0 {
			last = at[len(at)-1]
		}
		elemContextOK := contextOK && (last == "proof" || last == "verifiableCredential")
		for i, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				if err := checkPlain(e, append(at, strconv.Itoa(i)), elemContextOK); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// path joins the segments of a member's path for a message.
func path(at []string, k string) string {
	return "/" + strings.Join(append(slices.Clone(at), k), "/")
}

// contextURLs checks that an @context names its contexts by URL.
func contextURLs(c any, at []string) error {
	switch c := c.(type) {
	case string:
		return nil
	case []any:
		for _, e := range c {
			if _, ok := e.(string); !ok {
				return Errorf(MalformedValueError, "%s: inline context objects are not accepted: name contexts by URL", path(at, "@context"))
			}
		}
		return nil
	}
	return Errorf(MalformedValueError, "%s: contexts must be URLs", path(at, "@context"))
}

package credential

import (
	"fmt"
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
// by name is what the proof covers.
func CheckPlain(obj map[string]any) error {
	return checkPlain(obj, "", true)
}

var valueKeywords = map[string]bool{"@value": true, "@language": true, "@direction": true, "@type": true}

// checkPlain walks v; contextOK says whether v may carry an @context (the
// document itself, its proofs, whose eddsa-jcs-2022 options do, and a
// presentation's credentials).
func checkPlain(v any, path string, contextOK bool) error {
	switch x := v.(type) {
	case map[string]any:
		_, isValue := x["@value"]
		for k, e := range x {
			switch {
			case k == "@context" && contextOK:
				if err := contextURLs(e, path); err != nil {
					return err
				}
				continue
			case strings.HasPrefix(k, "@") && (!isValue || !valueKeywords[k]):
				return Errorf(MalformedValueError, "%s: the keyword %s is not accepted as a member name", path+"/"+k, k)
			case strings.Contains(k, ":"):
				return Errorf(MalformedValueError, "%s: member names must be terms of the contexts, not IRIs", path+"/"+k)
			}
			if err := checkPlain(e, path+"/"+k, k == "proof" || k == "verifiableCredential"); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			// The proofs of a proof set, and a presentation's credentials,
			// are the array's objects.
			if err := checkPlain(e, fmt.Sprintf("%s/%d", path, i), contextOK && (strings.HasSuffix(path, "/proof") || strings.HasSuffix(path, "/verifiableCredential"))); err != nil {
				return err
			}
		}
	}
	return nil
}

// contextURLs checks that an @context names its contexts by URL.
func contextURLs(c any, path string) error {
	switch c := c.(type) {
	case string:
		return nil
	case []any:
		for _, e := range c {
			if _, ok := e.(string); !ok {
				return Errorf(MalformedValueError, "%s/@context: inline context objects are not accepted: name contexts by URL", path)
			}
		}
		return nil
	}
	return Errorf(MalformedValueError, "%s/@context: contexts must be URLs", path)
}

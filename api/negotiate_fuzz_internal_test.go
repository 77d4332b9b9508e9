package api

import "testing"

// FuzzNegotiate: any Accept header either selects one of the offered
// representations or none; it never panics.
func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "*/*", "application/did+ld+json", `application/ld+json;profile="https://w3id.org/did-resolution";q=0.5, */*;q=0`,
		"text/html,application/xhtml+xml;q=0.9", "application/*;q=0.1, application/did+json;q=0", ";;;,,,q=", "a/b;q=NaN, */*;q=1e309"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		rep, ok := negotiate(accept)
		if !ok {
			return
		}
		for _, o := range offers {
			if o.rep == rep {
				return
			}
		}
		t.Fatalf("negotiate(%q) = %+v, not an offer", accept, rep)
	})
}

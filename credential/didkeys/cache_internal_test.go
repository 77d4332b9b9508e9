package didkeys

import (
	"context"
	"strings"
	"testing"
	"unsafe"

	"github.com/idmesh/idmesh/credential"
)

// echoResolver resolves any method to a key whose ID and controller are
// parts of the method ID it was asked for (as did:key's are).
type echoResolver struct{}

func (echoResolver) ResolveKey(_ context.Context, id, _ string) (credential.VerificationKey, error) {
	ctl, _, _ := strings.Cut(id, "#")
	return credential.VerificationKey{ID: id, Controller: ctl, MethodType: id[len(ctl)+1:]}, nil
}

// within reports whether s's bytes lie in big's.
func within(s, big string) bool {
	p, lo := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(big)))
	return len(s) > 0 && lo <= p && p < lo+uintptr(len(big))
}

// TestCachedKeysCopyStrings: an entry keeps copies of its strings, not
// the request its method ID was part of (a kid is a substring of a
// token's header), which MaxBytes would not account for.
func TestCachedKeysCopyStrings(t *testing.T) {
	header := `{"kid":"did:key:z6MkTest#z6MkTest"}` + strings.Repeat(" ", 64<<10)
	id := header[8:33]
	c := &CachedKeys{Next: echoResolver{}}
	if _, err := c.ResolveKey(context.Background(), id, credential.PurposeAssertion); err != nil {
		t.Fatal(err)
	}
	if len(c.m) != 1 {
		t.Fatalf("%d entries, want 1", len(c.m))
	}
	for k, e := range c.m {
		for _, s := range []string{k[0], k[1], e.vk.ID, e.vk.Controller, e.vk.MethodType} {
			if within(s, header) {
				t.Fatalf("the entry keeps %q as a part of the request", s)
			}
		}
	}
}

package tokenstatus_test

import (
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/tokenstatus"
	"github.com/idmesh/idmesh/did/keys"
)

// FuzzDecode feeds the list decoder arbitrary lst values, seeded with the
// specification's: it never panics, fails with a credential.Error, stays
// within the bound, and what it decodes re-encodes to the same list.
func FuzzDecode(f *testing.F) {
	for _, v := range readVectors(f) {
		f.Add(v.Lst, v.Bits)
	}
	f.Add("eNoDAAAAAAE", 2)
	f.Fuzz(func(t *testing.T, lst string, bits int) {
		const max = 1 << 16
		l, err := tokenstatus.Decode(lst, bits, max)
		if err != nil {
			if credential.CodeOf(err, "") == "" {
				t.Fatalf("not a credential.Error: %v", err)
			}
			return
		}
		if len(l.Bytes()) > max || l.Len() == 0 {
			t.Fatalf("%d bytes, %d entries", len(l.Bytes()), l.Len())
		}
		again, err := l.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := tokenstatus.Decode(again, bits, max)
		if err != nil || !back.Equal(l) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzParseToken feeds Parse and Verify arbitrary tokens, seeded with a
// signed one: they never panic and fail with a credential.Error; what
// verifies has a subject and a list.
func FuzzParseToken(f *testing.F) {
	s := signer(f, keys.Ed25519, 1)
	jwt, err := sampleToken(f).Sign(s, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(jwt)
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, token string) {
		lim := tokenstatus.Limits{MaxTokenBytes: 1 << 16, MaxListBytes: 1 << 16}
		u, err := tokenstatus.Parse(token, lim)
		if err != nil {
			if credential.CodeOf(err, "") == "" {
				t.Fatalf("not a credential.Error: %v", err)
			}
			return
		}
		tok, err := u.Verify(s.Public(), lim)
		if err != nil {
			if credential.CodeOf(err, "") == "" {
				t.Fatalf("not a credential.Error: %v", err)
			}
			return
		}
		if tok.Subject == "" || tok.List == nil {
			t.Fatalf("verified without sub or list: %+v", tok)
		}
	})
}

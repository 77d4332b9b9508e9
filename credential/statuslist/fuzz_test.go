package statuslist_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/statuslist"
)

const fuzzMaxBits = 1 << 21

// FuzzDecode: Decode never panics, never returns more than the bound, and
// what it returns re-encodes to the same bits.
func FuzzDecode(f *testing.F) {
	for _, v := range mustVectors(f) {
		f.Add(v.BitstringStatusList)
		f.Add(v.StatusList2021)
	}
	f.Add("")
	f.Add("u")
	f.Add("uH4sI")
	f.Add(u(gzipped(f, nil)))
	f.Fuzz(func(t *testing.T, s string) {
		b, err := statuslist.Decode(s, fuzzMaxBits)
		if err != nil {
			if credential.CodeOf(err, "") == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if b.Len() == 0 || b.Len() > fuzzMaxBits {
			t.Fatalf("decoded %d bits", b.Len())
		}
		enc, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := statuslist.Decode(enc, fuzzMaxBits)
		if err != nil || !back.Equal(b) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzParseListCredential: parsing never panics; errors carry a code; a
// parsed list holds at least MinLength bits within the bound, and Check of
// any entry on it either errs with a code or reads a bit.
func FuzzParseListCredential(f *testing.F) {
	for _, name := range []string{
		"example-3-example-bitstringstatuslistcredential.json",
		"example-5-a-status-list-verifiable-credential.json",
	} {
		b, err := testdata.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, 94567)
	}
	f.Add([]byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential","BitstringStatusListCredential"],"issuer":"did:example:1","credentialSubject":{"type":"BitstringStatusList","statusPurpose":["revocation","suspension"],"encodedList":"u","ttl":1}}`), 0)
	f.Fuzz(func(t *testing.T, b []byte, index int) {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var m map[string]any
		if d.Decode(&m) != nil || m == nil {
			return
		}
		l, err := statuslist.ParseListCredential(m, fuzzMaxBits)
		if err != nil {
			if credential.CodeOf(err, "") == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if l.Bits.Len() < statuslist.MinLength || l.Bits.Len() > fuzzMaxBits || len(l.Purposes) == 0 {
			t.Fatalf("list of %d bits, purposes %v", l.Bits.Len(), l.Purposes)
		}
		e := statuslist.Entry{Purpose: l.Purposes[0], Index: index, ListCredential: l.ID}
		if _, err := statuslist.Check(e, l); err != nil && credential.CodeOf(err, "") == "" {
			t.Fatalf("Check error without a code: %v", err)
		}
	})
}

package idmesh_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
)

// decodeSeeds returns operations of every kind in canonical form (a
// create with services, a JWK key, an embedded method, controllers and
// alsoKnownAs; an update marking keys compromised; a deactivate), each
// also with white space, with its members out of order and with a member
// the model does not know.
func decodeSeeds(tb testing.TB) [][]byte {
	k := genKey(tb, keys.Ed25519, 1)
	p := genKey(tb, keys.P256, 2)
	doc := template(k.Public())
	doc.AlsoKnownAs = []string{"https://example.com/<me>&"}
	doc.Controller = did.StringSet{"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}
	jwkVM := did.NewJsonWebKey("#jwk", "", p.Public())
	doc.VerificationMethod = append(doc.VerificationMethod, jwkVM)
	emb := did.NewMultikey("#emb", "", genKey(tb, keys.Ed25519, 3).Public())
	doc.CapabilityDelegation = []did.Relationship{{Embedded: &emb}, did.Ref("#key-1")}
	doc.Service = []did.Service{
		{ID: "#a", Type: did.StringSet{"LinkedDomains"}, ServiceEndpoint: json.RawMessage(`"https://example.com/é\u2028"`)},
		{ID: "#b", Type: did.StringSet{"X", "Y"}, ServiceEndpoint: json.RawMessage(`{"uri":["https://a","https://b"],"n":1.5,"z":null}`)},
	}
	doc.Context = append(doc.Context, map[string]any{"@vocab": "https://example.com/#", "n": 1.0})
	create := &idmesh.Operation{Type: idmesh.Create, Document: doc}
	if err := create.SignAll(chainID, idmesh.Signer{VM: "#key-1", Key: k}); err != nil {
		tb.Fatal(err)
	}
	d, err := create.SubjectDID()
	if err != nil {
		tb.Fatal(err)
	}
	upd := &idmesh.Operation{Type: idmesh.Update, DID: d, Previous: strings.Repeat("ab", 32), Document: template(k.Public()), Compromised: []string{"#jwk"}}
	if err := upd.Sign(chainID, d+"#key-1", k); err != nil {
		tb.Fatal(err)
	}
	deact := &idmesh.Operation{Type: idmesh.Deactivate, DID: d, Previous: strings.Repeat("cd", 32)}
	if err := deact.Sign(chainID, "#key-1", k); err != nil {
		tb.Fatal(err)
	}
	simple, err := idmesh.NewCreate(chainID, k)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, op := range []*idmesh.Operation{simple, create, upd, deact} {
		b, err := op.Encode()
		if err != nil {
			tb.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			tb.Fatal(err)
		}
		indented, _ := json.MarshalIndent(m, "", " ")
		m["extra"] = "x"
		extra, _ := json.Marshal(m)
		reordered := bytes.Replace(b, []byte(`{"`), []byte(`{"zz":null,"`), 1)
		out = append(out, b, indented, extra, reordered)
	}
	return out
}

// FuzzDecodeFast: Decode (the one-scan checks for canonical input)
// judges every input as the long way does (strictjson, jcs and
// encoding/json throughout): the same error, or the same operation to
// its last field and its canonical bytes.
func FuzzDecodeFast(f *testing.F) {
	for _, b := range decodeSeeds(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"proof":[{"signature":"AA","verificationMethod":"#key-1"}],"type":"create","document":{}}`))
	f.Add([]byte(`{"document":{"@context":"https://www.w3.org/ns/did/v1","id":""},"proof":[{"signature":"AA","verificationMethod":"#k"}],"type":"create"}`))
	f.Add([]byte(`{"document":{"id":"","service":[{"id":"#s","serviceEndpoint":null,"type":"X"}]},"proof":[{"signature":"AA","verificationMethod":"#k"}],"type":"create"}`))
	f.Add([]byte(`{"Type":"create","document":{"id":""},"proof":[{"signature":"AA","verificationMethod":"#k"}]}`))
	f.Add([]byte(`{"document":{"alsoKnownAs":"x","id":""},"proof":[{"signature":"AA","verificationMethod":"#k"}],"type":"create"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ferr := idmesh.Decode(b)
		slow, serr := idmesh.DecodeLong(b)
		if (ferr == nil) != (serr == nil) || ferr != nil && ferr.Error() != serr.Error() {
			t.Fatalf("%q: Decode %v, the long way %v", b, ferr, serr)
		}
		if ferr != nil {
			return
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q:\nDecode       %#v\nthe long way %#v", b, fast, slow)
		}
	})
}

// TestDecodeSameAsLongWay: the seeds of FuzzDecodeFast decode alike both
// ways, and each canonical one is accepted by the short way alone.
func TestDecodeSameAsLongWay(t *testing.T) {
	for i, b := range decodeSeeds(t) {
		fast, ferr := idmesh.Decode(b)
		slow, serr := idmesh.DecodeLong(b)
		if (ferr == nil) != (serr == nil) || ferr != nil && ferr.Error() != serr.Error() || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("seed %d: Decode %v, the long way %v", i, ferr, serr)
		}
		if i%4 != 0 {
			continue
		}
		if ferr != nil {
			t.Fatalf("canonical seed %d refused: %v", i, ferr)
		}
		if c, typed, kept := idmesh.ShortWay(b); !c || !typed || !kept {
			t.Errorf("canonical seed %d takes the long way: canonical %v, typed decode %v, nothing dropped %v", i, c, typed, kept)
		}
	}
}

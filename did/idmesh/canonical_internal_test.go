package idmesh

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gowebpki/jcs"

	"github.com/idmesh/idmesh/did/strictjson"
)

// canonicalSeeds are JSON texts around the edges of canonical form:
// escapes, member order by UTF-16 code units, numbers, nesting, nulls.
var canonicalSeeds = []string{
	`{}`,
	`{"a":1}`,
	`{"a":1,"b":[true,false,null,"x",{}]}`,
	`{"b":1,"a":2}`,
	`{"a":1,"a":2}`,
	`{"a":{"b":1,"b":2}}`,
	`{ "a":1}`,
	`{"a":1.0}`,
	`{"a":1e2}`,
	`{"a":100}`,
	`{"a":-0}`,
	`{"a":0.000001}`,
	`{"a":1e-7}`,
	`{"a":1e+21}`,
	`{"a":1e21}`,
	`{"a":123456789012345680000}`,
	`{"a":1e400}`,
	`{"a":"\u0001\b\t\n\f\r\"\\"}`,
	`{"a":"\u0008"}`,
	`{"a":"\u001F"}`,
	`{"a":"\u001f"}`,
	`{"a":"\/"}`,
	`{"a":"é"}`,
	`{"a":"\u00e9"}`,
	`{"a":"<>&"}`,
	`{"a":"\u2028"}`,
	"{\"a\":\"\x7f\"}",
	`{"\ud83d\ude00":1,"\uffff":2}`,
	"{\"\uffff\":1,\"\U0001F600\":2}",
	"{\"\U0001F600\":1,\"\uffff\":2}",
	`{"a\n":1,"a":2}`,
	`{"a":1,"a\n":2}`,
	`{"":1}`,
	`[1]`,
	`"a"`,
	`{"a":tru}`,
	`{"a":truex}`,
	`{"a":[1,]}`,
	`{"a":1}x`,
	`{"a":"` + "\xff" + `"}`,
	strings.Repeat(`{"a":`, 64) + `1` + strings.Repeat(`}`, 64),
	strings.Repeat(`{"a":`, 65) + `1` + strings.Repeat(`}`, 65),
	strings.Repeat(`[`, 65) + strings.Repeat(`]`, 65),
}

// FuzzIsCanonical: what isCanonical accepts, jcs.Transform returns
// unchanged and strictjson.CheckDuplicates accepts, so Decode may skip
// both; and every object they both leave alone, isCanonical accepts, so
// canonical operations take the short way.
func FuzzIsCanonical(f *testing.F) {
	for _, s := range canonicalSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		canon, jerr := jcs.Transform(b)
		derr := strictjson.CheckDuplicates(b)
		if isCanonical(b) {
			if jerr != nil || !bytes.Equal(canon, b) {
				t.Fatalf("isCanonical(%q), but jcs gives %q (%v)", b, canon, jerr)
			}
			if derr != nil {
				t.Fatalf("isCanonical(%q), but %v", b, derr)
			}
			return
		}
		if jerr == nil && derr == nil && bytes.Equal(canon, b) && len(b) > 0 && b[0] == '{' {
			t.Fatalf("%q is canonical, isCanonical says no", b)
		}
	})
}

// FuzzKeptAsSent: whenever keptAsSent finds nothing of sent dropped in
// kept, subsumed on what encoding/json decodes from both agrees; and
// for texts in valid UTF-8 without escapes (as json.Marshal writes the
// operations Decode sees) it finds so whenever subsumed does.
func FuzzKeptAsSent(f *testing.F) {
	for _, p := range [][2]string{
		{`{"a":1}`, `{"a":1}`},
		{`{"a":1,"b":[]}`, `{"a":1}`},
		{`{"a":1,"b":[1]}`, `{"a":1}`},
		{`{"a":["x"]}`, `{"a":"x"}`},
		{`{"a":"x"}`, `{"a":["x"]}`},
		{`{"a":["x","y"]}`, `{"a":"x"}`},
		{`{"a":"<"}`, `{"a":"\u003c"}`},
		{`{"a":"\u0001"}`, `{"a":"\u0001"}`},
		{`{"a":"\n"}`, `{"a":"\n"}`},
		{`{"a":1}`, `{"a":1.0}`},
		{`{"a":1}`, `{"a":"1"}`},
		{`{"a":null}`, `{}`},
		{`{"a":{}}`, `{"b":1}`},
		{`{"a":{"b":2}}`, `{"a":{"b":2,"c":3}}`},
		{`{"a":1}`, `{"a":1,"a":2}`},
		{`{"\u003c":1}`, `{"\u003c":1}`},
		{`{"<":1}`, `{"\u003c":1}`},
		{`{"a":"\ud800"}`, `{"a":"\ufffd"}`},
		{`{"a":"x"}`, `{"a":"\ud800"}`},
		{`{"k0":0,"k1":1,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9}`, `{"k0":0,"k1":1,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9}`},
	} {
		f.Add([]byte(p[0]), []byte(p[1]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		sent, err := jcs.Transform(a)
		if err != nil || !isCanonical(sent) {
			return
		}
		var kept bytes.Buffer
		if json.Compact(&kept, b) != nil {
			return
		}
		var s, k any
		serr, kerr := json.Unmarshal(sent, &s), json.Unmarshal(kept.Bytes(), &k)
		fast := keptAsSent(sent, kept.Bytes())
		if fast && (serr != nil || kerr != nil || subsumed(s, k, "x") != nil) {
			t.Fatalf("keptAsSent(%s, %s), but subsumed: %v (decode %v %v)", sent, kept.Bytes(), subsumed(s, k, "x"), serr, kerr)
		}
		if !fast && serr == nil && kerr == nil && subsumed(s, k, "x") == nil &&
			!bytes.ContainsRune(sent, '\\') && !bytes.ContainsRune(kept.Bytes(), '\\') && utf8.Valid(kept.Bytes()) && !hasRepeatedName(kept.Bytes()) {
			t.Fatalf("subsumed(%s, %s), but keptAsSent says no", sent, kept.Bytes())
		}
	})
}

// hasRepeatedName reports whether some object of b repeats a member name.
func hasRepeatedName(b []byte) bool { return strictjson.CheckDuplicates(b) != nil }

// FuzzDecodeTyped: what decodeTyped takes, it decodes as encoding/json
// (with DisallowUnknownFields and the did package's UnmarshalJSON
// methods) does, to the last nil-or-empty slice.
func FuzzDecodeTyped(f *testing.F) {
	for _, s := range typedSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !isCanonical(b) {
			return
		}
		fast, _, ok := decodeTyped(b)
		if !ok {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		slow := new(Operation)
		if err := dec.Decode(slow); err != nil {
			t.Fatalf("decodeTyped took %s, encoding/json: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s:\ndecodeTyped  %#v\nencoding/json %#v", b, fast, slow)
		}
	})
}

// typedSeeds are canonical operations, or near them, for FuzzDecodeTyped.
var typedSeeds = []string{
	`{"document":{"@context":["https://www.w3.org/ns/did/v1","https://w3id.org/security/multikey/v1"],"assertionMethod":["#key-1"],"authentication":["#key-1"],"capabilityDelegation":["#key-1"],"capabilityInvocation":["#key-1"],"id":"","verificationMethod":[{"controller":"","id":"#key-1","publicKeyMultibase":"z6MknPqJpV5tbaPjzE3Vz8AyZxLiinyeXWFBtC6md3uJ15WT","type":"Multikey"}]},"proof":[{"signature":"vX_ZSdl","verificationMethod":"#key-1"}],"type":"create"}`,
	`{"document":{"@context":"https://www.w3.org/ns/did/v1","alsoKnownAs":[],"controller":"did:key:z6Mk","id":"","keyAgreement":[{"controller":"","id":"#x","publicKeyJwk":{"crv":"X25519","kty":"OKP","n":1.5,"x":"abc"},"type":"JsonWebKey"}],"service":[{"id":"#s","serviceEndpoint":{"a":[1,"b",null]},"type":["A","B"]},{"id":"#t","serviceEndpoint":"https://x","type":"C"}]},"proof":[],"type":"create"}`,
	`{"did":"did:idmesh:x","previous":"00","proof":[{"signature":"AA","verificationMethod":"#k"}],"type":"deactivate"}`,
	`{"compromised":[],"did":"did:idmesh:x","document":{"@context":[{"@vocab":"x","n":[1,2]}],"controller":[]},"previous":"00","proof":[],"type":"update"}`,
	`{"compromised":["#a","#b"],"did":"d","document":{},"previous":"p","proof":[{"signature":"s","verificationMethod":"v"}],"type":"update"}`,
	`{"document":null,"type":"create"}`,
	`{"document":{"@context":null},"type":"create"}`,
	`{"document":{"@context":1},"type":"create"}`,
	`{"document":{"service":[{"serviceEndpoint":null}]},"type":"create"}`,
	`{"document":{"verificationMethod":[{"publicKeyJwk":null}]},"type":"create"}`,
	`{"document":{"authentication":[1]},"type":"create"}`,
	`{"document":{"extra":1},"type":"create"}`,
	`{"Type":"create"}`,
	`{"proof":[{"extra":"x"}]}`,
	`{"proof":[null]}`,
	`{"type":1}`,
	`{"type":"a\nb\u0001"}`,
	`{"type":"é"}`,
}

// FuzzCanonicalJSON: canonicalJSON gives what jcs.Transform gives, the
// same bytes or an error, for any input and for any input as
// encoding/json writes it (the values Apply stores).
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range canonicalSeeds {
		f.Add([]byte(s))
	}
	for _, s := range typedSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"a ":1,"a":2,"a!":3,"a\u0000":4}`))
	f.Add([]byte(`{"b":"\u003c\u003e\u0026","a":9007199254740993,"c":1.5e300,"d":[{"z":1,"y":2}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(in []byte) {
			want, werr := jcs.Transform(in)
			got, gerr := canonicalJSON(in)
			if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() || !bytes.Equal(got, want) {
				t.Fatalf("%q: canonicalJSON %q (%v), jcs %q (%v)", in, got, gerr, want, werr)
			}
		}
		check(b)
		var v any
		if json.Unmarshal(b, &v) == nil {
			if m, err := json.Marshal(v); err == nil {
				check(m)
			}
		}
	})
}

package did_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
)

// MustLoadDocument reads and validates testdata/valid-document.json.
func MustLoadDocument(tb testing.TB) *did.Document {
	tb.Helper()
	b, err := os.ReadFile("testdata/valid-document.json")
	if err != nil {
		tb.Fatal(err)
	}
	d, err := did.ParseDocument(b)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// MustKey generates a deterministic key.
func MustKey(tb testing.TB, t keys.Type, seed byte) keys.PublicKey {
	tb.Helper()
	k, err := keys.Generate(t, bytes.NewReader(bytes.Repeat([]byte{seed}, 64)))
	if err != nil {
		tb.Fatal(err)
	}
	return k.Public()
}

func TestDocumentDecode(t *testing.T) {
	d := MustLoadDocument(t)
	if len(d.Context) != 4 || d.Context[0] != did.ContextV1 {
		t.Fatalf("Context = %v", d.Context)
	}
	if !reflect.DeepEqual([]string(d.Controller), []string{"did:example:123"}) {
		t.Fatalf("Controller = %v", d.Controller)
	}
	if got := d.Authentication[0]; got.Reference != "#key-1" || got.Embedded != nil {
		t.Fatalf("Authentication[0] = %+v", got)
	}
	if got := d.KeyAgreement[0]; got.Embedded == nil || got.Embedded.ID != "did:example:123#key-agreement-1" {
		t.Fatalf("KeyAgreement[0] = %+v", got)
	}
	if !reflect.DeepEqual([]string(d.Service[1].Type), []string{"DIDCommMessaging", "Other"}) {
		t.Fatalf("Service[1].Type = %v", d.Service[1].Type)
	}
}

func TestDocumentJSONRoundTrip(t *testing.T) {
	d := MustLoadDocument(t)
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var d2 did.Document
	if err := json.Unmarshal(b, &d2); err != nil {
		t.Fatal(err)
	}
	b2, err := json.Marshal(&d2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Fatalf("round trip changed the document:\n%s\n%s", b, b2)
	}
	// Apart from the raw serviceEndpoint JSON, which is compacted, the
	// decoded values are equal.
	for i := range d.Service {
		d.Service[i].ServiceEndpoint = d2.Service[i].ServiceEndpoint
	}
	if !reflect.DeepEqual(d, &d2) {
		t.Fatalf("round trip changed the document:\n%+v\n%+v", d, d2)
	}
	// Output forms: @context array, single controller and type as strings,
	// references as strings, embedded methods as objects.
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["@context"].([]any); !ok {
		t.Errorf("@context = %T, want array", raw["@context"])
	}
	if _, ok := raw["controller"].(string); !ok {
		t.Errorf("controller = %T, want string", raw["controller"])
	}
	if _, ok := raw["authentication"].([]any)[0].(string); !ok {
		t.Error("authentication[0] is not a string")
	}
	if _, ok := raw["keyAgreement"].([]any)[0].(map[string]any); !ok {
		t.Error("keyAgreement[0] is not an object")
	}
	svc := raw["service"].([]any)
	if _, ok := svc[0].(map[string]any)["type"].(string); !ok {
		t.Error("service[0].type is not a string")
	}
	if _, ok := svc[1].(map[string]any)["type"].([]any); !ok {
		t.Error("service[1].type is not an array")
	}
}

func TestDocumentStringForms(t *testing.T) {
	tests := []struct {
		name, in string
		check    func(*did.Document) bool
	}{
		{"context string", `{"@context":"https://www.w3.org/ns/did/v1","id":"did:ex:1"}`,
			func(d *did.Document) bool { return len(d.Context) == 1 && d.Context[0] == did.ContextV1 }},
		{"context array", `{"@context":["https://www.w3.org/ns/did/v1",{"a":"b"}],"id":"did:ex:1"}`,
			func(d *did.Document) bool { return len(d.Context) == 2 }},
		{"controller string", `{"@context":"https://www.w3.org/ns/did/v1","id":"did:ex:1","controller":"did:ex:2"}`,
			func(d *did.Document) bool { return len(d.Controller) == 1 && d.Controller[0] == "did:ex:2" }},
		{"controller array", `{"@context":"https://www.w3.org/ns/did/v1","id":"did:ex:1","controller":["did:ex:2","did:ex:3"]}`,
			func(d *did.Document) bool { return len(d.Controller) == 2 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d did.Document
			if err := json.Unmarshal([]byte(tc.in), &d); err != nil {
				t.Fatal(err)
			}
			if !tc.check(&d) {
				t.Fatalf("decoded %+v", d)
			}
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
	bad := []struct{ name, in string }{
		{"context number", `{"@context":1,"id":"did:ex:1"}`},
		{"controller number", `{"@context":"x","id":"did:ex:1","controller":1}`},
		{"relationship number", `{"@context":"x","id":"did:ex:1","authentication":[1]}`},
		{"relationship bad object", `{"@context":"x","id":"did:ex:1","authentication":[{"id":1}]}`},
		{"service type number", `{"@context":"x","id":"did:ex:1","service":[{"id":"a:b","type":1}]}`},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			var d did.Document
			if err := json.Unmarshal([]byte(tc.in), &d); !errors.Is(err, did.ErrInvalidDocument) {
				t.Fatalf("Unmarshal error = %v, want ErrInvalidDocument", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("l", did.MaxStringLength+1)
	tests := []struct {
		name   string
		mutate func(*did.Document)
		want   string // substring of the error
	}{
		{"no context", func(d *did.Document) { d.Context = nil }, "@context is missing"},
		{"wrong first context", func(d *did.Document) { d.Context[0] = did.ContextMultikey }, "first entry"},
		{"context number", func(d *did.Document) { d.Context = append(d.Context, 5.0) }, "@context[4]"},
		{"bad id", func(d *did.Document) { d.ID = "did:Example:123" }, "id:"},
		{"id with fragment", func(d *did.Document) { d.ID = "did:example:123#x" }, "id:"},
		{"bad controller", func(d *did.Document) { d.Controller = did.StringSet{"https://example.com"} }, "controller[0]"},
		{"too many controllers", func(d *did.Document) {
			for range did.MaxControllers + 1 {
				d.Controller = append(d.Controller, "did:example:c")
			}
		}, "controller: 18 entries"},
		{"bad alsoKnownAs", func(d *did.Document) { d.AlsoKnownAs = []string{"not a uri"} }, "alsoKnownAs[0]"},
		{"relative vm id", func(d *did.Document) { d.VerificationMethod[0].ID = "#key-1" }, "verificationMethod[0].id"},
		{"vm id without fragment", func(d *did.Document) { d.VerificationMethod[0].ID = "did:example:123" }, "has no fragment"},
		{"duplicate vm id", func(d *did.Document) { d.VerificationMethod[1].ID = d.VerificationMethod[0].ID }, "duplicate id"},
		{"embedded duplicates top-level", func(d *did.Document) { d.KeyAgreement[0].Embedded.ID = "did:example:123#key-1" }, "duplicate id"},
		{"service duplicates vm", func(d *did.Document) { d.Service[0].ID = "did:example:123#key-2" }, "duplicate id"},
		{"empty vm type", func(d *did.Document) { d.VerificationMethod[0].Type = "" }, "type is empty"},
		{"bad vm controller", func(d *did.Document) { d.VerificationMethod[0].Controller = "" }, "controller"},
		{"both key forms", func(d *did.Document) {
			d.VerificationMethod[0].PublicKeyJwk = map[string]any{"kty": "OKP"}
		}, "both publicKeyMultibase and publicKeyJwk"},
		{"no key", func(d *did.Document) { d.VerificationMethod[0].PublicKeyMultibase = "" }, "no publicKeyMultibase"},
		{"bad multibase", func(d *did.Document) { d.VerificationMethod[0].PublicKeyMultibase = "z6Mk0" }, "invalid key"},
		{"multikey with jwk", func(d *did.Document) { d.VerificationMethod[1].Type = did.TypeMultikey }, "needs publicKeyMultibase"},
		{"jwk private member", func(d *did.Document) { d.VerificationMethod[1].PublicKeyJwk["d"] = "AAAA" }, "private member"},
		{"jwk unsupported curve", func(d *did.Document) { d.VerificationMethod[1].PublicKeyJwk["crv"] = "P-384" }, "unsupported"},
		{"bad embedded vm", func(d *did.Document) { d.KeyAgreement[0].Embedded.Controller = "x" }, "keyAgreement[0].controller"},
		{"dangling reference", func(d *did.Document) { d.AssertionMethod[0].Reference = "did:example:123#nope" }, "names no verification method"},
		{"dangling relative reference", func(d *did.Document) { d.AssertionMethod[0].Reference = "#nope" }, "names no verification method"},
		{"reference to embedded elsewhere", func(d *did.Document) {
			d.AssertionMethod[0].Reference = "#key-agreement-1"
		}, "names no verification method"},
		{"bad reference", func(d *did.Document) { d.AssertionMethod[0].Reference = "key-1" }, "assertionMethod[0]: reference"},
		{"too many relationship entries", func(d *did.Document) {
			for range did.MaxRelationshipEntries {
				d.CapabilityInvocation = append(d.CapabilityInvocation, did.Ref("#key-1"))
			}
		}, "capabilityInvocation: 65 entries"},
		{"relative service id", func(d *did.Document) { d.Service[0].ID = "#linked-domain" }, "service[0].id"},
		{"service without type", func(d *did.Document) { d.Service[0].Type = nil }, "service[0].type is empty"},
		{"service empty type entry", func(d *did.Document) { d.Service[1].Type[1] = "" }, "service[1].type[1] is empty"},
		{"service endpoint missing", func(d *did.Document) { d.Service[0].ServiceEndpoint = nil }, "serviceEndpoint is missing"},
		{"service endpoint not uri", func(d *did.Document) { d.Service[0].ServiceEndpoint = json.RawMessage(`"example.com"`) }, "not a URI"},
		{"service endpoint number", func(d *did.Document) { d.Service[0].ServiceEndpoint = json.RawMessage(`5`) }, "want a URI string or a map"},
		{"service endpoint empty array", func(d *did.Document) { d.Service[0].ServiceEndpoint = json.RawMessage(`[]`) }, "empty array"},
		{"service endpoint array of arrays", func(d *did.Document) { d.Service[0].ServiceEndpoint = json.RawMessage(`[["a:b"]]`) }, "serviceEndpoint[0]"},
		{"too many verification methods", func(d *did.Document) {
			vm := d.VerificationMethod[0]
			for i := range did.MaxVerificationMethods {
				vm.ID = "did:example:123#k" + strings.Repeat("x", i+1)
				d.VerificationMethod = append(d.VerificationMethod, vm)
			}
		}, "verificationMethod: 66 entries"},
		{"too many services", func(d *did.Document) {
			s := d.Service[0]
			for range did.MaxServices {
				d.Service = append(d.Service, s)
			}
		}, "service: 67 entries"},
		{"long string", func(d *did.Document) { d.VerificationMethod[0].Type = strings.Repeat("T", did.MaxStringLength+1) }, "exceeds 2048"},
		// Each length check names where it failed (the locations are
		// formatted only for an error).
		{"long context", func(d *did.Document) { d.Context = append(d.Context, "https://x.example/"+long) }, "@context[4]: 2067 bytes exceeds 2048"},
		{"long controller", func(d *did.Document) { d.Controller = did.StringSet{"did:example:a", "did:example:" + long[12:]} }, "controller[1]: 2049 bytes exceeds 2048"},
		{"long alsoKnownAs", func(d *did.Document) { d.AlsoKnownAs = []string{"https://a.example", long} }, "alsoKnownAs[1]: 2049 bytes"},
		{"long vm id", func(d *did.Document) { d.VerificationMethod[1].ID = long }, "verificationMethod[1].id: 2049 bytes"},
		{"long vm key", func(d *did.Document) { d.VerificationMethod[0].PublicKeyMultibase = long }, "verificationMethod[0].publicKeyMultibase: 2049 bytes"},
		{"long embedded vm controller", func(d *did.Document) { d.KeyAgreement[0].Embedded.Controller = long }, "keyAgreement[0].controller: 2049 bytes"},
		{"long reference", func(d *did.Document) { d.AssertionMethod[0].Reference = long }, "assertionMethod[0]: 2049 bytes"},
		{"long service type", func(d *did.Document) { d.Service[1].Type[1] = long }, "service[1].type[1]: 2049 bytes"},
		{"long service endpoint entry", func(d *did.Document) {
			d.Service[0].ServiceEndpoint = json.RawMessage(`["https://a.example","https://b.example/` + long + `"]`)
		}, "service[0].serviceEndpoint[1]: 2067 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := MustLoadDocument(t)
			tc.mutate(d)
			err := d.Validate()
			if !errors.Is(err, did.ErrInvalidDocument) {
				t.Fatalf("Validate() = %v, want ErrInvalidDocument", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %q, want it to mention %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
		})
	}
	t.Run("nil", func(t *testing.T) {
		var d *did.Document
		if err := d.Validate(); !errors.Is(err, did.ErrInvalidDocument) {
			t.Fatal(err)
		}
	})
	t.Run("key errors are wrapped too", func(t *testing.T) {
		d := MustLoadDocument(t)
		d.VerificationMethod[1].PublicKeyJwk["d"] = "AAAA"
		if err := d.Validate(); !errors.Is(err, keys.ErrInvalidKey) {
			t.Fatalf("Validate() = %v, want it to wrap keys.ErrInvalidKey", err)
		}
	})
	t.Run("oversize document", func(t *testing.T) {
		b := append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), did.MaxDocumentSize)...)
		if _, err := did.ParseDocument(append(b, `"}`...)); !errors.Is(err, did.ErrInvalidDocument) {
			t.Fatal(err)
		}
	})
}

func TestVerificationMethodPublicKey(t *testing.T) {
	ed := MustKey(t, keys.Ed25519, 1)
	p := MustKey(t, keys.P256, 2)
	x, err := ed.X25519()
	if err != nil {
		t.Fatal(err)
	}
	const c = "did:ex:1"
	tests := []struct {
		name string
		vm   did.VerificationMethod
		want keys.PublicKey
		err  error
	}{
		{"multikey ed25519", did.NewMultikey(c+"#a", c, ed), ed, nil},
		{"multikey p256", did.NewMultikey(c+"#a", c, p), p, nil},
		{"multikey x25519", did.NewMultikey(c+"#a", c, x), x, nil},
		{"jsonwebkey p256", did.NewJsonWebKey(c+"#a", c, p), p, nil},
		{"jsonwebkey x25519", did.NewJsonWebKey(c+"#a", c, x), x, nil},
		{"legacy JsonWebKey2020", did.VerificationMethod{Type: did.TypeJsonWebKey2020, PublicKeyJwk: ed.JWK()}, ed, nil},
		{"legacy Ed25519VerificationKey2020", did.VerificationMethod{Type: did.TypeEd25519VerificationKey2020, PublicKeyMultibase: ed.Multibase()}, ed, nil},
		{"legacy X25519KeyAgreementKey2020", did.VerificationMethod{Type: did.TypeX25519KeyAgreementKey2020, PublicKeyMultibase: x.Multibase()}, x, nil},
		{"Ed25519VerificationKey2020 with P-256", did.VerificationMethod{Type: did.TypeEd25519VerificationKey2020, PublicKeyMultibase: p.Multibase()}, keys.PublicKey{}, keys.ErrInvalidKey},
		{"JsonWebKey with multibase", did.VerificationMethod{Type: did.TypeJsonWebKey, PublicKeyMultibase: ed.Multibase()}, keys.PublicKey{}, keys.ErrInvalidKey},
		{"unknown type, multibase", did.VerificationMethod{Type: "SomethingElse", PublicKeyMultibase: ed.Multibase()}, ed, nil},
		{"unsupported codec", did.VerificationMethod{Type: did.TypeMultikey, PublicKeyMultibase: "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"}, keys.PublicKey{}, keys.ErrUnsupportedKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.vm.PublicKey()
			if !errors.Is(err, tc.err) {
				t.Fatalf("PublicKey() error = %v, want %v", err, tc.err)
			}
			if !got.Equal(tc.want) {
				t.Fatalf("PublicKey() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestWithID(t *testing.T) {
	ed := MustKey(t, keys.Ed25519, 3)
	tmpl := &did.Document{
		Context:            []any{did.ContextV1, did.ContextMultikey},
		VerificationMethod: []did.VerificationMethod{did.NewMultikey("#k1", "", ed)},
		Authentication:     []did.Relationship{did.Ref("#k1")},
		AssertionMethod:    []did.Relationship{did.Ref("did:other:1#k")},
		KeyAgreement: []did.Relationship{{Embedded: &did.VerificationMethod{
			ID: "#ka", Type: did.TypeMultikey, PublicKeyMultibase: ed.Multibase(),
		}}},
		Service: []did.Service{{ID: "#svc", Type: did.StringSet{"X"}, ServiceEndpoint: json.RawMessage(`"https://example.com"`)}},
	}
	before, _ := json.Marshal(tmpl)
	const id = "did:idmesh:abc"
	d, err := tmpl.WithID(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.ID != id || d.VerificationMethod[0].ID != id+"#k1" || d.VerificationMethod[0].Controller != id {
		t.Fatalf("VerificationMethod[0] = %+v", d.VerificationMethod[0])
	}
	if d.Authentication[0].Reference != id+"#k1" || d.AssertionMethod[0].Reference != "did:other:1#k" {
		t.Fatalf("references = %v %v", d.Authentication, d.AssertionMethod)
	}
	if e := d.KeyAgreement[0].Embedded; e.ID != id+"#ka" || e.Controller != id {
		t.Fatalf("embedded = %+v", e)
	}
	if d.Service[0].ID != id+"#svc" {
		t.Fatalf("service id = %s", d.Service[0].ID)
	}
	after, _ := json.Marshal(tmpl)
	if !bytes.Equal(before, after) {
		t.Fatal("WithID modified the template")
	}
	if _, err := tmpl.WithID("nope"); !errors.Is(err, did.ErrInvalidDID) {
		t.Fatalf("WithID(nope) = %v", err)
	}
}

func TestClone(t *testing.T) {
	d := MustLoadDocument(t)
	c := d.Clone()
	if !reflect.DeepEqual(d, c) {
		t.Fatal("clone differs")
	}
	c.VerificationMethod[1].PublicKeyJwk["x"] = "changed"
	c.KeyAgreement[0].Embedded.ID = "changed"
	c.Context[3].(map[string]any)["@vocab"] = "changed"
	c.Service[0].ServiceEndpoint[1] = 'X'
	c.Controller[0] = "changed"
	if err := d.Validate(); err != nil {
		t.Fatalf("mutating the clone changed the original: %v", err)
	}
	if (*did.Document)(nil).Clone() != nil {
		t.Fatal("Clone(nil) != nil")
	}
}

func TestMethodsAndLookup(t *testing.T) {
	d := MustLoadDocument(t)
	ids := func(vms []did.VerificationMethod) []string {
		var out []string
		for _, vm := range vms {
			out = append(out, vm.ID)
		}
		return out
	}
	tests := []struct {
		rel  string
		want []string
	}{
		// The external did:example:other reference is skipped.
		{did.RelAuthentication, []string{"did:example:123#key-1", "did:example:123#key-2"}},
		{did.RelAssertionMethod, []string{"did:example:123#key-1"}},
		{did.RelKeyAgreement, []string{"did:example:123#key-agreement-1"}},
		{did.RelCapabilityInvocation, []string{"did:example:123#key-1"}},
		{did.RelCapabilityDelegation, []string{"did:example:123#key-2"}},
		{"unknown", nil},
	}
	for _, tc := range tests {
		t.Run(tc.rel, func(t *testing.T) {
			if got := ids(d.Methods(tc.rel)); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Methods(%s) = %v, want %v", tc.rel, got, tc.want)
			}
		})
	}
	for _, ref := range []string{"#key-1", "did:example:123#key-1", "#key-agreement-1"} {
		if _, ok := d.VerificationMethodByID(ref); !ok {
			t.Errorf("VerificationMethodByID(%q) not found", ref)
		}
	}
	for _, ref := range []string{"#nope", "did:example:other#key-1", ""} {
		if _, ok := d.VerificationMethodByID(ref); ok {
			t.Errorf("VerificationMethodByID(%q) found", ref)
		}
	}
	if got := d.ControllerDIDs(); !reflect.DeepEqual(got, []string{"did:example:123"}) {
		t.Fatalf("ControllerDIDs() = %v", got)
	}
	d.Controller = nil
	d.ID = "did:example:self"
	if got := d.ControllerDIDs(); !reflect.DeepEqual(got, []string{"did:example:self"}) {
		t.Fatalf("ControllerDIDs() = %v", got)
	}
}

// TestSchemaRequired checks our JSON against the required members of the
// DID resolution test suite's document schema.
func TestSchemaRequired(t *testing.T) {
	var schema struct {
		Required []string
		Defs     struct {
			VerificationMethod struct{ Required []string }
		} `json:"$defs"`
	}
	b, err := os.ReadFile("testdata/did-document-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	if len(schema.Required) == 0 || len(schema.Defs.VerificationMethod.Required) == 0 {
		t.Fatal("schema has no required members")
	}
	out, err := json.Marshal(MustLoadDocument(t))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	for _, m := range schema.Required {
		if _, ok := doc[m]; !ok {
			t.Errorf("document lacks required %q", m)
		}
	}
	for i, vm := range doc["verificationMethod"].([]any) {
		for _, m := range schema.Defs.VerificationMethod.Required {
			if _, ok := vm.(map[string]any)[m]; !ok {
				t.Errorf("verificationMethod[%d] lacks required %q", i, m)
			}
		}
	}
}

func TestRelationshipNamesIsACopy(t *testing.T) {
	names := did.RelationshipNames()
	if len(names) != 5 || names[0] != did.RelAuthentication {
		t.Fatalf("RelationshipNames() = %v", names)
	}
	names[0] = "changed"
	if did.RelationshipNames()[0] != did.RelAuthentication {
		t.Fatal("RelationshipNames() aliases package state")
	}
}

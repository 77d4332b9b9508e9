package idmesh

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gowebpki/jcs"

	"github.com/idmesh/idmesh/did"
)

// fullOperation has every member decodeTyped knows, each with a value it
// takes: the starting point of keptVariants.
const fullOperation = `{
 "type":"update","did":"did:idmesh:x","previous":"00","compromised":["#a","#b"],
 "proof":[{"signature":"AA","verificationMethod":"#k"},{"signature":"BB","verificationMethod":"#j"}],
 "document":{
  "@context":["https://www.w3.org/ns/did/v1",{"@vocab":"https://x/#","n":1.5,"l":[true,null,"<&>"]}],
  "id":"did:idmesh:x","alsoKnownAs":["https://a","https://b"],"controller":["did:key:z","did:key:y"],
  "verificationMethod":[
   {"id":"#k","type":"Multikey","controller":"did:idmesh:x","publicKeyMultibase":"z6Mk"},
   {"id":"#j","type":"JsonWebKey","controller":"did:idmesh:x","publicKeyJwk":{"crv":"P-256","kty":"EC","x":"x","y":"y"}}],
  "authentication":["#k",{"id":"#e","type":"Multikey","controller":"c","publicKeyMultibase":"z6Mk"}],
  "assertionMethod":["#k","#j"],
  "keyAgreement":[{"id":"#f","type":"JsonWebKey","controller":"c","publicKeyJwk":{"kty":"OKP"}}],
  "capabilityInvocation":["#k"],
  "capabilityDelegation":["#j"],
  "service":[
   {"id":"#s","type":["A","B"],"serviceEndpoint":{"uri":["https://a"],"n":2}},
   {"id":"#t","type":"C","serviceEndpoint":"https://t"}]
 }
}`

// keptVariants returns fullOperation, canonical, and canonical variants
// of it that each change one value somewhere: a string to "" or to a
// one-element array, an array to [] or (of one element) to its element,
// an object to {}, a number to 0, or a member left out.
func keptVariants(tb testing.TB) [][]byte {
	var root any
	if err := json.Unmarshal([]byte(fullOperation), &root); err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, v := range append([]any{root}, variants(root)...) {
		raw, err := json.Marshal(v)
		if err != nil {
			tb.Fatal(err)
		}
		canon, err := jcs.Transform(raw)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, canon)
	}
	return out
}

// variants returns copies of v that each differ from it in one place.
func variants(v any) []any {
	var out []any
	switch x := v.(type) {
	case string:
		out = append(out, "", []any{x})
	case float64:
		out = append(out, 0.0)
	case []any:
		out = append(out, []any{})
		if len(x) == 1 {
			out = append(out, x[0])
		}
		for i := range x {
			for _, w := range variants(x[i]) {
				y := slices.Clone(x)
				y[i] = w
				out = append(out, y)
			}
		}
	case map[string]any:
		out = append(out, map[string]any{})
		for _, k := range slices.Sorted(maps.Keys(x)) {
			y := maps.Clone(x)
			delete(y, k)
			out = append(out, y)
			for _, w := range variants(x[k]) {
				y := maps.Clone(x)
				y[k] = w
				out = append(out, y)
			}
		}
	}
	return out
}

// keptOldWay is how Decode showed that nothing of b is dropped before
// decodeTyped reported it: json.Marshal of the typed operation, compared
// with b by keptAsSent.
func keptOldWay(op *Operation, b []byte) bool {
	norm, err := json.Marshal(op)
	return err == nil && keptAsSent(b, norm)
}

// keptByTrees is the long way's verdict: subsumed on what encoding/json
// decodes from b and from json.Marshal of op.
func keptByTrees(op *Operation, b []byte) error {
	norm, err := json.Marshal(op)
	if err != nil {
		return err
	}
	var sent, kept any
	if err := json.Unmarshal(b, &sent); err != nil {
		return err
	}
	if err := json.Unmarshal(norm, &kept); err != nil {
		return err
	}
	return subsumed(sent, kept, "operation")
}

// checkTypedKept fails unless decodeTyped's kept for the canonical b is
// what json.Marshal and keptAsSent showed, and the long way agrees
// whenever it is true.
func checkTypedKept(t *testing.T, b []byte) (typed, kept bool) {
	t.Helper()
	op, kept, ok := decodeTyped(b)
	if !ok {
		return false, false
	}
	if old := keptOldWay(op, b); kept != old {
		t.Fatalf("%s: decodeTyped says kept %v, json.Marshal and keptAsSent %v", b, kept, old)
	}
	if err := keptByTrees(op, b); kept && err != nil {
		t.Fatalf("%s: decodeTyped says kept, subsumed: %v", b, err)
	}
	return true, kept
}

// TestTypedKeptMatchesKeptAsSent: over an operation with every member
// decodeTyped knows and its variants with any one value emptied,
// unwrapped, wrapped or left out, decodeTyped's kept is what encoding
// the operation again and comparing (keptAsSent) shows, and the long
// way agrees; the omitempty strings sent as "" (did, previous,
// publicKeyMultibase, in methods and in embedded ones) are not kept.
func TestTypedKeptMatchesKeptAsSent(t *testing.T) {
	var typed, kept, dropped int
	for _, b := range keptVariants(t) {
		if !isCanonical(b) {
			t.Fatalf("variant not canonical: %s", b)
		}
		ok, k := checkTypedKept(t, b)
		switch {
		case !ok:
		case k:
			typed++
			kept++
		default:
			typed++
			dropped++
		}
	}
	t.Logf("%d variants decoded typed: %d kept, %d dropped", typed, kept, dropped)
	if kept < 100 || dropped != 4 {
		t.Fatalf("%d variants kept, %d dropped: want the full operation and most variants kept, and did, previous and both publicKeyMultibase as \"\" dropped", kept, dropped)
	}
}

// FuzzTypedKept holds decodeTyped's kept to the check it replaces
// (json.Marshal and keptAsSent) and to the long way (subsumed on the
// decoded trees) for any canonical operation it takes.
func FuzzTypedKept(f *testing.F) {
	for _, b := range keptVariants(f) {
		f.Add(b)
	}
	for _, s := range typedSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if isCanonical(b) {
			checkTypedKept(t, b)
		}
	})
}

// TestTypedKeptKnowsTheModel: the omitempty fields that json.Marshal
// leaves out when they hold a non-empty JSON value ("", 0, false) are
// the ones decodeTyped marks as dropped, and fullOperation has a member
// for every field of the model, so that TestTypedKeptMatchesKeptAsSent
// empties each one. A field added to the model, or a tag changed, fails
// here until decodeTyped and fullOperation follow.
func TestTypedKeptKnowsTheModel(t *testing.T) {
	var lossy []string
	for _, typ := range []reflect.Type{reflect.TypeFor[Operation](), reflect.TypeFor[Proof](), reflect.TypeFor[did.Document](),
		reflect.TypeFor[did.VerificationMethod](), reflect.TypeFor[did.Service]()} {
		for f := range typ.Fields() {
			tag, ok := f.Tag.Lookup("json")
			if !f.IsExported() || !ok {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if !strings.Contains(fullOperation, `"`+name+`":`) {
				t.Errorf("fullOperation has no member %q (%s.%s)", name, typ.Name(), f.Name)
			}
			switch f.Type.Kind() {
			case reflect.Slice, reflect.Map, reflect.Pointer:
				// Left out only when nil or empty: null, [] or {}.
			default:
				if strings.Contains(opts, "omitempty") {
					lossy = append(lossy, typ.Name()+"."+name)
				}
			}
		}
	}
	if want := []string{"Operation.did", "Operation.previous", "VerificationMethod.publicKeyMultibase"}; !slices.Equal(lossy, want) {
		t.Errorf("omitempty fields json.Marshal drops when zero: %q, decodeTyped marks %q", lossy, want)
	}
}

package idmesh

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did"
)

// memKV is a KV over a map, for comparing what two ways of writing store.
type memKV map[string][]byte

func (m memKV) Get(k []byte) ([]byte, bool, error) { v, ok := m[string(k)]; return v, ok, nil }
func (m memKV) Set(k, v []byte)                    { m[string(k)] = bytes.Clone(v) }

// sameAsPutJSON fails unless putRecord (or versionBytes) stores what
// putJSON stores for v, or both fail.
func sameAsPutJSON(t *testing.T, name string, v any) {
	t.Helper()
	key := []byte("k")
	slow, fast := memKV{}, memKV{}
	slowErr := putJSON(slow, key, v)
	var fastErr error
	switch v := v.(type) {
	case *storedRecord:
		key = recordKey(v.DID)
		slow = memKV{}
		slowErr = putJSON(slow, key, v)
		fastErr = putRecord(fast, &v.Record, v.Latest)
	case *storedVersion:
		var b []byte
		if b, fastErr = versionBytes(v); fastErr == nil {
			fast.Set(key, b)
		}
	default:
		t.Fatalf("%s: a %T", name, v)
	}
	if (slowErr == nil) != (fastErr == nil) {
		t.Fatalf("%s: putJSON error %v, fast error %v", name, slowErr, fastErr)
	}
	if !bytes.Equal(slow[string(key)], fast[string(key)]) {
		t.Fatalf("%s: putJSON stores\n%s\nthe fast path\n%s", name, slow[string(key)], fast[string(key)])
	}
}

// latestBytes is a stored version for records in tests: canonical, with
// characters encoding/json escapes for HTML, which RFC 8785 writes as
// they are.
var latestBytes = []byte(`{"document":{"@context":["https://www.w3.org/ns/did/v1"],"alsoKnownAs":["<a&b>"]},"height":1,"time":"2026-12-05T01:02:03Z","versionId":"v"}`)

// TestEncodeRecordMatchesJSON: the records (with their latest version)
// and versions written without encoding/json are byte for byte what
// putJSON writes, over the cases where the fast path writes (plain
// strings, times in and out of UTC, omitted members) and those it leaves
// to putJSON (escapes, HTML characters, non-ASCII, numbers beyond 2^53,
// years encoding/json refuses, which must fail the same way).
func TestEncodeRecordMatchesJSON(t *testing.T) {
	const d = "did:idmesh:3TPzCuNoyyqn3VaSNCLn1kdxShRiYw8FuxDPDmXioXoQ"
	at := time.Date(2026, 12, 5, 1, 2, 3, 456_789_000, time.UTC)
	east := time.FixedZone("east", 5*3600+30*60)
	times := []time.Time{at, at.Truncate(time.Second), at.In(east), time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		at.In(time.FixedZone("far", 24*3600)), {}}
	strs := []string{"", "v1", "zQm<&>", "a\"b", `a\b`, "tab\t", "ü", "\xff", "\u2028", "\x7f"}
	nums := []uint64{0, 1, 1 << 53, 1<<53 + 1, math.MaxUint64}
	doc := &did.Document{Context: []any{did.ContextV1, map[string]any{"x": "<y>", "n": 1e21}},
		VerificationMethod:   []did.VerificationMethod{{ID: "#key-1", Type: "Multikey", PublicKeyMultibase: "z6Mkn7x4bDadndy2bU6X3yyUYGkzRx5NxFXzVzCFFJ5U3EQZ"}},
		CapabilityInvocation: []did.Relationship{did.Ref("#key-1")},
		Service:              []did.Service{{ID: "#s", Type: did.StringSet{"X"}, ServiceEndpoint: json.RawMessage(`{"b":"é","a":[1,2.50]}`)}}}
	// The usual record and version take the fast path.
	if _, ok := encodeRecord(&Record{DID: d, Versions: 2, VersionID: "v", Created: at, Updated: at.In(east), RotatedKeysTotal: 1}, latestBytes); !ok {
		t.Fatal("encodeRecord leaves a plain record to putJSON")
	}
	if _, ok := encodeRecord(&Record{DID: d, Versions: 1, VersionID: "v", Created: at, Updated: at}, nil); ok {
		t.Fatal("encodeRecord writes a record without its latest version")
	}
	if _, ok := encodeVersion(&storedVersion{VersionID: "v", Previous: "p", Time: at, Height: 3, Document: doc}); !ok {
		t.Fatal("encodeVersion leaves a plain version to putJSON")
	}
	// Documents of the usual shapes are written directly (appendDocument),
	// the others the slow way; both give putJSON's bytes.
	emb := did.VerificationMethod{ID: "#key-2", Type: did.TypeMultikey, PublicKeyMultibase: "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}
	plain := []*did.Document{
		{Context: []any{did.ContextV1, did.ContextMultikey},
			VerificationMethod: []did.VerificationMethod{{ID: "#key-1", Type: "Multikey", PublicKeyMultibase: "z6Mkn7x4bDadndy2bU6X3yyUYGkzRx5NxFXzVzCFFJ5U3EQZ"}},
			Authentication:     []did.Relationship{did.Ref("#key-1")}, AssertionMethod: []did.Relationship{did.Ref("#key-1")},
			CapabilityInvocation: []did.Relationship{did.Ref("#key-1"), {Embedded: &emb}}, CapabilityDelegation: []did.Relationship{{Embedded: &emb}},
			KeyAgreement: []did.Relationship{did.Ref("#key-1")}},
		{Context: []any{did.ContextV1}, ID: d, AlsoKnownAs: []string{"https://example.com", ""}, Controller: did.StringSet{d},
			Service: []did.Service{{ID: "#s", Type: did.StringSet{"LinkedDomains"}, ServiceEndpoint: json.RawMessage(`"https://example.com/` + d + `"`)},
				{ID: "#t", Type: did.StringSet{"A", "B"}, ServiceEndpoint: json.RawMessage(`""`)}, {ID: "#u", Type: did.StringSet{}, ServiceEndpoint: json.RawMessage(`"x"`)},
				{ID: "#v", ServiceEndpoint: json.RawMessage(`"y"`)}}},
		{Context: []any{}, Controller: did.StringSet{d, "did:key:z6Mkn7x4bDadndy2bU6X3yyUYGkzRx5NxFXzVzCFFJ5U3EQZ"}},
		{},
	}
	slow := []*did.Document{
		doc, // a context object, a number, an object endpoint
		{Context: []any{did.ContextV1}, Service: []did.Service{{ID: "#s", ServiceEndpoint: json.RawMessage(` "https://a" `)}}},
		{Context: []any{did.ContextV1}, Service: []did.Service{{ID: "#s", ServiceEndpoint: json.RawMessage(`"a\/b"`)}}},
		{Context: []any{did.ContextV1}, Service: []did.Service{{ID: "#s", ServiceEndpoint: json.RawMessage(`"<a>"`)}}},
		{Context: []any{did.ContextV1}, VerificationMethod: []did.VerificationMethod{{ID: "#k", Type: "JsonWebKey", PublicKeyJwk: map[string]any{"kty": "OKP"}}}},
		{Context: []any{did.ContextV1}, ID: "did:example:é"},
		{Context: []any{did.ContextV1}, AlsoKnownAs: []string{"a&b"}},
	}
	for i, dc := range append(plain, slow...) {
		_, ok := appendDocument(nil, dc)
		if ok != (i < len(plain)) {
			t.Fatalf("document %d: written directly %v", i, ok)
		}
		sameAsPutJSON(t, "document "+string(rune('0'+i)), &storedVersion{VersionID: "v", Time: at, Height: 1, Document: dc})
	}
	for i, tm := range times {
		for j, s := range strs {
			for k, n := range nums {
				name := func(kind string) string {
					return kind + " time " + string(rune('0'+i)) + " string " + string(rune('0'+j)) + " number " + string(rune('0'+k))
				}
				sameAsPutJSON(t, name("record"), &storedRecord{Record{DID: d + s, Versions: n, VersionID: s, Created: tm, Updated: at, RotatedKeysTotal: n, Deactivated: k%2 == 1}, latestBytes})
				sameAsPutJSON(t, name("record updated"), &storedRecord{Record{DID: d, Versions: 1, VersionID: "v" + s, Created: at, Updated: tm}, latestBytes})
				for _, dc := range []*did.Document{doc, nil, {}} {
					sameAsPutJSON(t, name("version"), &storedVersion{VersionID: s, Previous: s, Time: tm, Height: n, Deactivated: j%2 == 1, Document: dc, RotatedKeysTotal: n})
				}
			}
		}
	}
}

// FuzzEncodeRecord holds encodeRecord and encodeVersion to putJSON's
// bytes and errors over any strings, numbers, flags and times.
func FuzzEncodeRecord(f *testing.F) {
	f.Add("did:idmesh:x", "v", uint64(1), uint64(0), int64(1764896523), int64(0), int32(0), false, `{"a":1}`)
	f.Add("did:idmesh:x", "v", uint64(2), uint64(0), int64(1764896523), int64(0), int32(0), false, `"https://example.com"`)
	f.Add("did:idmesh:<x>", "\xff", uint64(1<<53+1), uint64(3), int64(-62167219300), int64(999), int32(-3600), true, `"é"`)
	f.Fuzz(func(t *testing.T, d, vid string, n, rot uint64, sec, nsec int64, zone int32, deact bool, endpoint string) {
		tm := time.Unix(sec, nsec).In(time.FixedZone("z", int(zone)))
		var doc *did.Document
		if json.Valid([]byte(endpoint)) {
			vm := did.VerificationMethod{ID: "#" + vid, Type: "Multikey", Controller: d, PublicKeyMultibase: vid}
			doc = &did.Document{Context: []any{did.ContextV1, vid}, AlsoKnownAs: []string{d}, ID: d, Controller: did.StringSet{d, vid}[:1+int(n%2)],
				VerificationMethod: []did.VerificationMethod{vm}, Authentication: []did.Relationship{did.Ref(vid), {Embedded: &vm}},
				Service: []did.Service{{ID: "#" + vid, Type: did.StringSet{vid}, ServiceEndpoint: json.RawMessage(endpoint)}}}
		}
		sv := &storedVersion{VersionID: vid, Previous: d, Time: tm, Height: n, Deactivated: deact, Document: doc, RotatedKeysTotal: rot}
		sameAsPutJSON(t, "version", sv)
		latest, err := versionBytes(sv)
		if err != nil {
			latest = latestBytes
		}
		sameAsPutJSON(t, "record", &storedRecord{Record{DID: d, Versions: n, VersionID: vid, Created: tm, Updated: tm.UTC(), Deactivated: deact, RotatedKeysTotal: rot}, latest})
	})
}

// BenchmarkEncodeVersion encodes the stored version of a create's usual
// document: directly (appendDocument) and the slow way (encoding/json,
// then canonicalJSON), the way every version was encoded before.
//
//	go test -run '^$' -bench EncodeVersion ./did/idmesh/
func BenchmarkEncodeVersion(b *testing.B) {
	ref := []did.Relationship{did.Ref("#key-1")}
	doc := &did.Document{Context: []any{did.ContextV1, did.ContextMultikey},
		VerificationMethod: []did.VerificationMethod{{ID: "#key-1", Type: did.TypeMultikey, PublicKeyMultibase: "z6Mkn7x4bDadndy2bU6X3yyUYGkzRx5NxFXzVzCFFJ5U3EQZ"}},
		Authentication:     ref, AssertionMethod: ref, CapabilityInvocation: ref}
	sv := &storedVersion{VersionID: "3b5c3f1a9d2e4c6b8a7f0e1d2c3b4a5968778695a4b3c2d1e0f1a2b3c4d5e6f7", Time: time.Unix(1764896523, 0).UTC(), Height: 7, Document: doc}
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			if _, ok := encodeVersion(sv); !ok {
				b.Fatal("not encoded")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			raw, err := json.Marshal(sv.Document)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := canonicalJSON(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

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
	f.Add("did:idmesh:<x>", "\xff", uint64(1<<53+1), uint64(3), int64(-62167219300), int64(999), int32(-3600), true, `"é"`)
	f.Fuzz(func(t *testing.T, d, vid string, n, rot uint64, sec, nsec int64, zone int32, deact bool, endpoint string) {
		tm := time.Unix(sec, nsec).In(time.FixedZone("z", int(zone)))
		var doc *did.Document
		if json.Valid([]byte(endpoint)) {
			doc = &did.Document{Context: []any{did.ContextV1}, AlsoKnownAs: []string{d},
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

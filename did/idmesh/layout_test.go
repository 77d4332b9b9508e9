package idmesh_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
)

// stateKeys returns the did:idmesh state keys of kind c ('r', 'v', 'i')
// that kv holds for d.
func stateKeys(kv mapKV, c byte, d string) []string {
	prefix := "did\x00" + string(c) + "\x00" + d
	var out []string
	for k := range kv {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	return out
}

// latestOf returns the stored bytes of the latest version that the
// stored record rec holds.
func latestOf(t *testing.T, rec []byte) []byte {
	t.Helper()
	var r struct {
		Latest json.RawMessage `json:"latest"`
	}
	if err := json.Unmarshal(rec, &r); err != nil || len(r.Latest) == 0 {
		t.Fatalf("record %s: %v", rec, err)
	}
	return r.Latest
}

// TestStateLayout: a create writes one state key, the record holding
// version 1, and no version index entry; each update moves the version
// it replaces, byte for byte, from the record to its own key and adds
// that version's index entry. No stored version repeats the DID (its
// document is relative), yet every version resolves, by versionId, by
// versionTime and by number, to the absolute document it was created
// with.
func TestStateLayout(t *testing.T) {
	e := newEnv(t)
	k1, k2 := genKey(t, keys.Ed25519, 1), genKey(t, keys.Ed25519, 2)
	d, v1 := e.create(k1)
	if len(e.kv) != 1 || len(stateKeys(e.kv, 'r', d)) != 1 {
		t.Fatalf("a create wrote %d keys: %q", len(e.kv), mapKeys(e.kv))
	}
	stored1 := latestOf(t, e.kv[string(idmesh.RecordKey(d))])
	first := e.resolve(d, did.Options{})
	t1 := first.DIDDocumentMetadata.Created

	// Two updates: a service with the DID in its endpoint, then a
	// rotation to an embedded key under a relative id.
	doc := first.DIDDocument.Clone()
	doc.Service = []did.Service{{ID: "#hub", Type: did.StringSet{"LinkedDomains"}, ServiceEndpoint: json.RawMessage(`"https://example.com/` + d + `"`)}}
	op := update(d, v1, doc, "#key-1", k1, chainID)
	if err := e.apply(op); err != nil {
		t.Fatal(err)
	}
	v2, _ := op.VersionID()
	if got := e.kv[string(idmesh.VersionKey(d, 1))]; !bytes.Equal(got, stored1) {
		t.Fatalf("version 1 moved as\n%s\nfrom the record's\n%s", got, stored1)
	}
	rot := e.resolve(d, did.Options{}).DIDDocument.Clone()
	emb := did.NewMultikey("#key-2", "", k2.Public())
	rot.VerificationMethod, rot.Authentication, rot.AssertionMethod = nil, nil, nil
	rot.Controller = did.StringSet{d}
	rot.CapabilityInvocation = []did.Relationship{{Embedded: &emb}}
	op = update(d, v2, rot, "#key-1", k1, chainID, idmesh.Signer{VM: "#key-2", Key: k2})
	if err := e.apply(op); err != nil {
		t.Fatal(err)
	}
	v3, _ := op.VersionID()
	if n := len(stateKeys(e.kv, 'v', d)); n != 2 {
		t.Fatalf("%d versions stored under their keys, want 2 (the record holds 3)", n)
	}
	if n := len(stateKeys(e.kv, 'i', d)); n != 2 {
		t.Fatalf("%d index entries, want 2 (versions 1 and 2; the record names 3)", n)
	}
	// The DID stays only where the document names it as data: the
	// service endpoint of versions 2 and 3, the controller list of 3.
	for n, want := range []int{0, 1, 2} {
		v := e.kv[string(idmesh.VersionKey(d, uint64(n+1)))]
		if n == 2 {
			v = latestOf(t, e.kv[string(idmesh.RecordKey(d))])
		}
		if got := strings.Count(string(v), d); got != want {
			t.Fatalf("stored version %d names the DID %d times, want %d: %s", n+1, got, want, v)
		}
	}

	r := &idmesh.Resolver{State: e.kv}
	for i, vid := range []string{v1, v2, v3} {
		n := uint64(i + 1)
		got, err := idmesh.VersionNumber(e.kv, d, vid)
		if err != nil || got != n {
			t.Fatalf("VersionNumber(%s) = %d, %v; want %d", vid, got, err, n)
		}
		byID := e.resolve(d, did.Options{VersionID: vid})
		byNum, err := r.ResolveVersionNumber(t.Context(), d, n)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(byID)
		b, _ := json.Marshal(byNum)
		if !bytes.Equal(a, b) || byID.DIDDocument.ID != d || byID.DIDDocumentMetadata.VersionID != vid {
			t.Fatalf("version %d: by id %s\nby number %s", n, a, b)
		}
		if err := byID.DIDDocument.Validate(); err != nil {
			t.Fatalf("version %d: %v", n, err)
		}
		for _, vm := range byID.DIDDocument.AllMethods() {
			if !strings.HasPrefix(vm.ID, d+"#") || vm.Controller != d {
				t.Fatalf("version %d: method %+v is not absolute", n, vm)
			}
		}
	}
	// The first version's document, as created, by versionTime.
	old := e.resolve(d, did.Options{VersionTime: mustTime(t, t1)})
	a, _ := json.Marshal(old.DIDDocument)
	b, _ := json.Marshal(first.DIDDocument)
	if !bytes.Equal(a, b) || old.DIDDocumentMetadata.VersionID != v1 {
		t.Fatalf("versionTime of the create: %s\nwant %s", a, b)
	}
	latest := e.resolve(d, did.Options{}).DIDDocument
	if emb := latest.CapabilityInvocation[0].Embedded; emb == nil || emb.ID != d+"#key-2" || emb.Controller != d {
		t.Fatalf("embedded method %+v", latest.CapabilityInvocation[0])
	}
	if latest.Service[0].ID != d+"#hub" || !strings.Contains(string(latest.Service[0].ServiceEndpoint), d) {
		t.Fatalf("service %+v", latest.Service[0])
	}

	// The record rules version numbers: the latest is the one it holds,
	// even beside a stray key of its number, and there is no version 0
	// or 4.
	if v, err := idmesh.LoadVersion(e.kv, d, 3); err != nil || v.VersionID != v3 || v.Document.ID != d {
		t.Fatalf("LoadVersion of the latest: %+v, %v", v, err)
	}
	e.kv[string(idmesh.VersionKey(d, 3))] = e.kv[string(idmesh.VersionKey(d, 1))]
	if v, err := idmesh.LoadVersion(e.kv, d, 3); err != nil || v.VersionID != v3 {
		t.Fatalf("LoadVersion of the latest beside a stray key: %+v, %v", v, err)
	}
	if got := e.resolve(d, did.Options{}).DIDDocumentMetadata.VersionID; got != v3 {
		t.Fatalf("resolved %s beside a stray key, want %s", got, v3)
	}
	delete(e.kv, string(idmesh.VersionKey(d, 3)))
	for _, n := range []uint64{0, 4, 1 << 63} {
		// A stray key of that number changes nothing.
		e.kv[string(idmesh.VersionKey(d, n))] = e.kv[string(idmesh.VersionKey(d, 1))]
		if v, err := idmesh.LoadVersion(e.kv, d, n); !errors.Is(err, idmesh.ErrNotFound) {
			t.Fatalf("LoadVersion(%d): %+v, %v", n, v, err)
		}
		delete(e.kv, string(idmesh.VersionKey(d, n)))
	}

	// Unknown and forged versionIds: not found, whatever their form.
	for _, vid := range []string{"", strings.Repeat("0", 64), v1 + "x", "\x00" + v1, d} {
		if _, err := idmesh.VersionNumber(e.kv, d, vid); !errors.Is(err, idmesh.ErrNotFound) {
			t.Fatalf("VersionNumber(%q): %v", vid, err)
		}
	}
	if _, err := idmesh.VersionNumber(e.kv, d+"x", v3); !errors.Is(err, idmesh.ErrNotFound) {
		t.Fatalf("VersionNumber of an absent DID: %v", err)
	}
	// A record whose latest version is missing or not an object is
	// refused, not read as a DID without a document.
	rec := string(e.kv[string(idmesh.RecordKey(d))])
	i := strings.Index(rec, `"latest":`)
	j := strings.LastIndex(rec, `,"rotatedKeysTotal"`) // the record's, after the latest version's own
	if i < 0 || j < i {
		t.Fatalf("record %s", rec)
	}
	for _, latest := range []string{"", `"latest":null,`, `"latest":"x",`, `"latest":[],`, `"latest":1,`} {
		e.kv[string(idmesh.RecordKey(d))] = []byte(rec[:i] + latest + rec[j+1:])
		if _, err := idmesh.LoadRecord(e.kv, d); err == nil || !strings.Contains(err.Error(), "without its latest version") {
			t.Fatalf("a record with %q: %v", latest, err)
		}
	}
	e.kv[string(idmesh.RecordKey(d))] = []byte(rec)

	// The record under another DID's key is refused, not misread.
	other := "did:idmesh:" + strings.Repeat("1", 44)
	e.kv[string(idmesh.RecordKey(other))] = e.kv[string(idmesh.RecordKey(d))]
	if _, err := idmesh.LoadRecord(e.kv, other); err == nil || errors.Is(err, idmesh.ErrNotFound) {
		t.Fatalf("a record moved to another key: %v", err)
	}
}

func mapKeys(kv mapKV) []string {
	out := make([]string, 0, len(kv))
	for k := range kv {
		out = append(out, k)
	}
	return out
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(did.TimeLayout, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

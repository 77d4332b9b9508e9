package issuer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/issuer"
)

const baseURL = "https://node.example"

// fakeChain keeps the versions of each list in memory, under naming
// rules of its own (listPrefix, listPath), unlike the registry's, so that
// the service is seen to take them from its Chain. PublishStatusList
// checks a version as a ledger would (a list credential, under its
// issuer's prefix, signed by the issuer, later than the version before)
// and commits it at the next height. With block set, each
// PublishStatusList reports on entered and waits for a token on release.
type fakeChain struct {
	keys *credential.StaticKeys
	// parseOnly skips the proof check (for benchmarks).
	parseOnly bool

	mu       sync.Mutex
	versions map[string][]*statuslist.List
	height   uint64
	submits  int
	err      error // the next PublishStatusList fails with it

	block   bool
	entered chan string
	release chan struct{}
}

var _ issuer.Chain = (*fakeChain)(nil)

// The fake ledger's naming rules, and its refusal.
const listPath = "/lists/"

var errRefused = errors.New("the fake chain refuses the status list")

func listPrefix(issuerDID string) string { return "x" + strings.ReplaceAll(issuerDID, ":", "_") + "." }

func newFakeChain() *fakeChain {
	return &fakeChain{keys: &credential.StaticKeys{}, versions: map[string][]*statuslist.List{},
		entered: make(chan string), release: make(chan struct{})}
}

func (c *fakeChain) PublishStatusList(ctx context.Context, payload []byte) (uint64, error) {
	var obj map[string]any
	if err := json.Unmarshal(payload, &obj); err != nil {
		return 0, err
	}
	l, err := statuslist.ParseListCredential(obj, 0)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errRefused, err)
	}
	id, ok := strings.CutPrefix(l.ID, baseURL+listPath)
	if !ok || !strings.HasPrefix(id, listPrefix(l.Issuer)) {
		return 0, fmt.Errorf("%w: list %s of %s", errRefused, l.ID, l.Issuer)
	}
	if !c.parseOnly {
		res, err := dataintegrity.Verify(ctx, obj, c.keys, dataintegrity.VerifyOptions{})
		if err != nil || len(res.Proofs) != 1 || res.Proofs[0].Key.Controller != l.Issuer {
			return 0, fmt.Errorf("%w: proof: %w", errRefused, err)
		}
	}
	c.mu.Lock()
	if err := c.err; err != nil {
		c.err = nil
		c.mu.Unlock()
		return 0, err
	}
	if vs := c.versions[id]; len(vs) > 0 && !l.ValidFrom.After(vs[len(vs)-1].ValidFrom) {
		c.mu.Unlock()
		return 0, fmt.Errorf("%w: validFrom %v is not after %v", errRefused, l.ValidFrom, vs[len(vs)-1].ValidFrom)
	}
	block := c.block
	c.mu.Unlock()
	if block {
		select {
		case c.entered <- id:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		select {
		case <-c.release:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.height++
	c.submits++
	c.versions[id] = append(c.versions[id], l)
	return c.height, nil
}

func (c *fakeChain) StatusList(listID string) (*statuslist.List, error) {
	l, _ := c.latest(listID)
	if l == nil {
		return nil, fmt.Errorf("no status list %s", listID)
	}
	return l, nil
}

func (c *fakeChain) Height() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.height
}

func (c *fakeChain) ListIDPrefix(issuerDID string) string { return listPrefix(issuerDID) }

func (c *fakeChain) ListPath(listID string) string { return listPath + listID }

// latest returns the latest version of a list and the number published.
func (c *fakeChain) latest(id string) (*statuslist.List, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	vs := c.versions[id]
	if len(vs) == 0 {
		return nil, 0
	}
	return vs[len(vs)-1], len(vs)
}

func (c *fakeChain) submitted() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.submits
}

func (c *fakeChain) setBlock(b bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.block = b
}

// env is a status service over a temp LevelDB, a keystore with one
// issuer, and a fake chain, with a frozen clock.
type env struct {
	dir   string
	db    *leveldb.DB
	chain *fakeChain
	reg   *issuer.Registry
	iss   issuer.Issuer
	now   time.Time
	svc   *issuer.StatusService
}

func MustEnv(tb testing.TB) *env {
	tb.Helper()
	e := &env{dir: filepath.Join(tb.TempDir(), "status"), chain: newFakeChain(), reg: issuer.NewRegistry(MustKeystore(tb)), now: t0}
	e.iss = MustCreate(tb, e.reg, "university", 1)
	s, err := e.reg.Signer(e.iss)
	if err != nil {
		tb.Fatal(err)
	}
	e.chain.keys.Add(credential.VerificationKey{ID: e.iss.KeyID, Controller: e.iss.DID, Public: s.Public()}, credential.PurposeAssertion)
	e.MustOpen(tb, 1)
	tb.Cleanup(func() { e.db.Close() })
	return e
}

// MustOpen (re)opens the LevelDB and makes a new service over it, whose
// randomness is a ChaCha8 stream seeded with seed.
func (e *env) MustOpen(tb testing.TB, seed byte) {
	tb.Helper()
	if e.db != nil {
		if err := e.db.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	db, err := leveldb.OpenFile(e.dir, nil)
	if err != nil {
		tb.Fatal(err)
	}
	e.db = db
	e.svc = &issuer.StatusService{DB: db, Chain: e.chain, Registry: e.reg, BaseURL: baseURL,
		Now: func() time.Time { return e.now }, Rand: rand.NewChaCha8([32]byte{seed})}
}

// MustEntries gives credentials cred-<from>… cred-<to-1> their entries.
func (e *env) MustEntries(tb testing.TB, from, to int, purposes ...string) map[string][]statuslist.Entry {
	tb.Helper()
	out := map[string][]statuslist.Entry{}
	for i := from; i < to; i++ {
		id := fmt.Sprintf("urn:uuid:cred-%d", i)
		objs, err := e.svc.Entries(tb.Context(), e.iss, id, purposes)
		if err != nil {
			tb.Fatal(err)
		}
		if len(objs) != len(purposes) {
			tb.Fatalf("%d entries for %d purposes", len(objs), len(purposes))
		}
		for j, o := range objs {
			en, err := statuslist.ParseEntry(o.(map[string]any))
			if err != nil {
				tb.Fatalf("entry %v: %v", o, err)
			}
			if en.Purpose != purposes[j] {
				tb.Fatalf("entry %d has purpose %s, want %s", j, en.Purpose, purposes[j])
			}
			out[id] = append(out[id], en)
		}
	}
	return out
}

// bit reads a credential's bit in the list's latest version.
func (e *env) bit(tb testing.TB, en statuslist.Entry) bool {
	tb.Helper()
	id := listID(en)
	l, _ := e.chain.latest(id)
	if l == nil {
		tb.Fatalf("no list %s", id)
	}
	st, err := statuslist.Check(en, l)
	if err != nil {
		tb.Fatal(err)
	}
	return st.Set
}

// listID returns the ID of an entry's list, by the fake chain's rule.
func listID(en statuslist.Entry) string {
	return strings.TrimPrefix(en.ListCredential, baseURL+listPath)
}

func TestEntries(t *testing.T) {
	e := MustEnv(t)
	purposes := []string{statuslist.PurposeRevocation, statuslist.PurposeSuspension}
	first := e.MustEntries(t, 0, 50, purposes...)
	if n := e.chain.submitted(); n != 2 {
		t.Fatalf("%d lists published, want one per purpose", n)
	}
	taken := map[string]map[int]string{} // list → index → credential
	check := func(entries map[string][]statuslist.Entry) {
		t.Helper()
		for cred, es := range entries {
			refs, err := e.svc.Refs(cred)
			if err != nil {
				t.Fatal(err)
			}
			if len(refs) != len(es) {
				t.Fatalf("%s: refs %+v for entries %+v", cred, refs, es)
			}
			for i, en := range es {
				id := listID(en)
				if refs[i] != (issuer.EntryRef{Issuer: e.iss.DID, Purpose: en.Purpose, ListID: id, Index: en.Index}) {
					t.Errorf("%s: ref %+v for entry %+v", cred, refs[i], en)
				}
				if en.ListCredential != e.svc.ListURL(id) || en.ID != en.ListCredential+fmt.Sprintf("#%d", en.Index) {
					t.Errorf("entry %+v", en)
				}
				if en.Index < 0 || en.Index >= statuslist.MinLength {
					t.Errorf("index %d outside the list", en.Index)
				}
				if taken[id] == nil {
					taken[id] = map[int]string{}
				}
				if other, ok := taken[id][en.Index]; ok {
					t.Errorf("index %d of %s given to %s and %s", en.Index, id, other, cred)
				}
				taken[id][en.Index] = cred
				if e.bit(t, en) {
					t.Errorf("a new entry is set: %+v", en)
				}
			}
		}
	}
	check(first)
	if len(taken) != 2 {
		t.Fatalf("%d lists, want 2", len(taken))
	}

	// A new service over the reopened database, with the same
	// randomness, continues the lists without reusing an index.
	e.MustOpen(t, 1)
	check(e.MustEntries(t, 50, 100, purposes...))
	if n := e.chain.submitted(); n != 2 || len(taken) != 2 {
		t.Fatalf("%d lists published (%d used) after reopening, want the same 2", n, len(taken))
	}
	for id, m := range taken {
		if len(m) != 100 {
			t.Errorf("list %s: %d indexes for 100 credentials", id, len(m))
		}
	}
	if _, err := e.svc.Refs("urn:uuid:unknown"); !errors.Is(err, issuer.ErrUnknownCredential) {
		t.Fatalf("unknown: %v", err)
	}
}

func TestSetStatus(t *testing.T) {
	ctx := t.Context()
	e := MustEnv(t)
	entries := e.MustEntries(t, 0, 2, statuslist.PurposeRevocation, statuslist.PurposeSuspension)
	only := e.MustEntries(t, 2, 3, statuslist.PurposeRevocation)
	c0, c1 := "urn:uuid:cred-0", "urn:uuid:cred-1"
	rev, sus := entries[c0][0], entries[c0][1]
	published := func() int { _, n := e.chain.latest(listID(sus)); _, m := e.chain.latest(listID(rev)); return n + m }

	// Suspend, then clear the suspension.
	h, err := e.svc.SetStatus(ctx, c0, statuslist.PurposeSuspension, true)
	if err != nil || h != e.chain.Height() || !e.bit(t, sus) {
		t.Fatalf("suspend: height %d, %v", h, err)
	}
	if e.bit(t, entries[c1][1]) {
		t.Fatal("another credential suspended")
	}
	if _, err := e.svc.SetStatus(ctx, c0, statuslist.PurposeSuspension, false); err != nil || e.bit(t, sus) {
		t.Fatalf("clear suspension: %v", err)
	}
	if _, err := e.svc.SetStatus(ctx, c0, statuslist.PurposeSuspension, true); err != nil || !e.bit(t, sus) {
		t.Fatalf("suspend again: %v", err)
	}

	// A change that changes nothing publishes nothing.
	before := published()
	if h, err := e.svc.SetStatus(ctx, c0, statuslist.PurposeSuspension, true); err != nil || h != e.chain.Height() {
		t.Fatalf("no-op: height %d, %v", h, err)
	}
	if _, err := e.svc.SetStatus(ctx, c1, statuslist.PurposeRevocation, false); err != nil {
		t.Fatalf("no-op clear: %v", err)
	}
	if published() != before {
		t.Fatalf("a no-op published a version")
	}

	// Revocation is final.
	if _, err := e.svc.SetStatus(ctx, c0, statuslist.PurposeRevocation, true); err != nil || !e.bit(t, rev) {
		t.Fatalf("revoke: %v", err)
	}
	if _, err := e.svc.SetStatus(ctx, c0, statuslist.PurposeRevocation, true); err != nil {
		t.Fatalf("revoke again: %v", err)
	}
	before = published()
	if _, err := e.svc.SetStatus(ctx, c0, statuslist.PurposeRevocation, false); !errors.Is(err, issuer.ErrRevocationFinal) {
		t.Fatalf("un-revoke: %v", err)
	}
	if !e.bit(t, rev) || published() != before {
		t.Fatal("un-revoking changed the list")
	}

	// Unknown credentials and purposes.
	if _, err := e.svc.SetStatus(ctx, "urn:uuid:unknown", statuslist.PurposeRevocation, true); !errors.Is(err, issuer.ErrUnknownCredential) {
		t.Fatalf("unknown credential: %v", err)
	}
	if _, err := e.svc.SetStatus(ctx, "urn:uuid:cred-2", statuslist.PurposeSuspension, true); !errors.Is(err, issuer.ErrUnknownCredential) {
		t.Fatalf("no suspension entry: %v", err)
	}
	if _, err := e.svc.SetStatus(ctx, "urn:uuid:cred-2", statuslist.PurposeRevocation, true); err != nil || !e.bit(t, only["urn:uuid:cred-2"][0]) {
		t.Fatalf("revoke the revocation-only credential: %v", err)
	}

	// A failed submission fails its round; the next round works.
	e.chain.mu.Lock()
	e.chain.err = errors.New("mempool full")
	e.chain.mu.Unlock()
	if _, err := e.svc.SetStatus(ctx, c1, statuslist.PurposeSuspension, true); err == nil || e.bit(t, entries[c1][1]) {
		t.Fatalf("failed submission: %v", err)
	}
	if _, err := e.svc.SetStatus(ctx, c1, statuslist.PurposeSuspension, true); err != nil || !e.bit(t, entries[c1][1]) {
		t.Fatalf("after a failed submission: %v", err)
	}
}

// TestSetStatusBatches blocks the chain during a round and checks that
// every change queued meanwhile goes into the next round, as one version.
func TestSetStatusBatches(t *testing.T) {
	const n = 40
	ctx := t.Context()
	e := MustEnv(t)
	entries := e.MustEntries(t, 0, n+1, statuslist.PurposeSuspension)
	list := listID(entries["urn:uuid:cred-0"][0])
	_, versions := e.chain.latest(list)
	e.chain.setBlock(true)

	heights := make([]uint64, n+1)
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	set := func(i int) {
		wg.Go(func() {
			heights[i], errs[i] = e.svc.SetStatus(ctx, fmt.Sprintf("urn:uuid:cred-%d", i), statuslist.PurposeSuspension, true)
		})
	}
	set(0)
	if got := <-e.chain.entered; got != list { // round 1 is in flight
		t.Fatalf("round 1 submits %s", got)
	}
	for i := 1; i <= n; i++ {
		set(i)
	}
	for issuer.PendingChanges(e.svc, list) < n {
		runtime.Gosched()
	}
	e.chain.release <- struct{}{} // round 1 commits
	<-e.chain.entered             // round 2 is in flight
	if p := issuer.PendingChanges(e.svc, list); p != 0 {
		t.Fatalf("%d changes left out of round 2", p)
	}
	e.chain.release <- struct{}{}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Fatalf("change %d: %v", i, err)
		}
	}
	l, got := e.chain.latest(list)
	if got-versions != 2 {
		t.Fatalf("%d versions for %d changes, want 2", got-versions, n+1)
	}
	if heights[0] >= heights[1] || slices.ContainsFunc(heights[1:], func(h uint64) bool { return h != heights[1] }) {
		t.Fatalf("heights %v: want round 1, then round 2 for all the others", heights)
	}
	if l.Bits.Count() != n+1 {
		t.Fatalf("%d bits set, want %d", l.Bits.Count(), n+1)
	}
	for _, es := range entries {
		if !e.bit(t, es[0]) {
			t.Fatalf("%+v not set", es[0])
		}
	}
}

// TestSetStatusValidFrom checks that each version is strictly later than
// the one before, however the clock goes.
func TestSetStatusValidFrom(t *testing.T) {
	ctx := t.Context()
	e := MustEnv(t)
	e.now = t0.Add(123456789 * time.Nanosecond)
	entries := e.MustEntries(t, 0, 1, statuslist.PurposeSuspension)
	list := listID(entries["urn:uuid:cred-0"][0])
	for i := range 6 {
		if i == 4 {
			e.now = e.now.Add(-time.Hour) // the clock goes back
		}
		if _, err := e.svc.SetStatus(ctx, "urn:uuid:cred-0", statuslist.PurposeSuspension, i%2 == 0); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	e.chain.mu.Lock()
	vs := e.chain.versions[list]
	e.chain.mu.Unlock()
	if len(vs) != 7 {
		t.Fatalf("%d versions, want 7", len(vs))
	}
	want := t0.Add(123 * time.Millisecond)
	for i, v := range vs {
		if !v.ValidFrom.Equal(want) {
			t.Errorf("version %d: validFrom %v, want %v", i, v.ValidFrom, want)
		}
		want = want.Add(time.Millisecond)
	}
}

// TestEntriesConcurrent allocates from many goroutines at once, the
// first of them racing to publish the lists.
func TestEntriesConcurrent(t *testing.T) {
	const n = 64
	e := MustEnv(t)
	got := make([][]any, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got[i], errs[i] = e.svc.Entries(t.Context(), e.iss, fmt.Sprintf("urn:uuid:cred-%d", i), issuer.Purposes)
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, o := range got[i] {
			en, err := statuslist.ParseEntry(o.(map[string]any))
			if err != nil {
				t.Fatal(err)
			}
			if seen[en.ID] {
				t.Fatalf("entry %s given twice", en.ID)
			}
			seen[en.ID] = true
		}
	}
	if p := e.chain.submitted(); p != len(issuer.Purposes) {
		t.Fatalf("%d lists published, want %d", p, len(issuer.Purposes))
	}
}

package leveldb_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// waitBuilds waits until s's absence filter has completed n builds.
func waitBuilds(t *testing.T, s *leveldb.Store, n uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, _, _ := s.AbsentStats(); b >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the absence filter did not complete build %d in 30 s", n)
		}
		time.Sleep(time.Millisecond)
	}
}

// commitCreates commits a block of n creates from the i-th on and returns
// the transactions and DIDs.
func commitCreates(t *testing.T, c *registrytest.Chain, from, n uint64) ([]registry.Tx, []string) {
	t.Helper()
	txs, dids, err := registrytest.CreateOps(from, n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CommitBlock(txs); err != nil {
		t.Fatal(err)
	}
	return txs, dids
}

// mustHold fails unless s holds the record of each DID and each
// transaction.
func mustHold(t *testing.T, s *leveldb.Store, txs []registry.Tx, dids []string) {
	t.Helper()
	for i, d := range dids {
		if _, err := s.Get(idmesh.RecordKey(d)); err != nil {
			t.Fatalf("record of %s: %v", d, err)
		}
		if _, err := s.Tx(txs[i].Hash()); err != nil {
			t.Fatalf("transaction %d: %v", i, err)
		}
	}
}

// TestAbsenceFilter: the absence filter answers reads of absent state
// keys and transactions, and never one that the store holds: keys
// written while it is built (after its snapshot), after, before a
// reopen, and while a larger filter replaces an outgrown one.
func TestAbsenceFilter(t *testing.T) {
	release := make(chan struct{})
	held := make(chan struct{}, 1)
	first := true
	leveldb.SetAbsentForTest(t, 64, func() {
		if first { // the first build waits, its snapshot taken
			first = false
			held <- struct{}{}
			<-release
		}
	})
	dir := filepath.Join(t.TempDir(), "chain")
	c, err := registrytest.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	<-held
	if b, _, _ := c.Store.AbsentStats(); b != 0 {
		t.Fatalf("%d builds done while the first waits", b)
	}
	// Written after the build's snapshot, before it is done.
	txs, dids := commitCreates(t, c, 0, 20)
	mustHold(t, c.Store, txs, dids)
	close(release)
	waitBuilds(t, c.Store, 1)
	mustHold(t, c.Store, txs, dids)

	absent := func(s *leveldb.Store) {
		t.Helper()
		_, hits0, _ := s.AbsentStats()
		for i := range 200 {
			if _, err := s.Get(idmesh.RecordKey(fmt.Sprintf("did:idmesh:absent%d", i))); !errors.Is(err, registry.ErrNotFound) {
				t.Fatalf("an absent key: %v", err)
			}
			if _, err := s.Tx(registry.Sum(fmt.Appendf(nil, "absent %d", i))); !errors.Is(err, registry.ErrNotFound) {
				t.Fatalf("an absent transaction: %v", err)
			}
		}
		// At most 1% false positives at capacity, and the filter is far
		// from it: most of the 400 reads are the filter's.
		if _, hits, _ := s.AbsentStats(); hits-hits0 < 350 {
			t.Fatalf("the filter answered %d of 400 absent reads", hits-hits0)
		}
	}
	absent(c.Store)

	// Written once it is built, enough to outgrow it (64 keys at the
	// first build's size of twice its 40 keys plus the genesis state):
	// a larger one replaces it, and whatever is written meanwhile stays.
	_, _, capacity := c.Store.AbsentStats()
	all, allDIDs := txs, dids
	for i := uint64(1); i <= 6; i++ {
		txs, dids := commitCreates(t, c, 20*i, 20)
		mustHold(t, c.Store, txs, dids)
		all, allDIDs = append(all, txs...), append(allDIDs, dids...)
	}
	waitBuilds(t, c.Store, 2)
	if _, _, c2 := c.Store.AbsentStats(); c2 <= capacity {
		t.Fatalf("capacity %d after outgrowing %d", c2, capacity)
	}
	mustHold(t, c.Store, all, allDIDs)
	absent(c.Store)

	// A reopened store builds its filter from what it holds.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := leveldb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitBuilds(t, s, 1)
	mustHold(t, s, all, allDIDs)
	absent(s)
}

// TestAbsenceFilterRestore: state restored from a snapshot's chunks is
// read back through the filter, built before the restore.
func TestAbsenceFilterRestore(t *testing.T) {
	s, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitBuilds(t, s, 1)
	if err := s.BeginRestore(); err != nil {
		t.Fatal(err)
	}
	var writes []registry.KV
	for i := range 100 {
		writes = append(writes, registry.KV{Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")})
	}
	if err := s.RestoreChunk(7, writes, nil); err != nil {
		t.Fatal(err)
	}
	for _, w := range writes {
		if _, err := s.Get(w.Key); err != nil {
			t.Fatalf("restored key %s: %v", w.Key, err)
		}
	}
	if _, err := s.Get([]byte("k100")); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("an absent key: %v", err)
	}
}

package registry

// Review R8 (security): what the new caches and kept encodings really
// hold in memory, against what they count.

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"runtime"
	"testing"
)

// r8aTxStore is a Store whose Tx answers as leveldb.Store.Tx does for a
// transaction that is not committed (its error names the hash).
type r8aTxStore struct{ Store }

func (r8aTxStore) Tx(h Hash) (TxRecord, error) {
	return TxRecord{}, fmt.Errorf("%s: %w", "transaction "+h.String(), ErrNotFound)
}

// r8aStateStore answers every state key absent as leveldb.Store.Get does.
type r8aStateStore struct{ countingState }

func (*r8aStateStore) Get(key []byte) ([]byte, error) {
	return nil, fmt.Errorf("%s: %w", "state key", ErrNotFound)
}

func r8aHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestR8ATipReadsHoldWhatTheyCount: filled to its bound by lookups of
// transactions nobody committed (gossiped junk: one replay lookup each)
// or of absent state keys (DIDs nobody created), the tip read cache
// holds at most MaxTipReadBytes (with 10% slack for the maps' growth).
// The error values it keeps (the store's, one allocation with the hash
// in its text for each absent transaction) and the map slots are not in
// tipReadEntryCost.
func TestR8ATipReadsHoldWhatTheyCount(t *testing.T) {
	for _, kind := range []string{"absent transactions", "absent keys"} {
		t.Run(kind, func(t *testing.T) {
			before := r8aHeap()
			tr := newTipReads()
			st := &r8aStateStore{}
			for i := 0; ; i++ {
				_, cost := tr.len()
				if cost+200 > MaxTipReadBytes {
					break
				}
				if kind == "absent transactions" {
					var h Hash
					binary.BigEndian.PutUint64(h[:], uint64(i))
					h = sha256.Sum256(h[:])
					_, _ = tr.tx(r8aTxStore{}, h)
				} else {
					_, _ = tr.get(st, fmt.Appendf(nil, "did\x00r\x00did:idmesh:z%022d", i))
				}
			}
			after := r8aHeap()
			n, cost := tr.len()
			held := int64(after) - int64(before)
			runtime.KeepAlive(tr)
			t.Logf("%d entries, counted %d bytes, heap grew %d bytes (%.2fx)", n, cost, held, float64(held)/float64(cost))
			if held > int64(MaxTipReadBytes)*11/10 {
				t.Errorf("the cache holds %d bytes of heap, bound %d (counted %d)", held, MaxTipReadBytes, cost)
			}
		})
	}
}

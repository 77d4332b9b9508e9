package leveldb

import (
	"errors"
	"fmt"
	"testing"

	"github.com/idmesh/idmesh/registry"
)

// TestSaveBlockBatchReused: SaveBlock's batch is kept between blocks,
// and nothing of one block is written again with the next: keys set by
// a large block, then deleted, stay deleted after a small block; every
// transaction stays indexed at its own height.
func TestSaveBlockBatchReused(t *testing.T) {
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := pruneChain(t, s)
	var set, del []string
	for i := range 40 {
		set = append(set, fmt.Sprintf("set r%d v%d", i, i))
		del = append(del, fmt.Sprintf("del r%d", i))
	}
	commitCmds(t, c, set)
	if s.saveBatch == nil {
		t.Fatal("the batch was not kept")
	}
	large := s.saveBatch.Len()
	commitCmds(t, c, del)
	commitCmds(t, c, []string{"set r100 x"})
	// Block, commit, block ID, one transaction, one state key, its leaf
	// and the inner nodes above it, the version and the chain state.
	if n := s.saveBatch.Len(); n >= large/4 {
		t.Fatalf("the last block's batch holds %d records, the first's %d", n, large)
	}
	for i := range 40 {
		if v, err := s.Get(fmt.Appendf(nil, "r%d", i)); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("r%d = %q after its deletion and a later block: %v", i, v, err)
		}
	}
	if v, err := s.Get([]byte("r100")); err != nil || string(v) != "x" {
		t.Fatalf("r100 = %q, %v", v, err)
	}
	for h := uint64(1); h <= 3; h++ {
		b, err := s.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		for i, tx := range b.Txs {
			r, err := s.Tx(tx.Hash())
			if err != nil || r.Height != h || r.Index != uint32(i) {
				t.Fatalf("tx %d of block %d indexed at %d/%d: %v", i, h, r.Height, r.Index, err)
			}
		}
	}
}

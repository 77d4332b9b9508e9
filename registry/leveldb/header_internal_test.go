package leveldb

import (
	"fmt"
	"reflect"
	"testing"
)

// TestBlockHeaderOwnKey: a saved block's header is read from its own key
// (a few hundred bytes, however large the block); a block saved before
// headers had one (its key deleted here) still gives its header, read
// from the block, with the block's size as the bytes read.
func TestBlockHeaderOwnKey(t *testing.T) {
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := pruneChain(t, s)
	var set []string
	for i := range 200 {
		set = append(set, fmt.Sprintf("set k%d %0200d", i, i))
	}
	commitCmds(t, c, set)
	commitCmds(t, c, []string{"set small x"})
	for h := uint64(1); h <= 2; h++ {
		b, err := s.Block(h)
		if err != nil {
			t.Fatal(err)
		}
		blockBytes := len(b.Encode())
		hd, n, err := s.BlockHeaderRead(h)
		if err != nil || !reflect.DeepEqual(*hd, b.Header) {
			t.Fatalf("block %d: header %+v, %v; want %+v", h, hd, err, b.Header)
		}
		if n != len(b.Header.Encode()) {
			t.Fatalf("block %d: %d bytes read, want the header's %d", h, n, len(b.Header.Encode()))
		}
		if h == 1 && n*20 > blockBytes {
			t.Fatalf("block 1: %d bytes read for a block of %d", n, blockBytes)
		}
		// As a store of before: no header key.
		if err := s.db.Delete(key(pHeader, u64(h)), nil); err != nil {
			t.Fatal(err)
		}
		hd, n, err = s.BlockHeaderRead(h)
		if err != nil || !reflect.DeepEqual(*hd, b.Header) || n != blockBytes {
			t.Fatalf("block %d without its header key: %+v, %d bytes read (block %d), %v", h, hd, n, blockBytes, err)
		}
	}
	if _, _, err := s.BlockHeaderRead(3); err == nil {
		t.Fatal("a header above the tip")
	}
}

package leveldb

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// randomKeys returns n keys of the store's kinds, filtered and not.
func randomKeys(rng *rand.Rand, n int) [][]byte {
	kinds := []byte{pState, pTx, pNode, pBlock, pStale, pHeader, pVersion}
	keys := make([][]byte, n)
	for i := range keys {
		k := make([]byte, 1+rng.IntN(48))
		k[0] = kinds[rng.IntN(len(kinds))]
		for j := 1; j < len(k); j++ {
			k[j] = byte(rng.Uint32())
		}
		keys[i] = k
	}
	return keys
}

// TestKeyFilterNoFalseNegatives adds keys of every kind to one filter:
// each key added is reported possibly present, a key of an unfiltered
// kind always, and a part with only unfiltered keys excludes every
// filtered key.
func TestKeyFilterNoFalseNegatives(t *testing.T) {
	f := newKeyFilter(bloomBitsPerKey)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 10, 500} {
		keys := randomKeys(rng, n)
		g := f.NewGenerator()
		for _, k := range keys {
			g.Add(k)
		}
		var b util.Buffer
		g.Generate(&b)
		if b.Len() == 0 {
			t.Fatalf("%d keys: empty filter (the table reader reads it as a part without keys)", n)
		}
		for _, k := range keys {
			if !f.Contains(b.Bytes(), k) {
				t.Fatalf("%d keys: %x added but not contained", n, k)
			}
		}
		for _, k := range randomKeys(rng, 200) {
			if !filtered(k) && !f.Contains(b.Bytes(), k) {
				t.Fatalf("%d keys: unfiltered %x reported absent", n, k)
			}
		}
	}
	g := f.NewGenerator()
	g.Add([]byte{pNode, 1, 2, 3})
	g.Add([]byte{pBlock, 4})
	var b util.Buffer
	g.Generate(&b)
	if !bytes.Equal(b.Bytes(), noFiltered) {
		t.Fatalf("filter of unfiltered keys only = %x, want %x", b.Bytes(), noFiltered)
	}
	if f.Contains(b.Bytes(), []byte{pState, 1}) || f.Contains(b.Bytes(), []byte{pTx, 1}) {
		t.Fatal("a part without filtered keys may hold a filtered one")
	}
	if !f.Contains(b.Bytes(), []byte{pNode, 9}) {
		t.Fatal("a part without filtered keys excludes a node")
	}
}

// TestKeyFilterStoreReads writes keys of every kind through LevelDB with
// the store's options and a small write buffer (many tables, parts with
// unfiltered keys only), and reads each back, before and after a full
// compaction: every key written is found with its value, and absent
// state and transaction keys are not.
func TestKeyFilterStoreReads(t *testing.T) {
	o := options()
	o.WriteBuffer = 64 << 10
	o.BlockSize = 1 << 10
	db, err := leveldb.OpenFile(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	keys := randomKeys(rng, 20_000)
	val := func(k []byte) []byte { return fmt.Appendf(nil, "v%x", k) }
	for i := 0; i < len(keys); i += 500 {
		batch := new(leveldb.Batch)
		for _, k := range keys[i : i+500] {
			batch.Put(k, val(k))
		}
		if err := db.Write(batch, nil); err != nil {
			t.Fatal(err)
		}
	}
	written := make(map[string]bool, len(keys))
	for _, k := range keys {
		written[string(k)] = true
	}
	check := func(stage string) {
		t.Helper()
		for _, k := range keys {
			v, err := db.Get(k, nil)
			if err != nil || !bytes.Equal(v, val(k)) {
				t.Fatalf("%s: key %x: %q, %v", stage, k, v, err)
			}
		}
		for _, k := range randomKeys(rng, 5_000) {
			if written[string(k)] {
				continue
			}
			if _, err := db.Get(k, nil); !errors.Is(err, leveldb.ErrNotFound) {
				t.Fatalf("%s: absent key %x: %v", stage, k, err)
			}
		}
	}
	check("written")
	if err := db.CompactRange(util.Range{}); err != nil {
		t.Fatal(err)
	}
	check("compacted")
}

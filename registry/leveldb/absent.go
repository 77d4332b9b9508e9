package leveldb

import (
	"hash/maphash"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// The absence filter answers most reads of a state key or a transaction
// that the store does not hold without asking LevelDB, whose memtable
// search alone costs several microseconds a read (BenchmarkGetAbsent):
// every create reads its DID's record and its transaction's replay entry
// while they are absent, on every node.
//
// It is a Bloom filter in memory of every key of those two kinds the
// store holds ('S', 'T'), with no false negatives: a key it does not
// hold is absent. It is built in the background from a LevelDB snapshot
// when the store opens (reads go to LevelDB until it is ready), and every
// write of such a key adds it (SaveBlock, RestoreChunk) before LevelDB
// holds it, under the write lock (Store.wmu), which a build also takes
// to start and to finish: a key written before a build's snapshot is in
// the snapshot, and one written after is recorded for the build to add.
// Keys are never removed (a deleted key stays a false positive), so the
// filter only serves reads of the current store, never of a View. When
// the keys added outgrow the filter's size, a larger one is built the
// same way, the current one serving meanwhile.
const (
	// absentBitsPerKey sizes the filter: 10 bits a key and 7 probes, about
	// 1% false positives at its capacity.
	absentBitsPerKey = 10
	absentProbes     = 7
)

// absentMinKeys is the smallest capacity: 1 MiB of bits. (A variable
// for tests, which make filters outgrow it.)
var absentMinKeys = 1 << 20 * 8 / absentBitsPerKey

// buildHook, if set, is called by each build once its snapshot is taken
// (tests).
var buildHook func()

// bloom is a Bloom filter of a fixed size, safe for concurrent adds and
// reads.
type bloom struct {
	words []atomic.Uint64
	mask  uint64 // bits - 1; bits is a power of two
	keys  int    // the capacity it was sized for
}

func newBloom(keys int) *bloom {
	keys = max(keys, absentMinKeys, 1)
	n := keys * absentBitsPerKey
	size := uint64(1) << bits.Len64(uint64(n-1)) // bits, a power of two >= n
	return &bloom{words: make([]atomic.Uint64, max(size/64, 1)), mask: size - 1, keys: keys}
}

// add sets the probes of the key whose hash is h.
func (b *bloom) add(h uint64) (set bool) {
	h1, h2 := h, h>>32|1
	for i := range uint64(absentProbes) {
		bit := (h1 + i*h2) & b.mask
		w := &b.words[bit>>6]
		if m := uint64(1) << (bit & 63); w.Load()&m == 0 {
			w.Or(m)
			set = true
		}
	}
	return set
}

// has reports whether the key whose hash is h may have been added.
func (b *bloom) has(h uint64) bool {
	h1, h2 := h, h>>32|1
	for i := range uint64(absentProbes) {
		bit := (h1 + i*h2) & b.mask
		if b.words[bit>>6].Load()&(1<<(bit&63)) == 0 {
			return false
		}
	}
	return true
}

// absentFilter is a store's absence filter (see above).
type absentFilter struct {
	seed maphash.Seed
	cur  atomic.Pointer[bloom] // nil until the first build is done

	// Under Store.wmu:
	added    int      // keys cur holds (those that set a bit)
	outgrown bool     // added passed cur's capacity: build a larger one
	retryAt  int      // after a failed build, added must reach this first
	building bool     // a build runs
	pending  []uint64 // keys written while it runs, for it to add
	closed   bool     // Close began: no build starts

	stop atomic.Bool
	wg   sync.WaitGroup

	built atomic.Uint64 // completed builds
	// hits counts the reads it answered (tests; one atomic add on a path
	// that saves microseconds).
	hits atomic.Uint64
}

// hash returns the filter hash of a store key.
func (f *absentFilter) hash(k []byte) uint64 { return maphash.Bytes(f.seed, k) }

// absent reports whether the store surely does not hold k, a key of a
// filtered kind (filtered).
func (f *absentFilter) absent(k []byte) bool {
	b := f.cur.Load()
	if b == nil || b.has(f.hash(k)) {
		return false
	}
	f.hits.Add(1)
	return true
}

// startBuild starts a build in the background; the caller holds
// s.wmu.
func (s *Store) startBuild() {
	f := &s.absent
	if f.building || f.closed {
		return
	}
	f.building = true
	f.pending = []uint64{}
	snap, err := s.db.GetSnapshot()
	if err != nil {
		f.building, f.pending = false, nil
		return // closed: reads go to LevelDB
	}
	f.wg.Add(1)
	go s.build(snap, f.added)
}

// build scans snap's filtered keys (about hint of them), makes a filter
// of them and, under s.wmu, adds the keys written since (pending) and
// makes it the current one. A build that fails leaves the current filter
// (or none, which sends every read to LevelDB) and is not retried before
// the keys added double.
func (s *Store) build(snap *leveldb.Snapshot, hint int) {
	f := &s.absent
	defer f.wg.Done()
	if buildHook != nil {
		buildHook()
	}
	hs := make([]uint64, 0, hint+hint/4)
	ok := true
	for _, p := range []byte{pState, pTx} {
		it := snap.NewIterator(util.BytesPrefix([]byte{p}), &opt.ReadOptions{DontFillCache: true})
		for it.Next() {
			if len(hs)&1023 == 0 && f.stop.Load() {
				ok = false
				break
			}
			hs = append(hs, f.hash(it.Key()))
		}
		if it.Error() != nil {
			ok = false
		}
		it.Release()
		if !ok {
			break
		}
	}
	snap.Release()
	// Fill the new filter from the scan before taking the lock: it is
	// private until published; only the keys written meanwhile need wmu.
	var b *bloom
	if ok {
		b = newBloom(2 * len(hs))
		for _, h := range hs {
			b.add(h)
		}
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if ok {
		for _, h := range f.pending {
			b.add(h)
		}
		f.cur.Store(b)
		f.added = len(hs) + len(f.pending)
		f.outgrown = f.added > b.keys
		f.built.Add(1)
	} else {
		f.retryAt = max(2*f.added, absentMinKeys)
	}
	f.building, f.pending = false, nil
}

// addKey records k, a key of a filtered kind about to be written; the
// caller holds s.wmu, and calls written once the write is done.
func (s *Store) addKey(k []byte) {
	f := &s.absent
	h := f.hash(k)
	if b := f.cur.Load(); b != nil {
		if b.add(h) { // a key already held sets no bit: not counted
			f.added++
		}
		f.outgrown = f.outgrown || f.added > b.keys && f.added >= f.retryAt
	}
	if f.building {
		f.pending = append(f.pending, h)
	}
}

// written starts a larger filter once the current one is outgrown; the
// caller holds s.wmu and has written the keys it added (addKey), so that
// the build's snapshot holds them.
func (s *Store) written() {
	if f := &s.absent; f.outgrown && !f.building {
		f.outgrown = false
		s.startBuild()
	}
}

// stopFilter ends a build under way, waits for it and turns the filter
// off: a read after Close gets LevelDB's error.
func (s *Store) stopFilter() {
	s.wmu.Lock()
	s.absent.closed = true
	s.wmu.Unlock()
	s.absent.stop.Store(true)
	s.absent.wg.Wait()
	s.absent.cur.Store(nil)
}

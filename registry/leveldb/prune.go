package leveldb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/idmesh/idmesh/registry"
)

// Pruning. SaveBlock stamps every node it writes with the block's height
// and, once JournalStale was called, journals the nodes the block's
// version dropped: one record per block ('O' height, the hashes). A
// batch that fills inside a record writes back its rest with the
// deletions it made.
// A node's life is a series of intervals [created, dropped) of heights:
// content addressing lets a node leave the tree and come back. A journal
// entry (s, node) with s at or below the floor f belongs to an interval
// that ended at s <= f, so the node is in no version >= f unless it was
// created again after s, which its stamp (the latest creation) says. The
// entry's batch deletes the node if its stamp is below s, and the entry
// itself. A batch is one LevelDB write with the new floor in it, so a
// crash loses nothing a retained version needs and the next run goes on
// from the journal entries that remain.

// JournalStale makes SaveBlock journal the stale nodes of each block from
// now on (registry.NewPruner calls it). A store without a pruner keeps no
// journal: it would only grow.
func (s *Store) JournalStale() { s.journal.Store(true) }

// PruneFloor returns the lowest retained version (0: nothing pruned).
func (s *Store) PruneFloor() uint64 { return s.floor.Load() }

// MaxVersionBackfill bounds how many heights without a version index
// entry one FirstVersionSince indexes from their stored blocks.
const MaxVersionBackfill = 1000

// FirstVersionSince returns the lowest retained height whose block time
// is t or later. Heights without a version index entry (blocks saved by
// a binary before the index existed) are indexed here from their stored
// block headers, at most MaxVersionBackfill per call; the first one still
// unindexed is returned as it is (never prunable until indexed), so the
// floor never passes a height whose time is not known.
func (s *Store) FirstVersionSince(t time.Time) (uint64, bool, error) {
	tip := uint64(0)
	cur, ok, err := s.State()
	if err != nil {
		return 0, false, err
	}
	if ok {
		tip = cur.Height
	}
	want := t.UnixNano()
	next := max(s.floor.Load(), 1) // the next height the index should hold
	b := new(leveldb.Batch)
	budget := MaxVersionBackfill
	// unindexed indexes heights next..limit-1, which have no entry, and
	// reports the first whose time is want or later, or the first it
	// could not index.
	unindexed := func(limit uint64) (uint64, bool, error) {
		for ; next < limit; next++ {
			if budget == 0 {
				return next, true, nil
			}
			budget--
			blk, err := s.Block(next)
			if errors.Is(err, registry.ErrNotFound) {
				return next, true, nil // no block to date it: keep it
			}
			if err != nil {
				return 0, false, fmt.Errorf("index version %d: %w", next, err)
			}
			at := blk.Header.Time.UnixNano()
			b.Put(key(pVersion, u64(next)), binary.BigEndian.AppendUint64(nil, uint64(at)))
			if at >= want {
				return next, true, nil
			}
		}
		return 0, false, nil
	}
	h, found, err := func() (uint64, bool, error) {
		it := s.db.NewIterator(&util.Range{Start: key(pVersion, u64(next)), Limit: []byte{pVersion + 1}}, nil)
		defer it.Release()
		for it.Next() {
			k, v := it.Key(), it.Value()
			if len(k) != 9 || len(v) != 8 {
				return 0, false, fmt.Errorf("version index: %w", registry.ErrMalformed)
			}
			h := binary.BigEndian.Uint64(k[1:])
			if h > next {
				if h, found, err := unindexed(h); err != nil || found {
					return h, found, err
				}
			}
			if int64(binary.BigEndian.Uint64(v)) >= want {
				return h, true, nil
			}
			next = h + 1
		}
		if err := it.Error(); err != nil {
			return 0, false, fmt.Errorf("read version index: %w", err)
		}
		return unindexed(tip + 1)
	}()
	if err != nil {
		return 0, false, err
	}
	if b.Len() > 0 {
		if err := s.db.Write(b, nil); err != nil {
			return 0, false, fmt.Errorf("index versions: %w", err)
		}
	}
	return h, found, nil
}

// PruneStep raises the floor to floor and handles at most max journaled
// stale nodes below it (and as many version index entries) in one batch.
// Commits wait while it runs.
func (s *Store) PruneStep(floor uint64, max int) (_ registry.PruneStats, _ bool, err error) {
	var st registry.PruneStats
	if max <= 0 {
		max = registry.DefaultPruneBatch
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	cur, ok, err := s.State()
	if err != nil {
		return st, false, err
	}
	if ok && floor > cur.Height {
		floor = cur.Height // the tip is always kept
	}
	b := new(leveldb.Batch)
	if old := s.floor.Load(); floor > old {
		b.Put([]byte{pFloor}, u64(floor))
		// Readers of versions below the new floor now get ErrPruned; one
		// that was already walking such a tree finds a node missing and
		// then sees the floor (registry.Chain.ProveKeyAt). If the step
		// fails before its batch is written, nothing was deleted and the
		// floor goes back to what the store records.
		s.floor.Store(floor)
		defer func() {
			if err != nil {
				s.floor.Store(old)
			}
		}()
	} else {
		floor = old
	}
	// Journal entries of heights 1..floor.
	start := s.cursor
	if start == nil {
		start = []byte{pStale}
	}
	limit := key(pStale, u64(floor+1))
	it := s.db.NewIterator(&util.Range{Start: start, Limit: limit}, nil)
	n, more := 0, false
	var last, partial []byte
	for it.Next() {
		if n == max {
			more = true
			break
		}
		k, v := it.Key(), it.Value()
		if len(k) != 1+8 || len(v)%32 != 0 {
			it.Release()
			return registry.PruneStats{}, false, fmt.Errorf("stale journal entry %x: %w", k, registry.ErrMalformed)
		}
		hashes := v
		height := binary.BigEndian.Uint64(k[1:9])
		take := min(len(hashes)/32, max-n)
		for i := range take {
			nk := key(pNode, hashes[32*i:32*i+32])
			v, err := s.db.Get(nk, nil)
			switch {
			case err == nil:
				if stampOf(v) < height {
					b.Delete(nk)
					st.Nodes++
					st.Bytes += uint64(len(nk) + len(v))
				}
			case !errors.Is(err, leveldb.ErrNotFound):
				it.Release()
				return registry.PruneStats{}, false, fmt.Errorf("read node: %w", err)
			}
		}
		n += take
		if rest := hashes[32*take:]; len(rest) > 0 {
			// The batch is full inside a record: it keeps the rest, which
			// the next batch starts from.
			b.Put(k, rest)
			st.Bytes += uint64(32 * take)
			partial = bytes.Clone(k)
			more = true
			break
		}
		b.Delete(k)
		st.Bytes += uint64(len(k) + len(v))
		last = append(last[:0], k...)
	}
	err = it.Error()
	it.Release()
	if err != nil {
		return registry.PruneStats{}, false, fmt.Errorf("read stale journal: %w", err)
	}
	// The version index below the floor.
	vit := s.db.NewIterator(&util.Range{Start: []byte{pVersion}, Limit: key(pVersion, u64(floor))}, nil)
	for m := 0; vit.Next(); m++ {
		if m == max {
			more = true
			break
		}
		b.Delete(vit.Key())
		st.Versions++
		st.Bytes += uint64(len(vit.Key()) + len(vit.Value()))
	}
	err = vit.Error()
	vit.Release()
	if err != nil {
		return registry.PruneStats{}, false, fmt.Errorf("read version index: %w", err)
	}
	if b.Len() > 0 {
		if err := s.db.Write(b, nil); err != nil {
			return registry.PruneStats{}, false, fmt.Errorf("prune below %d: %w", floor, err)
		}
	}
	switch {
	case partial != nil:
		s.cursor = partial // what is left of it
	case last != nil:
		// Everything up to last is done; a later entry sorts after it.
		s.cursor = append(bytes.Clone(last), 0)
	}
	return st, more, nil
}

// stampOf returns the height that last created a stored node; nodes
// stored before stamps existed have none (0).
func stampOf(v []byte) uint64 {
	if len(v) <= nodeSize {
		return 0
	}
	h, n := binary.Uvarint(v[nodeSize:])
	if n <= 0 {
		return ^uint64(0) // unreadable: never pruned
	}
	return h
}

// Compact compacts the whole database, so that the space of deleted
// entries is given back now rather than as LevelDB's background
// compactions reach them (benchmarks measure the store after it).
func (s *Store) Compact() error {
	if err := s.db.CompactRange(util.Range{}); err != nil {
		return fmt.Errorf("compact store: %w", err)
	}
	return nil
}

// Sizes returns LevelDB's estimate of the bytes on disk under each key
// prefix (blocks 'B', tree nodes 'N', state 'S', ...), for benchmarks,
// and of the did:idmesh state under each of its kinds of key: "S.did.r"
// the records, "S.did.v" the versions, "S.did.i" the version index, and
// so on (did/idmesh/state.go and keystatus.go).
func (s *Store) Sizes() (map[string]int64, error) {
	prefixes := []byte{pMeta, pGenesis, pBlock, pHeader, pCommit, pBlockID, pTx, pState, pNode, pStale, pVersion, pFloor, pFormat}
	var names []string
	var ranges []util.Range
	for _, p := range prefixes {
		names = append(names, string(p))
		ranges = append(ranges, util.Range{Start: []byte{p}, Limit: []byte{p + 1}})
	}
	for _, c := range "rvikehm" {
		names = append(names, "S.did."+string(c))
		ranges = append(ranges, *util.BytesPrefix(key(pState, []byte("did\x00"), []byte{byte(c), 0})))
	}
	sizes, err := s.db.SizeOf(ranges)
	if err != nil {
		return nil, fmt.Errorf("size of store: %w", err)
	}
	out := make(map[string]int64, len(names))
	for i, n := range names {
		out[n] = sizes[i]
	}
	return out, nil
}

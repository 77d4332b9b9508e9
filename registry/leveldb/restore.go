package leveldb

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/opt"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
)

// pRestore marks a store being restored from a snapshot (state sync):
// written by BeginRestore, deleted by FinishRestore. A store holding it
// refuses SaveGenesis, so a node never opens a chain over half a state.
const pRestore = 'R'

// ErrRestoring reports a store that holds an unfinished restore: its
// state is partial and must be discarded.
var ErrRestoring = errors.New("store holds an unfinished state sync")

// restoring reports whether the restore mark is set.
func (s *Store) restoring() (bool, error) {
	ok, err := s.db.Has([]byte{pRestore}, nil)
	if err != nil {
		return false, fmt.Errorf("read restore mark: %w", err)
	}
	return ok, nil
}

// BeginRestore marks the store as being restored from a snapshot. The
// store must be empty: no genesis, no state, no mark of another restore.
func (s *Store) BeginRestore() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	it := s.db.NewIterator(nil, nil)
	nonEmpty := it.First()
	it.Release()
	if err := it.Error(); err != nil {
		return fmt.Errorf("begin restore: %w", err)
	}
	if nonEmpty {
		return errors.New("begin restore: the store is not empty")
	}
	if err := s.db.Put([]byte{pRestore}, nil, &opt.WriteOptions{Sync: true}); err != nil {
		return fmt.Errorf("begin restore: %w", err)
	}
	return nil
}

// RestoreChunk writes state values and tree nodes of the state at height
// in one batch. The nodes are stamped with height, as SaveBlock stamps
// the nodes a block creates.
func (s *Store) RestoreChunk(height uint64, writes []registry.KV, nodes []smt.Node) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if ok, err := s.restoring(); err != nil || !ok {
		return errors.Join(errors.New("restore chunk: no restore begun"), err)
	}
	var stamp [binary.MaxVarintLen64]byte
	sn := binary.PutUvarint(stamp[:], height)
	// The batch is sized up front: goleveldb grows a large batch by small
	// steps, copying it each time. A record is a type byte, the key and
	// the value, each after a varint length.
	const rec = 1 + 2*binary.MaxVarintLen32
	size := len(nodes) * (rec + 1 + len(smt.Hash{}) + nodeSize + sn)
	for _, w := range writes {
		size += rec + 1 + len(w.Key) + len(w.Value)
	}
	b := leveldb.MakeBatchWithConfig(&leveldb.BatchConfig{InitialCapacity: size})
	var k []byte // Put copies the key
	for _, w := range writes {
		if w.Value == nil {
			return fmt.Errorf("restore chunk: nil value for %q", w.Key)
		}
		k = append(append(k[:0], pState), w.Key...)
		b.Put(k, w.Value)
		s.addKey(k)
	}
	var v [nodeSize + binary.MaxVarintLen64]byte
	for _, n := range nodes {
		if len(n.Encoding) != nodeSize {
			return fmt.Errorf("restore chunk: node of %d bytes: %w", len(n.Encoding), registry.ErrMalformed)
		}
		k = append(append(k[:0], pNode), n.Hash[:]...)
		copy(v[:], n.Encoding)
		copy(v[nodeSize:], stamp[:sn])
		b.Put(k, v[:nodeSize+sn])
	}
	if err := s.db.Write(b, nil); err != nil {
		return fmt.Errorf("restore chunk: %w", err)
	}
	s.written()
	return nil
}

// FinishRestore records the genesis, the base block with its commit, the
// version of its height and the chain state after it, sets the prune
// floor to its height (no earlier version is held) and removes the
// restore mark, in one synced batch. The chain then opens at the base
// block's height and continues from the next.
func (s *Store) FinishRestore(g *registry.Genesis, base *registry.Block, commit *registry.Commit, st registry.ChainState) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if ok, err := s.restoring(); err != nil || !ok {
		return errors.Join(errors.New("finish restore: no restore begun"), err)
	}
	h := base.Header.Height
	if st.Height != h || st.LastBlockID != base.ID() || commit == nil || commit.Height != h || commit.BlockID != base.ID() {
		return fmt.Errorf("finish restore: block %d, its commit and the chain state disagree", h)
	}
	gb, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("encode genesis: %w", err)
	}
	sb, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode chain state: %w", err)
	}
	id := base.ID()
	hb := u64(h)
	b := new(leveldb.Batch)
	b.Put([]byte{pGenesis}, gb)
	b.Put(key(pBlock, hb), base.Encode())
	b.Put(key(pHeader, hb), base.Header.Encode())
	b.Put(key(pCommit, hb), commit.Encode())
	b.Put(key(pBlockID, id[:]), hb)
	b.Put(key(pVersion, hb), binary.BigEndian.AppendUint64(nil, uint64(base.Header.Time.UnixNano())))
	b.Put([]byte{pFloor}, hb)
	b.Put([]byte{pMeta}, sb)
	b.Put([]byte{pFormat}, formatMark()) // in the same synced write: a crash right after never looks like format 1
	b.Delete([]byte{pRestore})
	if err := s.db.Write(b, &opt.WriteOptions{Sync: true}); err != nil {
		return fmt.Errorf("finish restore: %w", err)
	}
	s.floor.Store(h)
	return nil
}

// DiscardRestore deletes everything an unfinished restore wrote, so that
// it can start again. It fails if no restore is under way.
func (s *Store) DiscardRestore() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if ok, err := s.restoring(); err != nil || !ok {
		return errors.Join(errors.New("discard restore: no restore under way"), err)
	}
	for _, p := range []byte{pState, pNode} {
		if err := s.deleteRange(util.BytesPrefix([]byte{p})); err != nil {
			return fmt.Errorf("discard restore: %w", err)
		}
	}
	if err := s.db.Delete([]byte{pRestore}, &opt.WriteOptions{Sync: true}); err != nil {
		return fmt.Errorf("discard restore: %w", err)
	}
	return nil
}

// deleteRange deletes the keys of r in batches.
func (s *Store) deleteRange(r *util.Range) error {
	for {
		it := s.db.NewIterator(r, nil)
		b := new(leveldb.Batch)
		for it.Next() && b.Len() < 10_000 {
			b.Delete(append([]byte(nil), it.Key()...))
		}
		it.Release()
		if err := it.Error(); err != nil {
			return err
		}
		if b.Len() == 0 {
			return nil
		}
		if err := s.db.Write(b, nil); err != nil {
			return err
		}
	}
}

// ScanNodes calls fn for each stored tree node whose hash begins with a
// byte from first to last (inclusive), in hash order, with its hash and
// its 65-byte encoding (without its height stamp), until fn returns
// false. fn must not keep enc. A key of another length than a hash is
// passed with the hash zero, so that the caller's check of the node
// refuses it. It reads past LevelDB's block cache.
func (s *Store) ScanNodes(first, last byte, fn func(h smt.Hash, enc []byte) bool) error {
	r := &util.Range{Start: []byte{pNode, first}, Limit: []byte{pNode + 1}}
	if last < 0xff {
		r.Limit = []byte{pNode, last + 1}
	}
	it := s.db.NewIterator(r, &opt.ReadOptions{DontFillCache: true})
	defer it.Release()
	for it.Next() {
		var h smt.Hash
		if k := it.Key(); len(k) == 1+len(h) {
			copy(h[:], k[1:])
		}
		v := it.Value()
		if len(v) > nodeSize {
			v = v[:nodeSize:nodeSize]
		}
		if !fn(h, v) {
			break
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("scan nodes: %w", err)
	}
	return nil
}

package leveldb

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
)

// View is a consistent read-only view of a store at one moment: the
// state values, tree nodes and chain state as they were when View was
// called, whatever blocks and prune batches come after. A node builds
// the snapshot of a height from the view it takes right after that
// height's block is saved (registry/snapshot.Source). Release it when
// done: it pins the LevelDB files it reads.
type View struct{ snap *leveldb.Snapshot }

// View returns a view of the store as it is now.
func (s *Store) View() (*View, error) {
	snap, err := s.db.GetSnapshot()
	if err != nil {
		return nil, fmt.Errorf("view store: %w", err)
	}
	return &View{snap: snap}, nil
}

// Release releases the view; it must not be used after.
func (v *View) Release() { v.snap.Release() }

// State returns the chain state of the view.
func (v *View) State() (registry.ChainState, bool, error) {
	var st registry.ChainState
	b, err := v.snap.Get([]byte{pMeta}, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("read chain state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, false, fmt.Errorf("decode chain state: %w", err)
	}
	return st, true, nil
}

// Get returns the value of a state key in the view.
func (v *View) Get(k []byte) ([]byte, error) {
	b, err := v.snap.Get(key(pState, k), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, fmt.Errorf("state key: %w", registry.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read state key: %w", err)
	}
	return b, nil
}

// Node returns a state tree node in the view.
func (v *View) Node(h smt.Hash) ([]byte, error) {
	b, err := v.snap.Get(key(pNode, h[:]), nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, fmt.Errorf("node %x: %w", h[:8], smt.ErrMissingNode)
	}
	if err != nil {
		return nil, fmt.Errorf("read node: %w", err)
	}
	if len(b) > nodeSize {
		b = b[:nodeSize:nodeSize]
	}
	return b, nil
}

// Scan calls fn for each state key of the view with the given prefix, in
// key order, until fn returns false.
func (v *View) Scan(prefix []byte, fn func(k, v []byte) bool) error {
	it := v.snap.NewIterator(util.BytesPrefix(key(pState, prefix)), nil)
	defer it.Release()
	for it.Next() {
		if !fn(it.Key()[1:], it.Value()) {
			break
		}
	}
	return it.Error()
}

package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/idmesh/idmesh/registry"
)

// maxValidatorSets bounds the sets a ValidatorSets file holds.
const maxValidatorSets = 100_000

// ValidatorSets remembers every validator set a node has seen deciding
// its chain, by hash, in a file: a node serving headers to a syncing
// peer sends the set with each header where it changes, and the chain
// state keeps only the current ones. The node records the sets of its
// state after every block it commits, whichever way the block came
// (consensus or block sync: Node.Committed, Options.ValidatorSets) and
// those of the header chain a state sync verified. The file is replaced
// atomically (written aside, synced, renamed, the directory synced); a
// save that failed is tried again at the next Add. A set the file lacks
// is never guessed: the header it decided is refused to peers ("validator
// set of height h unavailable"). Safe for concurrent use.
type ValidatorSets struct {
	path string
	mu   sync.Mutex
	m    map[registry.Hash]*registry.ValidatorSet
	list []*registry.ValidatorSet
	// dirty: sets held in memory that the file lacks (a save failed).
	dirty bool
}

// OpenValidatorSets loads the sets kept at path (none if the file does
// not exist).
func OpenValidatorSets(path string) (*ValidatorSets, error) {
	v := &ValidatorSets{path: path, m: map[registry.Hash]*registry.ValidatorSet{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return v, nil
	case err != nil:
		return nil, fmt.Errorf("read validator sets: %w", err)
	}
	var list []*registry.ValidatorSet
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("decode validator sets %s: %w", path, err)
	}
	for _, vs := range list {
		if vs == nil || vs.Validate() != nil {
			return nil, fmt.Errorf("validator sets %s: an invalid set", path)
		}
		v.m[vs.Hash()] = vs
		v.list = append(v.list, vs)
	}
	return v, nil
}

// Add records the sets not known yet, and saves the file if any was new.
func (v *ValidatorSets) Add(sets ...*registry.ValidatorSet) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	added := false
	for _, vs := range sets {
		if vs == nil || len(v.list) >= maxValidatorSets {
			continue
		}
		h := vs.Hash()
		if _, ok := v.m[h]; ok {
			continue
		}
		v.m[h] = vs
		v.list = append(v.list, vs)
		added = true
	}
	if (!added && !v.dirty) || v.path == "" {
		return nil
	}
	if err := v.save(); err != nil {
		v.dirty = true
		return err
	}
	v.dirty = false
	return nil
}

// save replaces the file with the sets held, atomically: a crash leaves
// the old file or the new one, never a part of either.
func (v *ValidatorSets) save() error {
	b, err := json.Marshal(v.list)
	if err != nil {
		return fmt.Errorf("encode validator sets: %w", err)
	}
	path := filepath.Clean(v.path)
	tmp := path + ".tmp"
	// A temporary file left by a failed write is replaced by the next save.
	if err := writeSynced(tmp, b); err != nil {
		return fmt.Errorf("save validator sets: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("save validator sets: %w", err)
	}
	// The rename is durable once the directory is.
	if err := syncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("save validator sets: sync directory: %w", err)
	}
	return nil
}

// AddState records the sets of a chain state.
func (v *ValidatorSets) AddState(st registry.ChainState) error {
	return v.Add(st.LastValidators, st.Validators, st.NextValidators)
}

// Len returns the number of sets known.
func (v *ValidatorSets) Len() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.list)
}

// Get returns the set of hash, if known.
func (v *ValidatorSets) Get(hash registry.Hash) (*registry.ValidatorSet, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	vs, ok := v.m[hash]
	return vs, ok
}

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
// state keeps only the current ones. Safe for concurrent use.
type ValidatorSets struct {
	path string
	mu   sync.Mutex
	m    map[registry.Hash]*registry.ValidatorSet
	list []*registry.ValidatorSet
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
	if !added || v.path == "" {
		return nil
	}
	b, err := json.Marshal(v.list)
	if err != nil {
		return fmt.Errorf("encode validator sets: %w", err)
	}
	tmp := v.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("save validator sets: %w", err)
	}
	if err := os.Rename(tmp, filepath.Clean(v.path)); err != nil {
		return fmt.Errorf("save validator sets: %w", err)
	}
	return nil
}

// AddState records the sets of a chain state.
func (v *ValidatorSets) AddState(st registry.ChainState) error {
	return v.Add(st.LastValidators, st.Validators, st.NextValidators)
}

// Get returns the set of hash, if known.
func (v *ValidatorSets) Get(hash registry.Hash) (*registry.ValidatorSet, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	vs, ok := v.m[hash]
	return vs, ok
}

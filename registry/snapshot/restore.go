package snapshot

import (
	"crypto/sha256"
	"fmt"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/smt"
)

// Sink is the empty store a snapshot is restored into.
// registry/leveldb's Store is one.
type Sink interface {
	smt.NodeReader
	// BeginRestore marks the store as being restored; it fails unless
	// the store is empty. Until FinishRestore, the store refuses to open
	// a chain.
	BeginRestore() error
	// RestoreChunk writes state values and tree nodes of the state at
	// height, in one batch.
	RestoreChunk(height uint64, writes []registry.KV, nodes []smt.Node) error
	// FinishRestore records the genesis, the base block (the block of
	// the restored height) with its commit and the chain state after it,
	// in one synced batch, and ends the restore.
	FinishRestore(g *registry.Genesis, base *registry.Block, commit *registry.Commit, st registry.ChainState) error
}

// Restorer writes the verified chunks of a snapshot into an empty store,
// so that the store holds the state of the trusted height with its tree,
// serves proofs against that height's root and accepts the next block
// from block sync.
type Restorer struct {
	sink    Sink
	g       *registry.Genesis
	trusted *Trusted
	v       *Verifier
	entries int
}

// NewRestorer begins restoring the state of trusted (the output of
// VerifyHeaders for the chain of g) into sink.
func NewRestorer(sink Sink, g *registry.Genesis, trusted *Trusted) (*Restorer, error) {
	if err := sink.BeginRestore(); err != nil {
		return nil, fmt.Errorf("begin restore: %w", err)
	}
	h := &trusted.Header
	return &Restorer{sink: sink, g: g, trusted: trusted, v: NewVerifier(h.Height, smt.Hash(h.StateRoot))}, nil
}

// Verifier returns the restorer's chunk verifier: Next is the chunk to
// ask for, Done whether all arrived.
func (r *Restorer) Verifier() *Verifier { return r.v }

// Apply verifies raw as the next chunk (see Verifier.Verify) and writes
// its entries with their tree nodes, and the nodes on the path from each
// part to the root. If the write fails, the chunk counts as not received:
// it can be applied again.
func (r *Restorer) Apply(raw []byte) error {
	saved := *r.v
	parts, err := r.v.Verify(raw)
	if err != nil {
		return err
	}
	var writes []registry.KV
	var nodes []smt.Node
	collect := func(n smt.Node) { nodes = append(nodes, n) }
	for i := range parts {
		p := &parts[i]
		for _, e := range p.Entries {
			writes = append(writes, registry.KV{Key: e.Key, Value: e.Value})
		}
		h := subtreeHash(p.leaves, p.Depth, collect)
		fold(h, &p.leaves[0].key, p.Siblings, collect)
		r.entries += len(p.Entries)
	}
	if err := r.sink.RestoreChunk(r.trusted.Header.Height, writes, nodes); err != nil {
		*r.v = saved
		r.entries -= len(writes)
		return fmt.Errorf("restore chunk %d: %w", saved.Next(), err)
	}
	return nil
}

// Finish checks that every chunk arrived and that the tree now in the
// store has the trusted root (every node re-hashed, every leaf counted),
// and records base, the block of the trusted header (its header must be
// that header), as the store's first block: the chain continues from the
// next height. It returns the chain state after base.
func (r *Restorer) Finish(base *registry.Block) (registry.ChainState, error) {
	h := &r.trusted.Header
	if !r.v.Done() {
		return registry.ChainState{}, fmt.Errorf("finish restore at %d: chunk %d and later missing: %w", h.Height, r.v.Next(), ErrIncomplete)
	}
	if base == nil || base.ID() != h.ID() {
		return registry.ChainState{}, fmt.Errorf("finish restore at %d: the base block is not the trusted header's: %w", h.Height, ErrUntrustedHeader)
	}
	if err := base.ValidateBasic(); err != nil {
		return registry.ChainState{}, fmt.Errorf("finish restore at %d: base block: %w", h.Height, err)
	}
	n, err := CheckTree(r.sink, smt.Hash(h.StateRoot))
	if err != nil {
		return registry.ChainState{}, fmt.Errorf("finish restore at %d: %w", h.Height, err)
	}
	if n != r.entries {
		return registry.ChainState{}, fmt.Errorf("finish restore at %d: the tree has %d leaves, %d entries were restored: %w", h.Height, n, r.entries, ErrStateMismatch)
	}
	st, err := registry.SyncedState(r.g, h, r.trusted.Validators, r.trusted.NextValidators, stateOf(r.sink))
	if err != nil {
		return registry.ChainState{}, fmt.Errorf("finish restore at %d: %w", h.Height, err)
	}
	if err := r.sink.FinishRestore(r.g, base, r.trusted.Commit, st); err != nil {
		return registry.ChainState{}, fmt.Errorf("finish restore at %d: %w", h.Height, err)
	}
	return st, nil
}

// stateOf gives the sink's state values to SyncedState when the sink can
// read them.
func stateOf(s Sink) registry.StateReader {
	if sr, ok := s.(registry.StateReader); ok {
		return sr
	}
	return nil
}

// CheckTree walks the whole tree of root in r, re-hashing every node and
// checking its shape, and returns the number of leaves. Errors wrap
// ErrStateMismatch (or smt.ErrMissingNode for a missing node).
func CheckTree(r smt.NodeReader, root smt.Hash) (int, error) {
	if root == smt.Empty {
		return 0, nil
	}
	return checkNode(r, root, 0, smt.Hash{})
}

func checkNode(r smt.NodeReader, h smt.Hash, depth int, path smt.Hash) (int, error) {
	enc, err := r.Node(h)
	if err != nil {
		return 0, fmt.Errorf("check tree: %w", err)
	}
	if len(enc) != 65 || sha256.Sum256(enc) != h {
		return 0, fmt.Errorf("check tree: node %s at depth %d does not hash to its key: %w", h, depth, ErrStateMismatch)
	}
	a, b := smt.Hash(enc[1:33]), smt.Hash(enc[33:])
	switch {
	case enc[0] == 0x00:
		if !smt.SamePrefix(&a, &path, depth) {
			return 0, fmt.Errorf("check tree: leaf %s off its path at depth %d: %w", a, depth, ErrStateMismatch)
		}
		return 1, nil
	case enc[0] != 0x01 || depth >= maxDepth || (a == smt.Empty && b == smt.Empty):
		return 0, fmt.Errorf("check tree: node %s at depth %d: %w", h, depth, ErrStateMismatch)
	}
	n := 0
	for side, c := range [2]smt.Hash{a, b} {
		if c == smt.Empty {
			continue
		}
		p := path
		if side == 1 {
			p[depth>>3] |= 0x80 >> uint(depth&7)
		}
		m, err := checkNode(r, c, depth+1, p)
		if err != nil {
			return 0, err
		}
		n += m
	}
	return n, nil
}

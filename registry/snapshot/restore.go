package snapshot

import (
	"crypto/sha256"
	"fmt"
	"runtime"

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

// NodeLister is a Sink that can list the tree nodes it holds.
// registry/leveldb's Store is one. Finish then checks the restored tree
// with one pass over the stored nodes instead of a walk from the root.
type NodeLister interface {
	// ScanNodes calls fn for each stored tree node whose hash begins
	// with a byte from first to last (inclusive), in hash order, with
	// the node's hash and its encoding, until fn returns false. fn must
	// not keep enc.
	ScanNodes(first, last byte, fn func(h smt.Hash, enc []byte) bool) error
}

// Restorer writes the verified chunks of a snapshot into an empty store,
// so that the store holds the state of the trusted height with its tree,
// serves proofs against that height's root and accepts the next block
// from block sync.
//
// Chunks go in either one at a time (Apply), or in two steps so that
// several are verified at once: Check, safe for concurrent use, does the
// hashing of a chunk as soon as it arrives, and Write, called in index
// order from one goroutine, checks that the chunk comes next and writes
// it.
type Restorer struct {
	sink    Sink
	g       *registry.Genesis
	trusted *Trusted
	v       *Verifier
	// what was written: entries, and the distinct tree nodes with the
	// sum of their hashes (each tree node is written once: see Write).
	entries int
	nodes   int
	sum     hashSum
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
	c, err := DecodeChunk(raw)
	if err != nil {
		return fmt.Errorf("verify chunk %d: %w", r.v.Next(), err)
	}
	ch, err := r.v.checkNext(c, true)
	if err != nil {
		return err
	}
	return r.Write(ch)
}

// Check decodes raw and proves its parts against the trusted root on
// their own, building the tree nodes it will write (see
// Verifier.Check). It is safe for concurrent use, with other Check calls
// and with Write: chunks can be checked as they arrive, in any order.
// Errors wrap the errors of Verifier.Check; the chunk of a refused index
// may be asked of another peer.
func (r *Restorer) Check(raw []byte) (*Checked, error) {
	c, err := DecodeChunk(raw)
	if err != nil {
		return nil, fmt.Errorf("check chunk: %w", err)
	}
	return r.v.check(c, true)
}

// Write takes c, checked by Check, as the next chunk (Verifier.Accept:
// ErrChunkOrder, ErrChunkGap, ErrComplete) and writes its entries and tree
// nodes in one batch. Chunks must be written in index order, from one
// goroutine. If the write fails, the chunk counts as not received: it can
// be written again.
func (r *Restorer) Write(c *Checked) error {
	if c.v != r.v {
		return fmt.Errorf("write chunk %d: %w", c.index, errOtherVerifier)
	}
	if !c.collected {
		var a nodeArena
		a.grow(&Chunk{Parts: partsOf(c)})
		for i := range c.parts {
			a.part(&c.parts[i])
		}
		c.collected = true
	}
	saved := r.v.position
	parts, err := r.v.Accept(c)
	if err != nil {
		return err
	}
	n, nn := 0, 0
	for i := range parts {
		n += len(parts[i].Entries)
		nn += len(parts[i].nodes) + len(parts[i].pathNodes) - (parts[i].shared + 1)
	}
	writes := make([]registry.KV, 0, n)
	nodes := make([]smt.Node, 0, nn)
	var sum hashSum
	for i := range parts {
		p := &parts[i]
		for _, e := range p.Entries {
			writes = append(writes, registry.KV{Key: e.Key, Value: e.Value})
		}
		// The nodes on the path down to the depth it shares with the
		// previous part were written with that part: parts come in
		// order, so a node is never on a later part's path again.
		nodes = append(nodes, p.nodes...)
		nodes = append(nodes, p.pathNodes[p.shared+1:]...)
	}
	for i := range nodes {
		sum.add(&nodes[i].Hash)
	}
	if err := r.sink.RestoreChunk(r.trusted.Header.Height, writes, nodes); err != nil {
		r.v.position = saved
		return fmt.Errorf("restore chunk %d: %w", saved.next, err)
	}
	r.entries += len(writes)
	r.nodes += len(nodes)
	r.sum.addSum(&sum)
	return nil
}

// partsOf returns the parts of a checked chunk.
func partsOf(c *Checked) []Part {
	ps := make([]Part, len(c.parts))
	for i := range c.parts {
		ps[i] = c.parts[i].Part
	}
	return ps
}

// Finish checks that every chunk arrived and that the tree now in the
// store has the trusted root, and records base, the block of the trusted
// header (its header must be that header), as the store's first block:
// the chain continues from the next height. It returns the chain state
// after base.
//
// The check of the stored tree: with a NodeLister sink, one pass over
// the stored nodes re-hashes each and checks that they are exactly the
// nodes the restore wrote (as many, the same sum of hashes, one leaf per
// entry); the verified chunks imply that those are the tree of the
// trusted root (see docs/design.md, "State sync"). Otherwise the whole
// tree is walked from the root (CheckTree).
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
	if err := r.checkStored(smt.Hash(h.StateRoot)); err != nil {
		return registry.ChainState{}, fmt.Errorf("finish restore at %d: %w", h.Height, err)
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

// checkStored checks the tree in the sink against what was written.
func (r *Restorer) checkStored(root smt.Hash) error {
	nl, ok := r.sink.(NodeLister)
	if !ok {
		n, err := CheckTree(r.sink, root)
		if err != nil {
			return err
		}
		if n != r.entries {
			return fmt.Errorf("the tree has %d leaves, %d entries were restored: %w", n, r.entries, ErrStateMismatch)
		}
		return nil
	}
	got, err := ScanTree(nl, runtime.GOMAXPROCS(0))
	if err != nil {
		return err
	}
	if want := r.sum.hash(); got.Nodes != r.nodes || got.Leaves != r.entries || got.Sum != want {
		return fmt.Errorf("the store holds %d tree nodes (%d leaves, sum %x), the restore wrote %d (%d leaves, sum %x): %w",
			got.Nodes, got.Leaves, got.Sum[:8], r.nodes, r.entries, want[:8], ErrStateMismatch)
	}
	return nil
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

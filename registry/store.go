package registry

import (
	"errors"

	"github.com/idmesh/idmesh/registry/smt"
)

// ErrNotFound reports a block, commit, transaction or state key that is
// not in the store.
var ErrNotFound = errors.New("not found")

// StateReader reads the current state: the value of a state key, and the
// state tree's nodes by hash.
type StateReader interface {
	// Get returns the value stored under key, or an error wrapping
	// ErrNotFound. The caller must not modify the returned slice.
	Get(key []byte) ([]byte, error)
	smt.NodeReader
}

// TxRecord says where a committed transaction is and how it ended.
type TxRecord struct {
	Hash   Hash   `json:"hash"`
	Height uint64 `json:"height"`
	Index  uint32 `json:"index"`
	Result Result `json:"result"`
}

// Result is the outcome of applying one transaction. Code 0 is success;
// a failed transaction changes no state.
type Result struct {
	Code uint32 `json:"code"`
	Log  string `json:"log,omitempty"`
}

// OK reports success.
func (r Result) OK() bool { return r.Code == 0 }

// KV is one state write. A nil Value deletes the key.
type KV struct {
	Key   []byte
	Value []byte
}

// BlockUpdate is everything one block changes, saved atomically.
type BlockUpdate struct {
	Block *Block
	// Encoded is Block's encoding if the caller has it (nil: the store
	// encodes Block). It must equal Block.Encode(); BlockBytes returns
	// it, and checks that in test binaries.
	Encoded []byte
	Commit  *Commit // this block's own commit (the seen commit)
	Results []Result
	Writes  []KV       // sorted by key
	Nodes   []smt.Node // new state tree nodes
	Stale   []smt.Hash // nodes of the previous version this one dropped
	State   ChainState // the chain state after the block
}

// Store persists the chain: blocks, commits, the transaction index, the
// state and its tree. SaveBlock is atomic and durable: after a crash the
// store opens at the last saved block, never between blocks.
type Store interface {
	StateReader
	// State returns the chain state after the last saved block, and
	// false if no block and no genesis state has been saved.
	State() (ChainState, bool, error)
	// SaveGenesis records the genesis and its state once; it fails if a
	// different genesis is already recorded.
	SaveGenesis(g *Genesis) error
	// Genesis returns the recorded genesis.
	Genesis() (*Genesis, error)
	// SaveBlock saves u in one synced write.
	SaveBlock(u *BlockUpdate) error
	// Block returns the block at height.
	Block(height uint64) (*Block, error)
	// Commit returns the seen commit for height.
	Commit(height uint64) (*Commit, error)
	// HeightOf returns the height of the block with the given ID.
	HeightOf(id Hash) (uint64, error)
	// Tx returns the record of a committed transaction.
	Tx(hash Hash) (TxRecord, error)
	// Close releases the store.
	Close() error
}

package consensustest

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/idmesh/idmesh/node/consensus"
)

// The engine's generic types, instantiated with the simulated Block.
type (
	// Message is a consensus message carrying simulated blocks.
	Message = consensus.Message[*Block]
	// Proposal is a proposal of a simulated block.
	Proposal = consensus.Proposal[*Block]
	// Decided is a decided simulated block with its commit.
	Decided = consensus.Decided[*Block]
	// EngineConfig configures an engine of simulated blocks.
	EngineConfig = consensus.Config[*Block]
	// Engine is an engine deciding simulated blocks.
	Engine = consensus.Engine[*Block]
)

// ErrInvalidBlock reports a block that breaks a structural rule.
var ErrInvalidBlock = errors.New("invalid block")

// Header links a simulated block to the chain: what its ID commits to.
type Header struct {
	ChainID            string            `json:"chain_id"`
	Height             uint64            `json:"height"`
	Time               time.Time         `json:"time"`
	LastBlockID        consensus.Hash    `json:"last_block_id"`
	LastCommitHash     consensus.Hash    `json:"last_commit_hash"`
	TxRoot             consensus.Hash    `json:"tx_root"`
	StateRoot          consensus.Hash    `json:"state_root"`
	ValidatorsHash     consensus.Hash    `json:"validators_hash"`
	NextValidatorsHash consensus.Hash    `json:"next_validators_hash"`
	Proposer           consensus.Address `json:"proposer"`
}

// Block is the simulated application's block: a header, opaque
// transactions and the commit of the previous block. It has the shape of
// a real chain's block, so that linking and commit rules are exercised,
// but none of its contents.
type Block struct {
	Header     Header            `json:"header"`
	Txs        [][]byte          `json:"txs"`
	LastCommit *consensus.Commit `json:"last_commit,omitempty"`
}

var _ consensus.App[*Block] = (*App)(nil) // and so *Block satisfies consensus.Block

// ID returns SHA-256 of the header's encoding (fixed-width big-endian
// integers, a length-prefixed chain ID, the hashes and the proposer).
func (b *Block) ID() consensus.Hash {
	h := &b.Header
	e := []byte("consensustest/block\x00")
	e = binary.AppendUvarint(e, uint64(len(h.ChainID)))
	e = append(e, h.ChainID...)
	e = binary.BigEndian.AppendUint64(e, h.Height)
	e = binary.BigEndian.AppendUint64(e, uint64(h.Time.UnixNano()))
	for _, x := range []consensus.Hash{h.LastBlockID, h.LastCommitHash, h.TxRoot, h.StateRoot, h.ValidatorsHash, h.NextValidatorsHash} {
		e = append(e, x[:]...)
	}
	e = append(e, h.Proposer[:]...)
	return sha256.Sum256(e)
}

// Height returns the block's height.
func (b *Block) Height() uint64 { return b.Header.Height }

// TxRoot returns the hash of txs: SHA-256 over each one's length and
// bytes.
func TxRoot(txs [][]byte) consensus.Hash {
	h := sha256.New()
	for _, t := range txs {
		h.Write(binary.AppendUvarint(nil, uint64(len(t))))
		h.Write(t)
	}
	return consensus.Hash(h.Sum(nil))
}

// ValidateBasic checks what needs no chain: the transaction root, the
// last commit's hash and that the last commit is for the previous block.
func (b *Block) ValidateBasic() error {
	h := &b.Header
	switch {
	case h.ChainID == "" || h.Height == 0:
		return fmt.Errorf("%w: chain %q height %d", ErrInvalidBlock, h.ChainID, h.Height)
	case TxRoot(b.Txs) != h.TxRoot:
		return fmt.Errorf("%w: tx root does not match transactions", ErrInvalidBlock)
	case b.LastCommit.Hash() != h.LastCommitHash:
		return fmt.Errorf("%w: last commit hash mismatch", ErrInvalidBlock)
	case h.Height == 1 && (b.LastCommit != nil || !h.LastBlockID.IsZero()):
		return fmt.Errorf("%w: first block has a previous block", ErrInvalidBlock)
	case h.Height > 1 && b.LastCommit == nil:
		return fmt.Errorf("%w: missing last commit", ErrInvalidBlock)
	case b.LastCommit != nil && (b.LastCommit.Height != h.Height-1 || b.LastCommit.BlockID != h.LastBlockID):
		return fmt.Errorf("%w: last commit is not for the previous block", ErrInvalidBlock)
	}
	return nil
}

package registry

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/idmesh/idmesh/node/consensus"
)

// Block byte limits. A chain's limit is its genesis field
// max_block_bytes (Genesis.BlockBytes); it bounds ProposalBytes, the
// size of a block as it travels in a proposal: the encoded header,
// transactions and last commit, plus ProposalOverhead for the proposal's
// framing and signature. The proposer fills blocks up to it and every
// validator refuses a block over it, both through ProposalBytes.
const (
	// DefaultMaxBlockBytes is the limit of a genesis without
	// max_block_bytes (4 MiB).
	DefaultMaxBlockBytes = 4 << 20
	// MinBlockBytes is the smallest limit a genesis may set (256 KiB):
	// an empty block with a commit of MaxCommitSigs signatures fits with
	// room to spare.
	MinBlockBytes = 256 << 10
	// MaxBlockBytesCeiling is the largest limit a genesis may set
	// (7 MiB): a maximal block with a maximal commit and every framing
	// (a decided-block message carries both) stays under the p2p layer's
	// 8 MiB message limit with more than 800 KiB to spare. node/p2p tests
	// check this against its encoding.
	MaxBlockBytesCeiling = 7 << 20
	// ProposalOverhead bounds what a proposal message adds to its
	// encoded block: the wire header, height, round, proposer,
	// signature, length prefixes and the gossip envelope. node/p2p tests
	// check it against the real encoding.
	ProposalOverhead = 512
	// MaxHeaderBytes bounds an encoded header.
	MaxHeaderBytes = 1 + 1 + MaxChainIDBytes + 8 + 8 + 6*len(Hash{}) + len(Address{})
	// MaxCommitBytes bounds an encoded commit of at most MaxCommitSigs
	// signatures.
	MaxCommitBytes = 8 + 4 + len(Hash{}) + 4 + MaxCommitSigs*(len(Address{})+2+consensus.MaxSigBytes)
	// MaxBlockOverhead bounds the proposal bytes of a block without
	// transactions: framing, header, transaction count, and the largest
	// last commit.
	MaxBlockOverhead = ProposalOverhead + MaxHeaderBytes + 4 + 1 + MaxCommitBytes
)

// Errors of the block byte limit.
var (
	// ErrBlockTooLarge reports a block whose ProposalBytes exceed the
	// chain's max_block_bytes.
	ErrBlockTooLarge = errors.New("block exceeds max_block_bytes")
	// ErrTxTooLargeForBlock reports a transaction too large to fit in any
	// block of the chain, whatever else the block holds.
	ErrTxTooLargeForBlock = errors.New("transaction can never fit in a block")
)

// uvarintLen returns the length of n's unsigned varint encoding.
func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n))
}

// Size returns len(t.Encode()) without encoding t.
func (t Tx) Size() int {
	p := len(t.Payload)
	return 2 + uvarintLen(p) + p
}

// TxBlockBytes returns the bytes t takes in an encoded block: its
// encoding with a length prefix.
func TxBlockBytes(t Tx) int {
	n := t.Size()
	return uvarintLen(n) + n
}

// size returns len(h.Encode()) without encoding h.
func (h *Header) size() int {
	return 1 + uvarintLen(len(h.ChainID)) + len(h.ChainID) + 8 + 8 + 6*len(Hash{}) + len(Address{})
}

// Size returns len(b.Encode()) without encoding b.
func (b *Block) Size() int {
	n := b.Header.size() + 4 + 1
	for _, t := range b.Txs {
		n += TxBlockBytes(t)
	}
	if b.LastCommit != nil {
		n += b.LastCommit.Size()
	}
	return n
}

// ProposalBytes is what a block counts against max_block_bytes: its
// encoded size, last commit included, plus ProposalOverhead. It is the
// one measure the proposer (Chain.Propose) and validators (Chain.Verify)
// use, so they cannot disagree.
func ProposalBytes(b *Block) int { return b.Size() + ProposalOverhead }

// EmptyProposalBytes returns ProposalBytes of a block on chainID with no
// transactions and lastCommit: what is left of the limit is the room for
// transactions, each taking TxBlockBytes.
func EmptyProposalBytes(chainID string, lastCommit *Commit) int {
	b := Block{Header: Header{ChainID: chainID}, LastCommit: lastCommit}
	return ProposalBytes(&b)
}

// MaxTxBytesFor returns the largest encoded transaction (Tx.Size) that
// can fit in a block under maxBlockBytes with the largest possible last
// commit, and never more than MaxTxBytes. A larger one can never be
// included and is refused at submission.
func MaxTxBytesFor(maxBlockBytes int) int {
	room := maxBlockBytes - MaxBlockOverhead
	// A transaction's length prefix takes at most 3 bytes (MaxTxBytes <
	// 2^21).
	return max(0, min(MaxTxBytes, room-3))
}

// checkBlockBytes refuses a block over maxBlockBytes.
func checkBlockBytes(b *Block, maxBlockBytes int) error {
	if n := ProposalBytes(b); n > maxBlockBytes {
		return fmt.Errorf("%w: %w: %d bytes, limit %d", ErrInvalidBlock, ErrBlockTooLarge, n, maxBlockBytes)
	}
	return nil
}

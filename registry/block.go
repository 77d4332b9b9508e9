package registry

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did/zip215"
	"github.com/idmesh/idmesh/node/consensus"
)

// Limits on what a block may hold.
const (
	MaxBlockTxs     = 10_000
	MaxChainIDBytes = 64
	MaxCommitSigs   = consensus.MaxCommitSigs
)

// ErrInvalidBlock reports a block that breaks a structural or chain rule.
var ErrInvalidBlock = errors.New("invalid block")

// Header is what validators sign (through its ID) and light clients keep.
// StateRoot is the root of the state after applying this block's
// transactions, so a light client holding header H can check a read of
// the state at height H.
type Header struct {
	ChainID            string    `json:"chain_id"`
	Height             uint64    `json:"height"`
	Time               time.Time `json:"time"`
	LastBlockID        Hash      `json:"last_block_id"`
	LastCommitHash     Hash      `json:"last_commit_hash"`
	TxRoot             Hash      `json:"tx_root"`
	StateRoot          Hash      `json:"state_root"`
	ValidatorsHash     Hash      `json:"validators_hash"`
	NextValidatorsHash Hash      `json:"next_validators_hash"`
	Proposer           Address   `json:"proposer"`
}

const headerVersion = 1

func (h *Header) encode(e *encoder) {
	e.u8(headerVersion)
	e.str(h.ChainID)
	e.u64(h.Height)
	e.i64(h.Time.UnixNano())
	e.fixed(h.LastBlockID[:])
	e.fixed(h.LastCommitHash[:])
	e.fixed(h.TxRoot[:])
	e.fixed(h.StateRoot[:])
	e.fixed(h.ValidatorsHash[:])
	e.fixed(h.NextValidatorsHash[:])
	e.fixed(h.Proposer[:])
}

func (h *Header) decode(d *decoder) {
	if v := d.u8("header version"); d.err == nil && v != headerVersion {
		d.err = fmt.Errorf("%w: header version %d", ErrMalformed, v)
	}
	h.ChainID = d.str("chain id", MaxChainIDBytes)
	h.Height = d.u64("height")
	h.Time = time.Unix(0, d.i64("time")).UTC()
	h.LastBlockID = d.hash("last block id")
	h.LastCommitHash = d.hash("last commit hash")
	h.TxRoot = d.hash("tx root")
	h.StateRoot = d.hash("state root")
	h.ValidatorsHash = d.hash("validators hash")
	h.NextValidatorsHash = d.hash("next validators hash")
	copy(h.Proposer[:], d.take(len(h.Proposer), "proposer"))
}

// Encode returns the header's deterministic encoding.
func (h *Header) Encode() []byte {
	var e encoder
	h.encode(&e)
	return e.b
}

// ID returns the block ID: SHA-256 of the encoded header.
func (h *Header) ID() Hash { return Sum(h.Encode()) }

// DecodeHeader decodes an encoded header.
func DecodeHeader(b []byte) (*Header, error) {
	d := decoder{b: b}
	h := new(Header)
	h.decode(&d)
	if err := d.finish("header"); err != nil {
		return nil, err
	}
	return h, nil
}

// DecodeBlockHeader decodes the header of an encoded block (the first
// part of Block.Encode's bytes), without decoding its transactions or
// commit: what serving a header needs, at a cost that does not grow with
// the block.
func DecodeBlockHeader(raw []byte) (*Header, error) {
	d := decoder{b: raw}
	h := new(Header)
	h.decode(&d)
	if d.err != nil {
		return nil, fmt.Errorf("decode block header: %w", d.err)
	}
	return h, nil
}

// The commit types are the consensus engine's: it builds commits from
// precommits, and the chain stores them.
type (
	// CommitSig is one validator's signature over a block ID.
	CommitSig = consensus.CommitSig
	// Commit is the proof that a block is final. The canonical commit for
	// height H travels in block H+1 as LastCommit.
	Commit = consensus.Commit
)

// ErrInsufficientPower reports a commit without a two-thirds majority.
var ErrInsufficientPower = consensus.ErrInsufficientPower

// DecodeCommit decodes an encoded commit.
func DecodeCommit(b []byte) (*Commit, error) { return consensus.DecodeCommit(b) }

// VoteSignBytes returns the bytes a validator signs to precommit blockID
// at height and round on chainID.
func VoteSignBytes(chainID string, height uint64, round uint32, blockID Hash) []byte {
	return consensus.VoteSignBytes(chainID, height, round, blockID)
}

// PrevoteSignBytes returns the bytes a validator signs to prevote.
func PrevoteSignBytes(chainID string, height uint64, round uint32, blockID Hash) []byte {
	return consensus.PrevoteSignBytes(chainID, height, round, blockID)
}

// VerifySignature is the one signature rule of the consensus path:
// Ed25519 under ZIP-215 (did/zip215), for votes, proposals, commits and
// the ledger's transactions, so that validators checking signatures one
// at a time or in batches always agree. It is consensus.Config.Verify of
// the node's engine.
func VerifySignature(pub ed25519.PublicKey, msg, sig []byte) bool {
	return zip215.Verify(pub, msg, sig)
}

// VerifyCommit checks that c commits blockID at height with valid
// signatures (VerifySignature) from more than two thirds of vs's voting
// power; its errors are ErrInvalidBlock.
func VerifyCommit(chainID string, vs *ValidatorSet, height uint64, blockID Hash, c *Commit) error {
	if err := consensus.VerifyCommitWith(VerifySignature, chainID, vs, height, blockID, c); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidBlock, err)
	}
	return nil
}

// Block is a header, its transactions in order, and the commit of the
// previous block.
type Block struct {
	Header     Header  `json:"header"`
	Txs        []Tx    `json:"txs"`
	LastCommit *Commit `json:"last_commit,omitempty"`

	// enc is the encoding b was decoded from (DecodeBlock) or that
	// Chain.Propose made (nil: none), and encHeader the length of its
	// header: Encoding's.
	enc       []byte
	encHeader int
}

// Encoding returns Encode's bytes without encoding again when it can: a
// block from DecodeBlock or Chain.Propose remembers its bytes, returned
// while their header is still b's (its ID). For a block that passes
// ValidateBasic that is all of it: the header commits to the
// transactions (TxRoot, a Merkle tree of their encodings' hashes) and to
// the last commit (LastCommitHash, its encoding's hash). So a caller
// must call it only on a block that passes ValidateBasic (as Chain.Commit
// and the proposal it sends do), and must not change the bytes it
// returns. Otherwise it is Encode.
func (b *Block) Encoding() []byte {
	if b.enc != nil && b.encHeader <= len(b.enc) && Sum(b.enc[:b.encHeader]) == b.ID() {
		return b.enc
	}
	return b.Encode()
}

// encodeOnce encodes b and remembers the bytes for Encoding.
func (b *Block) encodeOnce() {
	b.enc, b.encHeader = b.Encode(), b.Header.size()
}

// ID returns the block ID (the header's).
func (b *Block) ID() Hash { return b.Header.ID() }

// Height returns the block's height. With ID it makes *Block the
// consensus engine's opaque block (consensus.Block).
func (b *Block) Height() uint64 { return b.Header.Height }

// TxHashes returns the hashes of b's transactions in order.
func (b *Block) TxHashes() []Hash {
	hs := make([]Hash, len(b.Txs))
	for i, t := range b.Txs {
		hs[i] = t.Hash()
	}
	return hs
}

// Encode returns the block's deterministic encoding.
func (b *Block) Encode() []byte {
	e := encoder{b: make([]byte, 0, b.Size())}
	b.Header.encode(&e)
	e.u32(uint32(len(b.Txs)))
	for i := range b.Txs {
		t := &b.Txs[i]
		e.uvarint(uint64(t.Size()))
		t.encode(&e)
	}
	if b.LastCommit == nil {
		e.u8(0)
	} else {
		e.u8(1)
		e.fixed(b.LastCommit.Encode())
	}
	return e.b
}

// DecodeBlock decodes an encoded block and checks it with ValidateBasic.
// The block keeps raw for Encoding: the caller must not change raw
// afterwards (its transactions' payloads are copies of their own).
func DecodeBlock(raw []byte) (*Block, error) {
	d := decoder{b: raw}
	b := new(Block)
	b.Header.decode(&d)
	headerLen := len(raw) - len(d.b)
	n := int(d.u32("tx count"))
	if n > MaxBlockTxs || n > len(d.b)/2 {
		d.fail("tx count")
	} else {
		b.Txs = make([]Tx, 0, n)
		for i := 0; i < n && d.err == nil; i++ {
			// DecodeTx copies the payload: the tx's encoding is not
			// copied first.
			tb := d.view("tx", MaxTxBytes)
			if d.err != nil {
				break
			}
			t, err := DecodeTx(tb)
			if err != nil {
				d.err = fmt.Errorf("tx %d: %w", i, err)
				break
			}
			b.Txs = append(b.Txs, t)
		}
	}
	switch d.u8("last commit flag") {
	case 0:
	case 1:
		// The commit is the block's last field: the rest of the bytes.
		if d.err == nil {
			c, err := DecodeCommit(d.b)
			if err != nil {
				d.err = err
			}
			b.LastCommit, d.b = c, nil
		}
	default:
		d.fail("last commit flag")
	}
	if err := d.finish("block"); err != nil {
		return nil, err
	}
	if err := b.ValidateBasic(); err != nil {
		return nil, err
	}
	b.enc, b.encHeader = raw, headerLen
	return b, nil
}

// ValidateBasic checks what needs no chain state: bounds, and that the
// header commits to the transactions and last commit the block carries.
func (b *Block) ValidateBasic() error {
	h := &b.Header
	if h.ChainID == "" || len(h.ChainID) > MaxChainIDBytes {
		return fmt.Errorf("%w: chain id length %d", ErrInvalidBlock, len(h.ChainID))
	}
	if h.Height == 0 {
		return fmt.Errorf("%w: height 0", ErrInvalidBlock)
	}
	if len(b.Txs) > MaxBlockTxs {
		return fmt.Errorf("%w: %d transactions", ErrInvalidBlock, len(b.Txs))
	}
	if got := MerkleRoot(b.TxHashes()); got != h.TxRoot {
		return fmt.Errorf("%w: tx root %s does not match transactions (%s)", ErrInvalidBlock, h.TxRoot, got)
	}
	if got := b.LastCommit.Hash(); got != h.LastCommitHash {
		return fmt.Errorf("%w: last commit hash mismatch", ErrInvalidBlock)
	}
	if h.Height == 1 && (b.LastCommit != nil || !h.LastBlockID.IsZero()) {
		return fmt.Errorf("%w: first block has a previous block", ErrInvalidBlock)
	}
	if h.Height > 1 && b.LastCommit == nil {
		return fmt.Errorf("%w: missing last commit", ErrInvalidBlock)
	}
	if b.LastCommit != nil && (b.LastCommit.Height != h.Height-1 || b.LastCommit.BlockID != h.LastBlockID) {
		return fmt.Errorf("%w: last commit is not for the previous block", ErrInvalidBlock)
	}
	return nil
}

// verifyEncoded makes BlockUpdate.BlockBytes compare Encoded with
// Block.Encode(): on in test binaries, off in the node.
var verifyEncoded = testing.Testing()

// BlockBytes returns the bytes a store saves for u's block: Encoded, or
// Block.Encode() if Encoded is nil. In test binaries an Encoded that is
// not Block.Encode() is an error.
func (u *BlockUpdate) BlockBytes() ([]byte, error) {
	if u.Encoded == nil {
		return u.Block.Encode(), nil
	}
	if verifyEncoded && !bytes.Equal(u.Encoded, u.Block.Encode()) {
		return nil, fmt.Errorf("block %d: %w: BlockUpdate.Encoded is not the block's encoding", u.Block.Header.Height, ErrInvalidBlock)
	}
	return u.Encoded, nil
}

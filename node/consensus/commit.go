package consensus

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
)

// Limits of a commit's encoding.
const (
	// MaxCommitSigs bounds the signatures a commit may carry.
	MaxCommitSigs = 1_000
	// MaxSigBytes bounds one signature in a commit (Ed25519's are 64
	// bytes).
	MaxSigBytes = 128
)

// Errors of commits.
var (
	// ErrInvalidCommit reports a commit that does not prove its block.
	ErrInvalidCommit = errors.New("invalid commit")
	// ErrInsufficientPower reports a commit without a two-thirds majority.
	ErrInsufficientPower = errors.New("commit lacks more than 2/3 of voting power")
)

// CommitSig is one validator's precommit signature over a block ID.
type CommitSig struct {
	Validator Address `json:"validator"`
	Signature []byte  `json:"signature"`
}

// Commit is the proof that a block is final: precommit signatures over
// its ID from validators holding more than two thirds of the voting
// power. The engine builds it from the precommits of the deciding round;
// the application stores it (the commit of height H travels in block
// H+1).
type Commit struct {
	Height     uint64      `json:"height"`
	Round      uint32      `json:"round"`
	BlockID    Hash        `json:"block_id"`
	Signatures []CommitSig `json:"signatures"`
}

// Encode returns the commit's deterministic encoding: height (8 bytes),
// round (4), block ID (32), the signature count (4), then each signer's
// address (20) and signature with a uvarint length prefix; integers are
// big-endian.
func (c *Commit) Encode() []byte {
	b := make([]byte, 0, c.Size())
	b = binary.BigEndian.AppendUint64(b, c.Height)
	b = binary.BigEndian.AppendUint32(b, c.Round)
	b = append(b, c.BlockID[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.Signatures)))
	for _, s := range c.Signatures {
		b = append(b, s.Validator[:]...)
		b = binary.AppendUvarint(b, uint64(len(s.Signature)))
		b = append(b, s.Signature...)
	}
	return b
}

// Size returns len(c.Encode()) without encoding c.
func (c *Commit) Size() int {
	n := 8 + 4 + len(Hash{}) + 4
	for _, s := range c.Signatures {
		n += len(Address{}) + uvarintLen(len(s.Signature)) + len(s.Signature)
	}
	return n
}

// uvarintLen returns the length of n's unsigned varint encoding.
func uvarintLen(n int) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], uint64(n))
}

// Hash returns SHA-256 of the encoded commit; a nil commit hashes to zero.
func (c *Commit) Hash() Hash {
	if c == nil {
		return Hash{}
	}
	return Sum(c.Encode())
}

// DecodeCommit decodes what Encode wrote, and nothing else: counts and
// lengths are bounded, varints must be minimal and no byte may follow.
func DecodeCommit(b []byte) (*Commit, error) {
	fail := func(what string) (*Commit, error) {
		return nil, fmt.Errorf("decode commit: %w: short or invalid %s", ErrMalformed, what)
	}
	const fixed = 8 + 4 + len(Hash{}) + 4
	if len(b) < fixed {
		return fail("commit")
	}
	c := &Commit{Height: binary.BigEndian.Uint64(b), Round: binary.BigEndian.Uint32(b[8:])}
	copy(c.BlockID[:], b[12:])
	n := int(binary.BigEndian.Uint32(b[12+len(Hash{}):]))
	b = b[fixed:]
	if n > MaxCommitSigs || n > len(b)/(len(Address{})+1) {
		return fail("commit signature count")
	}
	c.Signatures = make([]CommitSig, n)
	for i := range c.Signatures {
		if len(b) < len(Address{}) {
			return fail("commit validator")
		}
		copy(c.Signatures[i].Validator[:], b)
		b = b[len(Address{}):]
		l, k := binary.Uvarint(b)
		if k <= 0 || l > MaxSigBytes || k != uvarintLen(int(l)) || int(l) > len(b)-k {
			return fail("commit signature")
		}
		c.Signatures[i].Signature = append([]byte(nil), b[k:k+int(l)]...)
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("decode commit: %w: %d trailing bytes", ErrMalformed, len(b))
	}
	return c, nil
}

// VoteSignBytes returns the bytes a validator signs to precommit blockID
// at height and round on chainID. The domain tag keeps these signatures
// from being valid as anything else.
func VoteSignBytes(chainID string, height uint64, round uint32, blockID Hash) []byte {
	return voteSignBytes("idmesh/precommit/v1\x00", chainID, height, round, blockID)
}

// PrevoteSignBytes returns the bytes a validator signs to prevote.
func PrevoteSignBytes(chainID string, height uint64, round uint32, blockID Hash) []byte {
	return voteSignBytes("idmesh/prevote/v1\x00", chainID, height, round, blockID)
}

// voteSignBytes encodes a vote under a domain tag: the chain ID with a
// uvarint length prefix, height (8 bytes), round (4) and block ID.
func voteSignBytes(domain, chainID string, height uint64, round uint32, blockID Hash) []byte {
	b := []byte(domain)
	b = binary.AppendUvarint(b, uint64(len(chainID)))
	b = append(b, chainID...)
	b = binary.BigEndian.AppendUint64(b, height)
	b = binary.BigEndian.AppendUint32(b, round)
	return append(b, blockID[:]...)
}

// VerifyCommit checks that c commits blockID at height with valid
// signatures from more than two thirds of vs's voting power. Unknown
// signers, duplicates and bad signatures are errors, not ignored.
func VerifyCommit(chainID string, vs *ValidatorSet, height uint64, blockID Hash, c *Commit) error {
	return VerifyCommitWith(ed25519.Verify, chainID, vs, height, blockID, c)
}

// VerifyCommitWith is VerifyCommit with the signature check verify (the
// chain's one rule: see Config.Verify).
func VerifyCommitWith(verify func(pub ed25519.PublicKey, msg, sig []byte) bool, chainID string, vs *ValidatorSet, height uint64, blockID Hash, c *Commit) error {
	if c == nil {
		return fmt.Errorf("verify commit: %w: missing", ErrInvalidCommit)
	}
	if vs == nil {
		return fmt.Errorf("verify commit: %w: no validator set for height %d", ErrInvalidCommit, height)
	}
	if c.Height != height || c.BlockID != blockID {
		return fmt.Errorf("verify commit: %w: commit is for height %d block %s, want %d %s", ErrInvalidCommit, c.Height, c.BlockID, height, blockID)
	}
	msg := VoteSignBytes(chainID, c.Height, c.Round, c.BlockID)
	seen := make(map[Address]bool, len(c.Signatures))
	var power int64
	for _, s := range c.Signatures {
		v, ok := vs.ByAddress(s.Validator)
		if !ok {
			return fmt.Errorf("verify commit: %w: signer %s is not a validator", ErrInvalidCommit, s.Validator)
		}
		if seen[s.Validator] {
			return fmt.Errorf("verify commit: %w: duplicate signature from %s", ErrInvalidCommit, s.Validator)
		}
		seen[s.Validator] = true
		if !verify(v.PubKey, msg, s.Signature) {
			return fmt.Errorf("verify commit: %w: bad signature from %s", ErrInvalidCommit, s.Validator)
		}
		power += v.Power
	}
	if 3*power <= 2*vs.TotalPower() {
		return fmt.Errorf("verify commit: %w", ErrInsufficientPower)
	}
	return nil
}

package consensus

import (
	"crypto/ed25519"
	"errors"
	"fmt"
)

// VoteType is prevote or precommit.
type VoteType uint8

// Vote types.
const (
	Prevote   VoteType = 1
	Precommit VoteType = 2
)

func (t VoteType) String() string {
	switch t {
	case Prevote:
		return "prevote"
	case Precommit:
		return "precommit"
	}
	return fmt.Sprintf("vote-type-%d", uint8(t))
}

// NilRound is the round of "no round" (a proposal without proof of lock,
// no locked or valid value).
const NilRound int32 = -1

// Errors of messages.
var (
	ErrInvalidMessage = errors.New("invalid consensus message")
	ErrBadSignature   = errors.New("bad signature")
	ErrNotValidator   = errors.New("not a validator")
)

// Vote is a signed prevote or precommit for a block ID at a height and
// round. A zero BlockID is a vote for nil.
type Vote struct {
	Type      VoteType `json:"type"`
	Height    uint64   `json:"height"`
	Round     int32    `json:"round"`
	BlockID   Hash     `json:"block_id"`
	Validator Address  `json:"validator"`
	Signature []byte   `json:"signature"`
}

// SignBytes returns what the validator signs. A precommit's are
// VoteSignBytes, so precommits form a Commit as they are.
func (v *Vote) SignBytes(chainID string) []byte {
	if v.Type == Precommit {
		return VoteSignBytes(chainID, v.Height, uint32(v.Round), v.BlockID)
	}
	return PrevoteSignBytes(chainID, v.Height, uint32(v.Round), v.BlockID)
}

// ValidateBasic checks what needs no state.
func (v *Vote) ValidateBasic() error {
	if v.Type != Prevote && v.Type != Precommit {
		return fmt.Errorf("%w: vote type %d", ErrInvalidMessage, v.Type)
	}
	if v.Height == 0 || v.Round < 0 {
		return fmt.Errorf("%w: vote at height %d round %d", ErrInvalidMessage, v.Height, v.Round)
	}
	if len(v.Signature) != ed25519.SignatureSize {
		return fmt.Errorf("%w: vote signature length %d", ErrInvalidMessage, len(v.Signature))
	}
	return nil
}

// Verify checks the vote's signature with the validator's key, with
// ed25519.Verify; see VerifyWith.
func (v *Vote) Verify(chainID string, val Validator) error {
	return v.VerifyWith(ed25519.Verify, chainID, val)
}

// VerifyWith is Verify with the signature check verify (the chain's rule:
// see Config.Verify).
func (v *Vote) VerifyWith(verify func(pub ed25519.PublicKey, msg, sig []byte) bool, chainID string, val Validator) error {
	if !verify(val.PubKey, v.SignBytes(chainID), v.Signature) {
		return fmt.Errorf("%w: %s by %s at %d/%d", ErrBadSignature, v.Type, v.Validator, v.Height, v.Round)
	}
	return nil
}

// Block is the application's block as the engine sees it: an opaque
// value named by its ID, for one height. The engine never looks inside:
// the App builds, validates and executes blocks, and the driver encodes
// them. B is typically a pointer type; its zero value means "no block".
type Block interface {
	comparable
	// ID names the block: what votes and commits sign.
	ID() Hash
	// Height is the height the block is for.
	Height() uint64
}

// Proposal is a proposer's signed block for a height and round, with the
// round of its proof of lock (POLRound, NilRound if none).
type Proposal[B Block] struct {
	Height    uint64  `json:"height"`
	Round     int32   `json:"round"`
	POLRound  int32   `json:"pol_round"`
	Block     B       `json:"block"`
	Proposer  Address `json:"proposer"`
	Signature []byte  `json:"signature"`
}

// SignBytes returns what the proposer signs: the block ID, not the block.
func (p *Proposal[B]) SignBytes(chainID string) []byte {
	b := []byte("idmesh/proposal/v1\x00")
	b = appendString(b, chainID)
	b = appendU64(b, p.Height)
	b = appendU64(b, uint64(uint32(p.Round)))
	b = appendU64(b, uint64(uint32(p.POLRound)))
	id := p.Block.ID()
	return append(b, id[:]...)
}

// ValidateBasic checks what needs no state.
func (p *Proposal[B]) ValidateBasic() error {
	switch {
	case p.Height == 0 || p.Round < 0:
		return fmt.Errorf("%w: proposal at height %d round %d", ErrInvalidMessage, p.Height, p.Round)
	case p.POLRound < NilRound || p.POLRound >= p.Round:
		return fmt.Errorf("%w: proposal POL round %d for round %d", ErrInvalidMessage, p.POLRound, p.Round)
	case p.Block == zero[B]():
		return fmt.Errorf("%w: proposal without a block", ErrInvalidMessage)
	case p.Block.Height() != p.Height:
		return fmt.Errorf("%w: proposal for height %d carries block %d", ErrInvalidMessage, p.Height, p.Block.Height())
	case len(p.Signature) != ed25519.SignatureSize:
		return fmt.Errorf("%w: proposal signature length %d", ErrInvalidMessage, len(p.Signature))
	}
	return nil
}

// Decided is a decided block with a commit proving it, sent to a peer that
// is behind.
type Decided[B Block] struct {
	Block  B       `json:"block"`
	Commit *Commit `json:"commit"`
}

// Status says which height a node is deciding. A node that signs nothing
// (a follower) sends it so that peers ahead of it answer with Decided.
// It is unsigned: answering it costs a peer only a rate-limited reply.
type Status struct {
	Height uint64 `json:"height"`
	Round  int32  `json:"round"`
	// Stuck says the node made no progress for a whole period: peers at
	// its height answer with the proposals and votes it lacks.
	Stuck bool `json:"stuck,omitempty"`
	// Has says, for rounds Round-1 and Round, what the node holds, so
	// that answers carry only what it lacks.
	Has [2]RoundHas `json:"has"`
}

// RoundHas is what a node holds of one round: the proposal, and the
// prevotes and precommits by validator index (bit i of byte i/8, in the
// height's validator order).
type RoundHas struct {
	Proposal   bool   `json:"proposal,omitempty"`
	Prevotes   []byte `json:"prevotes,omitempty"`
	Precommits []byte `json:"precommits,omitempty"`
}

// maxHasBytes bounds a vote bitmap (8,192 validators).
const maxHasBytes = 1024

func hasBit(b []byte, i int) bool { return i/8 < len(b) && b[i/8]&(1<<(i%8)) != 0 }

// Message is what validators exchange. Exactly one of the payloads is set.
// To is the recipient, or the zero address for everyone.
type Message[B Block] struct {
	From     Address      `json:"from"`
	To       Address      `json:"to"`
	Proposal *Proposal[B] `json:"proposal,omitempty"`
	Vote     *Vote        `json:"vote,omitempty"`
	Decided  *Decided[B]  `json:"decided,omitempty"`
	Status   *Status      `json:"status,omitempty"`
}

// Broadcast reports whether m goes to everyone.
func (m Message[B]) Broadcast() bool { return m.To == Address{} }

// Height returns the height the message is about.
func (m Message[B]) Height() uint64 {
	switch {
	case m.Proposal != nil:
		return m.Proposal.Height
	case m.Vote != nil:
		return m.Vote.Height
	case m.Decided != nil && m.Decided.Block != zero[B]():
		return m.Decided.Block.Height()
	case m.Status != nil:
		return m.Status.Height
	}
	return 0
}

// ValidateBasic checks the message's shape.
func (m Message[B]) ValidateBasic() error {
	n := 0
	if m.Proposal != nil {
		n++
		if err := m.Proposal.ValidateBasic(); err != nil {
			return err
		}
	}
	if m.Vote != nil {
		n++
		if err := m.Vote.ValidateBasic(); err != nil {
			return err
		}
	}
	if m.Decided != nil {
		n++
		if m.Decided.Block == zero[B]() || m.Decided.Commit == nil {
			return fmt.Errorf("%w: decided without block or commit", ErrInvalidMessage)
		}
	}
	if m.Status != nil {
		n++
		if m.Status.Height == 0 || m.Status.Round < 0 {
			return fmt.Errorf("%w: status at height %d round %d", ErrInvalidMessage, m.Status.Height, m.Status.Round)
		}
		for _, h := range m.Status.Has {
			if len(h.Prevotes) > maxHasBytes || len(h.Precommits) > maxHasBytes {
				return fmt.Errorf("%w: status bitmap too long", ErrInvalidMessage)
			}
		}
	}
	if n != 1 {
		return fmt.Errorf("%w: %d payloads", ErrInvalidMessage, n)
	}
	return nil
}

// Evidence is proof that a validator signed two conflicting votes: same
// type, height and round, different block IDs.
type Evidence struct {
	A, B Vote
}

// Verify checks that the evidence proves equivocation by a validator of vs.
func (ev Evidence) Verify(chainID string, vs *ValidatorSet) error {
	a, b := ev.A, ev.B
	if a.Validator != b.Validator || a.Type != b.Type || a.Height != b.Height || a.Round != b.Round || a.BlockID == b.BlockID {
		return fmt.Errorf("%w: votes do not conflict", ErrInvalidMessage)
	}
	val, ok := vs.ByAddress(a.Validator)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotValidator, a.Validator)
	}
	if err := a.Verify(chainID, val); err != nil {
		return err
	}
	return b.Verify(chainID, val)
}

// zero returns B's zero value: no block.
func zero[B Block]() B {
	var b B
	return b
}

func appendU64(b []byte, v uint64) []byte {
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func appendString(b []byte, s string) []byte {
	b = appendU64(b, uint64(len(s)))
	return append(b, s...)
}

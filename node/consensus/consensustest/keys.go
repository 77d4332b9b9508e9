package consensustest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/idmesh/idmesh/node/consensus"
)

// Signer is a consensus.Signer holding a seeded Ed25519 key.
type Signer struct {
	priv ed25519.PrivateKey
	addr consensus.Address
}

var _ consensus.Signer = (*Signer)(nil)

// NewSigner returns the signer of key number i of seed: the same seed
// and i always give the same key.
func NewSigner(seed uint64, i int) *Signer {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], seed)
	binary.BigEndian.PutUint64(b[8:], uint64(i))
	s := sha256.Sum256(append([]byte("idmesh/consensustest/key\x00"), b[:]...))
	priv := ed25519.NewKeyFromSeed(s[:])
	return &Signer{priv: priv, addr: consensus.AddressOf(priv.Public().(ed25519.PublicKey))}
}

// Address returns the validator address of the key.
func (s *Signer) Address() consensus.Address { return s.addr }

// PubKey returns the public key.
func (s *Signer) PubKey() ed25519.PublicKey { return s.priv.Public().(ed25519.PublicKey) }

// Sign signs msg.
func (s *Signer) Sign(msg []byte) []byte { return ed25519.Sign(s.priv, msg) }

// NewValidators returns a validator set of len(powers) seeded keys and
// their signers in the set's (address) order; the i-th validator in that
// order has power powers[i].
func NewValidators(seed uint64, powers []int64) (*consensus.ValidatorSet, []*Signer) {
	signers := make([]*Signer, len(powers))
	for i := range powers {
		signers[i] = NewSigner(seed, i)
	}
	slices.SortFunc(signers, func(a, b *Signer) int { return bytes.Compare(a.addr[:], b.addr[:]) })
	vals := make([]consensus.Validator, len(powers))
	for i, p := range powers {
		vals[i] = consensus.Validator{PubKey: signers[i].PubKey(), Power: p}
	}
	vs, err := consensus.NewValidatorSet(vals)
	if err != nil {
		panic(fmt.Sprintf("consensustest: validator set: %v", err))
	}
	return vs, signers
}

// SignVote returns a vote signed by s.
func SignVote(s consensus.Signer, chainID string, t consensus.VoteType, h uint64, r int32, id consensus.Hash) *consensus.Vote {
	v := &consensus.Vote{Type: t, Height: h, Round: r, BlockID: id, Validator: s.Address()}
	v.Signature = s.Sign(v.SignBytes(chainID))
	return v
}

// SignProposal returns a proposal of b signed by s.
func SignProposal(s consensus.Signer, chainID string, h uint64, r, polRound int32, b *Block) *Proposal {
	p := &Proposal{Height: h, Round: r, POLRound: polRound, Block: b, Proposer: s.Address()}
	p.Signature = s.Sign(p.SignBytes(chainID))
	return p
}

// MakeCommit returns a commit of id at h and r signed by signers, in the
// order given.
func MakeCommit(chainID string, signers []*Signer, h uint64, r int32, id consensus.Hash) *consensus.Commit {
	c := &consensus.Commit{Height: h, Round: uint32(r), BlockID: id}
	for _, s := range signers {
		v := SignVote(s, chainID, consensus.Precommit, h, r, id)
		c.Signatures = append(c.Signatures, consensus.CommitSig{Validator: s.Address(), Signature: v.Signature})
	}
	return c
}

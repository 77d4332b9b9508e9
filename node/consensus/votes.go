package consensus

import (
	"github.com/idmesh/idmesh/registry"
)

// quorum arithmetic on voting power. "2f+1" in the paper is more than two
// thirds of the total power; "f+1" is more than one third.
func twoThirds(power, total int64) bool { return 3*power > 2*total }
func oneThird(power, total int64) bool  { return 3*power > total }

// voteSet holds the votes of one type at one height and round.
type voteSet struct {
	votes   map[registry.Address]*Vote
	byBlock map[registry.Hash]int64 // power per block ID (zero = nil)
	total   int64                   // power of all votes in the set
}

func newVoteSet() *voteSet {
	return &voteSet{votes: make(map[registry.Address]*Vote), byBlock: make(map[registry.Hash]int64)}
}

// add records v with the voter's power. It returns the earlier vote if the
// voter already voted for a different block (equivocation), and whether
// v was new.
func (s *voteSet) add(v *Vote, power int64) (conflict *Vote, added bool) {
	if old, ok := s.votes[v.Validator]; ok {
		if old.BlockID != v.BlockID {
			return old, false
		}
		return nil, false
	}
	s.votes[v.Validator] = v
	s.byBlock[v.BlockID] += power
	s.total += power
	return nil, true
}

// majority returns the block ID that has more than two thirds of total,
// if any.
func (s *voteSet) majority(total int64) (registry.Hash, bool) {
	for id, p := range s.byBlock {
		if twoThirds(p, total) {
			return id, true
		}
	}
	return registry.Hash{}, false
}

// commit returns the precommits for id as a registry.Commit, in the
// validator set's order.
func (s *voteSet) commit(vs *registry.ValidatorSet, height uint64, round int32, id registry.Hash) *registry.Commit {
	c := &registry.Commit{Height: height, Round: uint32(round), BlockID: id}
	for _, val := range vs.Validators {
		if v, ok := s.votes[val.Address()]; ok && v.BlockID == id {
			c.Signatures = append(c.Signatures, registry.CommitSig{Validator: v.Validator, Signature: v.Signature})
		}
	}
	return c
}

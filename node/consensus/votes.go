package consensus

import (
	"bytes"
)

// quorum arithmetic on voting power. "2f+1" in the paper is more than two
// thirds of the total power; "f+1" is more than one third.
func twoThirds(power, total int64) bool { return 3*power > 2*total }
func oneThird(power, total int64) bool  { return 3*power > total }

// maxVotesPerValidator bounds the conflicting votes kept per validator
// in one round: enough to count both sides of an equivocation (and to
// prove it), not enough for a Byzantine validator to fill memory.
const maxVotesPerValidator = 4

// voteSet holds the votes of one type at one height and round. As in the
// paper, every signed message counts: a validator that equivocates counts
// for each block it voted for (with less than 1/3 Byzantine power this
// can never give two blocks 2/3), once in the total.
type voteSet struct {
	votes   map[Address][]*Vote // in arrival order
	byBlock map[Hash]int64      // power per block ID (zero = nil)
	total   int64               // power of the validators that voted
}

func newVoteSet() *voteSet {
	return &voteSet{votes: make(map[Address][]*Vote), byBlock: make(map[Hash]int64)}
}

// add records v with the voter's power and reports whether it was new.
// If the voter already voted for another block, it returns that first
// vote as conflict: v still counts, for its own block.
func (s *voteSet) add(v *Vote, power int64) (conflict *Vote, added bool) {
	old := s.votes[v.Validator]
	for _, o := range old {
		if o.BlockID == v.BlockID {
			return nil, false
		}
	}
	if len(old) > 0 {
		conflict = old[0]
	} else {
		s.total += power
	}
	if len(old) >= maxVotesPerValidator {
		return conflict, false
	}
	s.votes[v.Validator] = append(old, v)
	s.byBlock[v.BlockID] += power
	return conflict, true
}

// majority returns the block ID that has more than two thirds of total,
// if any. (With more than 1/3 Byzantine power two could; the one with
// most power, then the lowest ID, is returned, so the answer does not
// depend on map order.)
func (s *voteSet) majority(total int64) (Hash, bool) {
	var best Hash
	var bestPower int64
	found := false
	for id, p := range s.byBlock {
		if !twoThirds(p, total) {
			continue
		}
		if !found || p > bestPower || (p == bestPower && bytes.Compare(id[:], best[:]) < 0) {
			best, bestPower, found = id, p, true
		}
	}
	return best, found
}

// vote returns the voter's vote for id, if any.
func (s *voteSet) vote(a Address, id Hash) *Vote {
	for _, v := range s.votes[a] {
		if v.BlockID == id {
			return v
		}
	}
	return nil
}

// commit returns the precommits for id as a Commit, in the
// validator set's order.
func (s *voteSet) commit(vs *ValidatorSet, height uint64, round int32, id Hash) *Commit {
	c := &Commit{Height: height, Round: uint32(round), BlockID: id}
	for _, val := range vs.Validators {
		if v := s.vote(val.Address(), id); v != nil {
			c.Signatures = append(c.Signatures, CommitSig{Validator: v.Validator, Signature: v.Signature})
		}
	}
	return c
}

package consensus

import (
	"math/big"
)

// maxSchedule bounds the proposer schedule's length. Larger total powers
// are scaled down for the schedule only (never for quorums).
const maxSchedule = 10_000

// schedule is the proposer order of a validator set: smooth weighted
// round-robin, in which each validator proposes as often as its power
// says, spread out evenly. It repeats with a period of the (scaled)
// total power.
type schedule []Address

// newSchedule computes the schedule of vs. Ties go to the lower address.
func newSchedule(vs *ValidatorSet) schedule {
	n := len(vs.Validators)
	w := make([]int64, n)
	var total int64
	for i, v := range vs.Validators {
		w[i] = v.Power
		total += v.Power
	}
	// Divide by the GCD, then scale down if still too long.
	g := big.NewInt(w[0])
	for _, x := range w[1:] {
		g.GCD(nil, nil, g, big.NewInt(x))
	}
	total = 0
	for i := range w {
		w[i] /= g.Int64()
		total += w[i]
	}
	if total > maxSchedule {
		scaled := int64(0)
		for i := range w {
			w[i] = max(1, w[i]*maxSchedule/total)
			scaled += w[i]
		}
		total = scaled
	}
	cur := make([]int64, n)
	s := make(schedule, 0, total)
	for range total {
		best := -1
		for i := range cur {
			cur[i] += w[i]
			// Validators are sorted by address, so a strict comparison
			// gives ties to the lower address.
			if best < 0 || cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		s = append(s, vs.Validators[best].Address())
	}
	return s
}

// Proposer returns the validator of vs that proposes round r of height
// h, as an engine deciding with vs schedules it.
func (vs *ValidatorSet) Proposer(h uint64, r int32) Address { return newSchedule(vs).proposer(h, r) }

// proposer returns the proposer of height h, round r. Heights and rounds
// both advance the schedule, so a round that fails moves to the next
// proposer and every height starts one step further.
func (s schedule) proposer(h uint64, r int32) Address {
	return s[(h+uint64(r))%uint64(len(s))]
}

package consensus

import (
	"math/big"
	"testing"

	"pgregory.net/rapid"
)

// Property tests of the vote and quorum arithmetic against naive
// versions, in the style of etcd raft's quorum/quick_test.go.

// naiveFraction reports power/total > num/den with exact rationals.
func naiveFraction(power, total, num, den int64) bool {
	return new(big.Rat).SetFrac64(power, total).Cmp(big.NewRat(num, den)) > 0
}

func TestQuorumArithmeticMatchesRationals(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		total := rapid.Int64Range(1, MaxTotalPower).Draw(t, "total")
		power := rapid.Int64Range(0, total).Draw(t, "power")
		if got, want := twoThirds(power, total), naiveFraction(power, total, 2, 3); got != want {
			t.Fatalf("twoThirds(%d, %d) = %v, want %v", power, total, got, want)
		}
		if got, want := oneThird(power, total), naiveFraction(power, total, 1, 3); got != want {
			t.Fatalf("oneThird(%d, %d) = %v, want %v", power, total, got, want)
		}
	})
}

// Two quorums always share more than a third of the power: the
// intersection argument of the paper's safety proof.
func TestQuorumIntersection(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		total := rapid.Int64Range(1, 1<<40).Draw(t, "total")
		a := rapid.Int64Range(0, total).Draw(t, "a")
		b := rapid.Int64Range(0, total).Draw(t, "b")
		if twoThirds(a, total) && twoThirds(b, total) && !oneThird(a+b-total, total) {
			t.Fatalf("quorums %d and %d of %d share only %d", a, b, total, a+b-total)
		}
	})
}

type naiveVote struct {
	val Address
	id  Hash
}

func TestVoteSetMatchesNaive(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nv := rapid.IntRange(1, 10).Draw(t, "validators")
		powers := make(map[Address]int64, nv)
		var total int64
		addrs := make([]Address, nv)
		for i := range addrs {
			addrs[i] = Address{byte(i + 1)}
			powers[addrs[i]] = rapid.Int64Range(1, 1000).Draw(t, "power")
			total += powers[addrs[i]]
		}
		ids := []Hash{{}, {1}, {2}}
		s := newVoteSet()
		var log []naiveVote // every vote added, in order
		for range rapid.IntRange(0, 40).Draw(t, "votes") {
			v := &Vote{Validator: addrs[rapid.IntRange(0, nv-1).Draw(t, "voter")], BlockID: ids[rapid.IntRange(0, 2).Draw(t, "id")]}
			// Naive: every distinct (validator, block) vote counts for its
			// block; a validator counts once in the total; a vote for
			// another block than the validator's first is a conflict with
			// that first vote.
			var first *naiveVote
			repeated := false
			for i := range log {
				if log[i].val == v.Validator {
					if first == nil {
						first = &log[i]
					}
					repeated = repeated || log[i].id == v.BlockID
				}
			}
			conflict, added := s.add(v, powers[v.Validator])
			switch {
			case first == nil:
				if !added || conflict != nil {
					t.Fatalf("first vote of %x: added=%v conflict=%v", v.Validator[0], added, conflict != nil)
				}
			case repeated:
				if added || conflict != nil {
					t.Fatalf("repeated vote of %x: added=%v conflict=%v", v.Validator[0], added, conflict != nil)
				}
			default:
				if !added || conflict == nil || conflict.BlockID != first.id {
					t.Fatalf("conflicting vote of %x: added=%v conflict=%v", v.Validator[0], added, conflict)
				}
			}
			if !repeated {
				log = append(log, naiveVote{v.Validator, v.BlockID})
			}

			// Recount from the log (three block IDs, so never more than
			// the per-validator bound).
			voters := map[Address]bool{}
			byID := map[Hash]int64{}
			var sum int64
			for _, nv := range log {
				byID[nv.id] += powers[nv.val]
				if !voters[nv.val] {
					voters[nv.val] = true
					sum += powers[nv.val]
				}
			}
			if sum != s.total {
				t.Fatalf("total %d, naive %d", s.total, sum)
			}
			var want Hash
			var wantPower int64
			wantOK := false
			for _, id := range ids {
				p := byID[id]
				if s.byBlock[id] != p {
					t.Fatalf("power for %x: %d, naive %d", id[0], s.byBlock[id], p)
				}
				if 3*p > 2*total && (!wantOK || p > wantPower) {
					want, wantPower, wantOK = id, p, true
				}
			}
			got, ok := s.majority(total)
			if ok != wantOK || got != want {
				t.Fatalf("majority (%x, %v), naive (%x, %v)", got[0], ok, want[0], wantOK)
			}
		}
	})
}

func naiveSchedule(powers []int64) map[int]int {
	// With weights already reduced by their GCD, a full period of smooth
	// weighted round-robin gives each validator exactly its weight.
	g := powers[0]
	for _, p := range powers[1:] {
		a, b := g, p
		for b != 0 {
			a, b = b, a%b
		}
		g = a
	}
	out := map[int]int{}
	for i, p := range powers {
		out[i] = int(p / g)
	}
	return out
}

func scheduleSet(t *testing.T, powers []int64) *ValidatorSet {
	vals := make([]Validator, len(powers))
	for i, p := range powers {
		pub := make([]byte, 32)
		pub[0], pub[1] = byte(i), byte(i>>8)
		vals[i] = Validator{PubKey: pub, Power: p}
	}
	vs, err := NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestScheduleWeightedByPower(t *testing.T) {
	vs := scheduleSet(t, []int64{30, 10, 10, 10})
	s := newSchedule(vs)
	counts := map[Address]int{}
	for _, a := range s {
		counts[a]++
	}
	big := vs.Validators[0].Address()
	for _, v := range vs.Validators {
		if v.Power == 30 {
			big = v.Address()
		}
	}
	if len(s) != 6 || counts[big] != 3 {
		t.Fatalf("schedule of length %d gives the 3x validator %d turns, want 6 and 3", len(s), counts[big])
	}
	for _, v := range vs.Validators {
		if v.Address() != big && counts[v.Address()] != 1 {
			t.Fatalf("a 1x validator proposes %d times per period, want 1", counts[v.Address()])
		}
	}
	// Spread out: the 3x validator never proposes twice in a row within
	// a period. (Smooth weighted round-robin does give it the last turn
	// of one period and the first of the next.)
	for i := range len(s) - 1 {
		if s[i] == big && s[i+1] == big {
			t.Fatalf("3x validator proposes twice in a row at %d: %v", i, s)
		}
	}
}

func TestScheduleMatchesPowers(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 12).Draw(t, "n")
		powers := make([]int64, n)
		for i := range powers {
			powers[i] = rapid.Int64Range(1, 50).Draw(t, "power")
		}
		vs := scheduleSet(&testing.T{}, powers)
		s := newSchedule(vs)
		byAddr := map[Address]int{}
		for i, v := range vs.Validators {
			byAddr[v.Address()] = i
		}
		got := map[int]int{}
		for _, a := range s {
			got[byAddr[a]]++
		}
		sorted := make([]int64, n)
		for i, v := range vs.Validators {
			sorted[i] = v.Power
		}
		want := naiveSchedule(sorted)
		for i := range n {
			if got[i] != want[i] {
				t.Fatalf("powers %v: validator %d proposes %d times per period, want %d", sorted, i, got[i], want[i])
			}
		}
		for h := range uint64(3) {
			for r := range int32(len(s) + 1) {
				if s.proposer(h, r) != s[(h+uint64(r))%uint64(len(s))] {
					t.Fatal("proposer does not follow the schedule")
				}
			}
		}
	})
}

package consensus_test

import (
	"testing"

	"github.com/idmesh/idmesh/node/consensus/consensustest"
)

// Engine bugs the simulation found, kept as regressions: each replays
// the seed that failed and asserts the property the engine broke.

// A validator locked on a proof of lock (2f+1 prevotes in round vr) that
// the other honest validators never received can block the height
// forever: rebroadcast resends only the current and previous round's
// votes, so prevotes of round vr lost on the network are never resent
// once everyone has moved two rounds on; the locked validator prevotes
// nil on everything else and its own re-proposal (POLRound = vr) is
// refused by rule 28 everywhere else. With one Byzantine validator that
// never helps (here a random voter), the honest ones cannot form a
// quorum without it. Safety holds; liveness does not.
//
// Seed 47, 4 equal validators, random voter, 3 heights.
func TestBugLivenessLostPOLPrevotes(t *testing.T) {
	cfg := consensustest.RandomConfig(47, consensustest.Powers(4, false), consensustest.FaultRandomVoter)
	cfg.Liveness = 8000
	runSim(t, cfg, true)
}

// An equivocating voter sends its vote for v to half its peers and a
// conflicting one to the rest. A validator in the first half can lock v
// on a POL that counts the Byzantine vote for v; the others received the
// conflicting vote instead, and voteSet.add keeps only a validator's
// first vote, so even a relayed copy of the vote for v would not count
// for them (the paper counts every message: a Byzantine validator's
// conflicting votes count for each value). They never see the POL, and
// the height deadlocks as above.
//
// Seed 3, 4 equal validators, equivocating voter, 3 heights.
func TestBugLivenessEquivocatingVoter(t *testing.T) {
	cfg := consensustest.RandomConfig(3, consensustest.Powers(4, false), consensustest.FaultEquivocatingVoter)
	cfg.Liveness = 8000
	runSim(t, cfg, true)
}

// A node that signs nothing (a follower, Config.Signer nil, or a
// validator removed from the set) never catches up once it misses a
// decision: the only catch-up is helpPeer, which answers a message from
// a node that is behind, and a follower sends no messages. Node 4 leaves
// the validator set at height 3, misses messages of height 4 to loss,
// and stays at height 3 while the others decide 120 more blocks.
//
// Seed 7000002, 5 validators, the set changes at height 3.
func TestBugFollowerNeverCatchesUp(t *testing.T) {
	cfg := consensustest.RandomConfig(7_000_002, consensustest.Powers(5, false), consensustest.FaultNone)
	cfg.ChangeAt, cfg.NewPowers, cfg.TargetHeight = 3, []int64{40, 30, 20, 10, 0}, 6
	cfg.Restarts = nil
	runSim(t, cfg, true)
}

// Package consensustest is a deterministic simulation of idmesh's
// Tendermint engine (package consensus): N engines driven by a
// single-threaded event loop over a priority queue keyed by (simulated
// tick, sequence number), a simulated network with delays, loss,
// duplication, reordering and partitions, named Byzantine strategies, and
// a checker of safety and liveness.
//
// Everything is derived from one seed: a failing run is replayed exactly
// by running the same seed again. The pieces:
//
//   - Signer, NewValidators, SignVote, SignProposal, MakeCommit: seeded
//     Ed25519 keys and hand-signed messages, for simulations and for
//     tests that drive a single engine by hand.
//   - Block, App: a simulated block (the engine's opaque value) and a
//     fake application per node that builds and validates blocks linked
//     to that node's own decided chain. The simulation imports nothing
//     of idmesh outside node/consensus.
//   - Sim: the network and the driver, which follows the Ready contract
//     (persist, send, apply decided blocks in order, Advance).
//   - Strategy: Byzantine behaviours wrapping a node's outgoing messages.
//   - Check: safety (no fork, valid commits, no honest double-signing)
//     and liveness (honest nodes reach a target height after partitions
//     heal).
//   - WAN, Gossip, Config.VerifyCost: a wide-area latency model (seeded
//     geography, jitter, FIFO links, upload bandwidth), gossipsub as
//     node/p2p runs it, and the CPU of signature checks; Scale measures a
//     run of many validators with them (docs/scale.md). Without them a run
//     is what it always was.
package consensustest

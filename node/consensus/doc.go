// Package consensus is idmesh's Byzantine-fault-tolerant consensus: the
// Tendermint algorithm of "The latest gossip on BFT consensus" (Buchman,
// Kwon and Milosevic, 2018, arXiv:1807.04938) as a pure, deterministic
// state machine in the style of etcd raft.
//
// An Engine decides one height at a time. Its inputs are messages
// (Step) and ticks (Tick); its output is a Ready: messages it signed and
// that must be persisted, messages to send, decided blocks with their
// commits, and evidence of equivocation. The driver persists, sends and
// applies, then calls Advance:
//
//	for {
//		select {
//		case <-ticker: e.Tick()
//		case m := <-network: e.Step(m)
//		}
//		if e.HasReady() {
//			rd := e.Ready()
//			wal.SaveSync(rd.Persist) // before anything is sent
//			send(rd.Messages)
//			for _, d := range rd.Decided { chain.Commit(d.Block, d.Commit) } // in order
//			e.Advance()
//		}
//	}
//
// The engine has no goroutines, clock, network, disk or randomness: time
// is counted in ticks and everything it needs of the chain comes through
// the App interface. It imports no other idmesh package: it owns its
// messages (Proposal, Vote, Decided, Status), the commits it builds
// (Commit, VerifyCommit), hashes and addresses, and the validator set it
// counts votes with. The application's block is a type parameter, an
// opaque value with an ID and a height (Block) that the App builds,
// validates and executes and that the driver encodes; the chain
// instantiates the engine with its own block (Engine[*registry.Block]),
// and the simulation in consensustest with a block of its own.
// docs/consensus.md describes the protocol as built.
package consensus

// Package registry is idmesh's ledger: blocks, transactions and commits in
// a deterministic encoding, the state machine that applies them, and the
// chain that checks and stores them.
//
// A Machine executes a block's transactions on an Overlay over the
// committed state: pure, with the block's time and height as its only
// clock, and a result per transaction (a failed one changes nothing);
// a handler that is a BlockPreparer first sees the whole block, which the
// did:idmesh handler uses to verify the block's signatures in ZIP-215
// batches (did/zip215, the one signature rule of the consensus path), and
// Chain.PrepareChecks does the same for a burst of transactions about to
// be checked (a node's gossiped ones); neither decides anything. The
// state root in every header is the root of a sparse Merkle tree
// (registry/smt) over the state after the block, so a read can be proven
// against a header the validators signed. The tree is updated once per
// block, from the block's writes sorted by key in one pass (nothing
// commits to a root after each transaction), and the machine keeps the
// tree's nodes in a cache bounded in bytes: the live upper levels
// resident, the rest recent (Machine.NodeCacheStats counts its hits).
// A Chain drives the machine for
// whatever decides blocks (the consensus engine): Propose builds the next
// block, Verify re-executes one built elsewhere, Commit checks its commit
// and saves everything in one atomic write through a Store
// (registry/leveldb). docs/design.md explains the whole.
package registry

// Package snapshot is the verifiable core of state sync: a snapshot of
// the state at a height, split into chunks that a new node checks one by
// one against the state root of a header it trusts, a restore of the
// verified chunks into an empty store, and the check of the header chain
// from genesis that makes that header trusted.
//
// # Format
//
// The state is a map from keys to values; its tree (registry/smt) maps
// SHA-256(key) to SHA-256(value). A snapshot lists every entry in tree-key
// order, grouped into parts: a part is a whole subtree of the tree (every
// entry below a node) with the sibling hashes on the path from the root
// to that node. Build chooses the largest subtrees that fit a chunk and
// packs consecutive parts into chunks of at most DefaultChunkBytes (4
// MiB); see Chunk.Encode for the bytes. A chunk is bounded by
// MaxChunkBytes and every count in it by the bytes that are left, so a
// decoder allocates nothing a peer did not pay for in bytes.
//
// # What is verified
//
// A Verifier, given the height and its trusted state root, checks each
// chunk as it arrives and before anything is written:
//
//   - each part's entries hash into a compact subtree exactly as the tree
//     builds it, which the part's siblings fold into the trusted root: an
//     entry added, dropped or altered, or a part of another state, gives
//     another root (ErrChunkProof);
//   - entries are in strictly increasing tree-key order (ErrChunkOrder),
//     chunks come in index order and for the height asked
//     (ErrChunkOrder, ErrWrongHeight);
//   - each part comes after the previous one (ErrChunkOrder) and starts
//     where it ended: the subtrees in between must be empty, which the
//     two parts' siblings show, so a part or a chunk left out is seen at
//     once (ErrChunkGap);
//   - the end is not the peer's word: the state is complete (Done) when
//     a part has only empty subtrees to its right.
//
// The first three checks concern one part each and need no other chunk:
// Verifier.Check does them (and all the hashing), on any goroutine, as
// chunks arrive in any order; Verifier.Accept then takes checked chunks
// in index order and does the checks between parts, which are cheap.
// Verify does both for one chunk.
//
// A Restorer writes each verified chunk's entries and tree nodes (those
// of the part and those on its path to the root, each node once) into a
// Sink (registry/leveldb): Apply for one chunk, or Check (concurrent)
// then Write (in order). Finish checks that the state is complete, that
// the store holds exactly the tree nodes the restore wrote (one pass over
// the stored nodes, each re-hashed, counted and summed; a walk of the
// tree from the root for a Sink that cannot list its nodes), and records
// the base block, its commit and the chain state after it
// (registry.SyncedState), so that the chain continues with the next block
// from block sync.
//
// VerifyHeaders establishes the trusted header: from the genesis, each
// header must extend the previous one, be decided by the validator set the
// previous header named as next (the genesis set first), and carry a
// commit of more than two thirds of that set's power
// (registry.VerifyCommit).
//
// The package is pure: it reads state through Source, writes through Sink,
// and has no clock and no network.
package snapshot

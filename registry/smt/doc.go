// Package smt implements the ledger's state root: a compact binary sparse
// Merkle tree that authenticates a map from 32-byte keys to 32-byte value
// hashes.
//
// # Model
//
// Keys are SHA-256 digests of state keys and values are SHA-256 digests of
// the stored values. Conceptually the tree has depth 256: the path of a key
// is its bits from the most significant bit of key[0] (depth 0) to the least
// significant bit of key[31] (depth 255), where 0 means left and 1 means
// right. The tree is stored in compact form:
//
//   - an empty subtree is the zero hash, [Empty];
//   - a subtree holding exactly one pair is that pair's leaf node, placed at
//     the highest level where it is alone (there is no chain of inner nodes
//     above a lone leaf);
//   - any other subtree is an inner node over its two halves. One half may be
//     empty, but then the other half holds at least two pairs.
//
// Nodes are 65 bytes and a node's hash is SHA-256 of its encoding:
//
//	leaf  = 0x00 || key (32) || valueHash (32)   see LeafHash
//	inner = 0x01 || left (32) || right (32)      see InnerHash
//
// A leaf's encoding does not depend on its depth, so a leaf keeps its hash
// when a deletion lifts it. The form is canonical: the root depends only on
// the set of (key, value) pairs, never on the order or batching of the
// updates that produced it. The root of the empty map is [Empty]. A value
// hash must not be zero ([ErrZeroValue]); the zero hash is reserved for empty
// subtrees.
//
// # Storage
//
// The package never writes storage and keeps no state between calls. The
// caller supplies a [NodeReader] (LevelDB in production, [MemStore] in tests
// and tools). [Update] applies a batch of [Change]s to a root in one pass,
// reading only the nodes on the changed paths, and returns the new root with
// the nodes it created; the caller writes those into its per-block batch.
// Applying k changes to a tree of n pairs costs O(k log n) node reads and
// writes; each node on the changed paths is read once, the shared upper
// paths once for the whole batch. A reader that is a [DepthNodeReader] is
// told the depth of each node read, for a cache that keeps upper levels. Old nodes are never modified, so every earlier root stays readable
// for as long as the caller keeps its nodes.
//
// # Pruning
//
// Nodes are content-addressed, so one node may belong to many versions,
// leave the tree and come back later (a key set back to an earlier value).
// [UpdateStale] returns, besides the created nodes, the stale ones: the
// nodes of the old version that the new one no longer holds. The created
// and stale nodes are exactly the difference between two consecutive
// versions, so a store that journals the stale nodes of each version v
// (they belong to v-1 and not to v) and stamps every node with the
// version that last created it can drop every version below a floor f:
// a node journaled stale at s <= f belongs to no version >= f unless a
// later version created it again, which its stamp tells. registry/leveldb
// does this.
//
// The reader is trusted: nodes are checked for shape (length, tag, depth)
// but their hashes are not recomputed on read. Data from untrusted peers is
// checked with proofs instead.
//
// # Proofs
//
// [Prove] returns a [Proof] for a key against a root: the sibling hashes
// along the key's path and, when the path ends at a leaf of a different key,
// that leaf. [Proof.Verify] checks inclusion of key→value or, with a nil
// value, absence of the key, so a light client can check a node's answer
// against a root taken from a signed block header. Proofs have a compact
// binary encoding ([Proof.Encode], [DecodeProof]) in which empty siblings
// cost one bit, and a hex JSON form for HTTP APIs.
//
// Usage:
//
//	root, nodes, err := smt.Update(store, root, []smt.Change{{Key: k, Value: v}})
//	// put nodes into the block's write batch, record root in the header
//	proof, err := smt.Prove(store, root, k)
//	err = proof.Verify(root, k, &v) // nil: k→v is in the tree under root
//
// All functions are pure and safe for concurrent use provided the
// [NodeReader] is.
package smt

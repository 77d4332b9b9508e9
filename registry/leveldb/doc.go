// Package leveldb implements registry.Store on LevelDB.
//
// Keys are a one-byte prefix followed by fixed-width big-endian integers or
// fixed-size hashes, so iteration follows height order:
//
//	'M'                 chain state after the last block (JSON)
//	'G'                 genesis (JSON)
//	'B' height(8)       block
//	'C' height(8)       the block's own commit (seen commit)
//	'I' blockID(32)     height(8)
//	'T' txHash(32)      uvarint height, index and code, then the log
//	'S' stateKey        state value
//	'N' nodeHash(32)    state tree node: its 65-byte encoding, then the
//	                    uvarint height that last created it (its stamp)
//	'O' height(8)       the nodes the version of height dropped (the
//	                    stale journal): their hashes, 32 bytes each
//	'V' height(8)       block time of a retained version (unix ns, 8 bytes)
//	'P'                 the prune floor: versions below it are pruned
//	'R'                 a restore from a snapshot is under way (restore.go)
//	'F'                 the store's format (uvarint, Format): Open refuses
//	                    a store of another format, or one holding a chain
//	                    without the mark (format 1), with ErrFormat
//
// Everything a block changes is written in one synced batch, so a crash
// leaves the store at the last complete block.
//
// Old versions of the state tree are pruned in batches (PruneStep, driven
// by registry.Pruner): see prune.go for why a batch never deletes a node
// a retained version needs, and why a crash between batches loses
// nothing.
package leveldb

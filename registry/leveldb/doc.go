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
//	'T' txHash(32)      height(8) index(4) code(4) log
//	'S' stateKey        state value
//	'N' nodeHash(32)    state tree node
//
// Everything a block changes is written in one synced batch, so a crash
// leaves the store at the last complete block.
package leveldb

// Package node runs an idmesh node: it accepts transactions into a
// mempool after checking them against the chain, lets an Engine decide
// and commit blocks, and tells waiters when blocks are committed.
//
// Today's Engine is the single-validator Producer; the BFT consensus
// engine replaces it behind the same interface, and neither touches the
// registry's state machine.
package node

// Package daemon assembles a running idmesh node from a home directory:
// the LevelDB store and the chain on it, the node (mempool, commit
// notifications), the consensus engine with its write-ahead log and
// validator key, the libp2p network, the issuer service (keystore,
// status lists) and the HTTP API. `idmesh dev`, `idmesh node` and tests
// share this one constructor:
//
//	d, err := daemon.New(ctx, daemon.Config{Home: dir, HTTPAddr: "127.0.0.1:0"})
//	if err != nil { ... }
//	defer d.Close()
//	err = d.Run(ctx) // until ctx ends or a part fails
//
// New opens everything and listens, so that the caller can print the
// addresses before anything is served; Run serves, syncs from peers and
// runs the engine, and on the way out stops accepting requests, then
// the engine; Close releases the rest (audit log, issuer state and
// keystore, network, store), last opened first. The layout of the home
// directory is node/home's.
//
// The daemon answers the API's GET /readyz: not ready while it syncs
// from peers at start, or while it has no peer on a multi-node network (a
// libp2p host and bootstrap peers, several validators, or not a
// validator); docs/operations.md states the rule and lists the metrics
// it registers in every mode.
//
// Config holds plain values: the package parses no flags and reads no
// environment. It is the one package under node/ that imports api;
// nothing imports it but cmd/idmesh and tests.
package daemon

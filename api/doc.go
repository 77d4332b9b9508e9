// Package api serves idmesh over HTTP with gorilla/mux: the DID resolver
// (the DIF Universal Resolver driver interface and the DID Resolution
// HTTPS binding, resolving DIDs and dereferencing DID URLs), the ledger's
// write and read endpoints, liveness (/healthz), readiness (/readyz,
// decided by the Readiness the node gives) and Prometheus metrics. Every
// answer carries an X-Request-ID, which the request's log line names.
//
// Errors other than resolution results are RFC 9457 problem details
// (application/problem+json) whose type is one of the stable URIs listed
// in docs/api.md. Every request body is bounded.
//
// The package declares interfaces for what it needs (Ledger, and
// did.Resolver); cmd/idmesh wires in the node and the resolvers.
package api

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
// The credential endpoints follow the VC-API, one base per securing
// mechanism (/issuers/{name}/{mechanism}); the dc+sd-jwt mechanism
// issues SD-JWT VCs, whose Token Status List entries come from a
// TokenStatusAllocator, and GET /vct/{name} serves the type metadata of
// the bundled schemas' credential types.
//
// The node is also an OpenID4VCI 1.0 Credential Issuer (pre-authorized
// code flow): issuers make offers (POST /issuers/{name}/offers), and
// wallets redeem them at /token and /credential with a c_nonce from
// /nonce; offers, codes, tokens and spent nonces are kept in memory,
// bounded and expiring. Those three endpoints answer errors in the
// OAuth 2.0 format their specifications fix, not as problem details.
//
// The package declares interfaces for what it needs (Ledger,
// did.Resolver, TokenStatusAllocator); cmd/idmesh wires in the node and
// the resolvers.
package api

// Package web implements the did:web method (W3C CCG did:web Method
// Specification): a DID document served over HTTPS by a web domain.
//
//	did:web:example.com                  -> https://example.com/.well-known/did.json
//	did:web:example.com:user:alice       -> https://example.com/user/alice/did.json
//	did:web:example.com%3A8443           -> https://example.com:8443/.well-known/did.json
//
// The host must be a domain name, not an IP address; a port is written
// with a pct-encoded colon. Path segments are copied as written, and
// segments that decode to ".", ".." or contain '/' are rejected.
//
// [Resolver] fetches over HTTPS only, with a timeout and a body size limit,
// follows at most three redirects and only to https URLs, and accepts the
// document only if its id is the DID and it passes did.Document.Validate.
// Relative DID URLs in the fetched document ("#key-1") are made absolute
// against the DID before validation and in the returned document.
//
// The default client connects only to public addresses: the check runs at
// connect time on the resolved address and refuses every range of the IANA
// special-purpose registries, IPv4-mapped addresses of such ranges, and
// the prefixes that embed or tunnel to other addresses (IPv4-compatible,
// NAT64, 6to4, Teredo); see isPublic. Every failure to obtain the document
// answers the same error, [ErrNotRetrieved], whose message names no host,
// address or cause; the detail goes to [Resolver.Log].
package web

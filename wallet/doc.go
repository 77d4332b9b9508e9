// Package wallet is the holder's wallet: holder keys, an encrypted
// store of the credentials the holder received, and the client side of
// OpenID for Verifiable Credential Issuance 1.0 (OpenID4VCI) that
// receives them.
//
// # Keys
//
// A holder key binds a credential to its holder. [NewHolderKey] makes
// a did:key or did:jwk key (Ed25519 or P-256) and [Wallet.SaveKey]
// keeps it in the keystore as a key entry labelled holder; a did:idmesh
// key that idmesh did create put in the same keystore can be named
// instead ([Wallet.Key]).
//
// # Credentials
//
// The wallet lives in a did/keystore file, the CLI's keystore: the same
// scrypt-derived key, XChaCha20-Poly1305 and whole-file HMAC. Each
// credential is one entry whose clear fields say nothing about it: the
// ID is "wallet:credential:" and 16 random hexadecimal digits, the type
// "wallet-credential", the created time the Unix epoch, no public key
// and no labels. Its format, issuer, types, received time, holder key,
// source and the credential itself are the encrypted secret, padded to
// a multiple of 1 KiB, so a stolen file shows how many credentials the
// holder has and their sizes to within 1 KiB, and not who issued them,
// what they are or when they came.
//
// [Detect] recognises a credential's format without verifying it: a
// compact SD-JWT (dc+sd-jwt), a JWT (jwt_vc_json with a "vc" claim,
// else vc+jwt), a JSON-LD credential (ldp_vc), or any of them in a
// data: URL or an EnvelopedVerifiableCredential. [Decode] shows what a
// credential says, an SD-JWT with all its Disclosures in place.
//
// # OpenID4VCI
//
// The parsers ([ParseOfferURI], [ParseOffer], [ParseIssuerMetadata],
// [ParseAuthServerMetadata], [ParseTokenResponse],
// [ParseNonceResponse], [ParseCredentialResponse],
// [ParseErrorResponse]) and builders ([TokenRequest], [BuildProof],
// [CredentialRequest]) are pure and bounded in bytes. [Fetch] and
// [Session.Redeem] (together [Receive]) run the pre-authorized code
// flow over HTTP: offer (by value or reference), issuer metadata,
// authorization server metadata, token, nonce, proof, credential. URLs
// must be https, or http on a loopback address ([CheckURL]); each
// exchange has a timeout and a size bound; redirects stay on the same
// scheme, host and port. The authorization code flow, deferred
// issuance, key attestations and encrypted responses are not
// supported and fail with [ErrUnsupported].
//
// # OpenID4VP
//
// The wallet answers OpenID for Verifiable Presentations 1.0 requests
// passed by reference. [ParseRequestURI] and [ParseRequestObject] are
// pure and bounded; [FetchRequest] fetches the request object (no
// redirects) and [VerifyRequestObject] checks it: typ
// oauth-authz-req+jwt, a client_id with the prefix
// decentralized_identifier: (others fail with [ErrUnsupported]), a kid
// that is a DID URL of that DID and resolves, through the did.Resolver
// the caller gives, to a key the DID authorizes for authentication or
// assertionMethod that verifies the signature ([ErrUntrustedRequest]
// otherwise), exp ([ErrExpired]), a response_uri under [CheckURL].
// [Wallet.Plan] turns the stored credentials into DCQL candidates
// (credential/dcql), matches them to the request's query and shows
// exactly what each credential discloses; [ErrUnsatisfiable] names what
// is missing. [Plan.Build] makes the presentations (an SD-JWT with only
// the needed Disclosures and a key-binding JWT for the full client_id;
// a VP JWT for jwt_vc_json; a Data Integrity VP for ldp_vc) and
// [Respond] posts them (direct_post, or direct_post.jwt encrypted with
// ECDH-ES to the verifier's key); [Decline] posts access_denied.
// [PresentLDP] and [PresentVPJWT] also make the plain VC-API
// presentations of idmesh wallet present --challenge.
package wallet

package jwk

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/gowebpki/jcs"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
)

// Method is the DID method name.
const Method = "jwk"

// Prefix starts every did:jwk.
const Prefix = "did:jwk:"

// Fragment is the fragment of the only verification method.
const Fragment = "0"

// New returns the did:jwk of pub: the base64url of the JCS (RFC 8785)
// serialisation of pub.JWK(), so equal keys give equal DIDs.
func New(pub keys.PublicKey) string {
	b, err := json.Marshal(pub.JWK())
	if err == nil {
		b, err = jcs.Transform(b)
	}
	if err != nil {
		// Invariant: a JWK of strings always serialises.
		panic(fmt.Sprintf("did:jwk: serialise jwk: %v", err))
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Decode returns the JWK and key that the did:jwk d encodes. Errors wrap
// did.ErrInvalidDID (and the keys error that caused it).
func Decode(d string) (map[string]any, keys.PublicKey, error) {
	p, err := did.Parse(d)
	if err != nil {
		return nil, keys.PublicKey{}, fmt.Errorf("did:jwk: %w", err)
	}
	if p.Method != Method {
		return nil, keys.PublicKey{}, fmt.Errorf("did:jwk: %w: method %q is not %q", did.ErrInvalidDID, p.Method, Method)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(p.ID)
	if err != nil {
		return nil, keys.PublicKey{}, fmt.Errorf("did:jwk %.80s: %w: method-specific-id is not base64url: %w", d, did.ErrInvalidDID, err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	var jwk map[string]any
	if err := dec.Decode(&jwk); err != nil || jwk == nil || dec.More() {
		return nil, keys.PublicKey{}, fmt.Errorf("did:jwk %.80s: %w: method-specific-id is not a JSON object", d, did.ErrInvalidDID)
	}
	pub, err := keys.ParseJWK(jwk)
	if err != nil {
		return nil, keys.PublicKey{}, fmt.Errorf("did:jwk %.80s: %w: %w", d, did.ErrInvalidDID, err)
	}
	return jwk, pub, nil
}

// Document returns the DID document of the did:jwk d. Errors wrap
// did.ErrInvalidDID.
func Document(d string) (*did.Document, error) {
	jwk, pub, err := Decode(d)
	if err != nil {
		return nil, err
	}
	use, hasUse := jwk["use"]
	if hasUse && use != "sig" && use != "enc" {
		return nil, fmt.Errorf("did:jwk %.80s: %w: jwk use must be \"sig\" or \"enc\"", d, did.ErrInvalidDID)
	}
	sign, agree := use != "enc", use != "sig"
	if pub.Type() == keys.X25519 {
		if use == "sig" {
			return nil, fmt.Errorf("did:jwk %.80s: %w: an X25519 key cannot sign", d, did.ErrInvalidDID)
		}
		sign = false
	}
	vm := did.VerificationMethod{ID: d + "#" + Fragment, Type: did.TypeJsonWebKey, Controller: d, PublicKeyJwk: jwk}
	doc := &did.Document{
		Context:            []any{did.ContextV1, did.ContextJWK},
		ID:                 d,
		VerificationMethod: []did.VerificationMethod{vm},
	}
	ref := func() []did.Relationship { return []did.Relationship{did.Ref(vm.ID)} }
	if sign {
		doc.AssertionMethod = ref()
		doc.Authentication = ref()
		doc.CapabilityInvocation = ref()
		doc.CapabilityDelegation = ref()
	}
	if agree {
		doc.KeyAgreement = ref()
	}
	return doc, nil
}

// Resolver resolves did:jwk DIDs offline. The zero value is ready to use.
type Resolver struct{}

var _ did.Resolver = Resolver{}

// Resolve implements did.Resolver. A versionId option fails with
// did.ErrFeatureNotSupported; versionTime is ignored, since a did:jwk
// document never changes.
func (Resolver) Resolve(ctx context.Context, d string, opts did.Options) (*did.ResolutionResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("resolve did:jwk: %w: %w", did.ErrInternal, err)
	}
	ct, err := did.NegotiateContentType(opts.Accept)
	if err != nil {
		return nil, fmt.Errorf("resolve did:jwk: %w", err)
	}
	if opts.VersionID != "" {
		return nil, fmt.Errorf("resolve did:jwk: %w: did:jwk has no versions", did.ErrFeatureNotSupported)
	}
	doc, err := Document(d)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	return &did.ResolutionResult{
		DIDDocument:           doc,
		DIDResolutionMetadata: did.ResolutionMetadata{ContentType: ct},
	}, nil
}

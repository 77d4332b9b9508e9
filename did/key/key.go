package key

import (
	"context"
	"fmt"
	"strings"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
)

// Method is the DID method name.
const Method = "key"

// Prefix starts every did:key.
const Prefix = "did:key:"

// New returns the did:key of pub, "did:key:" + pub.Multibase().
func New(pub keys.PublicKey) string { return Prefix + pub.Multibase() }

// PublicKey returns the key that a did:key encodes. Errors wrap
// did.ErrInvalidDID (and the keys error that caused it).
func PublicKey(d string) (keys.PublicKey, error) {
	p, err := did.Parse(d)
	if err != nil {
		return keys.PublicKey{}, fmt.Errorf("did:key: %w", err)
	}
	if p.Method != Method {
		return keys.PublicKey{}, fmt.Errorf("did:key: %w: method %q is not %q", did.ErrInvalidDID, p.Method, Method)
	}
	if !strings.HasPrefix(p.ID, "z") {
		return keys.PublicKey{}, fmt.Errorf("did:key %s: %w: method-specific-id must be a base58btc multibase value", d, did.ErrInvalidDID)
	}
	pub, err := keys.ParseMultibase(p.ID)
	if err != nil {
		return keys.PublicKey{}, fmt.Errorf("did:key %s: %w: %w", d, did.ErrInvalidDID, err)
	}
	if pub.Multibase() != p.ID {
		return keys.PublicKey{}, fmt.Errorf("did:key %s: %w: non-canonical key encoding", d, did.ErrInvalidDID)
	}
	return pub, nil
}

// Document returns the DID document of the did:key d. Errors wrap
// did.ErrInvalidDID.
func Document(d string) (*did.Document, error) {
	pub, err := PublicKey(d)
	if err != nil {
		return nil, err
	}
	vm := did.NewMultikey(d+"#"+pub.Multibase(), d, pub)
	doc := &did.Document{
		Context:            []any{did.ContextV1, did.ContextMultikey},
		ID:                 d,
		VerificationMethod: []did.VerificationMethod{vm},
	}
	ref := []did.Relationship{did.Ref(vm.ID)}
	switch pub.Type() {
	case keys.Ed25519:
		x, err := pub.X25519()
		if err != nil {
			return nil, fmt.Errorf("did:key %s: %w: %w", d, did.ErrInvalidDID, err)
		}
		ka := did.NewMultikey(d+"#"+x.Multibase(), d, x)
		doc.VerificationMethod = append(doc.VerificationMethod, ka)
		doc.KeyAgreement = []did.Relationship{did.Ref(ka.ID)}
		setSigning(doc, ref)
	case keys.P256:
		doc.KeyAgreement = ref
		setSigning(doc, ref)
	case keys.X25519:
		doc.KeyAgreement = ref
	}
	return doc, nil
}

// setSigning sets the four signing relationships; they share nothing with
// each other so callers may edit one without affecting the others.
func setSigning(doc *did.Document, ref []did.Relationship) {
	doc.Authentication = append([]did.Relationship(nil), ref...)
	doc.AssertionMethod = append([]did.Relationship(nil), ref...)
	doc.CapabilityInvocation = append([]did.Relationship(nil), ref...)
	doc.CapabilityDelegation = append([]did.Relationship(nil), ref...)
}

// Resolver resolves did:key DIDs offline. The zero value is ready to use.
type Resolver struct{}

var _ did.Resolver = Resolver{}

// Resolve implements did.Resolver. A versionId option fails with
// did.ErrFeatureNotSupported; versionTime is ignored, since a did:key
// document never changes.
func (Resolver) Resolve(ctx context.Context, d string, opts did.Options) (*did.ResolutionResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("resolve %s: %w: %w", d, did.ErrInternal, err)
	}
	ct, err := did.NegotiateContentType(opts.Accept)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", d, err)
	}
	if opts.VersionID != "" {
		return nil, fmt.Errorf("resolve %s: %w: did:key has no versions", d, did.ErrFeatureNotSupported)
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

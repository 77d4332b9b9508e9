// Package didkeys finds the keys of verification methods through DID
// resolution, for verifiers and for the ledger's checks of issuer-signed
// transactions alike.
package didkeys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
)

// DIDKeys is a [credential.KeyResolver] over DID resolution: the key of a
// verification method comes from the current document of the DID that
// the method's URL names, and must be listed under the purpose. A key the
// controller rotated out as compromised is returned with Compromised set,
// so that a verifier can say why it fails.
type DIDKeys struct {
	Resolver did.Resolver
}

// ResolveKey implements [credential.KeyResolver].
func (k DIDKeys) ResolveKey(ctx context.Context, methodID, purpose string) (credential.VerificationKey, error) {
	u, err := did.ParseURL(methodID)
	if err != nil || u.Fragment == "" {
		return credential.VerificationKey{}, fmt.Errorf("%w: %q is not a DID URL with a fragment", credential.ErrKeyNotFound, methodID)
	}
	id := u.DID.String()
	res, err := k.Resolver.Resolve(ctx, id, did.Options{})
	if err != nil {
		if errors.Is(err, did.ErrNotFound) || errors.Is(err, did.ErrInvalidDID) || errors.Is(err, did.ErrMethodNotSupported) {
			return credential.VerificationKey{}, fmt.Errorf("%w: %w", credential.ErrKeyNotFound, err)
		}
		return credential.VerificationKey{}, fmt.Errorf("resolve %s: %w", id, err)
	}
	if res.DIDDocumentMetadata.Deactivated {
		return credential.VerificationKey{}, fmt.Errorf("%w: %s is deactivated", credential.ErrKeyNotAuthorized, id)
	}
	doc := res.DIDDocument
	for _, vm := range doc.Methods(purpose) {
		if vm.ID != methodID {
			continue
		}
		pub, err := vm.PublicKey()
		if err != nil {
			return credential.VerificationKey{}, fmt.Errorf("%w: %s: %w", credential.ErrKeyNotFound, methodID, err)
		}
		return credential.VerificationKey{ID: methodID, Controller: id, Public: pub}, nil
	}
	switch ev, ok := rotated(res.DIDDocumentMetadata, methodID); {
	case ok && ev.Status == idmesh.KeyCompromised:
		// Nothing the key signed can be trusted, whatever dates it claims.
		return credential.VerificationKey{ID: methodID, Controller: id, Compromised: true}, nil
	case ok && ev.Status == idmesh.KeyRetired && ev.Version > 1:
		// A key retired in a routine rotation keeps what it signed valid:
		// it counts if the version before its removal listed it under
		// the purpose.
		if k.versions() != nil {
			return k.retired(ctx, id, methodID, purpose, ev.Version-1)
		}
	}
	if _, ok := doc.VerificationMethodByID(methodID); ok {
		return credential.VerificationKey{}, fmt.Errorf("%w: %s is not in %s's %s", credential.ErrKeyNotAuthorized, methodID, id, purpose)
	}
	return credential.VerificationKey{}, fmt.Errorf("%w: %s", credential.ErrKeyNotFound, methodID)
}

// keyEvent is what a rotatedKeys entry says of a method.
type keyEvent struct {
	Status  string
	Version uint64
}

// rotated returns the did:idmesh rotatedKeys entry of the method, if any.
func rotated(md did.DocumentMetadata, methodID string) (keyEvent, bool) {
	switch events := md.Extra["rotatedKeys"].(type) {
	case []idmesh.KeyEvent: // from an in-process resolver
		for _, e := range events {
			if e.ID == methodID {
				return keyEvent{Status: e.Status, Version: e.Version}, true
			}
		}
	case []any: // decoded from JSON
		for _, e := range events {
			m, _ := e.(map[string]any)
			if id, _ := m["id"].(string); id == methodID {
				s, _ := m["status"].(string)
				v, _ := m["version"].(float64)
				return keyEvent{Status: s, Version: uint64(v)}, true
			}
		}
	}
	return keyEvent{}, false
}

// versionResolver resolves a version of a DID by number (did:idmesh).
type versionResolver interface {
	ResolveVersionNumber(ctx context.Context, d string, n uint64) (*did.ResolutionResult, error)
}

func (k DIDKeys) versions() versionResolver {
	if m, ok := k.Resolver.(did.Methods); ok {
		v, _ := m[idmesh.Method].(versionResolver)
		return v
	}
	v, _ := k.Resolver.(versionResolver)
	return v
}

// retired finds a retired key in the version that still listed it.
func (k DIDKeys) retired(ctx context.Context, id, methodID, purpose string, n uint64) (credential.VerificationKey, error) {
	res, err := k.versions().ResolveVersionNumber(ctx, id, n)
	if err != nil {
		return credential.VerificationKey{}, fmt.Errorf("resolve %s version %d: %w", id, n, err)
	}
	for _, vm := range res.DIDDocument.Methods(purpose) {
		if vm.ID == methodID {
			pub, err := vm.PublicKey()
			if err != nil {
				return credential.VerificationKey{}, fmt.Errorf("%w: %s: %w", credential.ErrKeyNotFound, methodID, err)
			}
			return credential.VerificationKey{ID: methodID, Controller: id, Public: pub}, nil
		}
	}
	return credential.VerificationKey{}, fmt.Errorf("%w: %s (retired) was not in %s's %s", credential.ErrKeyNotAuthorized, methodID, id, purpose)
}

// CachedKeys remembers the keys of DIDs whose documents cannot change
// (did:key and did:jwk: the document is derived from the DID itself), so
// that verifying many credentials of one such issuer decodes its key once.
// Other methods pass through. Safe for concurrent use.
type CachedKeys struct {
	Next credential.KeyResolver
	// Max bounds the entries; default 10,000 (the cache is emptied when
	// it is full).
	Max int

	mu sync.RWMutex
	m  map[[2]string]credential.VerificationKey
}

// ResolveKey implements [credential.KeyResolver].
func (c *CachedKeys) ResolveKey(ctx context.Context, methodID, purpose string) (credential.VerificationKey, error) {
	if !strings.HasPrefix(methodID, "did:key:") && !strings.HasPrefix(methodID, "did:jwk:") {
		return c.Next.ResolveKey(ctx, methodID, purpose)
	}
	k := [2]string{methodID, purpose}
	c.mu.RLock()
	v, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return v, nil
	}
	v, err := c.Next.ResolveKey(ctx, methodID, purpose)
	if err != nil {
		return v, err
	}
	max := c.Max
	if max <= 0 {
		max = 10_000
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= max {
		c.m = make(map[[2]string]credential.VerificationKey)
	}
	c.m[k] = v
	c.mu.Unlock()
	return v, nil
}

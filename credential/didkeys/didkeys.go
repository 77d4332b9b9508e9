// Package didkeys finds the keys of verification methods through DID
// resolution, for verifiers and for the ledger's checks of issuer-signed
// transactions alike, with their status from the chain's key-status
// index: compromised (by any DID, under any id) or retired at a time
// (credential.VerificationKey.CheckClaimedTime applies the rules).
package didkeys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
)

// DIDKeys is a [credential.KeyResolver] over DID resolution: the key of a
// verification method comes from the current document of the DID that
// the method's URL names, and must be listed under the purpose. A method
// that a did:idmesh DID no longer lists is returned with RetiredAt set if
// the version before its removal listed it under the purpose, except for
// authentication, which only current keys perform. Every key,
// of any method, is looked up in the chain's key-status index by its
// material, and returned with Compromised set if any DID marked it
// compromised, so that a verifier can say why it fails.
type DIDKeys struct {
	Resolver did.Resolver
	// Index is the chain's key history; nil takes it from the did:idmesh
	// resolver in Resolver, if there is one (else keys have no status).
	Index Index
	// CurrentOnly refuses methods the DID no longer lists: the ledger's
	// own checks of issuer-signed transactions cannot tell that a
	// signature predates a rotation.
	CurrentOnly bool
}

// Index reads the chain's key history (implemented by [idmesh.Resolver]).
type Index interface {
	// KeyStatus returns the index entry of a key, or nil.
	KeyStatus(ctx context.Context, pub keys.PublicKey) (*idmesh.KeyStatus, error)
	// RemovedMethod returns the latest removal of a method from a DID, or nil.
	RemovedMethod(ctx context.Context, d, methodID string) (*idmesh.KeyEvent, error)
	// Latest returns a DID's latest document and whether it is deactivated.
	Latest(ctx context.Context, d string) (*did.Document, bool, error)
	// ResolveVersionNumber resolves version n of a DID.
	ResolveVersionNumber(ctx context.Context, d string, n uint64) (*did.ResolutionResult, error)
}

// index returns the key history to read, or nil.
func (k DIDKeys) index() Index {
	if k.Index != nil {
		return k.Index
	}
	if m, ok := k.Resolver.(did.Methods); ok {
		ix, _ := m[idmesh.Method].(Index)
		return ix
	}
	ix, _ := k.Resolver.(Index)
	return ix
}

// ResolveKey implements [credential.KeyResolver].
func (k DIDKeys) ResolveKey(ctx context.Context, methodID, purpose string) (credential.VerificationKey, error) {
	vk, err := k.resolve(ctx, methodID, purpose)
	if err != nil {
		return vk, err
	}
	return k.WithStatus(ctx, vk)
}

// WithStatus sets vk.Compromised from the key-status index: one state
// read. [CachedKeys] calls it on every hit, as a mark may come later.
func (k DIDKeys) WithStatus(ctx context.Context, vk credential.VerificationKey) (credential.VerificationKey, error) {
	ix := k.index()
	if ix == nil || vk.Public.IsZero() {
		return vk, nil
	}
	st, err := ix.KeyStatus(ctx, vk.Public)
	if err != nil {
		return credential.VerificationKey{}, fmt.Errorf("key status of %s: %w", vk.ID, err)
	}
	vk.Compromised = st.IsCompromised()
	return vk, nil
}

// resolve finds the method's key and its retirement, without the index's
// status.
func (k DIDKeys) resolve(ctx context.Context, methodID, purpose string) (credential.VerificationKey, error) {
	u, err := did.ParseURL(methodID)
	if err != nil || u.Fragment == "" {
		return credential.VerificationKey{}, fmt.Errorf("%w: %q is not a DID URL with a fragment", credential.ErrKeyNotFound, methodID)
	}
	id := u.DID.String()
	ix := k.index()
	var doc *did.Document
	var deactivated bool
	if ix != nil && u.DID.Method == idmesh.Method {
		// The latest document without its metadata: no key history is
		// read for a current key.
		doc, deactivated, err = ix.Latest(ctx, id)
	} else {
		var res *did.ResolutionResult
		if res, err = k.Resolver.Resolve(ctx, id, did.Options{}); err == nil {
			doc, deactivated = res.DIDDocument, res.DIDDocumentMetadata.Deactivated
		}
	}
	if err != nil {
		if errors.Is(err, did.ErrNotFound) || errors.Is(err, did.ErrInvalidDID) || errors.Is(err, did.ErrMethodNotSupported) {
			return credential.VerificationKey{}, fmt.Errorf("%w: %w", credential.ErrKeyNotFound, err)
		}
		return credential.VerificationKey{}, fmt.Errorf("resolve %s: %w", id, err)
	}
	if deactivated {
		return credential.VerificationKey{}, fmt.Errorf("%w: %s is deactivated", credential.ErrKeyNotAuthorized, id)
	}
	for _, vm := range doc.Methods(purpose) {
		if vm.ID != methodID {
			continue
		}
		pub, err := vm.PublicKey()
		if err != nil {
			return credential.VerificationKey{}, fmt.Errorf("%w: %s: %w", credential.ErrKeyNotFound, methodID, err)
		}
		return credential.VerificationKey{ID: methodID, Controller: id, Public: pub, MethodType: vm.Type}, nil
	}
	if _, ok := doc.VerificationMethodByID(methodID); ok {
		return credential.VerificationKey{}, fmt.Errorf("%w: %s is not in %s's %s", credential.ErrKeyNotAuthorized, methodID, id, purpose)
	}
	if ix != nil && u.DID.Method == idmesh.Method {
		ev, err := ix.RemovedMethod(ctx, id, methodID)
		if err != nil {
			return credential.VerificationKey{}, fmt.Errorf("resolve %s: %w", methodID, err)
		}
		switch {
		case ev == nil || ev.Version < 2:
		case k.CurrentOnly || purpose == credential.PurposeAuthentication:
			// A retired key never authenticates: a presentation answers a
			// fresh challenge, so a proof time it claims before the
			// retirement is false. Say compromised when it is, else
			// retired.
			pub, err := keys.ParseMultibase(ev.PublicKeyMultibase)
			if err != nil {
				return credential.VerificationKey{}, fmt.Errorf("%w: %s: %w", credential.ErrKeyNotFound, methodID, err)
			}
			if st, err := ix.KeyStatus(ctx, pub); err == nil && st.IsCompromised() {
				return credential.VerificationKey{ID: methodID, Controller: id, Public: pub, Compromised: true}, nil
			}
			return credential.VerificationKey{}, fmt.Errorf("%w: %s was retired at %s, and only current keys count here", credential.ErrKeyNotAuthorized, methodID, ev.Time.UTC().Format(time.RFC3339))
		default:
			return k.retired(ctx, ix, id, methodID, purpose, ev)
		}
	}
	return credential.VerificationKey{}, fmt.Errorf("%w: %s", credential.ErrKeyNotFound, methodID)
}

// retired finds a removed method's key in the version before its
// removal, which must list it under the purpose; the key counts for
// proofs that claim a time before the removal.
func (k DIDKeys) retired(ctx context.Context, ix Index, id, methodID, purpose string, ev *idmesh.KeyEvent) (credential.VerificationKey, error) {
	res, err := ix.ResolveVersionNumber(ctx, id, ev.Version-1)
	if err != nil {
		return credential.VerificationKey{}, fmt.Errorf("resolve %s version %d: %w", id, ev.Version-1, err)
	}
	for _, vm := range res.DIDDocument.Methods(purpose) {
		if vm.ID != methodID {
			continue
		}
		pub, err := vm.PublicKey()
		if err != nil {
			return credential.VerificationKey{}, fmt.Errorf("%w: %s: %w", credential.ErrKeyNotFound, methodID, err)
		}
		if pub.Multibase() != ev.PublicKeyMultibase {
			break
		}
		return credential.VerificationKey{ID: methodID, Controller: id, Public: pub, RetiredAt: ev.Time, MethodType: vm.Type}, nil
	}
	return credential.VerificationKey{}, fmt.Errorf("%w: %s (retired) was not in %s's %s", credential.ErrKeyNotAuthorized, methodID, id, purpose)
}

// statusReader is a KeyResolver that reads key status apart (DIDKeys).
type statusReader interface {
	WithStatus(ctx context.Context, vk credential.VerificationKey) (credential.VerificationKey, error)
}

// CachedKeys remembers the keys of DIDs whose documents cannot change
// (did:key and did:jwk: the document is derived from the DID itself), so
// that verifying many credentials of one such issuer decodes its key once.
// The status of a remembered key is read again on every hit (a mark may
// come later).
//
// With Height, the chain's height, it also remembers the keys of
// did:idmesh DIDs, whose documents and key statuses only blocks change:
// each key, with its status, is kept until the height moves on, and is
// then resolved again on its next use. The height is read before a key
// is resolved, so what is kept is never older than the height it is kept
// for. Other methods (did:web) pass through. It is bounded by Max
// entries and MaxBytes (it is emptied when either is reached). Safe for
// concurrent use.
type CachedKeys struct {
	Next credential.KeyResolver
	// Max bounds the entries; default 10,000.
	Max int
	// MaxBytes bounds the bytes the entries take (their strings and
	// keyEntryOverhead each); default DefaultCachedKeysBytes.
	MaxBytes int
	// Height, if set, returns the height of the chain that Next reads
	// (did:idmesh documents and the key-status index).
	Height func() uint64

	mu    sync.RWMutex
	m     map[[2]string]cachedKey
	bytes int
}

// DefaultCachedKeysBytes is the default of CachedKeys.MaxBytes.
const DefaultCachedKeysBytes = 4 << 20

// keyEntryOverhead is what an entry of CachedKeys costs besides its
// strings: the map slot, the key material and the entry's fields.
const keyEntryOverhead = 256

// cachedKey is a resolved key; height is the chain height it was
// resolved at (or after), when CachedKeys.Height is set.
type cachedKey struct {
	vk     credential.VerificationKey
	height uint64
	size   int
}

// ResolveKey implements [credential.KeyResolver].
func (c *CachedKeys) ResolveKey(ctx context.Context, methodID, purpose string) (credential.VerificationKey, error) {
	static := strings.HasPrefix(methodID, "did:key:") || strings.HasPrefix(methodID, "did:jwk:")
	chain := c.Height != nil && strings.HasPrefix(methodID, "did:"+idmesh.Method+":")
	if !static && !chain {
		return c.Next.ResolveKey(ctx, methodID, purpose)
	}
	var h uint64
	if c.Height != nil {
		h = c.Height()
	}
	k := [2]string{methodID, purpose}
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	switch {
	case ok && c.Height != nil && e.height == h:
		// Resolved, with its status, at this height or later.
		return e.vk, nil
	case ok && static:
		// The key's status is read again: a mark may have come since.
		s, isReader := c.Next.(statusReader)
		if !isReader {
			return e.vk, nil
		}
		v, err := s.WithStatus(ctx, e.vk)
		if err == nil && c.Height != nil && !v.Compromised {
			c.put(k, v, h)
		}
		return v, err
	}
	v, err := c.Next.ResolveKey(ctx, methodID, purpose)
	if err != nil {
		return v, err
	}
	if v.Compromised {
		return v, nil // final: nothing to cache
	}
	c.put(k, v, h)
	return v, nil
}

// put keeps v under k for height h, emptying the cache first when it
// would go over a bound.
func (c *CachedKeys) put(k [2]string, v credential.VerificationKey, h uint64) {
	max, maxBytes := c.Max, c.MaxBytes
	if max <= 0 {
		max = 10_000
	}
	if maxBytes <= 0 {
		maxBytes = DefaultCachedKeysBytes
	}
	size := len(k[0]) + len(k[1]) + len(v.ID) + len(v.Controller) + len(v.MethodType) + keyEntryOverhead
	// The strings may be parts of a request (a kid is a substring of the
	// token's decoded header): copies keep size bytes, not the request.
	k = [2]string{strings.Clone(k[0]), strings.Clone(k[1])}
	v.ID, v.Controller, v.MethodType = strings.Clone(v.ID), strings.Clone(v.Controller), strings.Clone(v.MethodType)
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m[k]; ok {
		c.bytes -= old.size
	}
	if c.m == nil || len(c.m) >= max || c.bytes+size > maxBytes {
		c.m, c.bytes = make(map[[2]string]cachedKey), 0
	}
	if size > maxBytes {
		delete(c.m, k)
		return
	}
	c.m[k] = cachedKey{vk: v, height: h, size: size}
	c.bytes += size
}

// Bytes returns the bytes the cache accounts for and its entry count.
func (c *CachedKeys) Bytes() (bytes, entries int) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bytes, len(c.m)
}

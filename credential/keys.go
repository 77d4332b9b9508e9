package credential

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/idmesh/idmesh/did/keys"
)

// Verification relationships a proof may claim (DID Core 5.3), used as the
// purpose of a key lookup.
const (
	PurposeAssertion      = "assertionMethod"
	PurposeAuthentication = "authentication"
)

// VerificationKey is a public key that its controller's DID document
// authorizes for the purpose it was looked up for.
type VerificationKey struct {
	// ID is the absolute DID URL of the verification method.
	ID string
	// Controller is the DID whose document lists the method under the purpose.
	Controller string
	// Public is the key.
	Public keys.PublicKey
	// MethodType is the verification method's type (Multikey,
	// JsonWebKey, Ed25519VerificationKey2020, ...) when the resolver
	// knows it, else "".
	MethodType string
	// Compromised is set when any DID on the chain marked this key
	// material compromised: nothing it signed can be trusted, under any
	// id, whatever its dates.
	Compromised bool
	// RetiredAt, when set, is the block time of the rotation that
	// removed the method from its controller's document. A proof by the
	// key counts only if the time it claims is before it (see
	// [VerificationKey.CheckClaimedTime]).
	RetiredAt time.Time
}

// CheckClaimedTime applies the key-status rules to a proof that claims
// to have been made at claimed (zero when it claims no time): a
// compromised key verifies nothing, and a retired key only proofs that
// claim a time before its retirement. A claimed time cannot be checked:
// a key holder can backdate, and marking the key compromised is what
// stops that. Errors carry KEY_COMPROMISED_ERROR or KEY_RETIRED_ERROR.
func (k VerificationKey) CheckClaimedTime(claimed time.Time) error {
	if k.Compromised {
		return Errorf(KeyCompromisedError, "key %s is compromised", k.ID)
	}
	if k.RetiredAt.IsZero() {
		return nil
	}
	at := k.RetiredAt.UTC().Format(time.RFC3339Nano)
	if claimed.IsZero() {
		return Errorf(KeyRetiredError, "key %s was retired at %s and the proof claims no time of signing", k.ID, at)
	}
	if !claimed.Before(k.RetiredAt) {
		return Errorf(KeyRetiredError, "key %s was retired at %s; the proof claims %s", k.ID, at, claimed.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// A KeyResolver finds the key of a verification method and checks that the
// method's DID document lists it under purpose. Its errors wrap
// [ErrKeyNotFound] or [ErrKeyNotAuthorized], or a resolution error.
type KeyResolver interface {
	ResolveKey(ctx context.Context, methodID, purpose string) (VerificationKey, error)
}

// A Signer signs with the private key of one verification method.
type Signer interface {
	// MethodID is the absolute DID URL of the verification method.
	MethodID() string
	// Public is the key that verifies the signatures.
	Public() keys.PublicKey
	// Sign signs msg (Ed25519 over the message; ES256 over its SHA-256,
	// as [keys.PrivateKey.Sign] does).
	Sign(msg []byte) ([]byte, error)
}

// Errors a [KeyResolver] wraps.
var (
	// ErrKeyNotFound reports a verification method that does not exist.
	ErrKeyNotFound = errors.New("verification method not found")
	// ErrKeyNotAuthorized reports a method that exists but is not listed
	// under the purpose the proof claims.
	ErrKeyNotAuthorized = errors.New("verification method not authorized for the proof purpose")
)

// KeySigner is a [Signer] over a private key held in memory.
type KeySigner struct {
	ID  string
	Key keys.PrivateKey
}

// MethodID implements [Signer].
func (s KeySigner) MethodID() string { return s.ID }

// Public implements [Signer].
func (s KeySigner) Public() keys.PublicKey { return s.Key.Public() }

// Sign implements [Signer].
func (s KeySigner) Sign(msg []byte) ([]byte, error) { return s.Key.Sign(msg) }

// StaticKeys is a [KeyResolver] over a fixed set of keys, for tests and
// for wallets that hold their own keys. The zero value is empty.
type StaticKeys struct {
	mu   sync.RWMutex
	keys map[string]staticKey
}

type staticKey struct {
	key      VerificationKey
	purposes []string
}

// Add registers key under its ID for the given purposes.
func (s *StaticKeys) Add(key VerificationKey, purposes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[string]staticKey{}
	}
	s.keys[key.ID] = staticKey{key: key, purposes: purposes}
}

// ResolveKey implements [KeyResolver].
func (s *StaticKeys) ResolveKey(_ context.Context, methodID, purpose string) (VerificationKey, error) {
	s.mu.RLock()
	k, ok := s.keys[methodID]
	s.mu.RUnlock()
	if !ok {
		return VerificationKey{}, fmt.Errorf("%w: %s", ErrKeyNotFound, methodID)
	}
	for _, p := range k.purposes {
		if p == purpose {
			return k.key, nil
		}
	}
	return VerificationKey{}, fmt.Errorf("%w: %s is not in %s", ErrKeyNotAuthorized, methodID, purpose)
}

// ControllerOf returns the DID part of a DID URL.
func ControllerOf(methodID string) string {
	if i := strings.IndexAny(methodID, "#?/"); i >= 0 && strings.HasPrefix(methodID, "did:") {
		// The method-specific ID may contain neither '#' nor '?'; a '/'
		// starts a path. Colons inside the ID are kept.
		return methodID[:i]
	}
	return methodID
}

package wallet

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/jwk"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
)

// DID methods of the holder keys the wallet creates.
const (
	MethodKey = "key" // did:key
	MethodJWK = "jwk" // did:jwk
)

// Keystore labels of a key entry. LabelDID and LabelStatus are the ones
// the CLI's did and keys commands write; LabelHolder marks the keys the
// wallet created for itself.
const (
	LabelDID    = "did"
	LabelStatus = "status"
	LabelHolder = "holder"
)

// HolderKey is a key the holder proves possession of: the key a
// credential is bound to.
type HolderKey struct {
	// ID is the verification method's absolute DID URL (did:key:z..#z...,
	// did:jwk:...#0, did:idmesh:...#key-1); it names the keystore entry.
	ID string
	// DID is the DID that ID belongs to.
	DID string
	// Key is the private key.
	Key keys.PrivateKey
}

// Signer returns the key as a credential.Signer.
func (h HolderKey) Signer() credential.Signer { return credential.KeySigner{ID: h.ID, Key: h.Key} }

// NewHolderKey generates a key of type t (keys.Ed25519 or keys.P256)
// from random and names it by method (MethodKey or MethodJWK).
func NewHolderKey(t keys.Type, method string, random io.Reader) (HolderKey, error) {
	if t != keys.Ed25519 && t != keys.P256 {
		return HolderKey{}, fmt.Errorf("new holder key: %w: key type %q", ErrUnsupported, t)
	}
	if method != MethodKey && method != MethodJWK {
		return HolderKey{}, fmt.Errorf("new holder key: %w: DID method %q (key or jwk)", ErrUnsupported, method)
	}
	k, err := keys.Generate(t, random)
	if err != nil {
		return HolderKey{}, fmt.Errorf("new holder key: %w", err)
	}
	return holderKeyOf(k, method), nil
}

func holderKeyOf(k keys.PrivateKey, method string) HolderKey {
	if method == MethodJWK {
		d := jwk.New(k.Public())
		return HolderKey{ID: d + "#" + jwk.Fragment, DID: d, Key: k}
	}
	d := key.New(k.Public())
	return HolderKey{ID: d + "#" + strings.TrimPrefix(d, key.Prefix), DID: d, Key: k}
}

// SaveKey stores h in the wallet's keystore as a key entry (the form of
// the CLI's keys generate, labelled holder), created at the wallet's
// clock.
func (w *Wallet) SaveKey(h HolderKey) error {
	secret, err := h.Key.MarshalBinary()
	if err != nil {
		return fmt.Errorf("save key: %w", err)
	}
	defer clear(secret)
	err = w.ks.Put(keystore.Entry{
		ID: h.ID, Type: string(h.Key.Type()), Public: h.Key.Public().Multibase(), Secret: secret,
		Created: w.now().UTC(),
		Labels:  map[string]string{LabelDID: h.DID, LabelStatus: "active", LabelHolder: "true"},
	})
	if err != nil {
		return fmt.Errorf("save key: %w", err)
	}
	return nil
}

// KeyInfo describes a key entry without its secret.
type KeyInfo struct {
	ID      string    `json:"id"`
	DID     string    `json:"did"`
	Type    string    `json:"type"`
	Created time.Time `json:"created"`
	// Holder is set for the keys the wallet created (wallet keys create).
	Holder bool `json:"holder"`
	// Status is the keystore's status label (active, pending, retired, ...).
	Status string `json:"status,omitempty"`
}

// Keys lists the keystore's keys that can bind credentials, sorted by
// ID: every Ed25519 and P-256 key entry, whether the wallet created it
// or it is a DID's key from idmesh did create.
func (w *Wallet) Keys() []KeyInfo {
	var out []KeyInfo
	for _, e := range w.ks.List() {
		if e.Type != string(keys.Ed25519) && e.Type != string(keys.P256) {
			continue
		}
		d := e.Labels[LabelDID]
		if d == "" {
			d, _, _ = strings.Cut(e.ID, "#")
		}
		out = append(out, KeyInfo{ID: e.ID, DID: d, Type: e.Type, Created: e.Created, Holder: e.Labels[LabelHolder] == "true", Status: e.Labels[LabelStatus]})
	}
	return out
}

// Key loads the key entry id as a holder key. It fails with ErrNotFound
// for a missing entry or one that is not an Ed25519 or P-256 key, and
// with ErrUnusableKey for a DID key whose status label says it is
// retired, compromised or not yet committed.
func (w *Wallet) Key(id string) (HolderKey, error) {
	e, err := w.ks.Get(id)
	if err != nil {
		if isNotFound(err) {
			return HolderKey{}, fmt.Errorf("load key %q: %w", id, ErrNotFound)
		}
		return HolderKey{}, fmt.Errorf("load key %q: %w", id, err)
	}
	defer clear(e.Secret)
	if e.Type != string(keys.Ed25519) && e.Type != string(keys.P256) {
		return HolderKey{}, fmt.Errorf("load key %q: %w: not a key", id, ErrNotFound)
	}
	if st := e.Labels[LabelStatus]; st != "" && st != "active" {
		return HolderKey{}, fmt.Errorf("load key %q: %w: status %s", id, ErrUnusableKey, st)
	}
	k, err := keys.UnmarshalPrivateKey(e.Secret)
	if err != nil {
		return HolderKey{}, fmt.Errorf("load key %q: %w", id, err)
	}
	d := e.Labels[LabelDID]
	if d == "" || !strings.HasPrefix(id, d+"#") {
		d, _, _ = strings.Cut(id, "#")
	}
	return HolderKey{ID: id, DID: d, Key: k}, nil
}

// DefaultKey returns the newest holder key the wallet created whose
// alg is in algs (any when algs is empty), or ErrNoHolderKey.
func (w *Wallet) DefaultKey(algs []string) (HolderKey, error) {
	var best *KeyInfo
	ks := w.Keys()
	for i := range ks {
		k := &ks[i]
		if !k.Holder || (k.Status != "" && k.Status != "active") || !algAccepted(algOfType(k.Type), algs) {
			continue
		}
		if best == nil || k.Created.After(best.Created) {
			best = k
		}
	}
	if best == nil {
		return HolderKey{}, ErrNoHolderKey
	}
	return w.Key(best.ID)
}

func algOfType(t string) string {
	switch keys.Type(t) {
	case keys.Ed25519:
		return "EdDSA"
	case keys.P256:
		return "ES256"
	}
	return ""
}

// algAccepted reports whether alg (EdDSA or ES256) is among algs, or
// algs is empty. An Ed25519 key also signs as "Ed25519" (RFC 9864).
func algAccepted(alg string, algs []string) bool {
	if len(algs) == 0 {
		return true
	}
	for _, a := range algs {
		if a == alg || (alg == "EdDSA" && a == "Ed25519") {
			return true
		}
	}
	return false
}

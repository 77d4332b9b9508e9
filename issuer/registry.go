package issuer

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
)

// Keystore labels of an issuer's key.
const (
	labelIssuer = "issuer" // the issuer's name
	labelDID    = "did"
	labelStatus = "status" // pending until the DID is committed, then live
)

// Issuer states.
const (
	StatusPending = "pending"
	StatusLive    = "live"
)

// Errors of the Registry.
var (
	// ErrExists reports a name already registered.
	ErrExists = errors.New("issuer already exists")
	// ErrNotFound reports an unknown issuer.
	ErrNotFound = errors.New("no such issuer")
	// ErrInvalidName reports a name outside [a-z0-9-], 1 to 64 characters.
	ErrInvalidName = errors.New("invalid issuer name: use 1 to 64 of a-z, 0-9 and -")
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// Issuer is an issuer whose key the node keeps.
type Issuer struct {
	Name    string    `json:"name"`
	DID     string    `json:"did"`
	KeyID   string    `json:"verificationMethod"`
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
}

// Registry keeps issuers' keys in a keystore (encrypted at rest), one
// entry per issuer labelled with its name. Safe for concurrent use.
type Registry struct {
	ks *keystore.Store
	mu sync.Mutex // serializes Create's check-then-put
}

// NewRegistry returns the registry over an open keystore.
func NewRegistry(ks *keystore.Store) *Registry { return &Registry{ks: ks} }

func toIssuer(e keystore.Entry) Issuer {
	return Issuer{Name: e.Labels[labelIssuer], DID: e.Labels[labelDID], KeyID: e.ID, Status: e.Labels[labelStatus], Created: e.Created}
}

// List returns the issuers, by name.
func (r *Registry) List() []Issuer {
	var out []Issuer
	for _, e := range r.ks.List() {
		if e.Labels[labelIssuer] != "" {
			out = append(out, toIssuer(e))
		}
	}
	slices.SortFunc(out, func(a, b Issuer) int { return cmpString(a.Name, b.Name) })
	return out
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Find returns the issuer with the given name or DID.
func (r *Registry) Find(nameOrDID string) (Issuer, error) {
	for _, iss := range r.List() {
		if iss.Name == nameOrDID || iss.DID == nameOrDID {
			return iss, nil
		}
	}
	return Issuer{}, fmt.Errorf("%w: %s", ErrNotFound, nameOrDID)
}

// Signer returns a signer with the issuer's key, decrypted.
func (r *Registry) Signer(iss Issuer) (credential.Signer, error) {
	e, err := r.ks.Get(iss.KeyID)
	if err != nil {
		return nil, fmt.Errorf("issuer %s: %w", iss.Name, err)
	}
	k, err := keys.UnmarshalPrivateKey(e.Secret)
	if err != nil {
		return nil, fmt.Errorf("issuer %s: %w", iss.Name, err)
	}
	return credential.KeySigner{ID: iss.KeyID, Key: k}, nil
}

// Create makes a new issuer: a fresh key of type t, stored encrypted
// before anything leaves the node, and the create operation of its
// did:idmesh DID for chainID, which the caller submits and then reports
// with SetStatus.
func (r *Registry) Create(name string, t keys.Type, chainID string, rnd io.Reader, now time.Time) (Issuer, *idmesh.Operation, error) {
	if !nameRE.MatchString(name) {
		return Issuer{}, nil, fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	k, err := keys.Generate(t, rnd)
	if err != nil {
		return Issuer{}, nil, err
	}
	op, err := idmesh.NewCreate(chainID, k)
	if err != nil {
		return Issuer{}, nil, err
	}
	d, err := op.SubjectDID()
	if err != nil {
		return Issuer{}, nil, err
	}
	secret, err := k.MarshalBinary()
	if err != nil {
		return Issuer{}, nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.Find(name); err == nil {
		return Issuer{}, nil, fmt.Errorf("%w: %s", ErrExists, name)
	}
	e := keystore.Entry{ID: d + "#key-1", Type: string(t), Public: k.Public().Multibase(), Secret: secret, Created: now.UTC(),
		Labels: map[string]string{labelIssuer: name, labelDID: d, labelStatus: StatusPending}}
	if err := r.ks.Put(e); err != nil {
		return Issuer{}, nil, fmt.Errorf("store issuer key: %w", err)
	}
	return toIssuer(e), op, nil
}

// SetStatus records the issuer's state (StatusLive once its DID is
// committed).
func (r *Registry) SetStatus(iss Issuer, status string) error {
	e, err := r.ks.Get(iss.KeyID)
	if err != nil {
		return err
	}
	e.Labels[labelStatus] = status
	return r.ks.Update(e)
}

// Delete forgets an issuer whose DID never reached the chain.
func (r *Registry) Delete(iss Issuer) error { return r.ks.Delete(iss.KeyID) }

package wallet

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/idmesh/idmesh/did/keystore"
)

var (
	// ErrNotFound reports a credential or key the wallet does not hold.
	ErrNotFound = errors.New("wallet: not found")
	// ErrTooLarge reports input over a bound of the wallet or the
	// protocol.
	ErrTooLarge = errors.New("wallet: too large")
	// ErrUnknownFormat reports a credential whose format import does not
	// recognise.
	ErrUnknownFormat = errors.New("wallet: unknown credential format")
	// ErrMalformed reports a credential, offer, metadata document or
	// response that does not have the form its specification gives.
	ErrMalformed = errors.New("wallet: malformed")
	// ErrUnsupported reports something valid that the wallet does not
	// do: a deferred issuance, an authorization code grant, a key type.
	ErrUnsupported = errors.New("wallet: unsupported")
	// ErrInsecureURL reports an http:// URL on a host that is not a
	// loopback address, or a URL that is neither http nor https.
	ErrInsecureURL = errors.New("wallet: insecure URL")
	// ErrNoHolderKey reports that the wallet has no holder key the
	// issuer accepts.
	ErrNoHolderKey = errors.New("wallet: no holder key the issuer accepts")
	// ErrUnusableKey reports a key whose status forbids new proofs.
	ErrUnusableKey = errors.New("wallet: key not usable")
)

// Bounds.
const (
	// MaxCredentialBytes bounds one credential's raw form.
	MaxCredentialBytes = 1 << 20
	// padTo is the block the encrypted record of a credential is padded
	// to, so that the file shows only its size to within padTo bytes.
	padTo = 1024
)

// Credential entries in the keystore: an ID of CredentialPrefix and 16
// hexadecimal digits, the entry type EntryType, and everything else
// encrypted.
const (
	CredentialPrefix = "wallet:credential:"
	EntryType        = "wallet-credential"
)

// Credential is one credential the wallet holds.
type Credential struct {
	// ID is the wallet's name for it: 16 lowercase hexadecimal digits.
	ID string `json:"id"`
	// Format is dc+sd-jwt, jwt_vc_json, vc+jwt or ldp_vc.
	Format string `json:"format"`
	// Issuer is the iss claim or the issuer's id, as the credential
	// states it (not verified).
	Issuer string `json:"issuer,omitempty"`
	// Types are the vct (dc+sd-jwt) or the type values (the others).
	Types []string `json:"types,omitempty"`
	// Received is when the wallet stored it.
	Received time.Time `json:"received"`
	// Holder is the ID of the key the credential was requested for, if
	// the wallet received it over OpenID4VCI.
	Holder string `json:"holder,omitempty"`
	// Source is the Credential Issuer URL it came from, or "import".
	Source string `json:"source,omitempty"`
	// ConfigurationID is the credential configuration it was issued
	// under (OpenID4VCI).
	ConfigurationID string `json:"credential_configuration_id,omitempty"`
	// Raw is the credential as issued: a compact SD-JWT or JWT, or a
	// JSON object. It is never empty in a stored credential; empty, it is
	// left out of the JSON (a summary without the credential itself).
	Raw string `json:"raw,omitempty"`
}

// Wallet is a holder's wallet over an open keystore: its keys are the
// keystore's key entries, and each credential is one entry of type
// EntryType whose secret holds the credential and all that describes
// it. The keystore stays the caller's to close.
//
// A Wallet is safe for concurrent use, as its keystore is.
type Wallet struct {
	ks   *keystore.Store
	now  func() time.Time
	mu   sync.Mutex // guards rand, which need not be safe for concurrent use
	rand io.Reader
}

// Option configures New.
type Option func(*Wallet)

// WithClock sets the clock of received times and key creation times.
func WithClock(now func() time.Time) Option { return func(w *Wallet) { w.now = now } }

// WithRand sets the source of credential IDs.
func WithRand(r io.Reader) Option { return func(w *Wallet) { w.rand = r } }

// New returns the wallet kept in ks.
func New(ks *keystore.Store, opts ...Option) *Wallet {
	w := &Wallet{ks: ks, now: time.Now, rand: rand.Reader}
	for _, o := range opts {
		o(w)
	}
	return w
}

// entryEpoch is the Created time of every credential entry: the
// keystore stores it in clear, and when a credential arrived is the
// holder's business.
var entryEpoch = time.Unix(0, 0).UTC()

// Import detects the format of raw (see Detect) and stores it as
// received now from source ("import" when empty).
func (w *Wallet) Import(raw []byte, source string) (Credential, error) {
	c, err := Detect(raw)
	if err != nil {
		return Credential{}, fmt.Errorf("import credential: %w", err)
	}
	c.Source = source
	if c.Source == "" {
		c.Source = "import"
	}
	return w.Put(c)
}

// Put stores c under a new ID and returns it with its ID and received
// time set (c.Received when set, else the wallet's clock).
func (w *Wallet) Put(c Credential) (Credential, error) {
	if len(c.Raw) > MaxCredentialBytes {
		return Credential{}, fmt.Errorf("put credential: %w: %d bytes, at most %d", ErrTooLarge, len(c.Raw), MaxCredentialBytes)
	}
	var id [8]byte
	w.mu.Lock()
	_, err := io.ReadFull(w.rand, id[:])
	w.mu.Unlock()
	if err != nil {
		return Credential{}, fmt.Errorf("put credential: read random ID: %w", err)
	}
	c.ID = hex.EncodeToString(id[:])
	if c.Received.IsZero() {
		c.Received = w.now()
	}
	c.Received = c.Received.UTC().Truncate(time.Second)
	secret, err := json.Marshal(c)
	if err != nil {
		return Credential{}, fmt.Errorf("put credential: %w", err)
	}
	if n := len(secret) % padTo; n != 0 {
		secret = append(secret, bytes.Repeat([]byte{' '}, padTo-n)...)
	}
	defer clear(secret)
	err = w.ks.Put(keystore.Entry{ID: CredentialPrefix + c.ID, Type: EntryType, Secret: secret, Created: entryEpoch})
	if err != nil {
		return Credential{}, fmt.Errorf("put credential: %w", err)
	}
	return c, nil
}

// entryID accepts a credential's ID with or without CredentialPrefix.
func entryID(id string) string {
	return CredentialPrefix + strings.TrimPrefix(id, CredentialPrefix)
}

// Get returns the credential with the given ID.
func (w *Wallet) Get(id string) (Credential, error) {
	e, err := w.ks.Get(entryID(id))
	if err != nil {
		if isNotFound(err) {
			return Credential{}, fmt.Errorf("get credential %q: %w", id, ErrNotFound)
		}
		return Credential{}, fmt.Errorf("get credential %q: %w", id, err)
	}
	defer clear(e.Secret)
	if e.Type != EntryType {
		return Credential{}, fmt.Errorf("get credential %q: %w", id, ErrNotFound)
	}
	var c Credential
	if err := json.Unmarshal(e.Secret, &c); err != nil {
		return Credential{}, fmt.Errorf("get credential %q: %w: %w", id, keystore.ErrCorrupt, err)
	}
	c.ID = strings.TrimPrefix(e.ID, CredentialPrefix)
	return c, nil
}

// List returns every credential, sorted by ID, Raw included.
func (w *Wallet) List() ([]Credential, error) {
	var out []Credential
	for _, e := range w.ks.List() {
		if e.Type != EntryType {
			continue
		}
		c, err := w.Get(e.ID)
		if err != nil {
			return nil, fmt.Errorf("list credentials: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// Delete removes the credential with the given ID.
func (w *Wallet) Delete(id string) error {
	if _, err := w.Get(id); err != nil {
		return fmt.Errorf("delete credential: %w", err)
	}
	if err := w.ks.Delete(entryID(id)); err != nil {
		if isNotFound(err) {
			return fmt.Errorf("delete credential %q: %w", id, ErrNotFound)
		}
		return fmt.Errorf("delete credential %q: %w", id, err)
	}
	return nil
}

func isNotFound(err error) bool { return errors.Is(err, keystore.ErrNotFound) }

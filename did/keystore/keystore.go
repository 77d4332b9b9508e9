package keystore

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

var (
	// ErrWrongPassphrase is returned by Open when the passphrase does not
	// unlock the file, and by writes when the file on disk was re-created
	// under a different key since this Store opened it.
	ErrWrongPassphrase = errors.New("keystore: wrong passphrase")
	// ErrNotFound is returned when no entry has the requested ID.
	ErrNotFound = errors.New("keystore: entry not found")
	// ErrExists is returned by Create when the file already exists and by
	// Put when an entry with the same ID already exists.
	ErrExists = errors.New("keystore: already exists")
	// ErrCorrupt is returned when the file or an entry is damaged or has
	// been tampered with.
	ErrCorrupt = errors.New("keystore: corrupt")
	// ErrLocked is returned when another process holds the keystore's lock
	// file for longer than the lock timeout (see WithLockTimeout).
	ErrLocked = errors.New("keystore: locked by another process")
	// ErrInvalidEntry is returned by Put and Update for an Entry that
	// breaks the rules documented on Entry.
	ErrInvalidEntry = errors.New("keystore: invalid entry")
	// ErrFull is returned by a write that would exceed MaxEntries or
	// MaxFileSize.
	ErrFull = errors.New("keystore: full")
	// ErrClosed is returned by methods called after Close.
	ErrClosed = errors.New("keystore: closed")
)

const (
	// MaxFileSize is the largest keystore file Open reads or a write
	// produces.
	MaxFileSize = 16 << 20
	// MaxEntries is the largest number of entries a keystore holds.
	MaxEntries = 10_000
	// MaxIDLen is the longest Entry.ID in bytes.
	MaxIDLen = 512
	// MaxTypeLen is the longest Entry.Type in bytes.
	MaxTypeLen = 128
)

// DefaultLockTimeout is how long a write waits for another process to
// release the lock file before failing with ErrLocked.
const DefaultLockTimeout = 10 * time.Second

// Entry is one key in the store.
//
// ID must be non-empty valid UTF-8 of at most MaxIDLen bytes without NUL;
// Type must be valid UTF-8 of at most MaxTypeLen bytes without NUL;
// Public and Labels must be valid UTF-8; Created must lie in years
// 0 through 9999.
type Entry struct {
	// ID names the entry, e.g. "did:idmesh:abc#key-1". It is unique.
	ID string
	// Type is the key type, e.g. "Ed25519" or "P-256".
	Type string
	// Public is the public key, e.g. a publicKeyMultibase. Stored in clear.
	Public string
	// Secret is the private key material. It is encrypted at rest.
	Secret []byte
	// Created is when the key was created. It is stored and returned in UTC.
	Created time.Time
	// Labels are free-form tags stored in clear, e.g. "did" or
	// "status": "active"/"retired".
	Labels map[string]string
}

// Params are scrypt cost parameters.
//
// N must be a power of two greater than 1 and at most 1<<20, R at least 1
// and P between 1 and 16; scrypt memory (128*N*R bytes) may not exceed
// 256 MiB and N*R*P may not exceed 1<<23. Open rejects files whose
// parameters break these bounds as ErrCorrupt, so a hostile file cannot
// make Open allocate or compute without limit.
type Params struct {
	N, R, P int
}

var (
	// DefaultParams are the scrypt parameters for real keystores
	// (N=1<<15, r=8, p=1: about 32 MiB and tens of milliseconds).
	DefaultParams = Params{N: 1 << 15, R: 8, P: 1}
	// TestParams are cheap scrypt parameters for tests. They give little
	// protection against passphrase guessing; never use them for real keys.
	TestParams = Params{N: 1 << 10, R: 8, P: 1}
)

const (
	maxScryptN   = 1 << 20
	maxScryptMem = 256 << 20
	maxScryptP   = 16
	maxScryptNRP = 1 << 23
)

func (p Params) validate() error {
	switch {
	case p.N <= 1 || p.N&(p.N-1) != 0 || p.N > maxScryptN:
		return fmt.Errorf("scrypt N=%d: want a power of two in [2, %d]", p.N, maxScryptN)
	case p.R < 1 || int64(p.N)*int64(p.R)*128 > maxScryptMem:
		return fmt.Errorf("scrypt r=%d: want r >= 1 and 128*N*r <= %d", p.R, maxScryptMem)
	case p.P < 1 || p.P > maxScryptP:
		return fmt.Errorf("scrypt p=%d: want p in [1, %d]", p.P, maxScryptP)
	case int64(p.N)*int64(p.R)*int64(p.P) > maxScryptNRP:
		return fmt.Errorf("scrypt N*r*p=%d: want at most %d", int64(p.N)*int64(p.R)*int64(p.P), maxScryptNRP)
	}
	return nil
}

// Option configures Create, Open and OpenOrCreate.
type Option func(*options)

type options struct {
	rand        io.Reader
	lockTimeout time.Duration
}

func newOptions(opts []Option) options {
	o := options{rand: rand.Reader, lockTimeout: DefaultLockTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithRand makes the Store draw salts and nonces from r instead of
// crypto/rand. It exists for tests; r must be cryptographically secure in
// real use.
func WithRand(r io.Reader) Option {
	return func(o *options) { o.rand = r }
}

// WithLockTimeout sets how long writes wait for the cross-process lock
// before failing with ErrLocked. Zero means try once. The default is
// DefaultLockTimeout.
func WithLockTimeout(d time.Duration) Option {
	return func(o *options) { o.lockTimeout = max(d, 0) }
}

// Store is an open, unlocked keystore. Its methods are safe for
// concurrent use.
type Store struct {
	path     string
	lockPath string
	opts     options

	mu      sync.Mutex
	closed  bool
	keys    keys
	kdf     fileKDF
	check   []byte
	entries map[string]*fileEntry // records are never mutated once stored
}

// Create makes a new, empty keystore at path protected by passphrase,
// with scrypt parameters p. It fails with ErrExists if path exists. The
// file gets mode 0600 and a missing parent directory mode 0700.
func Create(path string, passphrase []byte, p Params, opts ...Option) (*Store, error) {
	s, err := create(path, passphrase, p, newOptions(opts))
	if err != nil {
		return nil, fmt.Errorf("create keystore: %w", err)
	}
	return s, nil
}

func create(path string, passphrase []byte, p Params, o options) (*Store, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	s := &Store{path: path, lockPath: path + ".lock", opts: o, entries: map[string]*fileEntry{}}
	unlock, err := lockFile(s.lockPath, o.lockTimeout)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Lstat(path); err == nil {
		return nil, fmt.Errorf("%s: %w", path, ErrExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(o.rand, salt); err != nil {
		return nil, fmt.Errorf("read random salt: %w", err)
	}
	s.kdf = fileKDF{Name: kdfScrypt, Salt: salt, N: p.N, R: p.R, P: p.P}
	if s.keys, err = deriveKeys(passphrase, s.kdf); err != nil {
		return nil, err
	}
	if s.check, err = s.keys.sealCheck(o.rand); err != nil {
		s.keys.zero()
		return nil, err
	}
	data, err := s.encode(s.entries)
	if err == nil {
		err = writeNew(path, data)
	}
	if err != nil {
		s.keys.zero()
		return nil, err
	}
	return s, nil
}

// Open unlocks the keystore at path. It fails with ErrWrongPassphrase if
// passphrase does not unlock it, with ErrCorrupt if the file is damaged,
// and with an error matching fs.ErrNotExist if there is no file.
//
// The whole file is authenticated, so any damage or tampering, even to
// a single entry's ciphertext or clear fields, fails Open with
// ErrCorrupt; restore such a file from a backup.
func Open(path string, passphrase []byte, opts ...Option) (*Store, error) {
	s := &Store{path: path, lockPath: path + ".lock", opts: newOptions(opts)}
	doc, err := readDoc(path)
	if err != nil {
		return nil, fmt.Errorf("open keystore: %w", err)
	}
	s.kdf, s.check = doc.KDF, doc.Check
	if s.keys, err = deriveKeys(passphrase, doc.KDF); err != nil {
		return nil, fmt.Errorf("open keystore: %w", err)
	}
	if s.entries, err = s.verify(doc); err != nil {
		s.keys.zero()
		return nil, fmt.Errorf("open keystore: %w", err)
	}
	return s, nil
}

// OpenOrCreate opens the keystore at path, creating it with parameters p
// if it does not exist.
func OpenOrCreate(path string, passphrase []byte, p Params, opts ...Option) (*Store, error) {
	var err error
	// Retry when another process creates the file between our Open and
	// Create. The bound stops a loop on a dangling symlink, which Open
	// reports as missing and Create as existing.
	for range 3 {
		var s *Store
		s, err = Open(path, passphrase, opts...)
		if !errors.Is(err, fs.ErrNotExist) {
			return s, err
		}
		s, err = Create(path, passphrase, p, opts...)
		if !errors.Is(err, ErrExists) {
			return s, err
		}
	}
	return nil, err
}

// Path returns the keystore's file path.
func (s *Store) Path() string { return s.path }

// Close zeroes the derived keys and drops the entries. Later calls
// return ErrClosed (List returns nil). Close is idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys.zero()
	s.entries = nil
	s.closed = true
	return nil
}

// Put adds e. It fails with ErrExists if an entry with e.ID exists,
// counting entries written by other processes. The file is persisted
// before Put returns.
func (s *Store) Put(e Entry) error {
	if err := validateEntry(e); err != nil {
		return fmt.Errorf("put %q: %w", e.ID, err)
	}
	err := s.modify(func(next map[string]*fileEntry) error {
		if _, ok := next[e.ID]; ok {
			return ErrExists
		}
		if len(next) >= MaxEntries {
			return fmt.Errorf("%d entries: %w", len(next), ErrFull)
		}
		r, err := s.seal(e, e.Secret)
		if err != nil {
			return err
		}
		next[e.ID] = r
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %q: %w", e.ID, err)
	}
	return nil
}

// Update replaces the entry with ID e.ID by e, e.g. to change its labels
// after a key rotation. A nil e.Secret keeps the stored secret, so an
// Entry from List can be edited and passed back. It fails with
// ErrNotFound if there is no such entry. The file is persisted before
// Update returns.
func (s *Store) Update(e Entry) error {
	if err := validateEntry(e); err != nil {
		return fmt.Errorf("update %q: %w", e.ID, err)
	}
	err := s.modify(func(next map[string]*fileEntry) error {
		old, ok := next[e.ID]
		if !ok {
			return ErrNotFound
		}
		secret := e.Secret
		if secret == nil {
			var err error
			if secret, err = s.keys.openEntry(old); err != nil {
				return err
			}
			defer clear(secret)
		}
		r, err := s.seal(e, secret)
		if err != nil {
			return err
		}
		next[e.ID] = r
		return nil
	})
	if err != nil {
		return fmt.Errorf("update %q: %w", e.ID, err)
	}
	return nil
}

// Delete removes the entry with the given ID, failing with ErrNotFound if
// there is none. The file is persisted before Delete returns.
func (s *Store) Delete(id string) error {
	err := s.modify(func(next map[string]*fileEntry) error {
		if _, ok := next[id]; !ok {
			return ErrNotFound
		}
		delete(next, id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete %q: %w", id, err)
	}
	return nil
}

// Get returns a copy of the entry with the given ID, Secret decrypted
// into a new slice the caller owns. It fails with ErrNotFound if there is
// no such entry and with ErrCorrupt if its ciphertext does not
// authenticate.
func (s *Store) Get(id string) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Entry{}, fmt.Errorf("get %q: %w", id, ErrClosed)
	}
	r, ok := s.entries[id]
	if !ok {
		return Entry{}, fmt.Errorf("get %q: %w", id, ErrNotFound)
	}
	secret, err := s.keys.openEntry(r)
	if err != nil {
		return Entry{}, fmt.Errorf("get %q: %w", id, err)
	}
	e := r.entry()
	e.Secret = secret
	return e, nil
}

// List returns every entry sorted by ID, with Secret nil. The caller owns
// the returned slice and maps.
func (s *Store) List() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	out := make([]Entry, 0, len(s.entries))
	for _, id := range slices.Sorted(maps.Keys(s.entries)) {
		out = append(out, s.entries[id].entry())
	}
	return out
}

// Reload re-reads the file so that Get and List see entries written by
// other processes since Open or this Store's last write.
func (s *Store) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("reload keystore: %w", ErrClosed)
	}
	entries, err := s.reload()
	if err != nil {
		return fmt.Errorf("reload keystore: %w", err)
	}
	s.entries = entries
	return nil
}

// modify runs fn on the latest on-disk entries under the cross-process
// lock and persists the result. fn may add, replace or delete records in
// the map it is given; the Store's state changes only if the write
// succeeds.
func (s *Store) modify(fn func(next map[string]*fileEntry) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	unlock, err := lockFile(s.lockPath, s.opts.lockTimeout)
	if err != nil {
		return fmt.Errorf("lock keystore: %w", err)
	}
	defer unlock()
	cur, err := s.reload()
	if err != nil {
		return err
	}
	s.entries = cur
	next := maps.Clone(cur)
	if err := fn(next); err != nil {
		return err
	}
	data, err := s.encode(next)
	if err != nil {
		return err
	}
	removeStaleTemps(s.path)
	if err := writeAtomic(s.path, data); err != nil {
		return fmt.Errorf("write keystore: %w", err)
	}
	s.entries = next
	return nil
}

// reload reads and verifies the file with the Store's keys. s.mu must be
// held.
func (s *Store) reload() (map[string]*fileEntry, error) {
	doc, err := readDoc(s.path)
	if err != nil {
		return nil, err
	}
	if !doc.KDF.equal(s.kdf) {
		return nil, fmt.Errorf("file was re-created with a different key: %w", ErrWrongPassphrase)
	}
	return s.verify(doc)
}

// seal builds the record for e with the given secret.
func (s *Store) seal(e Entry, secret []byte) (*fileEntry, error) {
	r := &fileEntry{
		ID:      e.ID,
		Type:    e.Type,
		Public:  e.Public,
		Created: e.Created.UTC(),
		Labels:  cloneLabels(e.Labels),
	}
	var err error
	r.Nonce, r.Ciphertext, err = s.keys.sealEntry(s.opts.rand, r.ID, r.Type, secret)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (r *fileEntry) entry() Entry {
	return Entry{
		ID:      r.ID,
		Type:    r.Type,
		Public:  r.Public,
		Created: r.Created,
		Labels:  cloneLabels(r.Labels),
	}
}

func cloneLabels(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	return maps.Clone(m)
}

// validateEntry checks the clear fields of e against the rules on Entry.
func validateEntry(e Entry) error {
	if err := checkFields(e.ID, e.Type, e.Public, e.Created.UTC(), e.Labels); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEntry, err)
	}
	return nil
}

func checkFields(id, typ, public string, created time.Time, labels map[string]string) error {
	switch {
	case id == "":
		return errors.New("empty ID")
	case len(id) > MaxIDLen:
		return fmt.Errorf("ID is %d bytes, over %d", len(id), MaxIDLen)
	case !utf8.ValidString(id) || strings.ContainsRune(id, 0):
		return errors.New("ID is not valid UTF-8 without NUL")
	case len(typ) > MaxTypeLen:
		return fmt.Errorf("type is %d bytes, over %d", len(typ), MaxTypeLen)
	case !utf8.ValidString(typ) || strings.ContainsRune(typ, 0):
		return errors.New("type is not valid UTF-8 without NUL")
	case !utf8.ValidString(public):
		return errors.New("public key is not valid UTF-8")
	case created.Year() < 0 || created.Year() > 9999:
		return fmt.Errorf("created year %d outside [0, 9999]", created.Year())
	}
	for k, v := range labels {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return errors.New("label is not valid UTF-8")
		}
	}
	return nil
}

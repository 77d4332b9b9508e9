package keystore

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

const (
	formatVersion = 1
	kdfScrypt     = "scrypt"
	saltLen       = 32
	minSaltLen    = 16
	maxSaltLen    = 64

	entryAADPrefix = "idmesh-keystore-v1\x00"
	checkAAD       = "idmesh-keystore-v1\x00check"
	checkPlain     = "idmesh-keystore-v1 check value"
	macDomain      = "idmesh-keystore-v1 mac"
)

// fileDoc is the JSON document stored in the keystore file. []byte
// fields are encoded in standard base64 by encoding/json.
type fileDoc struct {
	Version int         `json:"version"`
	KDF     fileKDF     `json:"kdf"`
	Check   []byte      `json:"check"`
	Entries []fileEntry `json:"entries"`
	MAC     []byte      `json:"mac"`
}

type fileKDF struct {
	Name string `json:"name"`
	Salt []byte `json:"salt"`
	N    int    `json:"n"`
	R    int    `json:"r"`
	P    int    `json:"p"`
}

func (k fileKDF) equal(o fileKDF) bool {
	return k.Name == o.Name && bytes.Equal(k.Salt, o.Salt) && k.N == o.N && k.R == o.R && k.P == o.P
}

type fileEntry struct {
	ID         string            `json:"id"`
	Type       string            `json:"type"`
	Public     string            `json:"public"`
	Created    time.Time         `json:"created"`
	Labels     map[string]string `json:"labels,omitempty"`
	Nonce      []byte            `json:"nonce"`
	Ciphertext []byte            `json:"ciphertext"`
}

// readDoc reads path and decodes it with decodeDoc.
func readDoc(path string) (*fileDoc, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	return decodeDoc(data)
}

// decodeDoc parses and structurally validates a keystore document. It
// checks everything that needs no key; errors wrap ErrCorrupt.
func decodeDoc(data []byte) (*fileDoc, error) {
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("file over %d bytes: %w", MaxFileSize, ErrCorrupt)
	}
	var doc fileDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err := doc.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return &doc, nil
}

func (d *fileDoc) validate() error {
	if d.Version != formatVersion {
		return fmt.Errorf("unsupported version %d", d.Version)
	}
	if d.KDF.Name != kdfScrypt {
		return fmt.Errorf("unsupported kdf %q", d.KDF.Name)
	}
	if n := len(d.KDF.Salt); n < minSaltLen || n > maxSaltLen {
		return fmt.Errorf("salt is %d bytes", n)
	}
	if err := (Params{N: d.KDF.N, R: d.KDF.R, P: d.KDF.P}).validate(); err != nil {
		return err
	}
	if len(d.Check) != chacha20poly1305.NonceSizeX+len(checkPlain)+chacha20poly1305.Overhead {
		return fmt.Errorf("check value is %d bytes", len(d.Check))
	}
	if len(d.MAC) != sha256.Size {
		return fmt.Errorf("mac is %d bytes", len(d.MAC))
	}
	if len(d.Entries) > MaxEntries {
		return fmt.Errorf("%d entries, over %d", len(d.Entries), MaxEntries)
	}
	seen := make(map[string]bool, len(d.Entries))
	for i := range d.Entries {
		e := &d.Entries[i]
		if err := checkFields(e.ID, e.Type, e.Public, e.Created.UTC(), e.Labels); err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		if seen[e.ID] {
			return fmt.Errorf("duplicate entry %q", e.ID)
		}
		seen[e.ID] = true
		if len(e.Nonce) != chacha20poly1305.NonceSizeX {
			return fmt.Errorf("entry %q: nonce is %d bytes", e.ID, len(e.Nonce))
		}
		if len(e.Ciphertext) < chacha20poly1305.Overhead {
			return fmt.Errorf("entry %q: ciphertext is %d bytes", e.ID, len(e.Ciphertext))
		}
	}
	return nil
}

// verify checks doc's check value and MAC with s.keys and returns its
// entries by ID.
func (s *Store) verify(doc *fileDoc) (map[string]*fileEntry, error) {
	if err := s.keys.openCheck(doc.Check); err != nil {
		return nil, err
	}
	if !hmac.Equal(s.keys.mac(doc), doc.MAC) {
		return nil, fmt.Errorf("%w: mac mismatch", ErrCorrupt)
	}
	entries := make(map[string]*fileEntry, len(doc.Entries))
	for i := range doc.Entries {
		e := doc.Entries[i]
		e.Created = e.Created.UTC()
		entries[e.ID] = &e
	}
	return entries, nil
}

// encode renders entries as a complete, MACed keystore document.
func (s *Store) encode(entries map[string]*fileEntry) ([]byte, error) {
	doc := fileDoc{
		Version: formatVersion,
		KDF:     s.kdf,
		Check:   s.check,
		Entries: make([]fileEntry, 0, len(entries)),
	}
	for _, id := range slices.Sorted(maps.Keys(entries)) {
		doc.Entries = append(doc.Entries, *entries[id])
	}
	doc.MAC = s.keys.mac(&doc)
	data, err := json.MarshalIndent(&doc, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode keystore: %w", err)
	}
	data = append(data, '\n')
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("file would be %d bytes, over %d: %w", len(data), MaxFileSize, ErrFull)
	}
	return data, nil
}

// keys holds the key material derived from the passphrase.
type keys struct {
	enc    [32]byte // XChaCha20-Poly1305
	macKey [32]byte // HMAC-SHA256
}

func deriveKeys(passphrase []byte, k fileKDF) (keys, error) {
	var ks keys
	dk, err := scrypt.Key(passphrase, k.Salt, k.N, k.R, k.P, len(ks.enc)+len(ks.macKey))
	if err != nil {
		return ks, fmt.Errorf("derive key: %w", err)
	}
	copy(ks.enc[:], dk)
	copy(ks.macKey[:], dk[len(ks.enc):])
	clear(dk)
	return ks, nil
}

func (k *keys) zero() {
	clear(k.enc[:])
	clear(k.macKey[:])
}

// The AEAD is built per call rather than cached so that the Store's keys
// are the only long-lived copy of the key and Close can zero it.
func (k *keys) aead() cipher.AEAD {
	a, err := chacha20poly1305.NewX(k.enc[:])
	if err != nil {
		panic("keystore: " + err.Error()) // the key length is fixed
	}
	return a
}

func (k *keys) sealCheck(rnd io.Reader) ([]byte, error) {
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, fmt.Errorf("read random nonce: %w", err)
	}
	return k.aead().Seal(nonce, nonce, []byte(checkPlain), []byte(checkAAD)), nil
}

func (k *keys) openCheck(check []byte) error {
	n := chacha20poly1305.NonceSizeX
	if len(check) < n {
		return ErrWrongPassphrase
	}
	plain, err := k.aead().Open(nil, check[:n], check[n:], []byte(checkAAD))
	if err != nil || subtle.ConstantTimeCompare(plain, []byte(checkPlain)) != 1 {
		return ErrWrongPassphrase
	}
	return nil
}

func entryAAD(id, typ string) []byte {
	return []byte(entryAADPrefix + id + "\x00" + typ)
}

func (k *keys) sealEntry(rnd io.Reader, id, typ string, secret []byte) (nonce, ct []byte, err error) {
	nonce = make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, nil, fmt.Errorf("read random nonce: %w", err)
	}
	return nonce, k.aead().Seal(nil, nonce, secret, entryAAD(id, typ)), nil
}

func (k *keys) openEntry(r *fileEntry) ([]byte, error) {
	secret, err := k.aead().Open(nil, r.Nonce, r.Ciphertext, entryAAD(r.ID, r.Type))
	if err != nil {
		return nil, fmt.Errorf("%w: entry %q does not decrypt", ErrCorrupt, r.ID)
	}
	if secret == nil {
		secret = []byte{}
	}
	return secret, nil
}

// mac authenticates every field of doc except MAC itself, using a
// length-prefixed encoding so that no two documents encode alike.
func (k *keys) mac(doc *fileDoc) []byte {
	h := hmac.New(sha256.New, k.macKey[:])
	w := macWriter{h: h}
	w.str(macDomain)
	w.int(int64(doc.Version))
	w.str(doc.KDF.Name)
	w.bytes(doc.KDF.Salt)
	w.int(int64(doc.KDF.N))
	w.int(int64(doc.KDF.R))
	w.int(int64(doc.KDF.P))
	w.bytes(doc.Check)
	w.int(int64(len(doc.Entries)))
	for i := range doc.Entries {
		e := &doc.Entries[i]
		w.str(e.ID)
		w.str(e.Type)
		w.str(e.Public)
		w.str(e.Created.UTC().Format(time.RFC3339Nano))
		w.int(int64(len(e.Labels)))
		for _, key := range slices.Sorted(maps.Keys(e.Labels)) {
			w.str(key)
			w.str(e.Labels[key])
		}
		w.bytes(e.Nonce)
		w.bytes(e.Ciphertext)
	}
	return h.Sum(nil)
}

type macWriter struct{ h hash.Hash }

func (w macWriter) int(v int64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	w.h.Write(b[:])
}

func (w macWriter) bytes(b []byte) {
	w.int(int64(len(b)))
	w.h.Write(b)
}

func (w macWriter) str(s string) {
	w.int(int64(len(s)))
	w.h.Write([]byte(s))
}

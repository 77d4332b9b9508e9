package idmesh

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/idmesh/idmesh/did/keys"
)

// MaxListedRotatedKeys bounds the key events that resolution metadata
// lists (the newest ones); rotatedKeysTotal gives the count of all.
const MaxListedRotatedKeys = 64

// KeyStatus is the chain's index entry of one public key, whatever
// method id or DID held it: its status follows the key material. It is
// written by the update that first retires or compromises the key and
// by every later event of the key; its size does not grow with them.
type KeyStatus struct {
	PublicKeyMultibase string `json:"publicKeyMultibase"`
	Type               string `json:"type"`
	// Status is KeyCompromised once any version of any DID marked the
	// key compromised (final), else KeyRetired.
	Status string `json:"status"`
	// Compromised is the first event that marked the key compromised.
	Compromised *KeyMark `json:"compromised,omitempty"`
	// First and Last are the first and the latest event of the key.
	First KeyMark `json:"first"`
	Last  KeyMark `json:"last"`
	// Events counts the events of the key; each is kept (LoadKeyMark).
	Events uint64 `json:"events"`
}

// KeyMark says which DID version made a key event, and when.
type KeyMark struct {
	DID       string    `json:"did"`
	ID        string    `json:"id"` // the method id the event names
	Status    string    `json:"status"`
	Version   uint64    `json:"version"`
	VersionID string    `json:"versionId"`
	Time      time.Time `json:"time"`
}

// IsCompromised reports whether the index marks the key compromised.
func (s *KeyStatus) IsCompromised() bool { return s != nil && s.Status == KeyCompromised }

// State keys of the key history:
//
//	did\x00k\x00 <multibase>              the key-status index (KeyStatus)
//	did\x00e\x00 <DID> 0x00 <u64 n>       the DID's n-th key event (KeyEvent, n from 0)
//	did\x00h\x00 <DID> 0x00 <method id>   the latest removal of a method (KeyEvent)
//	did\x00m\x00 <multibase> 0x00 <u64 n> the key's n-th event (KeyMark, n from 0)
func keyStatusKey(multibase string) []byte { return append([]byte("did\x00k\x00"), multibase...) }

func keyMarkKey(multibase string, n uint64) []byte {
	k := append([]byte("did\x00m\x00"), multibase...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, n)
}

// LoadKeyMark returns the n-th event (from 0, below KeyStatus.Events) of
// the key pub, whichever DID made it: the index keeps every mark.
func LoadKeyMark(r Reader, pub keys.PublicKey, n uint64) (*KeyMark, error) {
	var m KeyMark
	ok, err := getJSON(r, keyMarkKey(pub.Multibase(), n), &m)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: key %s event %d", ErrNotFound, pub.Multibase(), n)
	}
	return &m, nil
}

func keyEventKey(d string, n uint64) []byte {
	k := append([]byte("did\x00e\x00"), d...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, n)
}

func removedMethodKey(d, methodID string) []byte {
	k := append([]byte("did\x00h\x00"), d...)
	k = append(k, 0)
	return append(k, methodID...)
}

// KeyStatusKey returns the state key of a public key's index entry, for proofs.
func KeyStatusKey(pub keys.PublicKey) []byte { return keyStatusKey(pub.Multibase()) }

// LoadKeyStatus returns the index entry of pub, or nil when no version
// of any DID ever retired or compromised it. It is one state read.
func LoadKeyStatus(r Reader, pub keys.PublicKey) (*KeyStatus, error) {
	return loadKeyStatus(r, pub.Multibase())
}

func loadKeyStatus(r Reader, multibase string) (*KeyStatus, error) {
	var s KeyStatus
	ok, err := getJSON(r, keyStatusKey(multibase), &s)
	if err != nil || !ok {
		return nil, err
	}
	return &s, nil
}

// LoadRemovedMethod returns the latest event that removed verification
// method methodID (absolute) from DID d, or nil when no update did.
func LoadRemovedMethod(r Reader, d, methodID string) (*KeyEvent, error) {
	var e KeyEvent
	ok, err := getJSON(r, removedMethodKey(d, methodID), &e)
	if err != nil || !ok {
		return nil, err
	}
	return &e, nil
}

// LoadKeyEvent returns the n-th key event (from 0) of DID d.
func LoadKeyEvent(r Reader, d string, n uint64) (*KeyEvent, error) {
	var e KeyEvent
	ok, err := getJSON(r, keyEventKey(d, n), &e)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s key event %d", ErrNotFound, d, n)
	}
	return &e, nil
}

// markKey records event e of DID d in the key-status index: compromised
// is final and wins, the first compromise is kept.
func markKey(kv KV, d string, e KeyEvent) error {
	s, err := loadKeyStatus(kv, e.PublicKeyMultibase)
	if err != nil {
		return err
	}
	m := KeyMark{DID: d, ID: e.ID, Status: e.Status, Version: e.Version, VersionID: e.VersionID, Time: e.Time}
	if s == nil {
		s = &KeyStatus{PublicKeyMultibase: e.PublicKeyMultibase, Type: e.Type, Status: KeyRetired, First: m}
	}
	if e.Status == KeyCompromised && s.Compromised == nil {
		s.Status, s.Compromised = KeyCompromised, &m
	}
	if err := putJSON(kv, keyMarkKey(e.PublicKeyMultibase, s.Events), m); err != nil {
		return err
	}
	s.Last = m
	s.Events++
	return putJSON(kv, keyStatusKey(e.PublicKeyMultibase), s)
}

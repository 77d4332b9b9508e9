package idmesh

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gowebpki/jcs"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/jwk"
	"github.com/idmesh/idmesh/did/key"
)

// Reader reads ledger state. Get returns ok=false for an absent key; an
// error means the read itself failed.
type Reader interface {
	Get(key []byte) (value []byte, ok bool, err error)
}

// KV reads and writes ledger state.
type KV interface {
	Reader
	Set(key, value []byte)
}

// Key status of a verification method removed from a DID document.
const (
	KeyRetired     = "retired"
	KeyCompromised = "compromised"
)

// Record is the state of one DID: its latest version and the keys that
// versions have removed.
type Record struct {
	DID         string     `json:"did"`
	Versions    uint64     `json:"versions"`
	VersionID   string     `json:"versionId"`
	Created     time.Time  `json:"created"`
	Updated     time.Time  `json:"updated"`
	Deactivated bool       `json:"deactivated,omitempty"`
	RotatedKeys []KeyEvent `json:"rotatedKeys,omitempty"`
}

// KeyEvent records a verification method that an update removed.
type KeyEvent struct {
	ID                 string    `json:"id"`
	Type               string    `json:"type"`
	PublicKeyMultibase string    `json:"publicKeyMultibase"`
	Status             string    `json:"status"`
	Version            uint64    `json:"version"`   // the version that removed it
	VersionID          string    `json:"versionId"` // ditto
	Time               time.Time `json:"time"`
}

// Version is one version of a DID document.
type Version struct {
	Number      uint64        `json:"number"`
	VersionID   string        `json:"versionId"`
	Previous    string        `json:"previous,omitempty"`
	Time        time.Time     `json:"time"`
	Height      uint64        `json:"height"`
	Deactivated bool          `json:"deactivated,omitempty"`
	Document    *did.Document `json:"document"`
}

// Env is what Apply may know of the block: never the wall clock.
type Env struct {
	ChainID string
	Height  uint64
	Time    time.Time
	// Sigs caches verified signatures; nil verifies every time.
	Sigs *SigCache
}

// State keys. All did:idmesh state lives under "did\x00".
func recordKey(d string) []byte { return append([]byte("did\x00r\x00"), d...) }

func versionKey(d string, n uint64) []byte {
	k := append([]byte("did\x00v\x00"), d...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, n)
}

func versionIndexKey(d, versionID string) []byte {
	k := append([]byte("did\x00i\x00"), d...)
	k = append(k, 0)
	return append(k, versionID...)
}

// RecordKey returns the state key of a DID's record, for proofs.
func RecordKey(d string) []byte { return recordKey(d) }

// VersionKey returns the state key of version n of a DID, for proofs.
func VersionKey(d string, n uint64) []byte { return versionKey(d, n) }

func getJSON(r Reader, k []byte, v any) (bool, error) {
	b, ok, err := r.Get(k)
	if err != nil || !ok {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode state %q: %w", k, err)
	}
	return true, nil
}

func putJSON(kv KV, k []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	c, err := jcs.Transform(b)
	if err != nil {
		return fmt.Errorf("canonicalize state: %w", err)
	}
	kv.Set(k, c)
	return nil
}

// LoadRecord returns the record of DID d, or ErrNotFound.
func LoadRecord(r Reader, d string) (*Record, error) {
	var rec Record
	ok, err := getJSON(r, recordKey(d), &rec)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, d)
	}
	return &rec, nil
}

// LoadVersion returns version n (1-based) of DID d.
func LoadVersion(r Reader, d string, n uint64) (*Version, error) {
	var v Version
	ok, err := getJSON(r, versionKey(d, n), &v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s version %d", ErrNotFound, d, n)
	}
	return &v, nil
}

// VersionNumber returns the number of the version with the given versionId.
func VersionNumber(r Reader, d, versionID string) (uint64, error) {
	b, ok, err := r.Get(versionIndexKey(d, versionID))
	if err != nil {
		return 0, err
	}
	if !ok || len(b) != 8 {
		return 0, fmt.Errorf("%w: %s has no version %s", ErrNotFound, d, versionID)
	}
	return binary.BigEndian.Uint64(b), nil
}

// Apply checks op against the state in kv and, if it is valid and
// authorized, writes its effects. It is deterministic: the same state,
// env and operation always give the same writes or the same error.
func Apply(kv KV, env Env, op *Operation) error {
	if err := op.ValidateBasic(); err != nil {
		return err
	}
	subject, err := op.SubjectDID()
	if err != nil {
		return err
	}
	vid, err := op.VersionID()
	if err != nil {
		return err
	}
	input, err := op.SigningInput(env.ChainID)
	if err != nil {
		return err
	}
	switch op.Type {
	case Create:
		return applyCreate(kv, env, op, subject, vid, input)
	default:
		return applyChange(kv, env, op, subject, vid, input)
	}
}

func applyCreate(kv KV, env Env, op *Operation, subject, vid string, input []byte) error {
	if _, err := LoadRecord(kv, subject); err == nil {
		return fmt.Errorf("%w: %s already exists", ErrConflict, subject)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	doc, err := prepareDocument(kv, op.Document, subject)
	if err != nil {
		return err
	}
	if err := authorize(kv, env.Sigs, doc, subject, op, input); err != nil {
		return err
	}
	rec := &Record{DID: subject, Versions: 1, VersionID: vid, Created: env.Time, Updated: env.Time}
	ver := &Version{Number: 1, VersionID: vid, Time: env.Time, Height: env.Height, Document: doc}
	return save(kv, rec, ver)
}

func applyChange(kv KV, env Env, op *Operation, subject, vid string, input []byte) error {
	rec, err := LoadRecord(kv, subject)
	if err != nil {
		return err
	}
	if rec.Deactivated {
		return fmt.Errorf("%w: %s", ErrDeactivated, subject)
	}
	if op.Previous != rec.VersionID {
		return fmt.Errorf("%w: previous %s is not the current version %s of %s", ErrConflict, op.Previous, rec.VersionID, subject)
	}
	cur, err := LoadVersion(kv, subject, rec.Versions)
	if err != nil {
		return err
	}
	if err := authorize(kv, env.Sigs, cur.Document, subject, op, input); err != nil {
		return err
	}
	next := &Version{Number: rec.Versions + 1, VersionID: vid, Previous: rec.VersionID, Time: env.Time, Height: env.Height}
	if op.Type == Deactivate {
		next.Deactivated = true
		next.Document = &did.Document{Context: []any{did.ContextV1}, ID: subject}
		rec.Deactivated = true
	} else {
		doc, err := prepareDocument(kv, op.Document, subject)
		if err != nil {
			return err
		}
		events, err := rotatedKeys(rec, cur.Document, doc, op.Compromised, next, env.Time)
		if err != nil {
			return err
		}
		rec.RotatedKeys = append(rec.RotatedKeys, events...)
		next.Document = doc
	}
	if _, err := VersionNumber(kv, subject, vid); err == nil {
		return fmt.Errorf("%w: version %s already exists", ErrConflict, vid)
	}
	rec.Versions, rec.VersionID, rec.Updated = next.Number, vid, env.Time
	return save(kv, rec, next)
}

func save(kv KV, rec *Record, ver *Version) error {
	if err := putJSON(kv, recordKey(rec.DID), rec); err != nil {
		return err
	}
	if err := putJSON(kv, versionKey(rec.DID, ver.Number), ver); err != nil {
		return err
	}
	kv.Set(versionIndexKey(rec.DID, ver.VersionID), binary.BigEndian.AppendUint64(nil, ver.Number))
	return nil
}

// prepareDocument makes a submitted document absolute for subject and
// validates it, including the method's own rules: controllers of the
// allowed methods that exist, and somebody left who can sign changes.
func prepareDocument(r Reader, d *did.Document, subject string) (*did.Document, error) {
	if d.ID != "" && d.ID != subject {
		return nil, fmt.Errorf("%w: document id %s is not %s", ErrInvalidOperation, d.ID, subject)
	}
	doc, err := d.WithID(subject)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOperation, err)
	}
	if err := doc.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOperation, err)
	}
	for _, c := range doc.Controller {
		if err := checkControllerMethod(c); err != nil {
			return nil, err
		}
		if c == subject {
			continue
		}
		if _, err := controllerDocument(r, c); err != nil {
			if errors.Is(err, ErrUnauthorized) {
				return nil, fmt.Errorf("%w: %w", ErrInvalidOperation, err)
			}
			return nil, err
		}
	}
	if !slices.ContainsFunc(doc.ControllerDIDs(), func(c string) bool { return c != subject }) && !canSign(doc.Methods(did.RelCapabilityInvocation)) {
		return nil, fmt.Errorf("%w: no capabilityInvocation key can sign (Ed25519 or P-256) and no other controller is named, so the DID could never be changed", ErrInvalidOperation)
	}
	return doc, nil
}

// canSign reports whether any of vms holds a signing key.
func canSign(vms []did.VerificationMethod) bool {
	for _, vm := range vms {
		if pub, err := vm.PublicKey(); err == nil && pub.Algorithm() != "" {
			return true
		}
	}
	return false
}

func checkControllerMethod(c string) error {
	d, err := did.Parse(c)
	if err != nil {
		return fmt.Errorf("%w: controller: %w", ErrInvalidOperation, err)
	}
	switch d.Method {
	case Method, "key", "jwk":
		return nil
	}
	return fmt.Errorf("%w: controller %s: only did:idmesh, did:key and did:jwk controllers are allowed, so that applying a block never needs the network", ErrInvalidOperation, c)
}

// authorize checks every proof and requires at least one by a key in the
// capabilityInvocation of doc's controllers (doc itself when it names none).
func authorize(r Reader, sigs *SigCache, doc *did.Document, subject string, op *Operation, input []byte) error {
	allowed, err := authorizedKeys(r, doc, subject)
	if err != nil {
		return err
	}
	for _, p := range op.Proof {
		ref := absolute(subject, p.VerificationMethod)
		vm, ok := allowed[ref]
		if !ok {
			return fmt.Errorf("%w: %s is not a capabilityInvocation key of a controller of %s", ErrUnauthorized, ref, subject)
		}
		pub, err := vm.PublicKey()
		if err != nil {
			return fmt.Errorf("%w: key %s: %w", ErrUnauthorized, ref, err)
		}
		sig, err := sigEncoding.DecodeString(p.Signature)
		if err != nil || !sigs.Verify(pub, input, sig) {
			return fmt.Errorf("%w: bad signature by %s", ErrUnauthorized, ref)
		}
	}
	return nil
}

func authorizedKeys(r Reader, doc *did.Document, subject string) (map[string]did.VerificationMethod, error) {
	out := make(map[string]did.VerificationMethod)
	for _, c := range doc.ControllerDIDs() {
		cdoc := doc
		if c != subject {
			var err error
			if cdoc, err = controllerDocument(r, c); err != nil {
				return nil, err
			}
		}
		for _, vm := range cdoc.Methods(did.RelCapabilityInvocation) {
			out[absolute(cdoc.ID, vm.ID)] = vm
		}
	}
	return out, nil
}

// controllerDocument returns the current document of a controller DID,
// from state for did:idmesh and computed offline for did:key and did:jwk.
func controllerDocument(r Reader, c string) (*did.Document, error) {
	d, err := did.Parse(c)
	if err != nil {
		return nil, fmt.Errorf("%w: controller: %w", ErrInvalidOperation, err)
	}
	switch d.Method {
	case "key":
		doc, err := key.Document(c)
		if err != nil {
			return nil, fmt.Errorf("%w: controller %s: %w", ErrUnauthorized, c, err)
		}
		return doc, nil
	case "jwk":
		doc, err := jwk.Document(c)
		if err != nil {
			return nil, fmt.Errorf("%w: controller %s: %w", ErrUnauthorized, c, err)
		}
		return doc, nil
	case Method:
		rec, err := LoadRecord(r, c)
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: controller %s does not exist", ErrUnauthorized, c)
		}
		if err != nil {
			return nil, err
		}
		if rec.Deactivated {
			return nil, fmt.Errorf("%w: controller %s is deactivated", ErrUnauthorized, c)
		}
		v, err := LoadVersion(r, c, rec.Versions)
		if err != nil {
			return nil, err
		}
		return v.Document, nil
	}
	return nil, checkControllerMethod(c)
}

// rotatedKeys returns the key events of replacing prev by next: every
// key of prev that next no longer has is retired, or compromised when
// listed. A compromised key may never return.
func rotatedKeys(rec *Record, prev, next *did.Document, compromised []string, ver *Version, at time.Time) ([]KeyEvent, error) {
	nextKeys := make(map[string]bool)
	for _, vm := range next.AllMethods() {
		if pub, err := vm.PublicKey(); err == nil {
			nextKeys[pub.Multibase()] = true
		}
	}
	for _, e := range rec.RotatedKeys {
		if e.Status == KeyCompromised && nextKeys[e.PublicKeyMultibase] {
			return nil, fmt.Errorf("%w: key %s was marked compromised and cannot be used again", ErrInvalidOperation, e.ID)
		}
	}
	marked := make(map[string]bool, len(compromised))
	for _, c := range compromised {
		marked[absolute(prev.ID, c)] = true
	}
	var events []KeyEvent
	seen := make(map[string]bool)
	for _, vm := range prev.AllMethods() {
		pub, err := vm.PublicKey()
		if err != nil || seen[pub.Multibase()] {
			continue
		}
		seen[pub.Multibase()] = true
		id := absolute(prev.ID, vm.ID)
		status := KeyRetired
		if marked[id] {
			status = KeyCompromised
			delete(marked, id)
		}
		if nextKeys[pub.Multibase()] {
			if status == KeyCompromised {
				return nil, fmt.Errorf("%w: %s is marked compromised but the new document keeps its key", ErrInvalidOperation, id)
			}
			continue
		}
		events = append(events, KeyEvent{ID: id, Type: string(pub.Type()), PublicKeyMultibase: pub.Multibase(), Status: status, Version: ver.Number, VersionID: ver.VersionID, Time: at})
	}
	if len(marked) > 0 {
		ids := make([]string, 0, len(marked))
		for id := range marked {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return nil, fmt.Errorf("%w: compromised %v names no key of the current version", ErrInvalidOperation, ids)
	}
	return events, nil
}

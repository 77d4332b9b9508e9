package idmesh

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/jwk"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
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

// Record is the state of one DID: its latest version and the number of
// key events of its history. The events themselves live under their own
// keys (keystatus.go), so that a record stays small however long the
// history: every resolution decodes it.
type Record struct {
	DID         string    `json:"did"`
	Versions    uint64    `json:"versions"`
	VersionID   string    `json:"versionId"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	Deactivated bool      `json:"deactivated,omitempty"`
	// RotatedKeysTotal counts the DID's key events.
	RotatedKeysTotal uint64 `json:"rotatedKeysTotal,omitempty"`
}

// KeyEvent records a verification method that an update removed, or a
// key of an earlier version that an update marked compromised.
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
	// RotatedKeysTotal counts the DID's key events up to and including
	// this version.
	RotatedKeysTotal uint64 `json:"rotatedKeysTotal,omitempty"`
}

// Env is what Apply may know of the block: never the wall clock.
type Env struct {
	ChainID string
	Height  uint64
	Time    time.Time
	// Sigs caches verified signatures; nil verifies every time.
	Sigs *SigCache
}

// State keys. All did:idmesh state lives under "did\x00":
//
//	did\x00r\x00 <DID>                      the record with its latest
//	                                        version (storedRecord)
//	did\x00v\x00 <DID> 0x00 <u64 n>         version n (storedVersion), for a
//	                                        version n that a later one
//	                                        replaced
//	did\x00i\x00 <DID> 0x00 <versionId>     n, for such a version n: the
//	                                        record names the latest
//
// A create writes one key, the record holding version 1: one leaf of
// the state tree, whose path is most of what a create costs to commit.
// An update or a deactivate rewrites the record with the new version,
// and moves the version it replaces, byte for byte, to its version key
// and index entry.
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

// VersionKey returns the state key of version n of a DID, which holds it
// once a later version replaced it (the record holds the latest).
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
	if _, dry := kv.(checkKV); dry {
		return nil // Check: the record is not built (see Check)
	}
	c, err := canonicalBytes(v)
	if err != nil {
		return err
	}
	kv.Set(k, c)
	return nil
}

// canonicalBytes returns the state value of v: RFC 8785 of encoding/json's
// output.
func canonicalBytes(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	c, err := canonicalJSON(b) // jcs.Transform(b), faster for encoding/json output
	if err != nil {
		return nil, fmt.Errorf("canonicalize state: %w", err)
	}
	return c, nil
}

// storedRecord is the stored form of a Record: the record's members and,
// under "latest", its latest version as storedVersion stores it (the
// canonical bytes that move to the version's own key when an update
// replaces it).
type storedRecord struct {
	Record
	Latest json.RawMessage `json:"latest"`
}

// storedVersion is the stored form of a Version: its number is in its
// key, and its document is relative to the DID (relativeDocument), as an
// operation carries it.
type storedVersion struct {
	VersionID        string        `json:"versionId"`
	Previous         string        `json:"previous,omitempty"`
	Time             time.Time     `json:"time"`
	Height           uint64        `json:"height"`
	Deactivated      bool          `json:"deactivated,omitempty"`
	Document         *did.Document `json:"document"`
	RotatedKeysTotal uint64        `json:"rotatedKeysTotal,omitempty"`
}

// LoadRecord returns the record of DID d, or ErrNotFound.
func LoadRecord(r Reader, d string) (*Record, error) {
	rec, ok, err := loadRecord(r, d)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, d)
	}
	return rec, nil
}

// loadRecord is LoadRecord with ok false for an absent record, which
// costs no error value: a create reads a record that is not there.
func loadRecord(r Reader, d string) (*Record, bool, error) {
	sr, ok, err := loadStored(r, d)
	if err != nil || !ok {
		return nil, false, err
	}
	return &sr.Record, true, nil
}

// loadStored reads the stored record of d, with its latest version's
// bytes; ok is false if d has no record.
func loadStored(r Reader, d string) (*storedRecord, bool, error) {
	var sr storedRecord
	ok, err := getJSON(r, recordKey(d), &sr)
	if err != nil || !ok {
		return nil, false, err
	}
	if sr.DID != d {
		return nil, false, fmt.Errorf("decode state %q: the record of another DID", recordKey(d))
	}
	if sr.Versions == 0 || len(sr.Latest) == 0 || sr.Latest[0] != '{' {
		return nil, false, fmt.Errorf("decode state %q: a record without its latest version", recordKey(d))
	}
	return &sr, true, nil
}

// loadLatest returns the record of d and its latest version, from the
// one state key that holds both, and the version's stored bytes; the
// error wraps ErrNotFound if d has no record.
func loadLatest(r Reader, d string) (*Record, *Version, []byte, error) {
	sr, ok, err := loadStored(r, d)
	if err != nil {
		return nil, nil, nil, err
	}
	if !ok {
		return nil, nil, nil, fmt.Errorf("%w: %s", ErrNotFound, d)
	}
	v, err := decodeVersion(recordKey(d), d, sr.Versions, sr.Latest)
	if err != nil {
		return nil, nil, nil, err
	}
	return &sr.Record, v, sr.Latest, nil
}

// LoadVersion returns version n (1-based) of DID d. The record rules: n
// is one of its versions, the latest is the one it holds, and an earlier
// one is under its version key.
func LoadVersion(r Reader, d string, n uint64) (*Version, error) {
	sr, ok, err := loadStored(r, d)
	if err != nil {
		return nil, err
	}
	if !ok || n == 0 || n > sr.Versions {
		return nil, fmt.Errorf("%w: %s version %d", ErrNotFound, d, n)
	}
	if n == sr.Versions {
		return decodeVersion(recordKey(d), d, n, sr.Latest)
	}
	return loadReplaced(r, d, n)
}

// loadReplaced returns version n of d, which a later version replaced:
// the caller has checked n against the record.
func loadReplaced(r Reader, d string, n uint64) (*Version, error) {
	k := versionKey(d, n)
	b, ok, err := r.Get(k)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s version %d", ErrNotFound, d, n)
	}
	return decodeVersion(k, d, n, b)
}

// decodeVersion decodes b, the stored bytes of version n of d found
// under state key k (named in errors).
func decodeVersion(k []byte, d string, n uint64, b []byte) (*Version, error) {
	var sv storedVersion
	if err := json.Unmarshal(b, &sv); err != nil {
		return nil, fmt.Errorf("decode state %q: %w", k, err)
	}
	if sv.Document == nil {
		return nil, fmt.Errorf("decode state %q: version without a document", k)
	}
	absolutize(sv.Document, d)
	return &Version{Number: n, VersionID: sv.VersionID, Previous: sv.Previous, Time: sv.Time, Height: sv.Height,
		Deactivated: sv.Deactivated, Document: sv.Document, RotatedKeysTotal: sv.RotatedKeysTotal}, nil
}

// VersionNumber returns the number of the version with the given
// versionId: the record's for the latest version, the index's for an
// earlier one.
func VersionNumber(r Reader, d, versionID string) (uint64, error) {
	rec, err := LoadRecord(r, d)
	if errors.Is(err, ErrNotFound) {
		return 0, fmt.Errorf("%w: %s has no version %s", ErrNotFound, d, versionID)
	}
	if err != nil {
		return 0, err
	}
	if rec.VersionID == versionID {
		return rec.Versions, nil
	}
	n, ok, err := indexedVersion(r, d, versionID)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("%w: %s has no version %s", ErrNotFound, d, versionID)
	}
	return n, nil
}

// indexedVersion returns the number of the version of d with the given
// versionId from the index, which holds every version but the latest.
func indexedVersion(r Reader, d, versionID string) (uint64, bool, error) {
	b, ok, err := r.Get(versionIndexKey(d, versionID))
	if err != nil || !ok || len(b) != 8 {
		return 0, false, err
	}
	return binary.BigEndian.Uint64(b), true, nil
}

// relativeDocument returns a copy of doc, an absolute document of DID
// subject (as prepareDocument makes it), in the relative form an
// operation carries: no id, "#frag" for the ids and references of
// subject's own methods and services, and an empty controller where it
// is subject. absolutize turns it back into doc: the DID is stored once,
// in the key, instead of in every id.
func relativeDocument(doc *did.Document, subject string) *did.Document {
	c := doc.Clone()
	relativize(c, subject)
	return c
}

// relativize is relativeDocument in place, for a document nobody else
// holds.
func relativize(doc *did.Document, subject string) {
	rewriteRefs(doc, func(ref string) string { return relative(subject, ref) }, func(ctl string) string {
		if ctl == subject {
			return ""
		}
		return ctl
	})
	if doc.ID == subject {
		doc.ID = ""
	}
}

// absolutize makes a document read from state absolute for subject, in
// place: the inverse of relativeDocument (and what did.Document.WithID
// does, without the copy).
func absolutize(doc *did.Document, subject string) {
	rewriteRefs(doc, func(ref string) string { return did.AbsoluteRef(subject, ref) }, func(ctl string) string {
		if ctl == "" {
			return subject
		}
		return ctl
	})
	if doc.ID == "" {
		doc.ID = subject
	}
}

// rewriteRefs maps, in place, every method and service id and every
// relationship reference of doc through ref, and every method's
// controller through ctl.
func rewriteRefs(doc *did.Document, ref, ctl func(string) string) {
	fix := func(vm *did.VerificationMethod) {
		vm.ID, vm.Controller = ref(vm.ID), ctl(vm.Controller)
	}
	for i := range doc.VerificationMethod {
		fix(&doc.VerificationMethod[i])
	}
	for _, rels := range []*[]did.Relationship{&doc.Authentication, &doc.AssertionMethod, &doc.KeyAgreement, &doc.CapabilityInvocation, &doc.CapabilityDelegation} {
		for i := range *rels {
			r := &(*rels)[i]
			if r.Embedded != nil {
				fix(r.Embedded)
			} else {
				r.Reference = ref(r.Reference)
			}
		}
	}
	for i := range doc.Service {
		doc.Service[i].ID = ref(doc.Service[i].ID)
	}
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
	input, err := op.signingInput(env.ChainID)
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

// Check returns the error Apply would return for op on the state r,
// without building what Apply writes: it makes every check Apply makes,
// reads what Apply reads (in the same order, so a read-set recorder sees
// the same keys) and verifies the same signatures (through env.Sigs), but
// it neither encodes nor canonicalizes the record, the version, the key
// events and key marks, which a mempool's check would throw away.
//
// The verdicts are equal because Apply never reads a key it wrote for
// the same operation (its reads all come before its writes, but the key
// marks, each read once for a distinct key), and because encoding a
// record cannot fail for a block time of the years 0 to 9999: it holds
// strings, numbers, booleans, that time and the operation's document,
// which Decode encoded already and whose values came from canonical
// JSON. (encoding/json refuses other years, where Apply fails and Check
// would not; block times are between 1677 and 2262, the range of the
// header's UnixNano, and a mempool's check uses the local clock:
// security review R4.) FuzzCheckAgreesWithApply and
// TestCheckAgreesWithApply compare both over random operations and
// states.
func Check(r Reader, env Env, op *Operation) error { return Apply(checkKV{r}, env, op) }

// checkKV is the KV of Check: reads go to the state, writes nowhere, and
// putJSON and save build nothing for it.
type checkKV struct{ Reader }

func (checkKV) Set(key, value []byte) {}

func applyCreate(kv KV, env Env, op *Operation, subject, vid string, input []byte) error {
	if _, exists, err := loadRecord(kv, subject); err != nil {
		return err
	} else if exists {
		return fmt.Errorf("%w: %s already exists", ErrConflict, subject)
	}
	doc, err := prepareDocument(kv, op, subject)
	if err != nil {
		return err
	}
	if !op.createAuthorizedFor(subject, env.ChainID) {
		if err := authorize(kv, env.Sigs, doc, nil, doc, subject, op, input); err != nil {
			return err
		}
		op.createAuthorized(subject, env.ChainID, doc)
	}
	rec := &Record{DID: subject, Versions: 1, VersionID: vid, Created: env.Time, Updated: env.Time}
	ver := &Version{Number: 1, VersionID: vid, Time: env.Time, Height: env.Height, Document: doc}
	return save(kv, rec, ver, nil)
}

func applyChange(kv KV, env Env, op *Operation, subject, vid string, input []byte) error {
	rec, cur, curBytes, err := loadLatest(kv, subject)
	if err != nil {
		return err
	}
	if rec.Deactivated {
		return fmt.Errorf("%w: %s", ErrDeactivated, subject)
	}
	if op.Previous != rec.VersionID {
		return fmt.Errorf("%w: previous %s is not the current version %s of %s", ErrConflict, op.Previous, rec.VersionID, subject)
	}
	var doc *did.Document // the new document of an update
	if op.Type == Update {
		if doc, err = prepareDocument(kv, op, subject); err != nil {
			return err
		}
	}
	if err := authorize(kv, env.Sigs, cur.Document, cur.Document, doc, subject, op, input); err != nil {
		return err
	}
	next := &Version{Number: rec.Versions + 1, VersionID: vid, Previous: rec.VersionID, Time: env.Time, Height: env.Height, RotatedKeysTotal: rec.RotatedKeysTotal}
	var hist *history
	if op.Type == Deactivate {
		next.Deactivated = true
		next.Document = &did.Document{Context: []any{did.ContextV1}, ID: subject}
		rec.Deactivated = true
	} else {
		if hist, err = keyEvents(kv, cur.Document, doc, op.Compromised, next, env.Time); err != nil {
			return err
		}
		next.Document = doc
	}
	// The record is at hand: only the index is read (VersionNumber would
	// decode the record again).
	if _, exists, err := indexedVersion(kv, subject, vid); err != nil {
		return err
	} else if exists || vid == rec.VersionID {
		return fmt.Errorf("%w: version %s already exists", ErrConflict, vid)
	}
	if hist != nil {
		if err := hist.write(kv, rec); err != nil {
			return err
		}
		next.RotatedKeysTotal = rec.RotatedKeysTotal
	}
	rec.Versions, rec.VersionID, rec.Updated = next.Number, vid, env.Time
	return save(kv, rec, next, curBytes)
}

// save writes rec with its new latest version ver and, for an update or
// a deactivate, moves the version ver replaces to its own key, as prev
// (its stored bytes, from the record ver replaces), with its index entry
// (the record no longer names it). It takes ver.Document, which it makes
// relative in place: applyCreate and applyChange make that document for
// ver alone (prepareDocument's copy, or a new one for a deactivate) and
// save is the last thing they do.
func save(kv KV, rec *Record, ver *Version, prev []byte) error {
	if _, dry := kv.(checkKV); dry {
		return nil // Check: nothing to read, nothing built
	}
	relativize(ver.Document, rec.DID)
	sv := storedVersion{VersionID: ver.VersionID, Previous: ver.Previous, Time: ver.Time, Height: ver.Height,
		Deactivated: ver.Deactivated, Document: ver.Document, RotatedKeysTotal: ver.RotatedKeysTotal}
	latest, err := versionBytes(&sv)
	if err != nil {
		return err
	}
	if ver.Number > 1 {
		if len(prev) == 0 {
			return fmt.Errorf("save %s version %d: no stored bytes for version %d", rec.DID, ver.Number, ver.Number-1)
		}
		kv.Set(versionKey(rec.DID, ver.Number-1), prev)
		kv.Set(versionIndexKey(rec.DID, ver.Previous), binary.BigEndian.AppendUint64(nil, ver.Number-1))
	}
	return putRecord(kv, rec, latest)
}

// prepareDocument makes a submitted document absolute for subject and
// validates it, including the method's own rules: controllers of the
// allowed methods that exist, and somebody left who can sign changes.
func prepareDocument(r Reader, op *Operation, subject string) (*did.Document, error) {
	d := op.Document
	if d.ID != "" && d.ID != subject {
		return nil, fmt.Errorf("%w: document id %s is not %s", ErrInvalidOperation, d.ID, subject)
	}
	doc, err := d.WithID(subject)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOperation, err)
	}
	if !op.documentValidFor(subject) {
		if err := doc.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidOperation, err)
		}
		op.documentValid(subject)
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

// authorize checks every proof of op and requires (1) at least one by a
// key in the capabilityInvocation of auth's controllers (auth itself when
// it names none), and (2) a proof of possession by every signing key that
// next (the new document; nil for a deactivate) adds to prev (the current
// document; nil for a create): see NewSigningKeys. A proof names either an
// authorizing key or a method of next that holds an added key; it is
// checked against the authorizing key when its id names one, else against
// the added key, so each proof costs one signature verification. A proof
// by an added key proves possession and authorizes nothing.
//
// So that an operation has one encoding, which nobody but its signers can
// change: a P-256 signature must be low-S (keys.PublicKey.IsCanonicalSignature),
// and (3) every proof must be needed for (1) or (2): no proof may be
// removable with the operation still valid (see unneeded), and (4) every
// proof must name the one reference canonicalRefs gives its key, as the
// reference is not signed.
func authorize(r Reader, sigs *SigCache, auth, prev, next *did.Document, subject string, op *Operation, input []byte) error {
	allowed, err := authorizedKeys(r, auth, subject)
	if err != nil {
		return err
	}
	added, addedByID := addedKeys(prev, next, subject)
	canon := canonicalRefs(allowed, addedByID, subject)
	// Every check that needs no signature verification runs first, over
	// all proofs, so that an operation bound to be refused (a proof that
	// is not needed, a relabelled reference, a high S, a key added
	// without proof) costs no verification, however many proofs it
	// carries; the signatures are verified last.
	checked := make([]checkedProof, 0, len(op.Proof))
	for _, p := range op.Proof {
		ref := did.AbsoluteRef(subject, p.VerificationMethod)
		var pub keys.PublicKey
		vm, isAuth := allowed[ref]
		switch {
		case isAuth:
			if pub, err = vm.PublicKey(); err != nil {
				return fmt.Errorf("%w: key %s: %w", ErrUnauthorized, ref, err)
			}
		default:
			var ok bool
			if pub, ok = addedByID[ref]; !ok {
				return fmt.Errorf("%w: %s is not a capabilityInvocation key of a controller of %s, nor a key the operation adds", ErrUnauthorized, ref, subject)
			}
		}
		sig, err := sigEncoding.DecodeString(p.Signature)
		if err != nil {
			return fmt.Errorf("%w: bad signature by %s", ErrUnauthorized, ref)
		}
		if !pub.IsCanonicalSignature(sig) {
			return fmt.Errorf("%w: proof by %s: a P-256 signature must have a low S (s <= n/2): (r, n-s) would be a second encoding of the operation", ErrInvalidOperation, relative(subject, ref))
		}
		if want := canon[pub]; want != relative(subject, ref) {
			return fmt.Errorf("%w: proof by %s must name %s, the first method holding its key: the reference is not signed, so one key has one spelling", ErrInvalidOperation, relative(subject, ref), want)
		}
		checked = append(checked, checkedProof{ref: ref, auth: isAuth, pub: pub, sig: sig})
	}
	if !slices.ContainsFunc(checked, func(c checkedProof) bool { return c.auth }) {
		return fmt.Errorf("%w: no proof by a capabilityInvocation key of a controller of %s: a proof by a key the operation adds proves possession only", ErrUnauthorized, subject)
	}
	proven := make(map[keys.PublicKey]int, len(checked)) // added key -> proofs by it
	isAdded := make(map[keys.PublicKey]bool, len(added))
	for _, k := range added {
		isAdded[k.pub] = true
	}
	for _, c := range checked {
		if isAdded[c.pub] {
			proven[c.pub]++
		}
	}
	for _, k := range added {
		if proven[k.pub] == 0 {
			return fmt.Errorf("%w: key %s is added without a proof of possession", ErrUnauthorized, relative(subject, k.id))
		}
	}
	if c, ok := unneeded(checked, proven); ok {
		return fmt.Errorf("%w: proof by %s is not needed: an operation carries only the proofs it needs", ErrInvalidOperation, relative(subject, c.ref))
	}
	for _, c := range checked {
		if !sigs.Verify(c.pub, input, c.sig) {
			return fmt.Errorf("%w: bad signature by %s", ErrUnauthorized, c.ref)
		}
	}
	return nil
}

// canonicalRefs returns, for each key that a proof could
// be by, the one reference a proof by it must name: the smallest, in byte
// order of its normalised form (relative "#frag" for subject, absolute
// otherwise), of the authorizing methods holding the key; for a key no
// authorizing method holds, the smallest of the methods of the new
// document holding it (addedByID). The reference is not covered by the
// signature, so without this rule anyone could move a proof from one id
// of its key to another and give the operation a second encoding. An
// authorizing id wins over a smaller possession-only one, so that the
// canonical proof does the most a proof by that key can do: an operation
// valid under other names is valid under these (perhaps without proofs
// then not needed), and no DID is locked out. Keys that do not decode are
// skipped: a proof naming one is refused anyway.
func canonicalRefs(allowed map[string]did.VerificationMethod, addedByID map[string]keys.PublicKey, subject string) map[keys.PublicKey]string {
	out := make(map[keys.PublicKey]string, len(allowed)+len(addedByID))
	keep := func(m map[keys.PublicKey]string, pub keys.PublicKey, ref string) {
		if cur, ok := m[pub]; !ok || ref < cur {
			m[pub] = ref
		}
	}
	for ref, vm := range allowed {
		if pub, err := vm.PublicKey(); err == nil {
			keep(out, pub, relative(subject, ref))
		}
	}
	possession := make(map[keys.PublicKey]string, len(addedByID))
	for ref, pub := range addedByID {
		keep(possession, pub, relative(subject, ref))
	}
	for pub, ref := range possession {
		if _, ok := out[pub]; !ok {
			out[pub] = ref
		}
	}
	return out
}

// checkedProof is a proof that passed the checks that need no
// verification: the absolute id it names, whether that is an authorizing
// key, its key (and the key's multibase) and its signature, verified
// last.
type checkedProof struct {
	ref  string
	auth bool
	pub  keys.PublicKey
	sig  []byte
}

// unneeded returns the first proof without which the operation would
// still be valid, if there is one. proven counts the proofs by each added
// key. A proof is needed when it is the only authorizing one, or the only
// proof of possession of an added key (an authorizing proof by an added
// key is both). The rules are monotone (more proofs never make an
// operation invalid), so an operation none of whose proofs can be removed
// alone has no valid proper subset of proofs either: a third party cannot
// drop proofs to give it a second encoding.
func unneeded(checked []checkedProof, proven map[keys.PublicKey]int) (checkedProof, bool) {
	auths := 0
	for _, c := range checked {
		if c.auth {
			auths++
		}
	}
	for _, c := range checked {
		if c.auth && auths == 1 || proven[c.pub] == 1 {
			continue
		}
		return c, true
	}
	return checkedProof{}, false
}

// addedKeys returns the keys next adds to prev (see NewSigningKeys), in
// document order, each under the method holding it whose normalised id
// comes first in byte order, and every method id of next (made
// absolute against subject) that holds one. Each key is decoded once.
func addedKeys(prev, next *did.Document, subject string) ([]heldKey, map[string]keys.PublicKey) {
	byID := make(map[string]keys.PublicKey)
	if next == nil {
		return nil, byID
	}
	held := make(map[keys.PublicKey]bool)
	if prev != nil {
		for _, vm := range prev.AllMethods() {
			if pub, err := vm.PublicKey(); err == nil {
				held[pub] = true
			}
		}
	}
	var out []heldKey
	seen := make(map[keys.PublicKey]int) // key -> index in out
	for _, vm := range next.AllMethods() {
		pub, err := vm.PublicKey()
		if err != nil || pub.Algorithm() == "" || held[pub] {
			continue
		}
		byID[did.AbsoluteRef(subject, vm.ID)] = pub
		i, ok := seen[pub]
		if !ok {
			seen[pub] = len(out)
			out = append(out, heldKey{id: vm.ID, pub: pub})
		} else if relative(subject, did.AbsoluteRef(subject, vm.ID)) < relative(subject, did.AbsoluteRef(subject, out[i].id)) {
			out[i].id = vm.ID
		}
	}
	return out, byID
}

// NewSigningKeys returns the verification methods of next (top-level and
// embedded) whose key can sign (Ed25519, P-256; not X25519) and whose key
// material prev does not hold, one per distinct key, the method holding
// it whose id (relative "#frag" for next's own DID) comes first
// in byte order, in document order of the keys: the method a proof of
// possession must name (see authorize), unless the key is also an
// authorizing key. prev is nil for a create: then every
// signing key of next is new. next may be nil (a deactivate adds nothing).
// Apply requires a proof of possession by each: a proof, in the
// operation, by a method of next holding the key. A key carried over
// from prev, under any id, needs none.
func NewSigningKeys(prev, next *did.Document) []did.VerificationMethod {
	var subject string
	if next != nil {
		subject = next.ID
	}
	added, _ := addedKeys(prev, next, subject)
	if len(added) == 0 {
		return nil
	}
	out := make([]did.VerificationMethod, 0, len(added))
	ids := make(map[string]bool, len(added))
	for _, k := range added {
		ids[k.id] = true
	}
	for _, vm := range next.AllMethods() {
		if ids[vm.ID] {
			delete(ids, vm.ID)
			out = append(out, vm)
		}
	}
	return out
}

// relative turns a reference to a method of subject into "#frag" form.
func relative(subject, ref string) string {
	if frag, ok := strings.CutPrefix(ref, subject+"#"); ok {
		return "#" + frag
	}
	return ref
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
			out[did.AbsoluteRef(cdoc.ID, vm.ID)] = vm
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
		rec, v, _, err := loadLatest(r, c)
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("%w: controller %s does not exist", ErrUnauthorized, c)
		}
		if err != nil {
			return nil, err
		}
		if rec.Deactivated {
			return nil, fmt.Errorf("%w: controller %s is deactivated", ErrUnauthorized, c)
		}
		return v.Document, nil
	}
	return nil, checkControllerMethod(c)
}

// history is what an update adds to a DID's key history.
type history struct {
	events  []KeyEvent // one per key (material), in the DID's event log and the index
	removed []KeyEvent // one per removed method id
}

// write appends h's events to the DID's log, records the removed
// methods and marks the keys in the key-status index.
func (h *history) write(kv KV, rec *Record) error {
	for _, e := range h.events {
		if err := putJSON(kv, keyEventKey(rec.DID, rec.RotatedKeysTotal), e); err != nil {
			return err
		}
		rec.RotatedKeysTotal++
		if err := markKey(kv, rec.DID, e); err != nil {
			return err
		}
	}
	for _, e := range h.removed {
		if err := putJSON(kv, removedMethodKey(rec.DID, e.ID), e); err != nil {
			return err
		}
	}
	return nil
}

// heldKey is a key that a version of the DID held, and under which id.
type heldKey struct {
	id  string // absolute method id
	pub keys.PublicKey
}

// keyEvents returns the key history of replacing prev by next. Keys are
// compared by their public key. Every key of prev that next no longer
// has is retired, or compromised when one of its ids is listed in
// compromised. compromised may also name (relative or absolute) a method
// id that an earlier version held and an update removed: its key is
// marked compromised with no other change. A key that any DID marked
// compromised may not be added again; a document may keep one it holds
// (so that a mark by another DID cannot lock a DID out), but verifiers
// refuse its signatures.
func keyEvents(r Reader, prev, next *did.Document, compromised []string, ver *Version, at time.Time) (*history, error) {
	subject := prev.ID
	nextKeys := make(map[string]bool)
	nextIDs := make(map[string]string) // method id -> multibase
	for _, vm := range next.AllMethods() {
		if pub, err := vm.PublicKey(); err == nil {
			nextKeys[pub.Multibase()] = true
			nextIDs[did.AbsoluteRef(subject, vm.ID)] = pub.Multibase()
		}
	}
	// The keys of prev, first holder first, and every id holding one.
	var prevKeys []heldKey
	prevHas := make(map[string]bool)
	prevIDs := make(map[string]keys.PublicKey)
	for _, vm := range prev.AllMethods() {
		pub, err := vm.PublicKey()
		if err != nil {
			continue
		}
		id := did.AbsoluteRef(subject, vm.ID)
		if _, ok := prevIDs[id]; !ok {
			prevIDs[id] = pub
		}
		if !prevHas[pub.Multibase()] {
			prevHas[pub.Multibase()] = true
			prevKeys = append(prevKeys, heldKey{id: id, pub: pub})
		}
	}
	// The keys marked compromised, by multibase; earlier keys in order.
	marked := make(map[string]bool, len(compromised))
	var earlier []KeyEvent
	for _, c := range compromised {
		id := did.AbsoluteRef(subject, c)
		if pub, ok := prevIDs[id]; ok {
			marked[pub.Multibase()] = true
			continue
		}
		e, err := LoadRemovedMethod(r, subject, id)
		if err != nil {
			return nil, err
		}
		if e == nil {
			return nil, fmt.Errorf("%w: compromised %s names no key that a version of %s held", ErrInvalidOperation, id, subject)
		}
		if marked[e.PublicKeyMultibase] || prevHas[e.PublicKeyMultibase] {
			marked[e.PublicKeyMultibase] = true // the current key, named by an old id
			continue
		}
		marked[e.PublicKeyMultibase] = true
		earlier = append(earlier, KeyEvent{ID: id, Type: e.Type, PublicKeyMultibase: e.PublicKeyMultibase, Status: KeyCompromised, Version: ver.Number, VersionID: ver.VersionID, Time: at})
	}
	for _, mb := range slices.Sorted(maps.Keys(marked)) {
		if nextKeys[mb] {
			return nil, fmt.Errorf("%w: key %s is marked compromised but the new document keeps it", ErrInvalidOperation, mb)
		}
	}
	// No key that any DID marked compromised may be added.
	for _, mb := range slices.Sorted(maps.Keys(nextKeys)) {
		if prevHas[mb] {
			continue
		}
		s, err := loadKeyStatus(r, mb)
		if err != nil {
			return nil, err
		}
		if s.IsCompromised() {
			return nil, fmt.Errorf("%w: key %s was marked compromised (by %s) and cannot be used again", ErrInvalidOperation, mb, s.Compromised.ID)
		}
	}
	h := &history{}
	for _, k := range prevKeys {
		mb := k.pub.Multibase()
		if nextKeys[mb] {
			continue
		}
		status := KeyRetired
		if marked[mb] {
			status = KeyCompromised
		}
		h.events = append(h.events, KeyEvent{ID: k.id, Type: string(k.pub.Type()), PublicKeyMultibase: mb, Status: status, Version: ver.Number, VersionID: ver.VersionID, Time: at})
	}
	h.events = append(h.events, earlier...)
	// Every method id whose key is gone (or changed) is recorded as
	// removed, so that it can be named later and its signatures checked.
	for _, id := range slices.Sorted(maps.Keys(prevIDs)) {
		pub := prevIDs[id]
		mb := pub.Multibase()
		if nextIDs[id] == mb {
			continue
		}
		status := KeyRetired
		if marked[mb] {
			status = KeyCompromised
		}
		h.removed = append(h.removed, KeyEvent{ID: id, Type: string(pub.Type()), PublicKeyMultibase: mb, Status: status, Version: ver.Number, VersionID: ver.VersionID, Time: at})
	}
	return h, nil
}

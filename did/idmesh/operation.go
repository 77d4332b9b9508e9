package idmesh

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gowebpki/jcs"
	"github.com/mr-tron/base58"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/strictjson"
)

// Method is the DID method name.
const Method = "idmesh"

// Errors of operations. Apply wraps one of them, with the reason.
var (
	ErrInvalidOperation = errors.New("invalid operation")
	ErrUnauthorized     = errors.New("operation not authorized")
	ErrConflict         = errors.New("operation conflicts with the current version")
	ErrNotFound         = errors.New("DID not found")
	ErrDeactivated      = errors.New("DID is deactivated")
)

// Limits.
const (
	// MaxOperationBytes bounds an operation's JSON.
	MaxOperationBytes = 64 << 10
	// MaxProofs bounds an operation's proofs: one by an authorizing key
	// and one proof of possession for each key a document may add (see
	// NewSigningKeys); Apply refuses any proof beyond those the operation
	// needs. Each proof costs one signature verification.
	MaxProofs         = 1 + did.MaxVerificationMethods
	maxSignatureBytes = 128
)

// sigEncoding is base64url without padding, strict: a signature has one
// spelling, so an operation has one hash.
var sigEncoding = base64.RawURLEncoding.Strict()

// Type is an operation type.
type Type string

// Operation types.
const (
	Create     Type = "create"
	Update     Type = "update"
	Deactivate Type = "deactivate"
)

// Operation is a signed change to a did:idmesh DID.
type Operation struct {
	Type Type `json:"type"`
	// DID is the subject of an update or deactivate; empty for create,
	// whose DID is derived from the operation.
	DID string `json:"did,omitempty"`
	// Previous is the versionId that an update or deactivate replaces.
	Previous string `json:"previous,omitempty"`
	// Document is the new document. For create it is a template with no
	// id and relative ("#key-1") references; for update it may use
	// relative or absolute references.
	Document *did.Document `json:"document,omitempty"`
	// Compromised lists verification methods of the replaced version that
	// this update removes because their keys are compromised; other
	// removed keys are recorded as retired.
	Compromised []string `json:"compromised,omitempty"`
	// Proof holds the signatures.
	Proof []Proof `json:"proof,omitempty"`

	raw    []byte // the canonical JSON this operation was decoded from
	bodyOf []byte // body() of raw, computed once
	// What bodyOf determines, computed once by decode (see ids): its
	// digest, versionId and, for a create, DID. Empty otherwise.
	digest  *[32]byte
	vid     string
	subject string
	// checked remembers the document's state-free checks (docCheck);
	// set by decode only.
	checked *docCheck
}

// Proof is one signature over the operation's signing input.
type Proof struct {
	// VerificationMethod is the DID URL of the signing key (relative to
	// the operation's DID when it starts with "#").
	VerificationMethod string `json:"verificationMethod"`
	// Signature is base64url without padding: Ed25519, or P-256 r||s
	// over SHA-256, by the key's type.
	Signature string `json:"signature"`
}

// Decode parses an operation from JSON: bounded size, valid UTF-8, no
// duplicate or unknown members, then ValidateBasic. Whitespace and member
// order do not matter: Encode gives the canonical form.
//
// A payload already in canonical form (RFC 8785), as every operation
// admitted to the mempool is, is checked for that form, repeated members
// and depth in one scan instead of being canonicalized again, decoded in
// one pass, and shown by that pass to lose no member (no encoding again
// to compare); anything those cannot vouch for takes the long way
// (strictjson, jcs, encoding/json), which judges every input the same.
func Decode(b []byte) (*Operation, error) { return decode(b, true) }

// decode is Decode; fast false always takes the long way (tests compare).
func decode(b []byte, fast bool) (*Operation, error) {
	if len(b) > MaxOperationBytes {
		return nil, fmt.Errorf("%w: %d bytes exceeds %d", ErrInvalidOperation, len(b), MaxOperationBytes)
	}
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrInvalidOperation)
	}
	var canon []byte
	if fast = fast && isCanonical(b); fast {
		// Canonical, so jcs.Transform(b) is b; its member names strictly
		// ascend, so none repeats (strictjson.CheckDuplicates).
		canon = bytes.Clone(b)
	} else {
		if err := strictjson.CheckDuplicates(b); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidOperation, err)
		}
		var err error
		if canon, err = jcs.Transform(b); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidOperation, err)
		}
	}
	var op *Operation
	kept := false // shown that the model drops nothing of canon
	if fast {
		op, kept, _ = decodeTyped(canon)
	}
	if op == nil {
		dec := json.NewDecoder(bytes.NewReader(canon))
		dec.DisallowUnknownFields()
		op = new(Operation)
		if err := dec.Decode(op); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidOperation, err)
		}
	}
	op.raw = canon
	if err := op.ValidateBasic(); err != nil {
		return nil, err
	}
	// What is signed (the JSON as sent) must be what is stored (the JSON
	// as understood): no member may be dropped on the way, however deep.
	// The typed decode shows it for what it took (see decodeTyped);
	// anything else is encoded again and compared.
	if !kept {
		if err := checkKept(op, canon, fast); err != nil {
			return nil, err
		}
	}
	// Compute the body now: a decoded operation is never modified after,
	// so it may be shared between goroutines (see OpCache).
	if _, err := op.body(); err != nil {
		return nil, err
	}
	if err := op.normalizeProofs(); err != nil {
		return nil, err
	}
	op.ids()
	op.checked = newDocCheck(op)
	return op, nil
}

// checkKept checks that json.Marshal(op) keeps every member and value of
// canon, the canonical JSON op was decoded from: by keptAsSent when fast
// (canon was shown canonical), else, or when keptAsSent cannot show it,
// by subsumed on the decoded trees, which gives the reason.
func checkKept(op *Operation, canon []byte, fast bool) error {
	norm, err := json.Marshal(op)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidOperation, err)
	}
	if fast && keptAsSent(canon, norm) {
		return nil
	}
	var sent, kept any
	if err := json.Unmarshal(canon, &sent); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidOperation, err)
	}
	if err := json.Unmarshal(norm, &kept); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidOperation, err)
	}
	if err := subsumed(sent, kept, "operation"); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidOperation, err)
	}
	return nil
}

// ids computes once what a decoded operation's body determines: the
// digest, the versionId and a create's DID, which every check, batch and
// execution of the operation asks for (each a SHA-256 of the body, the
// DID also a base58 encoding). The body of a decoded operation is
// computed once too, so these are what Digest, VersionID and SubjectDID
// would compute from it.
func (op *Operation) ids() {
	if op.bodyOf == nil {
		return
	}
	d := sha256.Sum256(op.bodyOf)
	op.digest, op.vid = &d, hex.EncodeToString(d[:])
	if op.Type == Create {
		op.subject = "did:" + Method + ":" + base58.Encode(d[:])
	}
}

// normalizeProofs writes every proof's reference to a key of the
// operation's own DID in the relative form "#frag", in the proofs and in
// the canonical bytes, so that one operation has one encoding and one
// hash whichever spelling was sent; and it sorts the proofs by their
// verification method, for the same reason. The body (and so the versionId and
// the signing input) does not change: proofs are not part of it.
func (op *Operation) normalizeProofs() error {
	subject, err := op.SubjectDID()
	if err != nil {
		return err
	}
	changed := false
	for i, p := range op.Proof {
		if rel := relative(subject, p.VerificationMethod); rel != p.VerificationMethod {
			op.Proof[i].VerificationMethod = rel
			changed = true
		}
	}
	if !slices.IsSortedFunc(op.Proof, compareProofs) {
		sortProofs(op.Proof)
		changed = true
	}
	if !changed {
		return nil
	}
	// Two spellings of one key are two proofs by it.
	if err := op.ValidateBasic(); err != nil {
		return err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(op.raw, &m); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidOperation, err)
	}
	proofs, err := json.Marshal(op.Proof)
	if err != nil {
		return fmt.Errorf("encode operation: %w", err)
	}
	m["proof"] = proofs
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode operation: %w", err)
	}
	if op.raw, err = jcs.Transform(b); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidOperation, err)
	}
	return nil
}

// isEmpty reports whether v is JSON null, [] or {}.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// subsumed checks that every member and value of sent survives in kept,
// the operation as idmesh understood it. kept may add empty defaults and
// may write a lone string as a one-element array (JSON-LD's equivalence);
// anything else that differs is an unknown member or an unusable value.
func subsumed(sent, kept any, path string) error {
	switch s := sent.(type) {
	case map[string]any:
		k, ok := kept.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: unexpected object", path)
		}
		// In order of name, so that of several faults the same one is
		// reported every time.
		for _, name := range slices.Sorted(maps.Keys(s)) {
			v := s[name]
			kv, ok := k[name]
			if !ok {
				if isEmpty(v) {
					continue // an empty value the model leaves out
				}
				return fmt.Errorf("%s: unknown member %q", path, name)
			}
			if err := subsumed(v, kv, path+"."+name); err != nil {
				return err
			}
		}
		return nil
	case []any:
		k, ok := kept.([]any)
		if !ok && len(s) == 1 {
			// A one-element array the model writes as its element.
			return subsumed(s[0], kept, path+"[0]")
		}
		if !ok || len(k) != len(s) {
			return fmt.Errorf("%s: array not kept as sent", path)
		}
		for i := range s {
			if err := subsumed(s[i], k[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case string:
		if k, ok := kept.([]any); ok && len(k) == 1 && k[0] == s {
			return nil
		}
	}
	if !reflect.DeepEqual(sent, kept) {
		return fmt.Errorf("%s: value not kept as sent", path)
	}
	return nil
}

// Encode returns the canonical JSON (RFC 8785) of the operation.
func (op *Operation) Encode() ([]byte, error) {
	if op.raw != nil {
		return op.raw, nil
	}
	b, err := json.Marshal(op)
	if err != nil {
		return nil, fmt.Errorf("encode operation: %w", err)
	}
	return jcs.Transform(b)
}

// body returns the canonical JSON of the operation without its proofs.
func (op *Operation) body() ([]byte, error) {
	if op.raw == nil {
		c := *op
		c.Proof = nil
		b, err := json.Marshal(&c)
		if err != nil {
			return nil, fmt.Errorf("encode operation: %w", err)
		}
		return jcs.Transform(b)
	}
	if op.bodyOf != nil {
		return op.bodyOf, nil
	}
	if b, ok := withoutMember(op.raw, `"proof"`); ok {
		op.bodyOf = b
		return b, nil
	}
	return op.bodySlow()
}

// bodySlow is body by decoding and re-encoding raw: what withoutMember
// gives in one pass (a test checks that both agree).
func (op *Operation) bodySlow() ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(op.raw, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOperation, err)
	}
	delete(m, "proof")
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode operation: %w", err)
	}
	if b, err = jcs.Transform(b); err != nil {
		return nil, err
	}
	op.bodyOf = b
	return b, nil
}

// withoutMember returns the canonical JSON (RFC 8785) object obj without
// its top-level member named key (a JSON string as encoded, quotes
// included), in a fresh slice. Removing a member from a canonical object
// leaves the canonical form of the rest: the members keep their sorted
// order and their bytes. ok is false when obj is not an object this scan
// understands; the caller then decodes and re-encodes instead.
func withoutMember(obj []byte, key string) (_ []byte, ok bool) {
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return nil, false
	}
	i := 1
	for i < len(obj)-1 {
		start := i
		end, ok := skipString(obj, i)
		if !ok || end >= len(obj) || obj[end] != ':' {
			return nil, false
		}
		name := obj[start:end]
		if end, ok = skipValue(obj, end+1); !ok {
			return nil, false
		}
		if string(name) == key {
			out := make([]byte, 0, len(obj))
			switch {
			case obj[end] == ',':
				out = append(append(out, obj[:start]...), obj[end+1:]...)
			case start > 1: // the last member: drop the comma before it
				out = append(append(out, obj[:start-1]...), obj[end:]...)
			default: // the only member
				out = append(out, '{', '}')
			}
			return out, true
		}
		switch obj[end] {
		case ',':
			i = end + 1
		case '}':
			if end != len(obj)-1 {
				return nil, false
			}
			return append([]byte(nil), obj...), true
		default:
			return nil, false
		}
	}
	return append([]byte(nil), obj...), len(obj) == 2
}

// skipString returns the index after the JSON string starting at b[i].
func skipString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// skipValue returns the index after the JSON value starting at b[i]
// (compact JSON, as canonical JSON is): the index of the ',' or '}' that
// follows it in its object.
func skipValue(b []byte, i int) (int, bool) {
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			end, ok := skipString(b, i)
			if !ok {
				return 0, false
			}
			i = end
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i, c == '}'
			}
			depth--
		case ',':
			if depth == 0 {
				return i, true
			}
		}
		i++
	}
	return 0, false
}

// Digest returns SHA-256 of the canonical operation without its proofs.
// It is the versionId of the version the operation makes.
func (op *Operation) Digest() ([32]byte, error) {
	if op.digest != nil {
		return *op.digest, nil
	}
	b, err := op.body()
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// VersionID returns the versionId of the version this operation makes.
func (op *Operation) VersionID() (string, error) {
	if op.vid != "" {
		return op.vid, nil
	}
	d, err := op.Digest()
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(d[:]), nil
}

// SubjectDID returns the DID the operation is about: the derived DID for
// create, op.DID otherwise.
func (op *Operation) SubjectDID() (string, error) {
	if op.Type != Create {
		return op.DID, nil
	}
	if op.subject != "" {
		return op.subject, nil
	}
	d, err := op.Digest()
	if err != nil {
		return "", err
	}
	return "did:" + Method + ":" + base58.Encode(d[:]), nil
}

// SigningInput returns the bytes each proof signs on chainID.
func (op *Operation) SigningInput(chainID string) ([]byte, error) {
	b, err := op.body()
	if err != nil {
		return nil, err
	}
	in := make([]byte, 0, 32+len(chainID)+len(b))
	in = append(in, "idmesh/did-operation/v1\x00"...)
	in = append(in, chainID...)
	in = append(in, 0)
	return append(in, b...), nil
}

// signingInput is SigningInput, made once per decoded operation and chain
// (an operation is checked at admission and again in its block, each
// check asking for it): the caller must not modify what it returns.
func (op *Operation) signingInput(chainID string) ([]byte, error) {
	c := op.memos()
	if c == nil {
		return op.SigningInput(chainID)
	}
	if p := c.signed.Load(); p != nil && p.chainID == chainID {
		return p.input, nil
	}
	in, err := op.SigningInput(chainID)
	if err != nil {
		return nil, err
	}
	c.signed.Store(&signingInputFor{chainID: chainID, input: in})
	return in, nil
}

// Sign appends a proof by key k, named vm, over the operation on chainID.
// Call it after the operation is complete: changing the operation after
// signing invalidates the proofs.
func (op *Operation) Sign(chainID, vm string, k keys.PrivateKey) error {
	op.raw, op.bodyOf, op.digest, op.vid, op.subject, op.checked = nil, nil, nil, "", "", nil
	in, err := op.SigningInput(chainID)
	if err != nil {
		return err
	}
	sig, err := k.Sign(in)
	if err != nil {
		return fmt.Errorf("sign operation: %w", err)
	}
	op.Proof = append(op.Proof, Proof{VerificationMethod: vm, Signature: sigEncoding.EncodeToString(sig)})
	sortProofs(op.Proof)
	return nil
}

// Signer is a key that signs an operation, and the verification method
// (relative "#frag" for the operation's own DID, else absolute) that
// names it.
type Signer struct {
	VM  string
	Key keys.PrivateKey
}

// SignAll appends a proof by each signer over the operation on chainID:
// the authorizing key and one proof of possession per key the operation
// adds (NewSigningKeys), and no other, as Apply refuses a proof the
// operation does not need. Call it after the operation is complete.
func (op *Operation) SignAll(chainID string, signers ...Signer) error {
	for _, s := range signers {
		if err := op.Sign(chainID, s.VM, s.Key); err != nil {
			return err
		}
	}
	return nil
}

// sortProofs puts proofs in the order of their verification methods:
// proofs are a set, and one operation has one encoding whatever order
// they were made or sent in.
func sortProofs(ps []Proof) { slices.SortStableFunc(ps, compareProofs) }

// compareProofs orders proofs by verification method, then signature.
func compareProofs(a, b Proof) int {
	if c := strings.Compare(a.VerificationMethod, b.VerificationMethod); c != 0 {
		return c
	}
	return strings.Compare(a.Signature, b.Signature)
}

// ValidateBasic checks what needs no state.
func (op *Operation) ValidateBasic() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidOperation, fmt.Sprintf(format, a...))
	}
	switch op.Type {
	case Create:
		if op.DID != "" || op.Previous != "" {
			return bad("create names no did and no previous version")
		}
		if op.Document == nil {
			return bad("create needs a document")
		}
		if op.Document.ID != "" {
			return bad("the create document must have no id: the DID is derived from the operation")
		}
		if len(op.Compromised) > 0 {
			return bad("create cannot mark keys compromised")
		}
	case Update, Deactivate:
		if err := ValidateDID(op.DID); err != nil {
			return err
		}
		if b, err := hex.DecodeString(op.Previous); err != nil || len(b) != 32 || hex.EncodeToString(b) != op.Previous {
			return bad("previous must be the versionId being replaced: 64 lowercase hex digits")
		}
		if op.Type == Update && op.Document == nil {
			return bad("update needs a document")
		}
		if op.Type == Deactivate && (op.Document != nil || len(op.Compromised) > 0) {
			return bad("deactivate carries no document and no compromised keys")
		}
	default:
		return bad("unknown type %q", op.Type)
	}
	if len(op.Proof) == 0 {
		return bad("no proof")
	}
	if len(op.Proof) > MaxProofs {
		return bad("%d proofs, at most %d", len(op.Proof), MaxProofs)
	}
	if len(op.Compromised) > 64 {
		return bad("too many compromised keys")
	}
	seen := make(map[string]bool, len(op.Proof))
	for _, p := range op.Proof {
		if p.VerificationMethod == "" || len(p.VerificationMethod) > 2048 {
			return bad("proof without a verification method")
		}
		if p.Signature == "" {
			return bad("proof by %s without a signature", p.VerificationMethod)
		}
		if seen[p.VerificationMethod] {
			return bad("two proofs by %s", p.VerificationMethod)
		}
		seen[p.VerificationMethod] = true
		if len(p.Signature) > base64.RawURLEncoding.EncodedLen(maxSignatureBytes) {
			return bad("signature too long")
		}
		if _, err := sigEncoding.DecodeString(p.Signature); err != nil {
			return bad("signature is not base64url: %v", err)
		}
	}
	return nil
}

// ValidateDID checks that s is a syntactically valid did:idmesh DID.
func ValidateDID(s string) error {
	d, err := did.Parse(s)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidOperation, err)
	}
	if d.Method != Method {
		return fmt.Errorf("%w: %s is not a did:%s DID", ErrInvalidOperation, s, Method)
	}
	b, err := base58.Decode(d.ID)
	if err != nil || len(b) != sha256.Size || base58.Encode(b) != d.ID {
		return fmt.Errorf("%w: %s: the method-specific id must be a base58btc SHA-256 digest", ErrInvalidOperation, s)
	}
	return nil
}

// NewCreate returns a create operation, signed for chainID, of a document
// with one Multikey "#key-1" for k under authentication, assertionMethod,
// capabilityInvocation and capabilityDelegation, and the given services.
func NewCreate(chainID string, k keys.PrivateKey, services ...did.Service) (*Operation, error) {
	ref := []did.Relationship{did.Ref("#key-1")}
	doc := &did.Document{
		Context:              []any{did.ContextV1, did.ContextMultikey},
		VerificationMethod:   []did.VerificationMethod{did.NewMultikey("#key-1", "", k.Public())},
		Authentication:       ref,
		AssertionMethod:      ref,
		CapabilityInvocation: ref,
		CapabilityDelegation: ref,
		Service:              services,
	}
	op := &Operation{Type: Create, Document: doc}
	if err := op.Sign(chainID, "#key-1", k); err != nil {
		return nil, err
	}
	return op, nil
}

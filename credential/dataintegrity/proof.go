package dataintegrity

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/idmesh/idmesh/credential"
)

// Names this package reads and writes.
const (
	// ProofType is the only proof type these cryptosuites use.
	ProofType = "DataIntegrityProof"
	// CryptosuiteRDFC canonicalizes with RDFC-1.0.
	CryptosuiteRDFC = "eddsa-rdfc-2022"
	// CryptosuiteJCS canonicalizes with JCS (RFC 8785).
	CryptosuiteJCS = "eddsa-jcs-2022"
	// ProofTypeEd25519Signature2020 is the legacy proof type of
	// https://w3id.org/security/suites/ed25519-2020/v1, widely used with
	// VC Data Model 1.1. It is verified, never produced.
	ProofTypeEd25519Signature2020 = "Ed25519Signature2020"
	// Ed25519Signature2020Context defines Ed25519Signature2020's terms.
	Ed25519Signature2020Context = "https://w3id.org/security/suites/ed25519-2020/v1"
)

// MaxProofs bounds the proofs a document may carry, in a set or a chain.
// Verifying costs one canonicalization per distinct covered document, so
// the bound keeps a hostile document from multiplying the work.
const MaxProofs = 16

// Errors wrapped (inside a [credential.Error] that carries the code).
var (
	// ErrNoProof reports a document without a proof.
	ErrNoProof = errors.New("document has no proof")
	// ErrTooManyProofs reports a proof set larger than [MaxProofs].
	ErrTooManyProofs = errors.New("too many proofs")
	// ErrInvalidSignature reports a signature that does not verify.
	ErrInvalidSignature = errors.New("signature does not verify")
	// ErrPreviousProof reports a previousProof that names no proof of
	// the set, a duplicate proof id, a cycle, or a referenced proof that
	// failed.
	ErrPreviousProof = errors.New("invalid previousProof")
)

// Proof is a Data Integrity proof (VC Data Integrity 1.0, section 2.1).
// Empty strings are absent members.
type Proof struct {
	ID                 string
	Type               string
	Cryptosuite        string
	VerificationMethod string
	ProofPurpose       string
	Created            string // XML Schema dateTimeStamp
	Expires            string // XML Schema dateTimeStamp
	Challenge          string
	// Domain is the domain when the proof gives one string.
	Domain string
	// Domains is the domain when the proof gives an array; then Domain
	// is empty. MarshalJSON writes an array when Domains is non-nil.
	Domains    []string
	Nonce      string
	ProofValue string
	// PreviousProof lists the ids of the proofs this one chains to. JSON
	// holds a string (one id) or an array.
	PreviousProof []string
	// Context is the proof's "@context" (eddsa-jcs-2022 copies the
	// document's), or nil.
	Context any
}

// Name is the proof's cryptosuite, or its type when it has none (a
// legacy suite such as Ed25519Signature2020).
func (p Proof) Name() string {
	if p.Cryptosuite != "" {
		return p.Cryptosuite
	}
	return p.Type
}

// domainSet returns the proof's domain as a set (Domain or Domains).
func (p Proof) domainSet() []string {
	if p.Domains != nil {
		return p.Domains
	}
	if p.Domain != "" {
		return []string{p.Domain}
	}
	return nil
}

// MarshalJSON writes the proof as a JSON object.
func (p Proof) MarshalJSON() ([]byte, error) {
	return json.Marshal(p.toMap())
}

// UnmarshalJSON reads a proof object. Members of the wrong JSON type are
// errors; unknown members are ignored here (verification hashes them).
func (p *Proof) UnmarshalJSON(b []byte) error {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return credential.Errorf(credential.MalformedProofError, "decode proof: %w", err)
	}
	if m == nil {
		return credential.Errorf(credential.MalformedProofError, "decode proof: not an object")
	}
	q, err := parseProof(m)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// toMap returns the JSON object form of p.
func (p Proof) toMap() map[string]any {
	m := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("id", p.ID)
	set("type", p.Type)
	set("cryptosuite", p.Cryptosuite)
	set("verificationMethod", p.VerificationMethod)
	set("proofPurpose", p.ProofPurpose)
	set("created", p.Created)
	set("expires", p.Expires)
	set("challenge", p.Challenge)
	if p.Domains != nil {
		m["domain"] = stringsToAny(p.Domains)
	} else {
		set("domain", p.Domain)
	}
	set("nonce", p.Nonce)
	switch len(p.PreviousProof) {
	case 0:
	case 1:
		m["previousProof"] = p.PreviousProof[0]
	default:
		m["previousProof"] = stringsToAny(p.PreviousProof)
	}
	if p.Context != nil {
		m["@context"] = p.Context
	}
	set("proofValue", p.ProofValue)
	return m
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// parseProof reads the members of a proof object. It checks JSON types
// and the dateTime syntax, not the values a cryptosuite requires.
func parseProof(m map[string]any) (Proof, error) {
	var p Proof
	str := func(k string, dst *string) error {
		v, ok := m[k]
		if !ok {
			return nil
		}
		s, ok := v.(string)
		if !ok {
			return credential.Errorf(credential.MalformedProofError, "proof %s is %T, want a string", k, v)
		}
		*dst = s
		return nil
	}
	for _, f := range []struct {
		k   string
		dst *string
	}{
		{"id", &p.ID}, {"type", &p.Type}, {"cryptosuite", &p.Cryptosuite},
		{"verificationMethod", &p.VerificationMethod}, {"proofPurpose", &p.ProofPurpose},
		{"created", &p.Created}, {"expires", &p.Expires}, {"challenge", &p.Challenge},
		{"nonce", &p.Nonce}, {"proofValue", &p.ProofValue},
	} {
		if err := str(f.k, f.dst); err != nil {
			return Proof{}, err
		}
	}
	// sec:expiration has two standard names: "expires" (Data Integrity)
	// and "expiration" (the security vocabulary's contexts). Either is
	// the proof's expiry: a holder who renames one to the other, under a
	// context that defines it, signs the same graph.
	var expiration string
	if err := str("expiration", &expiration); err != nil {
		return Proof{}, err
	}
	switch {
	case expiration == "":
	case p.Expires == "":
		p.Expires = expiration
	case p.Expires != expiration:
		return Proof{}, credential.Errorf(credential.MalformedProofError, "proof expires %q and expiration %q differ: they name one property", p.Expires, expiration)
	}
	if v, ok := m["domain"]; ok {
		switch d := v.(type) {
		case string:
			p.Domain = d
		case []any:
			ds, err := stringList("domain", d)
			if err != nil {
				return Proof{}, err
			}
			p.Domains = ds
		default:
			return Proof{}, credential.Errorf(credential.MalformedProofError, "proof domain is %T, want a string or an array", v)
		}
	}
	if v, ok := m["previousProof"]; ok {
		switch pp := v.(type) {
		case string:
			p.PreviousProof = []string{pp}
		case []any:
			ps, err := stringList("previousProof", pp)
			if err != nil {
				return Proof{}, err
			}
			p.PreviousProof = ps
		default:
			return Proof{}, credential.Errorf(credential.MalformedProofError, "proof previousProof is %T, want a string or an array", v)
		}
	}
	p.Context = m["@context"]
	for _, f := range []struct{ k, v string }{{"created", p.Created}, {"expires", p.Expires}} {
		if _, ok := m[f.k]; ok {
			if _, err := ParseDateTime(f.v); err != nil {
				return Proof{}, credential.Errorf(credential.InvalidProofDatetime, "proof %s: %w", f.k, err)
			}
		}
	}
	return p, nil
}

func stringList(name string, vs []any) ([]string, error) {
	out := make([]string, len(vs))
	for i, v := range vs {
		s, ok := v.(string)
		if !ok {
			return nil, credential.Errorf(credential.MalformedProofError, "proof %s[%d] is %T, want a string", name, i, v)
		}
		out[i] = s
	}
	return out, nil
}

// dateTimeStamp is the lexical space of XML Schema 1.1 dateTimeStamp
// (a dateTime with a mandatory time zone), limited to four-digit years
// and without the end-of-day form 24:00:00.
var dateTimeStamp = regexp.MustCompile(
	`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`)

// ParseDateTime parses an XML Schema dateTimeStamp, the form of created
// and expires: "2023-02-24T23:36:38Z" or with an offset such as
// "+01:00" and optional fractional seconds.
func ParseDateTime(s string) (time.Time, error) {
	if !dateTimeStamp.MatchString(s) {
		return time.Time{}, fmt.Errorf("%q is not an XML Schema dateTimeStamp", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an XML Schema dateTimeStamp: %w", s, err)
	}
	// time.Parse accepts offsets up to ±24h; XML Schema allows ±14:00.
	if _, off := t.Zone(); off > 14*3600 || off < -14*3600 {
		return time.Time{}, fmt.Errorf("%q: time zone offset out of range", s)
	}
	return t, nil
}

// FormatDateTime formats t as created and expires are written: UTC,
// whole seconds ("2006-01-02T15:04:05Z").
func FormatDateTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

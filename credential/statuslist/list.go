package statuslist

import (
	"math"
	"slices"
	"time"

	"github.com/idmesh/idmesh/credential"
)

// List is a parsed BitstringStatusListCredential. Its proofs are not
// checked here: the verifier checks them, and that the issuer is trusted,
// before it relies on the list.
type List struct {
	// ID is the credential's id, which should equal the entries'
	// statusListCredential; empty when absent.
	ID string
	// SubjectID is credentialSubject.id; empty when absent.
	SubjectID string
	// Issuer is the list credential's issuer, which may differ from the
	// issuer of the credentials whose status it holds.
	Issuer string
	// Purposes is credentialSubject.statusPurpose: one or more purposes.
	Purposes []string
	// Bits is the decoded credentialSubject.encodedList.
	Bits *Bitstring
	// Size is credentialSubject.statusSize, or 0 when absent.
	Size int
	// ValidFrom and ValidUntil bound the list's validity period; zero when
	// absent. Checking them against the time is the caller's job.
	ValidFrom, ValidUntil time.Time
	// TTL is credentialSubject.ttl, the time before a refresh should be
	// attempted; zero when absent. It does not extend ValidUntil.
	TTL time.Duration
	// Credential is the credential as the data model parsed it.
	Credential *credential.Credential
}

// ParseListCredential validates a BitstringStatusListCredential (its data
// model, type, credentialSubject of type BitstringStatusList with one or
// more statusPurpose strings, a 'u'-prefixed encodedList and an optional
// ttl) and decodes its list within maxBits (see [Decode]). A list shorter
// than [MinLength] bits fails with STATUS_LIST_LENGTH_ERROR; malformed
// members fail with MALFORMED_VALUE_ERROR. The object is kept, not copied.
func ParseListCredential(m map[string]any, maxBits int) (*List, error) {
	c, err := credential.CredentialFrom(m)
	if err != nil {
		return nil, err
	}
	if !c.HasType(TypeListCredential) {
		return nil, malformed("status list credential: type must include %s", TypeListCredential)
	}
	if len(c.Subjects) != 1 {
		return nil, malformed("status list credential: credentialSubject must be one BitstringStatusList")
	}
	s := c.Subjects[0]
	l := &List{ID: c.ID, Issuer: c.Issuer, ValidFrom: c.ValidFrom, ValidUntil: c.ValidUntil, Credential: c}
	if !hasType(s["type"], TypeList) {
		return nil, malformed("status list credential: credentialSubject.type must be %s", TypeList)
	}
	l.SubjectID, _ = s["id"].(string) // a URL, checked by CredentialFrom
	if l.Purposes, err = purposes(s["statusPurpose"]); err != nil {
		return nil, err
	}
	enc, ok := s["encodedList"].(string)
	if !ok || len(enc) == 0 || enc[0] != 'u' {
		return nil, malformed("status list credential: encodedList must be a multibase base64url string (prefix 'u')")
	}
	if l.Bits, err = Decode(enc, maxBits); err != nil {
		return nil, err
	}
	if l.Bits.Len() < MinLength {
		return nil, credential.Errorf(credential.StatusListLengthError, "status list of %d bits is shorter than %d", l.Bits.Len(), MinLength)
	}
	if raw, ok := s["statusSize"]; ok {
		n, ok := integer(raw)
		if !ok || n < 1 {
			return nil, malformed("status list credential: statusSize must be an integer greater than zero")
		}
		if n > MaxStatusSize {
			return nil, credential.Errorf(credential.RangeError, "status list credential: statusSize %d is over %d", n, MaxStatusSize)
		}
		l.Size = int(n)
	}
	if raw, ok := s["ttl"]; ok {
		n, ok := integer(raw)
		if !ok || n < 0 || n > math.MaxInt64/int64(time.Millisecond) {
			return nil, malformed("status list credential: ttl must be a non-negative integer of milliseconds")
		}
		l.TTL = time.Duration(n) * time.Millisecond
	}
	return l, nil
}

func purposes(raw any) ([]string, error) {
	const msg = "status list credential: statusPurpose must be one or more non-empty strings"
	switch v := raw.(type) {
	case string:
		if v == "" {
			return nil, malformed(msg)
		}
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, el := range v {
			s, ok := el.(string)
			if !ok || s == "" {
				return nil, malformed(msg)
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil, malformed(msg)
		}
		return out, nil
	}
	return nil, malformed(msg)
}

// NewListCredential returns an unsigned BitstringStatusListCredential
// (VC Data Model 2.0, whose base context defines the status list terms)
// for bits with one purpose; the credentialSubject id is id + "#list".
// validFrom is written when it is not zero, to the millisecond when it
// has a fraction. A list shorter than [MinLength] fails with
// STATUS_LIST_LENGTH_ERROR.
func NewListCredential(id, issuer, purpose string, bits *Bitstring, validFrom time.Time) (map[string]any, error) {
	if !credential.IsURL(id) {
		return nil, malformed("status list credential: id %q is not a URL", id)
	}
	if !credential.IsURL(issuer) {
		return nil, malformed("status list credential: issuer %q is not a URL", issuer)
	}
	if purpose == "" {
		return nil, malformed("status list credential: statusPurpose is empty")
	}
	if bits == nil || bits.Len() < MinLength {
		n := 0
		if bits != nil {
			n = bits.Len()
		}
		return nil, credential.Errorf(credential.StatusListLengthError, "status list of %d bits is shorter than %d", n, MinLength)
	}
	enc, err := bits.Encode()
	if err != nil {
		return nil, err
	}
	m := map[string]any{
		"@context": []any{credential.ContextV2},
		"id":       id,
		"type":     []any{credential.TypeCredential, TypeListCredential},
		"issuer":   issuer,
		"credentialSubject": map[string]any{
			"id":            id + "#list",
			"type":          TypeList,
			"statusPurpose": purpose,
			"encodedList":   enc,
		},
	}
	if !validFrom.IsZero() {
		m["validFrom"] = formatTime(validFrom)
	}
	return m, nil
}

// formatTime writes t in UTC as RFC 3339, with milliseconds when t has a
// fraction of a second.
func formatTime(t time.Time) string {
	t = t.UTC().Truncate(time.Millisecond)
	if t.Nanosecond() == 0 {
		return t.Format(time.RFC3339)
	}
	return t.Format("2006-01-02T15:04:05.000Z07:00")
}

// Status is the result of [Check]: the spec's validation result.
type Status struct {
	// Purpose is the entry's statusPurpose.
	Purpose string
	// Value is the entry's value in the list (0 or 1 for statusSize 1).
	Value int
	// Set reports a non-zero value: for revocation, revoked; for
	// suspension, suspended. The spec's "valid" is !Set.
	Set bool
	// Message is the statusMessage message for Value, or "set"/"unset"
	// for a 1-bit entry without statusMessage.
	Message string
}

// Check runs the specification's validate algorithm on an entry and its
// list, whose proofs the caller has verified. It fails with
// STATUS_VERIFICATION_ERROR when the list is not the entry's (ids differ),
// does not carry the entry's purpose or declares another statusSize; with
// STATUS_LIST_LENGTH_ERROR when the list holds fewer than [MinLength]
// entries of the entry's size; and with RANGE_ERROR when the index is
// outside the list.
func Check(e Entry, l *List) (Status, error) {
	if l == nil || l.Bits == nil {
		return Status{}, credential.Errorf(credential.StatusVerificationError, "no status list")
	}
	if l.ID != "" && e.ListCredential != "" && l.ID != e.ListCredential {
		return Status{}, credential.Errorf(credential.StatusVerificationError, "status list %s is not the entry's list %s", l.ID, e.ListCredential)
	}
	if !slices.Contains(l.Purposes, e.Purpose) {
		return Status{}, credential.Errorf(credential.StatusVerificationError, "status list purposes %q do not include %q", l.Purposes, e.Purpose)
	}
	size := e.size()
	if l.Size != 0 && l.Size != size {
		return Status{}, credential.Errorf(credential.StatusVerificationError, "entry statusSize %d does not match the list's %d", size, l.Size)
	}
	if size > MaxStatusSize {
		return Status{}, credential.Errorf(credential.RangeError, "statusSize %d is over %d", size, MaxStatusSize)
	}
	if n := l.Bits.Entries(size); n < MinLength {
		return Status{}, credential.Errorf(credential.StatusListLengthError, "status list holds %d entries of %d bits, fewer than %d", n, size, MinLength)
	}
	v, err := l.Bits.Value(e.Index, size)
	if err != nil {
		return Status{}, err
	}
	st := Status{Purpose: e.Purpose, Value: v, Set: v != 0}
	switch {
	case v < len(e.Messages):
		st.Message = e.Messages[v].Message
	case size == 1 && v == 0:
		st.Message = "unset"
	case size == 1:
		st.Message = "set"
	}
	return st, nil
}

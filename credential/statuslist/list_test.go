package statuslist_test

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/statuslist"
)

const (
	listURL = "https://example.com/credentials/status/3"
	issuer  = "did:example:12345"
)

func mustList(tb testing.TB, length int, set ...int) *statuslist.Bitstring {
	tb.Helper()
	b, err := statuslist.New(length)
	if err != nil {
		tb.Fatal(err)
	}
	for _, i := range set {
		if err := b.Set(i, true); err != nil {
			tb.Fatal(err)
		}
	}
	return b
}

// roundTrip passes m through JSON, as a verifier would receive it.
func roundTrip(tb testing.TB, m map[string]any) map[string]any {
	tb.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return mustDecode(tb, b)
}

func TestNewListCredential(t *testing.T) {
	bits := mustList(t, statuslist.MinLength, 94567)
	from := time.Date(2025, 3, 1, 12, 0, 0, 250_000_000, time.FixedZone("", 3600))
	m, err := statuslist.NewListCredential(listURL, issuer, statuslist.PurposeRevocation, bits, from)
	if err != nil {
		t.Fatal(err)
	}
	if got := m["validFrom"]; got != "2025-03-01T11:00:00.250Z" {
		t.Errorf("validFrom = %v", got)
	}
	if got := m["@context"].([]any); !slices.Equal(got, []any{credential.ContextV2}) {
		t.Errorf("@context = %v", got)
	}
	l, err := statuslist.ParseListCredential(roundTrip(t, m), 0)
	if err != nil {
		t.Fatal(err)
	}
	if l.ID != listURL || l.SubjectID != listURL+"#list" || l.Issuer != issuer || !l.ValidFrom.Equal(from) ||
		!slices.Equal(l.Purposes, []string{"revocation"}) || !l.Bits.Equal(bits) || l.TTL != 0 || l.Size != 0 {
		t.Fatalf("list = %+v", l)
	}
	// Whole seconds are written without a fraction; zero is omitted.
	m, _ = statuslist.NewListCredential(listURL, issuer, "suspension", bits, time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	if got := m["validFrom"]; got != "2025-03-01T12:00:00Z" {
		t.Errorf("validFrom = %v", got)
	}
	m, _ = statuslist.NewListCredential(listURL, issuer, "suspension", bits, time.Time{})
	if _, ok := m["validFrom"]; ok {
		t.Error("zero validFrom written")
	}
}

func TestNewListCredentialErrors(t *testing.T) {
	ok := mustList(t, statuslist.MinLength)
	for _, tt := range []struct {
		name, id, issuer, purpose string
		bits                      *statuslist.Bitstring
		code                      credential.Code
	}{
		{"short list", listURL, issuer, "revocation", mustList(t, statuslist.MinLength-8), credential.StatusListLengthError},
		{"no list", listURL, issuer, "revocation", nil, credential.StatusListLengthError},
		{"relative id", "/status/3", issuer, "revocation", ok, credential.MalformedValueError},
		{"no issuer", listURL, "", "revocation", ok, credential.MalformedValueError},
		{"no purpose", listURL, issuer, "", ok, credential.MalformedValueError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := statuslist.NewListCredential(tt.id, tt.issuer, tt.purpose, tt.bits, time.Time{})
			wantCode(t, err, tt.code)
		})
	}
}

func validListCredential(tb testing.TB) map[string]any {
	tb.Helper()
	m, err := statuslist.NewListCredential(listURL, issuer, "revocation", mustList(tb, statuslist.MinLength, 5), time.Date(2021, 4, 5, 14, 27, 40, 0, time.UTC))
	if err != nil {
		tb.Fatal(err)
	}
	return roundTrip(tb, m)
}

func subject(m map[string]any) map[string]any { return m["credentialSubject"].(map[string]any) }

func TestParseListCredentialErrors(t *testing.T) {
	enc := func(tb testing.TB, length int) string {
		s, err := mustList(tb, length).Encode()
		if err != nil {
			tb.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name    string
		edit    func(t *testing.T, m map[string]any)
		maxBits int
		code    credential.Code
	}{
		{"short list", func(t *testing.T, m map[string]any) { subject(m)["encodedList"] = enc(t, statuslist.MinLength-8) }, 0, credential.StatusListLengthError},
		{"16-bit list", func(t *testing.T, m map[string]any) { subject(m)["encodedList"] = enc(t, 16) }, 0, credential.StatusListLengthError},
		{"list over maxBits", func(*testing.T, map[string]any) {}, statuslist.MinLength - 8, credential.RangeError},
		{"unprefixed encodedList", func(_ *testing.T, m map[string]any) {
			s := subject(m)
			s["encodedList"] = s["encodedList"].(string)[1:]
		}, 0, credential.MalformedValueError},
		{"base58 encodedList", func(_ *testing.T, m map[string]any) { subject(m)["encodedList"] = "z6Mk" }, 0, credential.MalformedValueError},
		{"not gzip", func(_ *testing.T, m map[string]any) { subject(m)["encodedList"] = u(make([]byte, 16384)) }, 0, credential.MalformedValueError},
		{"no encodedList", func(_ *testing.T, m map[string]any) { delete(subject(m), "encodedList") }, 0, credential.MalformedValueError},
		{"encodedList not a string", func(_ *testing.T, m map[string]any) { subject(m)["encodedList"] = json.Number("0") }, 0, credential.MalformedValueError},
		{"no BitstringStatusListCredential type", func(_ *testing.T, m map[string]any) { m["type"] = []any{"VerifiableCredential"} }, 0, credential.MalformedValueError},
		{"no VerifiableCredential type", func(_ *testing.T, m map[string]any) { m["type"] = []any{"BitstringStatusListCredential"} }, 0, credential.MalformedValueError},
		{"subject type", func(_ *testing.T, m map[string]any) { subject(m)["type"] = "StatusList2021" }, 0, credential.MalformedValueError},
		{"two subjects", func(_ *testing.T, m map[string]any) { m["credentialSubject"] = []any{subject(m), subject(m)} }, 0, credential.MalformedValueError},
		{"no purpose", func(_ *testing.T, m map[string]any) { delete(subject(m), "statusPurpose") }, 0, credential.MalformedValueError},
		{"empty purpose", func(_ *testing.T, m map[string]any) { subject(m)["statusPurpose"] = "" }, 0, credential.MalformedValueError},
		{"empty purpose array", func(_ *testing.T, m map[string]any) { subject(m)["statusPurpose"] = []any{} }, 0, credential.MalformedValueError},
		{"purpose array with a number", func(_ *testing.T, m map[string]any) {
			subject(m)["statusPurpose"] = []any{"revocation", json.Number("1")}
		}, 0, credential.MalformedValueError},
		{"negative ttl", func(_ *testing.T, m map[string]any) { subject(m)["ttl"] = json.Number("-1") }, 0, credential.MalformedValueError},
		{"ttl as string", func(_ *testing.T, m map[string]any) { subject(m)["ttl"] = "500" }, 0, credential.MalformedValueError},
		{"ttl fraction", func(_ *testing.T, m map[string]any) { subject(m)["ttl"] = json.Number("0.5") }, 0, credential.MalformedValueError},
		{"statusSize 0", func(_ *testing.T, m map[string]any) { subject(m)["statusSize"] = json.Number("0") }, 0, credential.MalformedValueError},
		{"no @context", func(_ *testing.T, m map[string]any) { delete(m, "@context") }, 0, credential.MalformedValueError},
		{"no issuer", func(_ *testing.T, m map[string]any) { delete(m, "issuer") }, 0, credential.MalformedValueError},
		{"bad validFrom", func(_ *testing.T, m map[string]any) { m["validFrom"] = "yesterday" }, 0, credential.MalformedValueError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validListCredential(t)
			tt.edit(t, m)
			l, err := statuslist.ParseListCredential(m, tt.maxBits)
			if l != nil {
				t.Fatal("list returned with an error")
			}
			wantCode(t, err, tt.code)
		})
	}
}

func TestParseListCredentialOptional(t *testing.T) {
	m := validListCredential(t)
	s := subject(m)
	s["statusPurpose"] = []any{"revocation", "suspension"}
	s["ttl"] = json.Number("300000")
	s["statusSize"] = json.Number("1")
	m["validUntil"] = "2031-04-05T14:27:40Z"
	m["issuer"] = map[string]any{"id": issuer, "name": "Example"}
	l, err := statuslist.ParseListCredential(m, 0)
	if err != nil {
		t.Fatal(err)
	}
	if l.TTL != 5*time.Minute || l.Size != 1 || !slices.Equal(l.Purposes, []string{"revocation", "suspension"}) ||
		l.Issuer != issuer || l.ValidUntil.Year() != 2031 {
		t.Fatalf("list = %+v", l)
	}
}

func TestCheck(t *testing.T) {
	l, err := statuslist.ParseListCredential(validListCredential(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	entry := func(purpose string, index int) statuslist.Entry {
		return statuslist.Entry{Type: statuslist.TypeEntry, Purpose: purpose, Index: index, Size: 1, ListCredential: listURL}
	}
	if st, err := statuslist.Check(entry("revocation", 5), l); err != nil || st != (statuslist.Status{Purpose: "revocation", Value: 1, Set: true, Message: "set"}) {
		t.Fatalf("index 5: %+v, %v", st, err)
	}
	if st, err := statuslist.Check(entry("revocation", statuslist.MinLength-1), l); err != nil || st.Set {
		t.Fatalf("last index: %+v, %v", st, err)
	}
	e := entry("revocation", 5)
	e.Messages = []statuslist.Message{{0, "valid"}, {1, "revoked"}}
	if st, err := statuslist.Check(e, l); err != nil || st.Message != "revoked" {
		t.Fatalf("with messages: %+v, %v", st, err)
	}

	two := *l
	two.Purposes = []string{"suspension", "revocation"}
	sized := *l
	sized.Size = 2
	long := *l
	long.Bits = mustList(t, 2*statuslist.MinLength)
	other := *l
	other.ID = "https://example.com/credentials/status/4"
	noID := *l
	noID.ID = ""
	if _, err := statuslist.Check(entry("revocation", 5), &two); err != nil {
		t.Errorf("list with two purposes: %v", err)
	}
	if _, err := statuslist.Check(entry("revocation", 5), &noID); err != nil {
		t.Errorf("list without id: %v", err)
	}
	size2 := func(index int) statuslist.Entry {
		e := entry("revocation", index)
		e.Size, e.Messages = 2, make([]statuslist.Message, 4)
		return e
	}
	if _, err := statuslist.Check(size2(statuslist.MinLength-1), &long); err != nil {
		t.Errorf("statusSize 2 on a 2*MinLength list: %v", err)
	}

	for _, tt := range []struct {
		name string
		e    statuslist.Entry
		l    *statuslist.List
		code credential.Code
	}{
		{"purpose mismatch", entry("suspension", 5), l, credential.StatusVerificationError},
		{"custom purpose mismatch", entry("message", 5), l, credential.StatusVerificationError},
		{"another list", entry("revocation", 5), &other, credential.StatusVerificationError},
		{"statusSize mismatch", entry("revocation", 5), &sized, credential.StatusVerificationError},
		{"no list", entry("revocation", 5), nil, credential.StatusVerificationError},
		{"index out of range", entry("revocation", statuslist.MinLength), l, credential.RangeError},
		{"huge index", entry("revocation", 1<<62), l, credential.RangeError},
		{"negative index", entry("revocation", -1), l, credential.RangeError},
		{"too few entries of statusSize 2", size2(5), l, credential.StatusListLengthError},
		{"index out of range, statusSize 2", size2(statuslist.MinLength), &long, credential.RangeError},
		{"short list", entry("revocation", 5), &statuslist.List{Purposes: []string{"revocation"}, Bits: mustList(t, 1024)}, credential.StatusListLengthError},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := statuslist.Check(tt.e, tt.l)
			wantCode(t, err, tt.code)
			if tt.code == credential.RangeError && !errors.Is(err, statuslist.ErrRange) {
				t.Errorf("err = %v, want ErrRange", err)
			}
		})
	}
}

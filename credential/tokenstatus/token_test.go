package tokenstatus_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/tokenstatus"
	"github.com/idmesh/idmesh/did/keys"
)

const (
	issuerDID = "did:key:z6MkIssuer"
	listURI   = "https://node.example/status-lists/z6MkIssuer-00aa/token"
)

var t0 = time.Unix(1_780_000_000, 0).UTC()

func signer(tb testing.TB, t keys.Type, seed byte) credential.KeySigner {
	tb.Helper()
	k, err := keys.Generate(t, bytes.NewReader(bytes.Repeat([]byte{seed}, 128)))
	if err != nil {
		tb.Fatal(err)
	}
	return credential.KeySigner{ID: issuerDID + "#key-" + string('0'+seed), Key: k}
}

func sampleToken(tb testing.TB) *tokenstatus.Token {
	tb.Helper()
	l, err := tokenstatus.New(tokenstatus.MinLength, tokenstatus.Bits)
	if err != nil {
		tb.Fatal(err)
	}
	l.Set(7, tokenstatus.Invalid)
	l.Set(70000, tokenstatus.Suspended)
	return &tokenstatus.Token{Subject: listURI, Issuer: issuerDID, IssuedAt: t0, List: l}
}

// TestSignVerify signs a token with an Ed25519 and a P-256 key and reads
// back the same claims and list, with the header the specification asks.
func TestSignVerify(t *testing.T) {
	for _, kt := range []keys.Type{keys.Ed25519, keys.P256} {
		t.Run(string(kt), func(t *testing.T) {
			s := signer(t, kt, 1)
			tok := sampleToken(t)
			tok.Expires, tok.TTL = t0.Add(time.Hour), 5*time.Minute
			jwt, err := tok.Sign(s, "")
			if err != nil {
				t.Fatal(err)
			}
			u, err := tokenstatus.Parse(jwt, tokenstatus.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if u.KeyID != s.ID || u.Signer() != issuerDID {
				t.Fatalf("kid %s, signer %s", u.KeyID, u.Signer())
			}
			h, _ := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
			var hdr map[string]any
			json.Unmarshal(h, &hdr)
			if hdr["typ"] != "statuslist+jwt" || hdr["kid"] != s.ID {
				t.Fatalf("header %s", h)
			}
			got, err := u.Verify(s.Public(), tokenstatus.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject != listURI || got.Issuer != issuerDID || !got.IssuedAt.Equal(t0) || !got.Expires.Equal(t0.Add(time.Hour)) || got.TTL != 5*time.Minute {
				t.Fatalf("claims %+v", got)
			}
			if !got.List.Equal(tok.List) || got.List.Bits() != 2 {
				t.Fatal("list differs")
			}
			if v, _ := got.List.Get(70000); v != tokenstatus.Suspended {
				t.Fatalf("entry 70000 = %d", v)
			}
		})
	}
}

// TestSpecToken reads the specification's example Status List Token: its
// claims decode to the example list (0xB9 0xA3); its kid "12" is no DID
// URL, so Parse refuses it, as idmesh resolves keys by DID URL.
func TestSpecToken(t *testing.T) {
	b, err := os.ReadFile("testdata/spec-token.jwt")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(b), ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	var claims map[string]any
	if err := d.Decode(&claims); err != nil {
		t.Fatal(err)
	}
	tok, err := tokenstatus.ParseClaims(claims, tokenstatus.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Subject != "https://example.com/statuslists/1" || tok.IssuedAt.Unix() != 1686920170 || tok.Expires.Unix() != 2291720170 || tok.TTL != 43200*time.Second || tok.Issuer != "https://example.com" {
		t.Fatalf("claims %+v", tok)
	}
	if got := tok.List.Bytes(); !bytes.Equal(got, []byte{0xb9, 0xa3}) {
		t.Fatalf("list %x", got)
	}
	if _, err := tokenstatus.Parse(string(b), tokenstatus.Limits{}); err == nil || !strings.Contains(err.Error(), "not a DID URL") {
		t.Fatalf("Parse = %v, want the kid refused", err)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestParseRefuses: alg none, a wrong typ, no kid, a kid that is not a DID
// URL, an oversize token, a signature by another key, a tampered payload.
func TestParseRefuses(t *testing.T) {
	s := signer(t, keys.Ed25519, 1)
	jwt, err := sampleToken(t).Sign(s, "")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(jwt, ".")
	withHeader := func(h string) string { return b64(h) + "." + parts[1] + "." + parts[2] }
	for _, c := range []struct{ name, token string }{
		{"alg none", b64(`{"alg":"none","kid":"`+s.ID+`","typ":"statuslist+jwt"}`) + "." + parts[1] + "."},
		{"alg HS256", withHeader(`{"alg":"HS256","kid":"` + s.ID + `","typ":"statuslist+jwt"}`)},
		{"wrong typ", withHeader(`{"alg":"EdDSA","kid":"` + s.ID + `","typ":"JWT"}`)},
		{"no typ", withHeader(`{"alg":"EdDSA","kid":"` + s.ID + `"}`)},
		{"no kid", withHeader(`{"alg":"EdDSA","typ":"statuslist+jwt"}`)},
		{"kid a DID", withHeader(`{"alg":"EdDSA","kid":"` + issuerDID + `","typ":"statuslist+jwt"}`)},
		{"crit", withHeader(`{"alg":"EdDSA","crit":["x"],"kid":"` + s.ID + `","typ":"statuslist+jwt","x":1}`)},
		{"two parts", parts[0] + "." + parts[1]},
		{"oversize", jwt + strings.Repeat("A", tokenstatus.DefaultMaxTokenBytes)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := tokenstatus.Parse(c.token, tokenstatus.Limits{}); err == nil {
				t.Fatal("accepted")
			} else if credential.CodeOf(err, "") == "" {
				t.Fatalf("not a credential.Error: %v", err)
			}
		})
	}
	u, err := tokenstatus.Parse(jwt, tokenstatus.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Verify(signer(t, keys.Ed25519, 2).Public(), tokenstatus.Limits{}); credential.CodeOf(err, "") != credential.CryptographicSecurityError {
		t.Fatalf("another key: %v", err)
	}
	if _, err := u.Verify(signer(t, keys.P256, 1).Public(), tokenstatus.Limits{}); err == nil {
		t.Fatal("a P-256 key verified an EdDSA token")
	}
	tampered := parts[0] + "." + b64(`{"iat":1780000000,"status_list":{"bits":2,"lst":"eNpjAAAAAQAB"},"sub":"`+listURI+`"}`) + "." + parts[2]
	if u, err := tokenstatus.Parse(tampered, tokenstatus.Limits{}); err != nil {
		t.Fatal(err)
	} else if _, err := u.Verify(s.Public(), tokenstatus.Limits{}); err == nil {
		t.Fatal("tampered payload verified")
	}
	// A list over the caller's bound is refused after the signature.
	if _, err := u.Verify(s.Public(), tokenstatus.Limits{MaxListBytes: 1024}); credential.CodeOf(err, "") != credential.LimitExceededError {
		t.Fatalf("list over the bound: %v", err)
	}
}

// TestParseClaimsRefuses is the table of bad claims sets.
func TestParseClaimsRefuses(t *testing.T) {
	const lst = "eNrbuRgAAhcBXQ"
	sl := func(bits any, lst any) map[string]any { return map[string]any{"bits": bits, "lst": lst} }
	base := func() map[string]any {
		return map[string]any{"sub": listURI, "iat": json.Number("1780000000"), "status_list": sl(json.Number("1"), lst)}
	}
	if _, err := tokenstatus.ParseClaims(base(), tokenstatus.Limits{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		edit func(m map[string]any)
	}{
		{"no sub", func(m map[string]any) { delete(m, "sub") }},
		{"empty sub", func(m map[string]any) { m["sub"] = "" }},
		{"sub a number", func(m map[string]any) { m["sub"] = json.Number("1") }},
		{"no iat", func(m map[string]any) { delete(m, "iat") }},
		{"iat a string", func(m map[string]any) { m["iat"] = "1780000000" }},
		{"iat negative", func(m map[string]any) { m["iat"] = json.Number("-1") }},
		{"iat huge", func(m map[string]any) { m["iat"] = json.Number("1e300") }},
		{"exp before iat", func(m map[string]any) { m["exp"] = json.Number("1700000000") }},
		{"ttl zero", func(m map[string]any) { m["ttl"] = json.Number("0") }},
		{"ttl string", func(m map[string]any) { m["ttl"] = "60" }},
		{"iss empty", func(m map[string]any) { m["iss"] = "" }},
		{"no status_list", func(m map[string]any) { delete(m, "status_list") }},
		{"status_list a string", func(m map[string]any) { m["status_list"] = lst }},
		{"bits 3", func(m map[string]any) { m["status_list"] = sl(json.Number("3"), lst) }},
		{"bits 1.5", func(m map[string]any) { m["status_list"] = sl(json.Number("1.5"), lst) }},
		{"bits missing", func(m map[string]any) { m["status_list"] = map[string]any{"lst": lst} }},
		{"lst missing", func(m map[string]any) { m["status_list"] = map[string]any{"bits": json.Number("1")} }},
		{"lst a number", func(m map[string]any) { m["status_list"] = sl(json.Number("1"), json.Number("1")) }},
		{"aggregation_uri a number", func(m map[string]any) {
			m["status_list"] = map[string]any{"bits": json.Number("1"), "lst": lst, "aggregation_uri": json.Number("1")}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := base()
			c.edit(m)
			if _, err := tokenstatus.ParseClaims(m, tokenstatus.Limits{}); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

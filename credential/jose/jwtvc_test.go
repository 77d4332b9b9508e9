package jose_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
)

// credentialV1 returns a fresh VC Data Model 1.1 credential issued by issuer.
func credentialV1(issuer any) map[string]any {
	return map[string]any{
		"@context":          []any{credential.ContextV1, "https://www.w3.org/ns/credentials/examples/v2"},
		"id":                "http://university.example/credentials/1872",
		"type":              []any{"VerifiableCredential", "ExampleAlumniCredential"},
		"issuer":            issuer,
		"issuanceDate":      "2010-01-01T19:23:24Z",
		"expirationDate":    "2030-01-01T19:23:24Z",
		"credentialSubject": map[string]any{"id": "did:example:123", "alumniOf": "Example University"},
	}
}

// decodeParts returns a token's header and claims.
func decodeParts(tb testing.TB, token string) (header, claims map[string]any) {
	tb.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		tb.Fatalf("not a compact JWS: %q", token)
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := b64.DecodeString(parts[i])
		if err != nil {
			tb.Fatal(err)
		}
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.UseNumber()
		if err := d.Decode(dst); err != nil {
			tb.Fatal(err)
		}
	}
	return header, claims
}

// TestJWTVCRoundTrip: the header and claims are those of VC Data Model
// 1.1 section 6.3.1, the token verifies, and the credential comes back as
// it was signed, for Ed25519 (EdDSA) and P-256 (ES256) keys.
func TestJWTVCRoundTrip(t *testing.T) {
	f := MustFixture(t)
	iat := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		signer credential.KeySigner
		alg    string
	}{{f.ed, jose.AlgEdDSA}, {f.p256, jose.AlgES256}} {
		t.Run(tc.alg, func(t *testing.T) {
			cred := credentialV1(issuerDID)
			token, err := jose.SignJWTVC(cred, tc.signer, jose.SignOptions{IssuedAt: iat})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cred, credentialV1(issuerDID)) {
				t.Error("SignJWTVC modified its input")
			}
			if !jose.IsJWTVC(token) {
				t.Error("IsJWTVC is false for a 1.1 JWT")
			}
			h, c := decodeParts(t, token)
			if h["typ"] != "JWT" || h["alg"] != tc.alg || h["kid"] != tc.signer.ID || len(h) != 3 {
				t.Errorf("header %v", h)
			}
			want := map[string]string{"iss": issuerDID, "sub": "did:example:123", "jti": "http://university.example/credentials/1872",
				"nbf": "1262373804", "exp": "1893525804", "iat": "1772366400"}
			for claim, v := range want {
				if got := c[claim]; fmt.Sprint(got) != v {
					t.Errorf("claim %s = %v, want %s", claim, got, v)
				}
			}
			got, key, err := jose.VerifyJWTVC(t.Context(), token, f.keys, jose.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if key.ID != tc.signer.ID {
				t.Errorf("key %s", key.ID)
			}
			if mustJSON(t, got) != mustJSON(t, cred) {
				t.Errorf("credential\n%s\nwant\n%s", mustJSON(t, got), mustJSON(t, cred))
			}
		})
	}
}

// TestJWTVCDecoding: claims fill the members the vc object leaves out
// (section 6.3.1.2), and a claim that disagrees with a member is refused.
func TestJWTVCDecoding(t *testing.T) {
	f := MustFixture(t)
	hdr := header("EdDSA", "JWT", f.ed.ID)
	sign := func(claims map[string]any) string { return rawToken(t, hdr, mustJSON(t, claims), f.ed) }
	bare := func() map[string]any {
		vc := credentialV1(nil)
		for _, k := range []string{"issuer", "id", "issuanceDate", "expirationDate"} {
			delete(vc, k)
		}
		delete(vc["credentialSubject"].(map[string]any), "id")
		return vc
	}
	t.Run("filled", func(t *testing.T) {
		tok := sign(map[string]any{"vc": bare(), "iss": issuerDID, "jti": "urn:uuid:1", "sub": "did:example:123", "nbf": 1262373804, "exp": 1893525804})
		got, _, err := jose.VerifyJWTVC(t.Context(), tok, f.keys, jose.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]any{"issuer": issuerDID, "id": "urn:uuid:1", "issuanceDate": "2010-01-01T19:23:24Z", "expirationDate": "2030-01-01T19:23:24Z"} {
			if got[k] != v {
				t.Errorf("%s = %v, want %v", k, got[k], v)
			}
		}
		if id := got["credentialSubject"].(map[string]any)["id"]; id != "did:example:123" {
			t.Errorf("subject id %v", id)
		}
	})
	t.Run("fractional issuanceDate agrees with nbf", func(t *testing.T) {
		vc := credentialV1(issuerDID)
		vc["issuanceDate"] = "2010-01-01T20:23:24.9+01:00"
		if _, _, err := jose.VerifyJWTVC(t.Context(), sign(map[string]any{"vc": vc, "iss": issuerDID, "nbf": 1262373804}), f.keys, jose.VerifyOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	for _, tc := range []struct {
		name   string
		claims func() map[string]any
		code   credential.Code
	}{
		{"iss differs from issuer", func() map[string]any {
			return map[string]any{"vc": credentialV1(otherDID), "iss": issuerDID}
		}, credential.IssuerMismatchError},
		{"iss of another controller", func() map[string]any {
			return map[string]any{"vc": credentialV1(otherDID), "iss": otherDID}
		}, credential.IssuerMismatchError},
		{"no iss", func() map[string]any { return map[string]any{"vc": credentialV1(issuerDID)} }, credential.MalformedValueError},
		{"jti differs from id", func() map[string]any {
			return map[string]any{"vc": credentialV1(issuerDID), "iss": issuerDID, "jti": "urn:uuid:other"}
		}, credential.MalformedValueError},
		{"sub differs from subject id", func() map[string]any {
			return map[string]any{"vc": credentialV1(issuerDID), "iss": issuerDID, "sub": "did:example:mallory"}
		}, credential.MalformedValueError},
		{"sub with two subjects", func() map[string]any {
			vc := bare()
			vc["credentialSubject"] = []any{map[string]any{"a": "1"}, map[string]any{"b": "2"}}
			return map[string]any{"vc": vc, "iss": issuerDID, "sub": "did:example:123"}
		}, credential.MalformedValueError},
		{"nbf differs from issuanceDate", func() map[string]any {
			return map[string]any{"vc": credentialV1(issuerDID), "iss": issuerDID, "nbf": 1262373805}
		}, credential.MalformedValueError},
		{"exp differs from expirationDate", func() map[string]any {
			return map[string]any{"vc": credentialV1(issuerDID), "iss": issuerDID, "exp": 1993525804}
		}, credential.MalformedValueError},
		{"exp not a number", func() map[string]any {
			return map[string]any{"vc": credentialV1(issuerDID), "iss": issuerDID, "exp": "tomorrow"}
		}, credential.MalformedValueError},
		{"no vc claim", func() map[string]any { return credentialV1(issuerDID) }, credential.MalformedValueError},
		{"vc not an object", func() map[string]any { return map[string]any{"vc": "x", "iss": issuerDID} }, credential.MalformedValueError},
		{"vp claim", func() map[string]any {
			return map[string]any{"vc": credentialV1(issuerDID), "vp": map[string]any{}, "iss": issuerDID}
		}, credential.MalformedValueError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := jose.VerifyJWTVC(t.Context(), sign(tc.claims()), f.keys, jose.VerifyOptions{})
			checkErr(t, err, tc.code, nil)
		})
	}
}

// TestJWTVCRefused: what an attacker would send, each refused with its
// code: alg none, an alg that does not fit the key, a key not authorized
// or compromised, a signature by another key, a tampered payload, the
// wrong typ, crit, cty, oversize and malformed tokens.
func TestJWTVCRefused(t *testing.T) {
	f := MustFixture(t)
	claims := mustJSON(t, map[string]any{"vc": credentialV1(issuerDID), "iss": issuerDID, "nbf": 1262373804, "exp": 1893525804})
	good, err := jose.SignJWTVC(credentialV1(issuerDID), f.ed, jose.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + b64.EncodeToString([]byte(strings.Replace(claims, "Example University", "Mallory University", 1))) + "." + parts[2]
	for _, tc := range []struct {
		name, token string
		code        credential.Code
		want        error
	}{
		{"alg none", b64.EncodeToString([]byte(`{"alg":"none","kid":"`+f.ed.ID+`","typ":"JWT"}`)) + "." + b64.EncodeToString([]byte(claims)) + ".", credential.CryptographicSecurityError, jose.ErrUnsupportedAlgorithm},
		{"alg none signed", rawToken(t, `{"alg":"none","kid":"`+f.ed.ID+`","typ":"JWT"}`, claims, f.ed), credential.CryptographicSecurityError, jose.ErrUnsupportedAlgorithm},
		{"HS256", rawToken(t, header("HS256", "JWT", f.ed.ID), claims, f.ed), credential.CryptographicSecurityError, jose.ErrUnsupportedAlgorithm},
		{"ES256 header on an Ed25519 key", rawToken(t, header("ES256", "JWT", f.ed.ID), claims, f.ed), credential.CryptographicSecurityError, jose.ErrUnsupportedAlgorithm},
		{"EdDSA header on a P-256 key", rawToken(t, header("EdDSA", "JWT", f.p256.ID), claims, f.p256), credential.CryptographicSecurityError, jose.ErrUnsupportedAlgorithm},
		{"signed by another key", rawToken(t, header("EdDSA", "JWT", f.ed.ID), claims, f.other), credential.CryptographicSecurityError, nil},
		{"tampered payload", tampered, credential.CryptographicSecurityError, nil},
		{"compromised key", rawToken(t, header("EdDSA", "JWT", f.compromised.ID), claims, f.compromised), credential.KeyCompromisedError, nil},
		{"key for authentication only", rawToken(t, header("EdDSA", "JWT", f.authOnly.ID), claims, f.authOnly), credential.CryptographicSecurityError, nil},
		{"key of another controller", rawToken(t, header("EdDSA", "JWT", f.other.ID), claims, f.other), credential.IssuerMismatchError, nil},
		{"typ vc+jwt", rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), claims, f.ed), credential.MalformedValueError, nil},
		{"cty", rawToken(t, `{"alg":"EdDSA","kid":"`+f.ed.ID+`","typ":"JWT","cty":"vc"}`, claims, f.ed), credential.MalformedValueError, nil},
		{"crit", rawToken(t, `{"alg":"EdDSA","kid":"`+f.ed.ID+`","typ":"JWT","crit":["x"],"x":1}`, claims, f.ed), credential.MalformedValueError, nil},
		{"no kid", rawToken(t, `{"alg":"EdDSA","typ":"JWT"}`, claims, f.ed), credential.MalformedValueError, nil},
		{"duplicate claim", rawToken(t, header("EdDSA", "JWT", f.ed.ID), `{"iss":"`+issuerDID+`","iss":"`+otherDID+`","vc":{}}`, f.ed), credential.ParsingError, nil},
		{"oversize", good + strings.Repeat("A", jose.DefaultMaxBytes), credential.ParsingError, nil},
		{"two parts", parts[0] + "." + parts[1], credential.ParsingError, nil},
		{"JSON serialization", `{"payload":"x"}`, credential.ParsingError, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := jose.VerifyJWTVC(t.Context(), tc.token, f.keys, jose.VerifyOptions{})
			checkErr(t, err, tc.code, tc.want)
		})
	}
	t.Run("no typ accepted", func(t *testing.T) {
		tok := rawToken(t, `{"alg":"EdDSA","kid":"`+f.ed.ID+`"}`, claims, f.ed)
		if !jose.IsJWTVC(tok) {
			t.Error("IsJWTVC false without typ")
		}
		if _, _, err := jose.VerifyJWTVC(t.Context(), tok, f.keys, jose.VerifyOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("relative kid", func(t *testing.T) {
		tok := rawToken(t, header("EdDSA", "JWT", "#key-1"), claims, f.ed)
		if _, _, err := jose.VerifyJWTVC(t.Context(), tok, f.keys, jose.VerifyOptions{}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a vc+jwt is not a 1.1 JWT", func(t *testing.T) {
		vc, err := jose.SignCredential(credentialDoc(issuerDID), f.ed, jose.SignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if jose.IsJWTVC(vc) {
			t.Error("IsJWTVC true for a vc+jwt")
		}
		if _, _, err := jose.Verify(t.Context(), good, jose.MediaTypeVC, f.keys, jose.VerifyOptions{}); err == nil {
			t.Error("Verify accepts a 1.1 JWT as application/vc+jwt")
		}
	})
}

// TestSignJWTVCErrors: only 1.1 credentials with an issuer and a valid
// issuanceDate are signed.
func TestSignJWTVCErrors(t *testing.T) {
	f := MustFixture(t)
	for _, tc := range []struct {
		name string
		cred map[string]any
	}{
		{"VC 2.0", credentialDoc(issuerDID)},
		{"no issuer", credentialV1(nil)},
		{"no issuanceDate", func() map[string]any { c := credentialV1(issuerDID); delete(c, "issuanceDate"); return c }()},
		{"bad expirationDate", func() map[string]any { c := credentialV1(issuerDID); c["expirationDate"] = "soon"; return c }()},
		{"nil", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cred != nil && tc.cred["issuer"] == nil {
				delete(tc.cred, "issuer")
			}
			_, err := jose.SignJWTVC(tc.cred, f.ed, jose.SignOptions{})
			checkErr(t, err, credential.MalformedValueError, nil)
		})
	}
}

// FuzzVerifyJWTVC: VerifyJWTVC never panics, every error has a code, and
// a success comes with a credential and a key.
func FuzzVerifyJWTVC(f *testing.F) {
	fx := MustFixture(f)
	good, err := jose.SignJWTVC(credentialV1(issuerDID), fx.ed, jose.SignOptions{})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, good[:len(good)/2], "", "..", "e30.e30.e30", mustSignVC(f, fx)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, token string) {
		_ = jose.IsJWTVC(token)
		cred, key, err := jose.VerifyJWTVC(t.Context(), token, fx.keys, jose.VerifyOptions{MaxBytes: 1 << 16})
		if err != nil {
			if credential.CodeOf(err, "") == "" {
				t.Fatalf("error without a code: %v", err)
			}
			return
		}
		if cred == nil || key.ID == "" {
			t.Fatal("success without credential or key")
		}
	})
}

package jose_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/strictjson"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	f := MustFixture(t)
	tests := []struct {
		name    string
		signer  credential.KeySigner
		alg     string
		wantAlg string
		issuer  any
	}{
		{"EdDSA", f.ed, "", "EdDSA", issuerDID},
		{"Ed25519 (RFC 9864)", f.ed, "Ed25519", "Ed25519", issuerDID},
		{"ES256", f.p256, "", "ES256", issuerDID},
		{"ES256 explicit", f.p256, "ES256", "ES256", issuerDID},
		{"issuer object", f.ed, "", "EdDSA", map[string]any{"id": issuerDID, "name": "Example University"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cred := credentialDoc(tt.issuer)
			before := mustJSON(t, cred)
			tok, err := jose.SignCredential(cred, tt.signer, jose.SignOptions{Algorithm: tt.alg})
			if err != nil {
				t.Fatal(err)
			}
			if after := mustJSON(t, cred); after != before {
				t.Fatal("SignCredential modified its input")
			}
			h, _ := b64.DecodeString(strings.Split(tok, ".")[0])
			if want := header(tt.wantAlg, "vc+jwt", tt.signer.ID); string(h) != want {
				t.Fatalf("header %s, want %s", h, want)
			}
			p, _ := b64.DecodeString(strings.Split(tok, ".")[1])
			if !strings.Contains(string(p), "& Arts <BSc>") {
				t.Fatalf("payload escapes HTML characters: %s", p)
			}
			payload, key, err := jose.Verify(t.Context(), tok, jose.MediaTypeVC, f.keys, jose.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if key.ID != tt.signer.ID || !key.Public.Equal(tt.signer.Public()) {
				t.Fatalf("key %s, want %s", key.ID, tt.signer.ID)
			}
			if got := mustJSON(t, payload); got != before {
				t.Fatalf("payload %s, want %s", got, before)
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	f := MustFixture(t)
	x25519, err := f.ed.Public().X25519()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		sign func() (string, error)
		code credential.Code
	}{
		{"nil credential", func() (string, error) { return jose.SignCredential(nil, f.ed, jose.SignOptions{}) }, credential.MalformedValueError},
		{"no issuer", func() (string, error) {
			c := credentialDoc(nil)
			delete(c, "issuer")
			return jose.SignCredential(c, f.ed, jose.SignOptions{})
		}, credential.MalformedValueError},
		{"issuer object without id", func() (string, error) {
			return jose.SignCredential(credentialDoc(map[string]any{"name": "x"}), f.ed, jose.SignOptions{})
		}, credential.MalformedValueError},
		{"vc claim", func() (string, error) {
			c := credentialDoc(issuerDID)
			c["vc"] = map[string]any{}
			return jose.SignCredential(c, f.ed, jose.SignOptions{})
		}, credential.MalformedValueError},
		{"vp claim", func() (string, error) {
			p := presentationDoc(holderDID)
			p["vp"] = "x"
			return jose.SignPresentation(p, f.holder, jose.SignOptions{})
		}, credential.MalformedValueError},
		{"nonce on credential", func() (string, error) {
			return jose.SignCredential(credentialDoc(issuerDID), f.ed, jose.SignOptions{Nonce: "n"})
		}, credential.ProofGenerationError},
		{"Ed25519 alg for P-256", func() (string, error) {
			return jose.SignCredential(credentialDoc(issuerDID), f.p256, jose.SignOptions{Algorithm: "Ed25519"})
		}, credential.ProofGenerationError},
		{"ES384", func() (string, error) {
			return jose.SignCredential(credentialDoc(issuerDID), f.p256, jose.SignOptions{Algorithm: "ES384"})
		}, credential.ProofGenerationError},
		{"ES256 alg for Ed25519", func() (string, error) {
			return jose.SignCredential(credentialDoc(issuerDID), f.ed, jose.SignOptions{Algorithm: "ES256"})
		}, credential.ProofGenerationError},
		{"X25519 key", func() (string, error) {
			return jose.SignCredential(credentialDoc(issuerDID), fakeSigner{id: f.ed.ID, pub: x25519}, jose.SignOptions{})
		}, credential.ProofGenerationError},
		{"no method ID", func() (string, error) {
			return jose.SignCredential(credentialDoc(issuerDID), credential.KeySigner{Key: f.ed.Key}, jose.SignOptions{})
		}, credential.ProofGenerationError},
		{"short signature", func() (string, error) {
			return jose.SignCredential(credentialDoc(issuerDID), fakeSigner{id: f.ed.ID, pub: f.ed.Public(), sig: make([]byte, 10)}, jose.SignOptions{})
		}, credential.ProofGenerationError},
		{"conflicting nonce", func() (string, error) {
			p := presentationDoc(holderDID)
			p["nonce"] = "old"
			return jose.SignPresentation(p, f.holder, jose.SignOptions{Nonce: "new"})
		}, credential.MalformedValueError},
		{"too deep", func() (string, error) {
			c := credentialDoc(issuerDID)
			var v any = "x"
			for range strictjson.MaxDepth + 1 {
				v = []any{v}
			}
			c["deep"] = v
			return jose.SignCredential(c, f.ed, jose.SignOptions{})
		}, credential.MalformedValueError},
		{"unencodable", func() (string, error) {
			c := credentialDoc(issuerDID)
			c["f"] = func() {}
			return jose.SignCredential(c, f.ed, jose.SignOptions{})
		}, credential.MalformedValueError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.sign()
			checkErr(t, err, tt.code, nil)
		})
	}
}

// fakeSigner signs with a fixed signature.
type fakeSigner struct {
	id  string
	pub keys.PublicKey
	sig []byte
}

func (s fakeSigner) MethodID() string            { return s.id }
func (s fakeSigner) Public() keys.PublicKey      { return s.pub }
func (s fakeSigner) Sign([]byte) ([]byte, error) { return s.sig, nil }

func TestVerifyCredentialFailures(t *testing.T) {
	f := MustFixture(t)
	cred := mustJSON(t, credentialDoc(issuerDID))
	good := rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred, f.ed)
	parts := strings.Split(good, ".")
	h1, p1, s1 := parts[0], parts[1], parts[2]
	tamperedCred := strings.Replace(cred, "Bachelor", "Doctor", 1)

	tests := []struct {
		name  string
		token string
		opts  jose.VerifyOptions
		code  credential.Code // "" means success
		want  error
	}{
		{name: "ok", token: good},
		{name: "typ full media type", token: rawToken(t, header("EdDSA", "application/vc+jwt", f.ed.ID), cred, f.ed)},
		{name: "typ upper case", token: rawToken(t, header("EdDSA", "VC+JWT", f.ed.ID), cred, f.ed)},
		{name: "cty vc", token: rawToken(t, `{"alg":"EdDSA","cty":"vc","kid":"`+f.ed.ID+`","typ":"vc+jwt"}`, cred, f.ed)},
		{name: "b64 true", token: rawToken(t, `{"alg":"EdDSA","b64":true,"kid":"`+f.ed.ID+`","typ":"vc+jwt"}`, cred, f.ed)},
		{name: "relative kid", token: rawToken(t, header("EdDSA", "vc+jwt", "#key-1"), cred, f.ed)},
		{name: "bare kid", token: rawToken(t, header("EdDSA", "vc+jwt", "key-1"), cred, f.ed)},
		{name: "ES256", token: rawToken(t, header("ES256", "vc+jwt", f.p256.ID), cred, f.p256)},
		{name: "unknown header ignored", token: rawToken(t, `{"alg":"EdDSA","kid":"`+f.ed.ID+`","typ":"vc+jwt","x-ext":{"a":1}}`, cred, f.ed)},
		{name: "embedded jwk ignored", token: rawToken(t, `{"alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},"kid":"`+f.ed.ID+`","typ":"vc+jwt"}`, cred, f.ed)},
		{name: "exp ignored without Now", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred[:len(cred)-1]+`,"exp":1}`, f.ed)},
		{name: "iss matches", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred[:len(cred)-1]+`,"iss":"`+issuerDID+`"}`, f.ed)},

		// Algorithms.
		{name: "alg none unsigned", token: h(`{"alg":"none","kid":"`+f.ed.ID+`","typ":"vc+jwt"}`) + "." + p1 + ".", code: credential.CryptographicSecurityError, want: jose.ErrUnsupportedAlgorithm},
		{name: "alg none signed", token: rawToken(t, `{"alg":"none","kid":"`+f.ed.ID+`","typ":"vc+jwt"}`, cred, f.ed), code: credential.CryptographicSecurityError, want: jose.ErrUnsupportedAlgorithm},
		{name: "alg ES256 with Ed25519 key", token: rawToken(t, header("ES256", "vc+jwt", f.ed.ID), cred, f.ed), code: credential.CryptographicSecurityError, want: jose.ErrUnsupportedAlgorithm},
		{name: "alg EdDSA with P-256 key", token: rawToken(t, header("EdDSA", "vc+jwt", f.p256.ID), cred, f.p256), code: credential.CryptographicSecurityError, want: jose.ErrUnsupportedAlgorithm},
		{name: "alg HS256", token: rawToken(t, header("HS256", "vc+jwt", f.ed.ID), cred, f.ed), code: credential.CryptographicSecurityError, want: jose.ErrUnsupportedAlgorithm},
		{name: "alg ES384", token: rawToken(t, header("ES384", "vc+jwt", f.ed.ID), cred, f.ed), code: credential.CryptographicSecurityError, want: jose.ErrUnsupportedAlgorithm},
		{name: "alg eddsa lower case", token: rawToken(t, header("eddsa", "vc+jwt", f.ed.ID), cred, f.ed), code: credential.CryptographicSecurityError, want: jose.ErrUnsupportedAlgorithm},
		{name: "alg missing", token: rawToken(t, `{"kid":"`+f.ed.ID+`","typ":"vc+jwt"}`, cred, f.ed), code: credential.MalformedValueError},
		{name: "alg not a string", token: rawToken(t, `{"alg":1,"kid":"`+f.ed.ID+`","typ":"vc+jwt"}`, cred, f.ed), code: credential.MalformedValueError},

		// Header profile.
		{name: "typ JWT", token: rawToken(t, header("EdDSA", "JWT", f.ed.ID), cred, f.ed), code: credential.MalformedValueError},
		{name: "typ vp+jwt", token: rawToken(t, header("EdDSA", "vp+jwt", f.ed.ID), cred, f.ed), code: credential.MalformedValueError},
		{name: "typ vc+sd-jwt", token: rawToken(t, header("EdDSA", "vc+sd-jwt", f.ed.ID), cred, f.ed), code: credential.MalformedValueError},
		{name: "typ missing", token: rawToken(t, `{"alg":"EdDSA","kid":"`+f.ed.ID+`"}`, cred, f.ed), code: credential.MalformedValueError},
		{name: "cty bad", token: rawToken(t, `{"alg":"EdDSA","cty":"bad+cty","kid":"`+f.ed.ID+`","typ":"vc+jwt"}`, cred, f.ed), code: credential.MalformedValueError},
		{name: "cty vp", token: rawToken(t, `{"alg":"EdDSA","cty":"vp","kid":"`+f.ed.ID+`","typ":"vc+jwt"}`, cred, f.ed), code: credential.MalformedValueError},
		{name: "crit", token: rawToken(t, `{"alg":"EdDSA","crit":["exp"],"exp":1,"kid":"`+f.ed.ID+`","typ":"vc+jwt"}`, cred, f.ed), code: credential.MalformedValueError},
		{name: "crit empty", token: rawToken(t, `{"alg":"EdDSA","crit":[],"kid":"`+f.ed.ID+`","typ":"vc+jwt"}`, cred, f.ed), code: credential.MalformedValueError},
		{name: "b64 false", token: rawToken(t, `{"alg":"EdDSA","b64":false,"crit":["b64"],"kid":"`+f.ed.ID+`","typ":"vc+jwt"}`, cred, f.ed), code: credential.MalformedValueError},
		{name: "b64 false without crit", token: rawToken(t, `{"alg":"EdDSA","b64":false,"kid":"`+f.ed.ID+`","typ":"vc+jwt"}`, cred, f.ed), code: credential.MalformedValueError},
		{name: "kid missing", token: rawToken(t, `{"alg":"EdDSA","typ":"vc+jwt"}`, cred, f.ed), code: credential.MalformedValueError},
		{name: "kid empty", token: rawToken(t, header("EdDSA", "vc+jwt", ""), cred, f.ed), code: credential.MalformedValueError},
		{name: "kid not a string", token: rawToken(t, `{"alg":"EdDSA","kid":7,"typ":"vc+jwt"}`, cred, f.ed), code: credential.MalformedValueError},
		{name: "kid relative path", token: rawToken(t, header("EdDSA", "vc+jwt", "../key-1"), cred, f.ed), code: credential.MalformedValueError},
		{name: "duplicate header member", token: rawToken(t, `{"alg":"EdDSA","alg":"none","kid":"`+f.ed.ID+`","typ":"vc+jwt"}`, cred, f.ed), code: credential.ParsingError, want: strictjson.ErrDuplicate},
		{name: "header not an object", token: rawToken(t, `["EdDSA"]`, cred, f.ed), code: credential.ParsingError},

		// Signature.
		{name: "tampered payload", token: h1 + "." + b64.EncodeToString([]byte(tamperedCred)) + "." + s1, code: credential.CryptographicSecurityError, want: keys.ErrInvalidSignature},
		{name: "tampered header", token: h(`{"alg":"EdDSA","kid":"`+f.ed.ID+`","typ":"vc+jwt","x":1}`) + "." + p1 + "." + s1, code: credential.CryptographicSecurityError, want: keys.ErrInvalidSignature},
		{name: "tampered signature", token: h1 + "." + p1 + "." + flip(s1), code: credential.CryptographicSecurityError, want: keys.ErrInvalidSignature},
		{name: "short signature", token: h1 + "." + p1 + "." + s1[:40], code: credential.CryptographicSecurityError, want: keys.ErrInvalidSignature},
		{name: "wrong key", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred, f.other), code: credential.CryptographicSecurityError, want: keys.ErrInvalidSignature},

		// Key policy.
		{name: "kid not in assertionMethod", token: rawToken(t, header("EdDSA", "vc+jwt", f.authOnly.ID), cred, f.authOnly), code: credential.CryptographicSecurityError, want: credential.ErrKeyNotAuthorized},
		{name: "kid unknown", token: rawToken(t, header("EdDSA", "vc+jwt", issuerDID+"#key-9"), cred, f.ed), code: credential.CryptographicSecurityError, want: credential.ErrKeyNotFound},
		{name: "issuer mismatch", token: rawToken(t, header("EdDSA", "vc+jwt", f.other.ID), cred, f.other), code: credential.IssuerMismatchError},
		{name: "issuer object mismatch", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), mustJSON(t, credentialDoc(map[string]any{"id": otherDID})), f.ed), code: credential.IssuerMismatchError},
		{name: "iss claim mismatch", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred[:len(cred)-1]+`,"iss":"`+otherDID+`"}`, f.ed), code: credential.IssuerMismatchError},
		{name: "compromised key", token: rawToken(t, header("EdDSA", "vc+jwt", f.compromised.ID), cred, f.compromised), code: credential.KeyCompromisedError},

		// Claims.
		{name: "vc claim", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred[:len(cred)-1]+`,"vc":"oops"}`, f.ed), code: credential.MalformedValueError},
		{name: "vp claim", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred[:len(cred)-1]+`,"vp":{}}`, f.ed), code: credential.MalformedValueError},
		{name: "iss not a string", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred[:len(cred)-1]+`,"iss":1}`, f.ed), code: credential.MalformedValueError},
		{name: "no issuer", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), `{"type":"VerifiableCredential"}`, f.ed), code: credential.MalformedValueError},
		{name: "no issuer relative kid", token: rawToken(t, header("EdDSA", "vc+jwt", "#key-1"), `{"type":"VerifiableCredential"}`, f.ed), code: credential.MalformedValueError},
		{name: "issuer with fragment relative kid", token: rawToken(t, header("EdDSA", "vc+jwt", "#key-1"), mustJSON(t, credentialDoc(issuerDID+"#x")), f.ed), code: credential.MalformedValueError},
		{name: "expired", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred[:len(cred)-1]+`,"exp":1000}`, f.ed), opts: jose.VerifyOptions{Now: time.Unix(2000, 0)}, code: credential.ValidityPeriodError},
		{name: "not yet valid", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred[:len(cred)-1]+`,"nbf":3000}`, f.ed), opts: jose.VerifyOptions{Now: time.Unix(2000, 0)}, code: credential.ValidityPeriodError},
		{name: "within exp and nbf", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred[:len(cred)-1]+`,"nbf":1000,"exp":3000}`, f.ed), opts: jose.VerifyOptions{Now: time.Unix(2000, 0)}},
		{name: "exp not a number", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred[:len(cred)-1]+`,"exp":"2010-01-01T00:00:00Z"}`, f.ed), opts: jose.VerifyOptions{Now: time.Unix(2000, 0)}, code: credential.MalformedValueError},
		{name: "nbf huge", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred[:len(cred)-1]+`,"nbf":1e300}`, f.ed), opts: jose.VerifyOptions{Now: time.Unix(2000, 0)}, code: credential.MalformedValueError},

		// Structure and encoding.
		{name: "oversize", token: good, opts: jose.VerifyOptions{MaxBytes: len(good) - 1}, code: credential.ParsingError},
		{name: "oversize default", token: strings.Repeat("a", jose.DefaultMaxBytes+1), code: credential.ParsingError},
		{name: "empty", token: "", code: credential.ParsingError},
		{name: "one part", token: h1, code: credential.ParsingError},
		{name: "two parts", token: h1 + "." + p1, code: credential.ParsingError},
		{name: "four parts", token: good + ".x", code: credential.ParsingError},
		{name: "five parts (JWE)", token: h1 + ".." + p1 + "." + s1 + ".x", code: credential.ParsingError},
		{name: "detached payload", token: h1 + ".." + s1, code: credential.ParsingError},
		{name: "JSON serialization", token: `{"payload":"` + p1 + `","protected":"` + h1 + `","signature":"` + s1 + `"}`, code: credential.ParsingError},
		{name: "JSON serialization with space", token: ` {"payload":"` + p1 + `"}`, code: credential.ParsingError},
		{name: "header not base64url", token: "eyJ+" + h1[4:] + "." + p1 + "." + s1, code: credential.ParsingError},
		{name: "payload std base64", token: h1 + "." + strings.NewReplacer("-", "+", "_", "/").Replace(p1) + "x/" + "." + s1, code: credential.ParsingError},
		{name: "padded signature", token: good + "==", code: credential.ParsingError},
		{name: "signature bad char", token: good[:len(good)-1] + "!", code: credential.ParsingError},
		{name: "trailing newline", token: good + "\n", code: credential.ParsingError},
		{name: "trailing space", token: good + " ", code: credential.ParsingError},
		{name: "trailing tilde (SD-JWT)", token: good + "~", code: credential.ParsingError},
		{name: "trailing garbage", token: good + "garbage", code: credential.ParsingError},
		{name: "inner newline", token: h1 + "." + p1[:10] + "\n" + p1[10:] + "." + s1, code: credential.ParsingError},
		{name: "leading space", token: " " + good, code: credential.ParsingError},
		{name: "duplicate payload member", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), `{"issuer":"`+issuerDID+`","issuer":"`+otherDID+`"}`, f.ed), code: credential.ParsingError, want: strictjson.ErrDuplicate},
		{name: "duplicate nested member", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), `{"issuer":"`+issuerDID+`","credentialSubject":{"id":"a","id":"b"}}`, f.ed), code: credential.ParsingError, want: strictjson.ErrDuplicate},
		{name: "payload trailing JSON", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), cred+"{}", f.ed), code: credential.ParsingError, want: strictjson.ErrTrailing},
		{name: "payload array", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), `[1]`, f.ed), code: credential.ParsingError},
		{name: "payload not JSON", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), `Example of Ed25519 signing`, f.ed), code: credential.ParsingError},
		{name: "payload too deep", token: rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), `{"issuer":"`+issuerDID+`","x":`+strings.Repeat("[", 100)+strings.Repeat("]", 100)+`}`, f.ed), code: credential.ParsingError, want: strictjson.ErrTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload, key, err := jose.Verify(t.Context(), tt.token, jose.MediaTypeVC, f.keys, tt.opts)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if payload == nil || key.ID == "" {
					t.Fatal("success without payload or key")
				}
				return
			}
			checkErr(t, err, tt.code, tt.want)
			if payload != nil || key.ID != "" {
				t.Fatal("failure with payload or key")
			}
		})
	}
}

func TestVerifyPresentation(t *testing.T) {
	f := MustFixture(t)
	sign := func(pres map[string]any, s credential.Signer, o jose.SignOptions) string {
		tok, err := jose.SignPresentation(pres, s, o)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	bound := jose.SignOptions{Nonce: "n-0S6_WzA2Mj", Audience: "https://verifier.example"}
	withArrayAud := presentationDoc(holderDID)
	withArrayAud["aud"] = []any{"https://other.example", "https://verifier.example"}

	tests := []struct {
		name      string
		token     string
		mediaType string
		opts      jose.VerifyOptions
		code      credential.Code
		want      error
	}{
		{name: "ok", token: sign(presentationDoc(holderDID), f.holder, jose.SignOptions{})},
		{name: "bound", token: sign(presentationDoc(holderDID), f.holder, bound), opts: jose.VerifyOptions{Nonce: bound.Nonce, Audience: bound.Audience}},
		{name: "bound, verifier does not ask", token: sign(presentationDoc(holderDID), f.holder, bound)},
		{name: "aud array", token: sign(withArrayAud, f.holder, jose.SignOptions{Nonce: "n"}), opts: jose.VerifyOptions{Nonce: "n", Audience: "https://verifier.example"}},
		{name: "holder object", token: sign(presentationDoc(map[string]any{"id": holderDID}), f.holder, jose.SignOptions{})},
		{name: "no holder", token: sign(presentationDoc(nil), f.holder, jose.SignOptions{})},
		{name: "full media type form", token: sign(presentationDoc(holderDID), f.holder, jose.SignOptions{}), mediaType: "vp+jwt"},
		{name: "nonce mismatch", token: sign(presentationDoc(holderDID), f.holder, bound), opts: jose.VerifyOptions{Nonce: "other"}, code: credential.InvalidChallengeError},
		{name: "nonce missing", token: sign(presentationDoc(holderDID), f.holder, jose.SignOptions{}), opts: jose.VerifyOptions{Nonce: "n"}, code: credential.InvalidChallengeError},
		{name: "aud mismatch", token: sign(presentationDoc(holderDID), f.holder, bound), opts: jose.VerifyOptions{Audience: "https://evil.example"}, code: credential.InvalidDomainError},
		{name: "aud missing", token: sign(presentationDoc(holderDID), f.holder, jose.SignOptions{}), opts: jose.VerifyOptions{Audience: "https://verifier.example"}, code: credential.InvalidDomainError},
		{name: "holder mismatch", token: sign(presentationDoc(otherDID), f.holder, jose.SignOptions{}), code: credential.IssuerMismatchError},
		{name: "no holder, relative kid", token: rawToken(t, header("EdDSA", "vp+jwt", "#key-1"), mustJSON(t, presentationDoc(nil)), f.holder), code: credential.MalformedValueError},
		{name: "relative kid", token: rawToken(t, header("EdDSA", "vp+jwt", "#key-1"), mustJSON(t, presentationDoc(holderDID)), f.holder)},
		{name: "assertion-only key", token: rawToken(t, header("EdDSA", "vp+jwt", f.holder.ID), mustJSON(t, presentationDoc(holderDID)), f.holder)},
		{name: "key not in authentication", token: sign(presentationDoc(holderDID), credential.KeySigner{ID: holderDID + "#key-2", Key: f.holder.Key}, jose.SignOptions{}), code: credential.CryptographicSecurityError, want: credential.ErrKeyNotFound},
		{name: "VP as VC", token: sign(presentationDoc(holderDID), f.holder, jose.SignOptions{}), mediaType: jose.MediaTypeVC, code: credential.MalformedValueError},
		{name: "VC as VP", token: mustSignVC(t, f), mediaType: jose.MediaTypeVP, code: credential.MalformedValueError},
		{name: "SD-JWT media type", token: sign(presentationDoc(holderDID), f.holder, jose.SignOptions{}), mediaType: "application/vp+sd-jwt", code: credential.ParsingError, want: jose.ErrUnsupportedMediaType},
		{name: "COSE media type", token: sign(presentationDoc(holderDID), f.holder, jose.SignOptions{}), mediaType: "application/vp+cose", code: credential.ParsingError, want: jose.ErrUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt := tt.mediaType
			if mt == "" {
				mt = jose.MediaTypeVP
			}
			_, key, err := jose.Verify(t.Context(), tt.token, mt, f.keys, tt.opts)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if key.ID != f.holder.ID {
					t.Fatalf("key %s, want %s", key.ID, f.holder.ID)
				}
				return
			}
			checkErr(t, err, tt.code, tt.want)
		})
	}

	t.Run("input not modified", func(t *testing.T) {
		p := presentationDoc(holderDID)
		sign(p, f.holder, bound)
		if _, ok := p["nonce"]; ok {
			t.Fatal("SignPresentation added nonce to its input")
		}
	})
	t.Run("nonce and aud claims", func(t *testing.T) {
		payload, _, err := jose.Verify(t.Context(), sign(presentationDoc(holderDID), f.holder, bound), jose.MediaTypeVP, f.keys, jose.VerifyOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if payload["nonce"] != bound.Nonce || payload["aud"] != bound.Audience {
			t.Fatalf("nonce %v aud %v", payload["nonce"], payload["aud"])
		}
	})
}

func mustSignVC(tb testing.TB, f *fixture) string {
	tb.Helper()
	tok, err := jose.SignCredential(credentialDoc(issuerDID), f.ed, jose.SignOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	return tok
}

func TestVerifyNilResolver(t *testing.T) {
	f := MustFixture(t)
	_, _, err := jose.Verify(t.Context(), mustSignVC(t, f), jose.MediaTypeVC, nil, jose.VerifyOptions{})
	checkErr(t, err, credential.CryptographicSecurityError, nil)
}

func TestVerifyNumbers(t *testing.T) {
	f := MustFixture(t)
	tok := rawToken(t, header("EdDSA", "vc+jwt", f.ed.ID), `{"issuer":"`+issuerDID+`","n":12345678901234567890.5}`, f.ed)
	payload, _, err := jose.Verify(t.Context(), tok, jose.MediaTypeVC, f.keys, jose.VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := payload["n"].(json.Number); !ok || n.String() != "12345678901234567890.5" {
		t.Fatalf("n = %#v, want the json.Number as written", payload["n"])
	}
}

// h base64url-encodes a header.
func h(s string) string { return b64.EncodeToString([]byte(s)) }

// flip changes the first character of a base64url string.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

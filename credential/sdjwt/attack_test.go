package sdjwt_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
)

const stdHeader = `{"alg":"EdDSA","kid":"did:example:issuer#key-1","typ":"dc+sd-jwt"}`

// basePayload is a valid SD-JWT VC payload bound to f.holder, without
// disclosable claims.
func basePayload(f *fixture) map[string]any {
	return map[string]any{
		"vct": vct, "iss": issuerDID, "iat": t0.Unix(), "_sd_alg": "sha-256",
		"cnf": map[string]any{"jwk": f.holder.Public().JWK()},
	}
}

// craft signs payload with f.ed under header and appends the
// Disclosures: an SD-JWT the issuer's key really signed, whatever its
// content.
func craft(tb testing.TB, f *fixture, header string, payload map[string]any, ds ...string) string {
	tb.Helper()
	s := rawJWT(tb, header, mustJSON(tb, payload), f.ed) + "~"
	for _, d := range ds {
		s += d + "~"
	}
	return s
}

// disc encodes a Disclosure.
func disc(tb testing.TB, salt, name string, value any, arrayElement bool) sdjwt.Disclosure {
	tb.Helper()
	d, err := sdjwt.EncodeDisclosure(salt, name, value, arrayElement)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// kbJWT signs a key-binding JWT for sdJWT (ending in "~") with header
// and the given claims over the correct sd_hash unless claims sets one.
func kbJWT(tb testing.TB, sdJWT, header string, claims map[string]any, signer credential.Signer) string {
	tb.Helper()
	c := map[string]any{"nonce": "n-0S6_WzA2Mj", "aud": "https://verifier.example", "iat": tNow.Unix(), "sd_hash": sdjwt.Digest(sdJWT)}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return rawJWT(tb, header, mustJSON(tb, c), signer)
}

// TestVerifyAttacks: an attacker's SD-JWTs and presentations, each
// refused with its code (and sentinel where the package has one).
func TestVerifyAttacks(t *testing.T) {
	f := MustFixture(t)
	issued := MustIssue(t, f)
	sd, err := sdjwt.Parse(issued, sdjwt.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	var given sdjwt.Disclosure
	for _, d := range sd.Disclosures {
		if d.Name == "given_name" {
			given = d
		}
	}
	another, err := sdjwt.Issue(claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: disclosable, Random: random(3), IssuedAt: t0, HolderKey: f.holder.Public()})
	if err != nil {
		t.Fatal(err)
	}
	sd2, err := sdjwt.Parse(another, sdjwt.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	presA := MustPresent(t, f, issued, "/given_name")
	presB := MustPresent(t, f, issued, "/email")
	kbA := presA[strings.LastIndexByte(presA, '~')+1:]
	sdB := presB[:strings.LastIndexByte(presB, '~')+1]
	kbHeader := `{"alg":"EdDSA","typ":"kb+jwt"}`
	noKB := sdjwt.VerifyOptions{Now: tNow}

	// A payload with one disclosable claim whose digest appears as given.
	dx := disc(t, "c2FsdHNhbHRzYWx0c2FsdA", "nickname", "Al", false)
	withSD := func(sd ...any) map[string]any {
		p := basePayload(f)
		p["_sd"] = sd
		return p
	}
	deep := func(n int) any {
		var v any = "x"
		for range n {
			v = []any{v}
		}
		return v
	}

	for _, c := range []struct {
		name   string
		in     string
		opts   sdjwt.VerifyOptions
		code   credential.Code
		target error
	}{
		{"modified disclosure",
			strings.Replace(issued, given.Encoded, disc(t, given.Salt, "given_name", "Mallory", false).Encoded, 1),
			noKB, credential.CryptographicSecurityError, sdjwt.ErrUnreferencedDisclosure},
		{"disclosure from another credential", issued + sd2.Disclosures[0].Encoded + "~",
			noKB, credential.CryptographicSecurityError, sdjwt.ErrUnreferencedDisclosure},
		{"duplicate disclosure", issued + given.Encoded + "~",
			noKB, credential.MalformedValueError, sdjwt.ErrDuplicateDisclosure},
		{"digest referenced twice", craft(t, f, stdHeader, withSD(dx.Digest, dx.Digest), dx.Encoded),
			noKB, credential.MalformedValueError, sdjwt.ErrDuplicateDigest},
		{"digest twice at two levels", craft(t, f, stdHeader, func() map[string]any {
			p := withSD(dx.Digest)
			p["team"] = map[string]any{"_sd": []any{dx.Digest}}
			return p
		}(), dx.Encoded), noKB, credential.MalformedValueError, sdjwt.ErrDuplicateDigest},
		{"decoy twice", craft(t, f, stdHeader, withSD(dx.Digest, dx.Digest)),
			noKB, credential.MalformedValueError, sdjwt.ErrDuplicateDigest},
		{"decoy in an array and an _sd", craft(t, f, stdHeader, func() map[string]any {
			p := withSD(sdjwt.Digest("decoy"))
			p["list"] = []any{map[string]any{"...": sdjwt.Digest("decoy")}}
			return p
		}()), noKB, credential.MalformedValueError, sdjwt.ErrDuplicateDigest},
		{"_sd as a disclosed name", func() string {
			e := b64.EncodeToString([]byte(`["c2FsdA", "_sd", ["x"]]`))
			return craft(t, f, stdHeader, withSD(sdjwt.Digest(e)), e)
		}(), noKB, credential.MalformedValueError, sdjwt.ErrForbiddenName},
		{"... as a disclosed name", func() string {
			e := b64.EncodeToString([]byte(`["c2FsdA", "...", "x"]`))
			return craft(t, f, stdHeader, withSD(sdjwt.Digest(e)), e)
		}(), noKB, credential.MalformedValueError, sdjwt.ErrForbiddenName},
		{"name collides with a plain claim", func() string {
			d := disc(t, "c2FsdA", "iss", otherDID, false)
			return craft(t, f, stdHeader, withSD(d.Digest), d.Encoded)
		}(), noKB, credential.MalformedValueError, sdjwt.ErrForbiddenName},
		{"two disclosures of one name", func() string {
			d1, d2 := disc(t, "c2FsdDE", "nickname", "a", false), disc(t, "c2FsdDI", "nickname", "b", false)
			return craft(t, f, stdHeader, withSD(d1.Digest, d2.Digest), d1.Encoded, d2.Encoded)
		}(), noKB, credential.MalformedValueError, sdjwt.ErrForbiddenName},
		{"vct from a disclosure", func() string {
			d := disc(t, "c2FsdA", "vct", vct, false)
			p := withSD(d.Digest)
			delete(p, "vct")
			return craft(t, f, stdHeader, p, d.Encoded)
		}(), noKB, credential.MalformedValueError, sdjwt.ErrForbiddenName},
		{"array element disclosure in _sd", func() string {
			d := disc(t, "c2FsdA", "", "x", true)
			return craft(t, f, stdHeader, withSD(d.Digest), d.Encoded)
		}(), noKB, credential.MalformedValueError, sdjwt.ErrMalformedDisclosure},
		{"claim disclosure in an array", func() string {
			p := basePayload(f)
			p["list"] = []any{map[string]any{"...": dx.Digest}}
			return craft(t, f, stdHeader, p, dx.Encoded)
		}(), noKB, credential.MalformedValueError, sdjwt.ErrMalformedDisclosure},
		{"... with another member", func() string {
			p := basePayload(f)
			p["list"] = []any{map[string]any{"...": dx.Digest, "x": 1}}
			return craft(t, f, stdHeader, p)
		}(), noKB, credential.MalformedValueError, nil},
		{"... outside an array", func() string {
			p := basePayload(f)
			p["obj"] = map[string]any{"...": dx.Digest}
			return craft(t, f, stdHeader, p)
		}(), noKB, credential.MalformedValueError, sdjwt.ErrForbiddenName},
		{"_sd not an array", craft(t, f, stdHeader, func() map[string]any { p := basePayload(f); p["_sd"] = "x"; return p }()),
			noKB, credential.MalformedValueError, nil},
		{"_sd_alg sha-512", craft(t, f, stdHeader, func() map[string]any { p := basePayload(f); p["_sd_alg"] = "sha-512"; return p }()),
			noKB, credential.CryptographicSecurityError, nil},
		{"_sd_alg nested", craft(t, f, stdHeader, func() map[string]any {
			p := basePayload(f)
			p["obj"] = map[string]any{"_sd_alg": "sha-256"}
			return p
		}()), noKB, credential.MalformedValueError, sdjwt.ErrForbiddenName},
		{"deep nesting in the payload", craft(t, f, stdHeader, func() map[string]any { p := basePayload(f); p["deep"] = deep(40); return p }()),
			noKB, credential.LimitExceededError, sdjwt.ErrLimit},
		{"deep nesting through disclosures", func() string {
			// Each Disclosure is shallow; chained, they nest 40 deep.
			var ds []string
			var v any = "x"
			for i := range 40 {
				d := disc(t, "c2FsdA"+string(rune('A'+i%26))+string(rune('A'+i/26)), "", v, true)
				ds = append(ds, d.Encoded)
				v = []any{map[string]any{"...": d.Digest}}
			}
			p := basePayload(f)
			p["deep"] = v
			return craft(t, f, stdHeader, p, ds...)
		}(), noKB, credential.LimitExceededError, sdjwt.ErrLimit},
		{"too many disclosures", issued, sdjwt.VerifyOptions{Now: tNow, Limits: sdjwt.Limits{MaxDisclosures: 3}},
			credential.LimitExceededError, sdjwt.ErrLimit},
		{"oversized", issued + strings.Repeat("A", sdjwt.DefaultMaxBytes), noKB, credential.LimitExceededError, sdjwt.ErrLimit},
		{"over a smaller bound", issued, sdjwt.VerifyOptions{Now: tNow, Limits: sdjwt.Limits{MaxBytes: 200}},
			credential.LimitExceededError, sdjwt.ErrLimit},
		{"tampered payload", func() string {
			parts := strings.SplitN(issued, ".", 3)
			p := payloadOf(t, issued[:strings.IndexByte(issued, '~')])
			p["employee_id"] = "E-0001"
			return parts[0] + "." + b64.EncodeToString([]byte(mustJSON(t, p))) + "." + parts[2]
		}(), noKB, credential.CryptographicSecurityError, nil},
		{"alg none", rawJWT(t, `{"alg":"none","kid":"did:example:issuer#key-1","typ":"dc+sd-jwt"}`, mustJSON(t, basePayload(f)), nil) + "~",
			noKB, credential.CryptographicSecurityError, jose.ErrUnsupportedAlgorithm},
		{"alg HS256", craft(t, f, `{"alg":"HS256","kid":"did:example:issuer#key-1","typ":"dc+sd-jwt"}`, basePayload(f)),
			noKB, credential.CryptographicSecurityError, jose.ErrUnsupportedAlgorithm},
		{"alg does not fit the key", craft(t, f, `{"alg":"ES256","kid":"did:example:issuer#key-1","typ":"dc+sd-jwt"}`, basePayload(f)),
			noKB, credential.CryptographicSecurityError, nil},
		{"crit", craft(t, f, `{"alg":"EdDSA","crit":["exp"],"kid":"did:example:issuer#key-1","typ":"dc+sd-jwt"}`, basePayload(f)),
			noKB, credential.MalformedValueError, nil},
		{"typ vc+jwt", craft(t, f, `{"alg":"EdDSA","kid":"did:example:issuer#key-1","typ":"vc+jwt"}`, basePayload(f)),
			noKB, credential.MalformedValueError, nil},
		{"no typ", craft(t, f, `{"alg":"EdDSA","kid":"did:example:issuer#key-1"}`, basePayload(f)),
			noKB, credential.MalformedValueError, nil},
		{"kid not a DID URL", craft(t, f, `{"alg":"EdDSA","kid":"key-1","typ":"dc+sd-jwt"}`, basePayload(f)),
			noKB, credential.MalformedValueError, nil},
		{"kid is the DID", craft(t, f, `{"alg":"EdDSA","kid":"did:example:issuer","typ":"dc+sd-jwt"}`, basePayload(f)),
			noKB, credential.MalformedValueError, nil},
		{"unknown kid", craft(t, f, `{"alg":"EdDSA","kid":"did:example:issuer#key-9","typ":"dc+sd-jwt"}`, basePayload(f)),
			noKB, credential.CryptographicSecurityError, credential.ErrKeyNotFound},
		{"another issuer's key", func() string {
			return rawJWT(t, `{"alg":"EdDSA","kid":"did:example:other#key-1","typ":"dc+sd-jwt"}`, mustJSON(t, basePayload(f)), f.other) + "~"
		}(), noKB, credential.IssuerMismatchError, nil},
		{"compromised key", rawJWT(t, `{"alg":"EdDSA","kid":"did:example:issuer#key-3","typ":"dc+sd-jwt"}`, mustJSON(t, basePayload(f)), f.compromised) + "~",
			noKB, credential.KeyCompromisedError, nil},
		{"no iss", craft(t, f, stdHeader, func() map[string]any { p := basePayload(f); delete(p, "iss"); return p }()),
			noKB, credential.MalformedValueError, nil},
		{"no iat", craft(t, f, stdHeader, func() map[string]any { p := basePayload(f); delete(p, "iat"); return p }()),
			noKB, credential.MalformedValueError, nil},
		{"iat not a number", craft(t, f, stdHeader, func() map[string]any { p := basePayload(f); p["iat"] = "today"; return p }()),
			noKB, credential.MalformedValueError, nil},
		{"expired", craft(t, f, stdHeader, func() map[string]any { p := basePayload(f); p["exp"] = t0.Unix(); return p }()),
			sdjwt.VerifyOptions{Now: t0.Add(2 * time.Minute)}, credential.ValidityPeriodError, nil},
		{"not yet valid", craft(t, f, stdHeader, func() map[string]any { p := basePayload(f); p["nbf"] = tNow.Add(time.Hour).Unix(); return p }()),
			noKB, credential.ValidityPeriodError, nil},
		{"cnf without jwk", craft(t, f, stdHeader, func() map[string]any { p := basePayload(f); p["cnf"] = map[string]any{"kid": "x"}; return p }()),
			noKB, credential.MalformedValueError, nil},
		{"cnf with a private key", craft(t, f, stdHeader, func() map[string]any {
			p := basePayload(f)
			j := f.holder.Public().JWK()
			j["d"] = "AAAA"
			p["cnf"] = map[string]any{"jwk": j}
			return p
		}()), noKB, credential.MalformedValueError, nil},
		{"no tilde", issued[:strings.IndexByte(issued, '~')], noKB, credential.ParsingError, nil},
		{"empty disclosure", strings.Replace(issued, "~", "~~", 1), noKB, credential.ParsingError, nil},
		{"last part not a JWT", issued + "garbage", noKB, credential.ParsingError, nil},
		{"JSON serialization", `{"payload":"x","signature":"y"}~`, noKB, credential.ParsingError, nil},

		// Key binding.
		{"no KB-JWT when asked", issued, kbOptions(), credential.HolderBindingError, sdjwt.ErrKeyBindingRequired},
		{"KB-JWT by another key", sdB + kbJWT(t, sdB, kbHeader, nil, f.thief), kbOptions(), credential.CryptographicSecurityError, nil},
		{"KB-JWT alg none", sdB + kbJWT(t, sdB, `{"alg":"none","typ":"kb+jwt"}`, nil, nil), kbOptions(), credential.CryptographicSecurityError, jose.ErrUnsupportedAlgorithm},
		{"KB-JWT alg does not fit the key", sdB + kbJWT(t, sdB, `{"alg":"ES256","typ":"kb+jwt"}`, nil, f.holder), kbOptions(), credential.CryptographicSecurityError, nil},
		{"KB-JWT typ JWT", sdB + kbJWT(t, sdB, `{"alg":"EdDSA","typ":"JWT"}`, nil, f.holder), kbOptions(), credential.MalformedValueError, nil},
		{"KB-JWT crit", sdB + kbJWT(t, sdB, `{"alg":"EdDSA","crit":["x"],"typ":"kb+jwt"}`, nil, f.holder), kbOptions(), credential.MalformedValueError, nil},
		{"wrong nonce", presB, sdjwt.VerifyOptions{Now: tNow, Nonce: "other", Audience: "https://verifier.example"}, credential.InvalidChallengeError, nil},
		{"wrong audience", presB, sdjwt.VerifyOptions{Now: tNow, Nonce: "n-0S6_WzA2Mj", Audience: "https://evil.example"}, credential.InvalidDomainError, nil},
		{"aud as an array", sdB + kbJWT(t, sdB, kbHeader, map[string]any{"aud": []any{"https://verifier.example"}}, f.holder), kbOptions(), credential.MalformedValueError, nil},
		{"no nonce", sdB + kbJWT(t, sdB, kbHeader, map[string]any{"nonce": nil}, f.holder), kbOptions(), credential.MalformedValueError, nil},
		{"no iat in KB-JWT", sdB + kbJWT(t, sdB, kbHeader, map[string]any{"iat": nil}, f.holder), kbOptions(), credential.MalformedValueError, nil},
		{"stale KB-JWT", presB, func() sdjwt.VerifyOptions { o := kbOptions(); o.Now = tNow.Add(10 * time.Minute); return o }(), credential.HolderBindingError, nil},
		{"KB-JWT from the future", presB, func() sdjwt.VerifyOptions { o := kbOptions(); o.Now = tNow.Add(-5 * time.Minute); return o }(), credential.HolderBindingError, nil},
		{"bad sd_hash: another presentation's KB-JWT", sdB + kbA, kbOptions(), credential.CryptographicSecurityError, nil},
		{"sd_hash over the issuance", sdB + kbJWT(t, sdB, kbHeader, map[string]any{"sd_hash": sdjwt.Digest(issued)}, f.holder), kbOptions(), credential.CryptographicSecurityError, nil},
		{"KB-JWT without cnf", func() string {
			p := basePayload(f)
			delete(p, "cnf")
			s := craft(t, f, stdHeader, p)
			return s + kbJWT(t, s, kbHeader, nil, f.holder)
		}(), kbOptions(), credential.HolderBindingError, sdjwt.ErrKeyBindingRequired},
		{"disclosure added after key binding", presB[:strings.LastIndexByte(presB, '~')+1] + given.Encoded + "~" + presB[strings.LastIndexByte(presB, '~')+1:],
			kbOptions(), credential.CryptographicSecurityError, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := sdjwt.Verify(t.Context(), c.in, f.keys, c.opts)
			wantCode(t, err, c.code, c.target)
		})
	}

	// The untouched ones verify.
	for _, in := range []string{issued, presA, presB} {
		if _, err := sdjwt.Verify(t.Context(), in, f.keys, kbOptionsFor(in)); err != nil {
			t.Fatal(err)
		}
	}
}

// kbOptionsFor asks for key binding when in has a KB-JWT.
func kbOptionsFor(in string) sdjwt.VerifyOptions {
	if strings.HasSuffix(in, "~") {
		return sdjwt.VerifyOptions{Now: tNow}
	}
	return kbOptions()
}

// TestVerifyWithKeyNoVCRules: VerifyWithKey applies RFC 9901 alone, so
// a vct revealed by a Disclosure passes there and not in Verify.
func TestVerifyWithKeyNoVCRules(t *testing.T) {
	f := MustFixture(t)
	d := disc(t, "c2FsdA", "vct", vct, false)
	p := basePayload(f)
	delete(p, "vct")
	p["_sd"] = []any{d.Digest}
	s := craft(t, f, stdHeader, p, d.Encoded)
	res, err := sdjwt.VerifyWithKey(s, f.ed.Public(), sdjwt.VerifyOptions{Now: tNow})
	if err != nil {
		t.Fatal(err)
	}
	if res.Claims["vct"] != vct || res.Issuer != issuerDID {
		t.Fatalf("result %+v", res)
	}
	_, err = sdjwt.VerifyWithKey(s, f.other.Public(), sdjwt.VerifyOptions{Now: tNow})
	wantCode(t, err, credential.CryptographicSecurityError, nil)
}

// TestVerifyConcurrent: many verifications at once of presentations
// sharing one resolver (run with -race).
func TestVerifyConcurrent(t *testing.T) {
	f := MustFixture(t)
	issued := MustIssue(t, f)
	pres := MustPresent(t, f, issued, "/address/street_address", "/nationalities/2")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 64 {
		wg.Go(func() {
			res, err := sdjwt.Verify(t.Context(), pres, f.keys, kbOptions())
			if err == nil && len(res.Disclosed) != 3 {
				err = credential.Errorf(credential.MalformedValueError, "disclosed %v", res.Disclosed)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestSkipValidityPeriod: with SkipValidityPeriod an expired or
// not-yet-valid SD-JWT verifies (its caller checks the period itself),
// but a malformed exp is still refused.
func TestSkipValidityPeriod(t *testing.T) {
	f := MustFixture(t)
	skip := sdjwt.VerifyOptions{Now: t0.Add(2 * time.Hour), SkipValidityPeriod: true}
	for name, p := range map[string]func(map[string]any){
		"expired":       func(p map[string]any) { p["exp"] = t0.Unix() },
		"not yet valid": func(p map[string]any) { p["nbf"] = t0.Add(48 * time.Hour).Unix() },
	} {
		payload := basePayload(f)
		p(payload)
		s := craft(t, f, stdHeader, payload)
		if _, err := sdjwt.Verify(t.Context(), s, f.keys, skip); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		_, err := sdjwt.Verify(t.Context(), s, f.keys, sdjwt.VerifyOptions{Now: skip.Now})
		wantCode(t, err, credential.ValidityPeriodError, nil)
	}
	payload := basePayload(f)
	payload["exp"] = "tomorrow"
	_, err := sdjwt.Verify(t.Context(), craft(t, f, stdHeader, payload), f.keys, skip)
	wantCode(t, err, credential.MalformedValueError, nil)
}

package sdjwt_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/keys"
)

// TestIssueVerifyRoundTrip: an issued SD-JWT VC verifies with every
// claim, for Ed25519 and P-256 issuers and holders; a presentation of
// one claim verifies with key binding and shows that claim only.
func TestIssueVerifyRoundTrip(t *testing.T) {
	f := MustFixture(t)
	for _, c := range []struct {
		name           string
		issuer, holder credential.KeySigner
		alg            string
	}{
		{"EdDSA", f.ed, f.holder, ""},
		{"Ed25519", f.ed, f.holder, "Ed25519"},
		{"ES256", f.p256, f.holderP256, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			issued, err := sdjwt.Issue(claimsDoc(), c.issuer, sdjwt.IssueOptions{
				Disclosable: disclosable, Decoys: 3, Random: random(2), IssuedAt: t0, HolderKey: c.holder.Public(), Algorithm: c.alg,
			})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(issued, "~") || strings.Count(issued, "~") != len(disclosable)+1 {
				t.Fatalf("issued %d parts", strings.Count(issued, "~"))
			}
			res, err := sdjwt.Verify(t.Context(), issued, f.keys, sdjwt.VerifyOptions{Now: tNow})
			if err != nil {
				t.Fatal(err)
			}
			want := claimsDoc()
			want["iss"], want["iat"] = issuerDID, t0.Unix()
			want["cnf"] = map[string]any{"jwk": c.holder.Public().JWK()}
			if got, w := mustJSON(t, res.Claims), mustJSON(t, want); got != w {
				t.Fatalf("claims\n%s\nwant\n%s", got, w)
			}
			wantPtrs := []string{"/address", "/address/locality", "/address/street_address", "/email", "/family_name", "/given_name", "/nationalities/0", "/nationalities/2"}
			if !slices.Equal(res.Disclosed, wantPtrs) {
				t.Fatalf("disclosed %v", res.Disclosed)
			}
			if res.Issuer != issuerDID || res.VCT != vct || res.KeyBound || !res.HolderKey.Equal(c.holder.Public()) || res.Key.ID != c.issuer.ID {
				t.Fatalf("result %+v", res)
			}
			if res.Status == nil || res.Status.Index != 42 || res.Status.URI != statusURI {
				t.Fatalf("status %+v", res.Status)
			}

			pres, err := sdjwt.Present(issued, sdjwt.PresentOptions{
				Disclose: []string{"/family_name"}, Holder: c.holder, Algorithm: c.alg, Nonce: "n", Audience: "https://v.example", Now: tNow,
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err = sdjwt.Verify(t.Context(), pres, f.keys, sdjwt.VerifyOptions{Now: tNow, Nonce: "n", Audience: "https://v.example"})
			if err != nil {
				t.Fatal(err)
			}
			if !res.KeyBound || !slices.Equal(res.Disclosed, []string{"/family_name"}) {
				t.Fatalf("result %+v", res)
			}
			for _, hidden := range []string{"given_name", "email", "address", "Alice", "Oxford", "Rabbit"} {
				if strings.Contains(mustJSON(t, res.Claims), hidden) {
					t.Fatalf("%q in the verified claims", hidden)
				}
			}
			if got := mustJSON(t, res.Claims["nationalities"]); got != `["FR"]` {
				t.Fatalf("nationalities %s", got)
			}
		})
	}
}

// TestUndisclosedAbsentFromBytes: the bytes of a presentation of one
// claim, every part decoded, hold none of the undisclosed values.
func TestUndisclosedAbsentFromBytes(t *testing.T) {
	f := MustFixture(t)
	pres := MustPresent(t, f, MustIssue(t, f), "/given_name")
	var all strings.Builder
	for _, part := range strings.Split(pres, "~") {
		for _, seg := range strings.Split(part, ".") {
			if seg != "" {
				all.Write(decodePart(t, seg))
			}
		}
	}
	text := all.String()
	if !strings.Contains(text, "Alice") {
		t.Fatal("the disclosed claim is missing")
	}
	for _, hidden := range []string{"Liddell", "alice@example.org", "Rabbit Hole", "Oxford", `"GB"`, `"DE"`, "family_name", "email", "street_address", "locality"} {
		if strings.Contains(text, hidden) {
			t.Errorf("%q is in the presentation", hidden)
		}
	}
	if strings.Count(pres, "~") != 2 {
		t.Fatalf("presentation has %d disclosures", strings.Count(pres, "~")-1)
	}
}

// TestIssueDeterministic: issuance is a function of the random source
// (Ed25519 signatures are deterministic); every _sd array is sorted and
// holds the disclosable members plus the decoys.
func TestIssueDeterministic(t *testing.T) {
	f := MustFixture(t)
	a, b := MustIssue(t, f), MustIssue(t, f)
	if a != b {
		t.Fatal("two issuances from the same source differ")
	}
	other, err := sdjwt.Issue(claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: disclosable, Decoys: 2, Random: random(9), IssuedAt: t0, HolderKey: f.holder.Public()})
	if err != nil {
		t.Fatal(err)
	}
	if other == a {
		t.Fatal("another source gave the same SD-JWT")
	}
	p := payloadOf(t, strings.Split(a, "~")[0])
	sd := p["_sd"].([]any)
	if len(sd) != 4+2 { // given_name, family_name, email, address; 2 decoys
		t.Fatalf("top-level _sd has %d digests", len(sd))
	}
	if !slices.IsSortedFunc(sd, func(x, y any) int { return strings.Compare(x.(string), y.(string)) }) {
		t.Fatal("_sd is not sorted")
	}
	if p["_sd_alg"] != "sha-256" || p["employee_id"] != "E-1865" || p["vct"] != vct {
		t.Fatalf("payload %v", p)
	}
	nat := p["nationalities"].([]any)
	if len(nat) != 3 || nat[1] != "FR" {
		t.Fatalf("nationalities %v", nat)
	}
	for _, i := range []int{0, 2} {
		if m, ok := nat[i].(map[string]any); !ok || len(m) != 1 || m["..."] == nil {
			t.Fatalf("nationalities[%d] = %v", i, nat[i])
		}
	}
	// The salts are 128 bits.
	sdj, err := sdjwt.Parse(a, sdjwt.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range sdj.Disclosures {
		if len(decodePart(t, d.Salt)) != 16 {
			t.Fatalf("salt %q", d.Salt)
		}
	}
}

// TestRecursiveDisclosure: a nested claim brings its parent's
// Disclosure; the parent alone shows its value whole; a nested
// Disclosure sent without its parent's is refused.
func TestRecursiveDisclosure(t *testing.T) {
	f := MustFixture(t)
	issued := MustIssue(t, f)
	pres := MustPresent(t, f, issued, "/address/locality")
	res, err := sdjwt.Verify(t.Context(), pres, f.keys, kbOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, res.Claims["address"]); got != `{"country":"GB","locality":"Oxford"}` {
		t.Fatalf("address %s", got)
	}
	if !slices.Equal(res.Disclosed, []string{"/address", "/address/locality"}) {
		t.Fatalf("disclosed %v", res.Disclosed)
	}

	pres = MustPresent(t, f, issued, "/address")
	res, err = sdjwt.Verify(t.Context(), pres, f.keys, kbOptions())
	if err != nil {
		t.Fatal(err)
	}
	if got := mustJSON(t, res.Claims["address"]); got != `{"country":"GB","locality":"Oxford","street_address":"7 Rabbit Hole Lane"}` {
		t.Fatalf("address %s", got)
	}

	// The locality Disclosure without the address one.
	sd, err := sdjwt.Parse(issued, sdjwt.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range sd.Disclosures {
		if d.Name == "locality" {
			_, err := sdjwt.Verify(t.Context(), sd.JWT+"~"+d.Encoded+"~", f.keys, sdjwt.VerifyOptions{Now: tNow})
			wantCode(t, err, credential.CryptographicSecurityError, sdjwt.ErrUnreferencedDisclosure)
			return
		}
	}
	t.Fatal("no locality disclosure")
}

// TestPresentNothing: a presentation with no Disclosures verifies and
// shows the always-visible claims only; unknown pointers are refused.
func TestPresentNothing(t *testing.T) {
	f := MustFixture(t)
	issued := MustIssue(t, f)
	pres := MustPresent(t, f, issued)
	res, err := sdjwt.Verify(t.Context(), pres, f.keys, kbOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Disclosed) != 0 || res.Claims["employee_id"] != "E-1865" || res.Claims["given_name"] != nil {
		t.Fatalf("result %+v", res)
	}
	for _, p := range []string{"/nope", "/address/nope", "/nationalities/3", "/nationalities/01", "address", "/a~2"} {
		_, err := sdjwt.Present(issued, sdjwt.PresentOptions{Disclose: []string{p}})
		wantCode(t, err, credential.MalformedValueError, sdjwt.ErrBadPointer)
	}
	// Key binding to a key that is not cnf.jwk.
	_, err = sdjwt.Present(issued, sdjwt.PresentOptions{Holder: f.thief, Nonce: "n", Audience: "a", Now: tNow})
	wantCode(t, err, credential.ProofGenerationError, nil)
	// A presentation cannot be presented again.
	_, err = sdjwt.Present(pres, sdjwt.PresentOptions{})
	wantCode(t, err, credential.MalformedValueError, nil)
}

// TestIssueRefuses: claim sets and options the issuer refuses.
func TestIssueRefuses(t *testing.T) {
	f := MustFixture(t)
	with := func(k string, v any) map[string]any {
		c := claimsDoc()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	for _, c := range []struct {
		name   string
		claims map[string]any
		signer credential.Signer
		opts   sdjwt.IssueOptions
		code   credential.Code
	}{
		{"root pointer", claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: []string{""}}, credential.MalformedValueError},
		{"vct disclosable", claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: []string{"/vct"}}, credential.MalformedValueError},
		{"under cnf", claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: []string{"/cnf/jwk"}, HolderKey: f.holder.Public()}, credential.MalformedValueError},
		{"status idx", claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: []string{"/status/status_list/idx"}}, credential.MalformedValueError},
		{"iat disclosable", claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: []string{"/iat"}}, credential.MalformedValueError},
		{"no such claim", claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: []string{"/age"}}, credential.MalformedValueError},
		{"index out of range", claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: []string{"/nationalities/3"}}, credential.MalformedValueError},
		{"bad escape", claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: []string{"/a~x"}}, credential.MalformedValueError},
		{"no slash", claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: []string{"email"}}, credential.MalformedValueError},
		{"listed twice", claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: []string{"/email", "/email"}}, credential.MalformedValueError},
		{"_sd in claims", with("x", map[string]any{"_sd": []any{}}), f.ed, sdjwt.IssueOptions{}, credential.MalformedValueError},
		{"... in claims", with("x", []any{map[string]any{"...": "d"}}), f.ed, sdjwt.IssueOptions{}, credential.MalformedValueError},
		{"_sd_alg in claims", with("_sd_alg", "sha-512"), f.ed, sdjwt.IssueOptions{}, credential.MalformedValueError},
		{"no vct", with("vct", nil), f.ed, sdjwt.IssueOptions{}, credential.MalformedValueError},
		{"vct not a string", with("vct", 7), f.ed, sdjwt.IssueOptions{}, credential.MalformedValueError},
		{"iss of another DID", with("iss", otherDID), f.ed, sdjwt.IssueOptions{IssuedAt: t0}, credential.IssuerMismatchError},
		{"no iat", claimsDoc(), f.ed, sdjwt.IssueOptions{}, credential.MalformedValueError},
		{"iat conflicts", with("iat", 5), f.ed, sdjwt.IssueOptions{IssuedAt: t0}, credential.MalformedValueError},
		{"bad status", with("status", map[string]any{"status_list": map[string]any{"idx": -1, "uri": statusURI}}), f.ed, sdjwt.IssueOptions{IssuedAt: t0}, credential.MalformedValueError},
		{"too many decoys", claimsDoc(), f.ed, sdjwt.IssueOptions{Decoys: sdjwt.MaxDecoys + 1, IssuedAt: t0}, credential.ProofGenerationError},
		{"kid not a DID URL", claimsDoc(), credential.KeySigner{ID: issuerDID, Key: f.ed.Key}, sdjwt.IssueOptions{IssuedAt: t0}, credential.ProofGenerationError},
		{"no signer", claimsDoc(), nil, sdjwt.IssueOptions{IssuedAt: t0}, credential.ProofGenerationError},
		{"random source repeats", claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: []string{"/email", "/family_name"}, Random: bytes.NewReader(bytes.Repeat([]byte{1}, 1024))}, credential.ProofGenerationError},
		{"random source runs dry", claimsDoc(), f.ed, sdjwt.IssueOptions{Disclosable: []string{"/email"}, Random: bytes.NewReader(nil)}, credential.ProofGenerationError},
		{"alg for another key", claimsDoc(), f.ed, sdjwt.IssueOptions{IssuedAt: t0, Algorithm: "ES256"}, credential.ProofGenerationError},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.opts.IssuedAt.IsZero() && c.name != "no iat" {
				c.opts.IssuedAt = t0
			}
			_, err := sdjwt.Issue(c.claims, c.signer, c.opts)
			wantCode(t, err, c.code, nil)
		})
	}
}

// TestDecodeDisclosureRefuses: Disclosures the decoder refuses.
func TestDecodeDisclosureRefuses(t *testing.T) {
	enc := func(s string) string { return b64.EncodeToString([]byte(s)) }
	for _, c := range []struct {
		name, in string
		code     credential.Code
	}{
		{"empty", "", credential.ParsingError},
		{"not base64url", "WyJh+iwgImIiXQ", credential.ParsingError},
		{"padded", enc(`["s", "n", 1]`) + "=", credential.ParsingError},
		{"not an array", enc(`{"a":1}`), credential.ParsingError},
		{"trailing data", enc(`["s", "n", 1] x`), credential.ParsingError},
		{"two arrays", enc(`["s", "n", 1]]`), credential.ParsingError},
		{"duplicate member", enc(`["s", "n", {"a":1,"a":2}]`), credential.ParsingError},
		{"deep", enc(`["s", "n", ` + strings.Repeat("[", 80) + strings.Repeat("]", 80) + `]`), credential.ParsingError},
		{"one element", enc(`["s"]`), credential.MalformedValueError},
		{"four elements", enc(`["s", "n", 1, 2]`), credential.MalformedValueError},
		{"salt not a string", enc(`[1, "n", 1]`), credential.MalformedValueError},
		{"name not a string", enc(`["s", 1, 1]`), credential.MalformedValueError},
		{"_sd name", enc(`["s", "_sd", ["x"]]`), credential.MalformedValueError},
		{"... name", enc(`["s", "...", "x"]`), credential.MalformedValueError},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := sdjwt.DecodeDisclosure(c.in)
			wantCode(t, err, c.code, nil)
		})
	}
}

// TestStatusAndHolderKey: the status reference and cnf.jwk come back;
// a credential without cnf verifies without key binding and refuses a
// required one.
func TestStatusAndHolderKey(t *testing.T) {
	f := MustFixture(t)
	issued, err := sdjwt.Issue(claimsDoc(), f.ed, sdjwt.IssueOptions{IssuedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	res, err := sdjwt.Verify(t.Context(), issued, f.keys, sdjwt.VerifyOptions{Now: tNow})
	if err != nil {
		t.Fatal(err)
	}
	if !res.HolderKey.IsZero() || res.Status == nil || res.Status.Index != 42 || len(res.Disclosed) != 0 {
		t.Fatalf("result %+v", res)
	}
	_, err = sdjwt.Verify(t.Context(), issued, f.keys, sdjwt.VerifyOptions{Now: tNow, RequireKeyBinding: true})
	wantCode(t, err, credential.HolderBindingError, sdjwt.ErrKeyBindingRequired)
	_, err = sdjwt.Verify(t.Context(), issued, f.keys, sdjwt.VerifyOptions{})
	wantCode(t, err, credential.MalformedValueError, nil)
	_ = keys.Ed25519
}

// TestRetiredKey: a key retired after the credential's iat still
// verifies it; one retired before does not.
func TestRetiredKey(t *testing.T) {
	f := MustFixture(t)
	issued := MustIssue(t, f)
	for _, c := range []struct {
		retired time.Time
		ok      bool
	}{
		{t0.Add(time.Second), true},
		{t0, false},
		{t0.Add(-time.Hour), false},
	} {
		var r credential.StaticKeys
		r.Add(credential.VerificationKey{ID: f.ed.ID, Controller: issuerDID, Public: f.ed.Public(), RetiredAt: c.retired}, credential.PurposeAssertion)
		_, err := sdjwt.Verify(t.Context(), issued, &r, sdjwt.VerifyOptions{Now: tNow})
		if c.ok && err != nil {
			t.Fatalf("retired %s: %v", c.retired, err)
		}
		if !c.ok {
			wantCode(t, err, credential.KeyRetiredError, nil)
		}
	}
	// A key listed only for authentication is not an assertion key.
	var r credential.StaticKeys
	r.Add(credential.VerificationKey{ID: f.ed.ID, Controller: issuerDID, Public: f.ed.Public()}, credential.PurposeAuthentication)
	_, err := sdjwt.Verify(t.Context(), issued, &r, sdjwt.VerifyOptions{Now: tNow})
	wantCode(t, err, credential.CryptographicSecurityError, credential.ErrKeyNotAuthorized)
}

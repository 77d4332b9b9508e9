package interop_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/credential/tokenstatus"
	"github.com/idmesh/idmesh/issuer"
)

// sdjwtTime is when the SD-JWT VCs of these tests are issued and presented.
var sdjwtTime = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// privateJWK is k as an Ed25519 private JWK, for @sd-jwt's signers.
func (k testKey) privateJWK() map[string]any {
	j := k.priv.Public().JWK()
	j["d"] = base64.RawURLEncoding.EncodeToString(k.seed)
	return j
}

type sdjwtVerdict struct {
	Verified bool
	Error    string
	Payload  map[string]any
	KB       map[string]any
}

// TestSDJWTIdmeshToNPM: an SD-JWT VC idmesh issues, and a presentation
// of two nested claims with key binding, verify in @sd-jwt/sd-jwt-vc;
// the verified payload holds the disclosed claims only, and a modified
// Disclosure is refused there too.
func TestSDJWTIdmeshToNPM(t *testing.T) {
	requireInterop(t)
	issuer, holder := MustKey(t, "sdjwt issuer"), MustKey(t, "sdjwt holder")
	claims := map[string]any{
		"vct":           "https://idmesh.dev/vct/EmployeeCredential",
		"given_name":    "Alice",
		"family_name":   "Liddell",
		"address":       map[string]any{"street_address": "7 Rabbit Hole Lane", "locality": "Oxford", "country": "GB"},
		"nationalities": []any{"GB", "FR"},
	}
	issued, err := sdjwt.Issue(claims, issuer.signer(), sdjwt.IssueOptions{
		Disclosable: []string{"/given_name", "/family_name", "/address", "/address/street_address", "/address/locality", "/nationalities/0", "/nationalities/1"},
		Decoys:      2, IssuedAt: sdjwtTime, HolderKey: holder.priv.Public(),
	})
	if err != nil {
		t.Fatal(err)
	}
	pres, err := sdjwt.Present(issued, sdjwt.PresentOptions{
		Disclose: []string{"/address/locality", "/nationalities/1"},
		Holder:   credential.KeySigner{Key: holder.priv}, Nonce: "nonce-42", Audience: "https://verifier.example", Now: sdjwtTime,
	})
	if err != nil {
		t.Fatal(err)
	}
	verify := func(token, nonce string) sdjwtVerdict {
		return MustDecode[sdjwtVerdict](t, MustNode(t, "sdjwt.mjs", MustJSON(t, map[string]any{
			"token": token, "issuerJwk": issuer.priv.Public().JWK(), "nonce": nonce, "now": sdjwtTime.Unix() + 30,
		}), "verify"))
	}

	v := verify(issued, "")
	if !v.Verified {
		t.Fatalf("@sd-jwt refused idmesh's SD-JWT VC: %s", v.Error)
	}
	if v.Payload["given_name"] != "Alice" || !sameJSON(t, v.Payload["address"], claims["address"]) || !sameJSON(t, v.Payload["nationalities"], claims["nationalities"]) {
		t.Fatalf("payload %v", v.Payload)
	}

	v = verify(pres, "nonce-42")
	if !v.Verified {
		t.Fatalf("@sd-jwt refused idmesh's presentation: %s", v.Error)
	}
	if v.KB == nil {
		t.Fatal("no key binding verified")
	}
	if !sameJSON(t, v.Payload["address"], map[string]any{"locality": "Oxford", "country": "GB"}) || !sameJSON(t, v.Payload["nationalities"], []any{"FR"}) {
		t.Fatalf("payload %v", v.Payload)
	}
	for _, hidden := range []string{"given_name", "family_name"} {
		if _, ok := v.Payload[hidden]; ok {
			t.Fatalf("%s in the payload", hidden)
		}
	}
	if v := verify(pres, "another nonce"); v.Verified {
		t.Fatal("@sd-jwt accepted a wrong nonce")
	}

	// A modified Disclosure: @sd-jwt ignores what no digest references,
	// so the claim must at least not come through.
	sd, err := sdjwt.Parse(issued, sdjwt.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range sd.Disclosures {
		if d.Name == "given_name" {
			forged, err := sdjwt.EncodeDisclosure(d.Salt, "given_name", "Mallory", false)
			if err != nil {
				t.Fatal(err)
			}
			v := verify(strings.Replace(issued, d.Encoded, forged.Encoded, 1), "")
			if v.Verified && v.Payload["given_name"] == "Mallory" {
				t.Fatal("@sd-jwt took a modified Disclosure")
			}
		}
	}
}

// TestSDJWTNPMToIdmesh: an SD-JWT VC that @sd-jwt/sd-jwt-vc issues (a
// did:key issuer's kid, nested disclosable claims) and presents with
// key binding verifies in idmesh, with the claims the presentation
// disclosed and no others.
func TestSDJWTNPMToIdmesh(t *testing.T) {
	requireInterop(t)
	issuer, holder := MustKey(t, "sdjwt issuer"), MustKey(t, "sdjwt holder")
	out := MustDecode[struct{ Issued, Presented string }](t, MustNode(t, "sdjwt.mjs", MustJSON(t, map[string]any{
		"claims": map[string]any{
			"vct": "https://idmesh.dev/vct/EmployeeCredential", "iss": issuer.did, "iat": sdjwtTime.Unix(),
			"given_name": "Bob", "family_name": "Builder",
			"address": map[string]any{"locality": "Bristol", "country": "GB"},
		},
		"frame":     map[string]any{"_sd": []any{"given_name", "family_name", "address"}, "address": map[string]any{"_sd": []any{"locality"}}},
		"present":   map[string]any{"address": map[string]any{"locality": true}},
		"issuerJwk": issuer.privateJWK(), "kid": issuer.vmID, "holderJwk": holder.privateJWK(),
		"nonce": "nonce-7", "aud": "https://verifier.example", "iat": sdjwtTime.Unix(),
	}), "issue"))

	res, err := sdjwt.Verify(t.Context(), out.Issued, issuer.resolver(), sdjwt.VerifyOptions{Now: sdjwtTime})
	if err != nil {
		t.Fatalf("idmesh refused @sd-jwt's SD-JWT VC: %v\n%s", err, out.Issued)
	}
	if res.Claims["given_name"] != "Bob" || res.Issuer != issuer.did {
		t.Fatalf("claims %v", res.Claims)
	}

	res, err = sdjwt.Verify(t.Context(), out.Presented, issuer.resolver(), sdjwt.VerifyOptions{
		Now: sdjwtTime.Add(time.Minute), Nonce: "nonce-7", Audience: "https://verifier.example",
	})
	if err != nil {
		t.Fatalf("idmesh refused @sd-jwt's presentation: %v\n%s", err, out.Presented)
	}
	if !res.KeyBound || !res.HolderKey.Equal(holder.priv.Public()) {
		t.Fatalf("key binding %v", res)
	}
	if !sameJSON(t, res.Claims["address"], map[string]any{"locality": "Bristol", "country": "GB"}) {
		t.Fatalf("address %v", res.Claims["address"])
	}
	if _, ok := res.Claims["given_name"]; ok {
		t.Fatal("given_name was not presented")
	}
	_, err = sdjwt.Verify(t.Context(), out.Presented, issuer.resolver(), sdjwt.VerifyOptions{
		Now: sdjwtTime.Add(time.Minute), Nonce: "nonce-8", Audience: "https://verifier.example",
	})
	if credential.CodeOf(err, "") != credential.InvalidChallengeError {
		t.Fatalf("wrong nonce: %v", err)
	}
}

// TestSDJWTIssuedByIssuerToNPM: an SD-JWT VC as the node's issue endpoint
// makes it (issuer.IssueSDJWT: iss, iat, cnf and a Token Status List
// status claim set by idmesh, the default disclosable claims) verifies
// in @sd-jwt, and a presentation of one claim with key binding too.
func TestSDJWTIssuedByIssuerToNPM(t *testing.T) {
	requireInterop(t)
	iss, holder := MustKey(t, "sdjwt api issuer"), MustKey(t, "sdjwt api holder")
	// The issuer's Token Status List, served as a node serves it; the
	// npm verifier fetches it by the credential's uri and checks entry
	// 4242: valid first, then revoked.
	var token atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/statuslist+jwt")
		_, _ = w.Write([]byte(token.Load().(string)))
	}))
	srv.Start()
	t.Cleanup(srv.Close)
	uri := srv.URL + "/status-lists/abc-1/token"
	publish := func(v uint8) {
		t.Helper()
		l, err := tokenstatus.New(131072, tokenstatus.Bits)
		if err == nil {
			err = l.Set(4242, v)
		}
		if err != nil {
			t.Fatal(err)
		}
		jwt, err := (&tokenstatus.Token{Subject: uri, Issuer: iss.did, IssuedAt: sdjwtTime, List: l}).Sign(iss.signer(), "")
		if err != nil {
			t.Fatal(err)
		}
		token.Store(jwt)
	}
	publish(tokenstatus.Valid)
	issued, err := issuer.IssueSDJWT(map[string]any{"vct": "https://idmesh.dev/vct/employment", "jobTitle": "Engineer", "employer": map[string]any{"name": "Example Corp"}},
		iss.signer(), issuer.SDJWTOptions{HolderKey: holder.priv.Public(), Now: sdjwtTime,
			Status: map[string]any{"status_list": map[string]any{"idx": 4242, "uri": uri}}})
	if err != nil {
		t.Fatal(err)
	}
	pres, err := sdjwt.Present(issued, sdjwt.PresentOptions{Disclose: []string{"/jobTitle"},
		Holder: credential.KeySigner{Key: holder.priv}, Nonce: "nonce-7", Audience: "https://verifier.example", Now: sdjwtTime})
	if err != nil {
		t.Fatal(err)
	}
	v := MustDecode[sdjwtVerdict](t, MustNode(t, "sdjwt.mjs", MustJSON(t, map[string]any{
		"token": pres, "issuerJwk": iss.priv.Public().JWK(), "nonce": "nonce-7", "now": sdjwtTime.Unix() + 30,
	}), "verify"))
	if !v.Verified || v.KB == nil {
		t.Fatalf("@sd-jwt refused the issuer's SD-JWT VC presentation: %s", v.Error)
	}
	if v.Payload["jobTitle"] != "Engineer" || v.Payload["employer"] != nil || v.Payload["iss"] != iss.did || v.Payload["status"] == nil {
		t.Fatalf("payload %v", v.Payload)
	}
	publish(tokenstatus.Invalid)
	v = MustDecode[sdjwtVerdict](t, MustNode(t, "sdjwt.mjs", MustJSON(t, map[string]any{
		"token": pres, "issuerJwk": iss.priv.Public().JWK(), "nonce": "nonce-7", "now": sdjwtTime.Unix() + 30,
	}), "verify"))
	if v.Verified {
		t.Fatal("@sd-jwt accepted the credential after idmesh's status list token revoked it")
	}
	t.Logf("revoked: %s", v.Error)
}

package interop_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/sdjwt"
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

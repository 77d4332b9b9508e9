package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/verifier"
)

// TestVerifyHTTPStatusAtOnce: the node keeps each status list version it
// verified, and its issuer's keys, until a block changes them; a
// revocation or suspension counts for the very next verification over
// HTTP once POST /credentials/status has answered (no TTL to wait out),
// however many verifications ran before it and run beside it, for vc+jwt
// and eddsa-rdfc-2022 credentials as the node issues them.
func TestVerifyHTTPStatusAtOnce(t *testing.T) {
	// No per-client rate: one client sends many verifications here.
	n := startDevNode(t, "--verify-rate", "-1")
	uni := n.createIssuer(t, "uni")
	for _, format := range []string{"vc+jwt", "eddsa-rdfc-2022"} {
		t.Run(format, func(t *testing.T) {
			suspendMe := n.issue(t, degree(uni), map[string]any{"format": format})
			revokeMe := n.issue(t, degree(uni), map[string]any{"format": format})
			ids := map[string]string{}
			// Warm the node's caches from several connections at once.
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for range 5 {
						for _, vc := range []map[string]any{suspendMe, revokeMe} {
							if res, code := n.verify(t, vc, nil); code != http.StatusOK || res.StatusHeight == 0 {
								t.Errorf("verify: %d %+v", code, res.ProblemDetails)
							}
						}
					}
				})
			}
			wg.Wait()
			for name, vc := range map[string]map[string]any{"suspend": suspendMe, "revoke": revokeMe} {
				res, _ := n.verify(t, vc, nil)
				ids[name], _ = res.Document["id"].(string)
			}
			steps := []struct {
				id, purpose string
				set         bool
				vc          map[string]any
				want        credential.Code // "" verified
			}{
				{ids["suspend"], "suspension", true, suspendMe, credential.CredentialSuspended},
				{ids["suspend"], "suspension", false, suspendMe, ""},
				{ids["revoke"], "revocation", true, revokeMe, credential.CredentialRevoked},
			}
			for _, s := range steps {
				r := n.setStatus(t, s.id, s.purpose, s.set)
				if r.status != http.StatusOK {
					t.Fatalf("%s=%t: %d %s", s.purpose, s.set, r.status, r.body)
				}
				h := uint64(decode[struct {
					Height float64 `json:"height"`
				}](t, r).Height)
				// The next verification, and every one after it.
				for range 3 {
					res, code := n.verify(t, s.vc, nil)
					if res.StatusHeight < h {
						t.Fatalf("%s=%t committed at %d, status read at %d", s.purpose, s.set, h, res.StatusHeight)
					}
					if s.want == "" {
						if code != http.StatusOK {
							t.Fatalf("after %s=%t: %d %+v", s.purpose, s.set, code, res.ProblemDetails)
						}
						continue
					}
					wantFailure(t, res, code, s.want)
				}
			}
			// The other credential of the revoked one's lists is unaffected.
			if res, code := n.verify(t, suspendMe, nil); code != http.StatusOK {
				t.Fatalf("the other credential: %d %+v", code, res.ProblemDetails)
			}
		})
	}
}

// TestVerifyHTTPFastPathRefusesForgeries: over HTTP, through the idmesh
// binary, the vc+jwt fast path (the token parsed once, the Ed25519
// signature checked on its parts) refuses a token with alg "none", one
// signed by another issuer's key, one whose payload or header was
// altered and one with a truncated signature, each time it is posted
// (interleaved with the genuine token, from several connections at
// once: no verdict is kept from one request to the next), and the
// answer to the genuine one is byte for byte encoding/json's encoding of
// its result.
func TestVerifyHTTPFastPathRefusesForgeries(t *testing.T) {
	n := startDevNode(t, "--verify-rate", "-1")
	uni := n.createIssuer(t, "uni")
	mill := n.createIssuer(t, "mill")
	const prefix = "data:application/vc+jwt,"
	tokenOf := func(vc map[string]any) []string {
		id, _ := vc["id"].(string)
		if !strings.HasPrefix(id, prefix) {
			t.Fatalf("not an enveloped vc+jwt: %v", vc)
		}
		return strings.Split(strings.TrimPrefix(id, prefix), ".")
	}
	envelope := func(parts ...string) map[string]any {
		return map[string]any{"@context": []any{"https://www.w3.org/ns/credentials/v2"}, "type": "EnvelopedVerifiableCredential",
			"id": prefix + strings.Join(parts, ".")}
	}
	genuine := n.issue(t, degree(uni), map[string]any{"format": "vc+jwt"})
	g := tokenOf(genuine)
	m := tokenOf(n.issue(t, degree(mill), map[string]any{"format": "vc+jwt"}))
	b64 := base64.RawURLEncoding
	header, err := b64.DecodeString(g[0])
	if err != nil {
		t.Fatal(err)
	}
	payload, err := b64.DecodeString(g[1])
	if err != nil {
		t.Fatal(err)
	}
	noneHeader := b64.EncodeToString(bytes.Replace(header, []byte(`"alg":"EdDSA"`), []byte(`"alg":"none"`), 1))
	if noneHeader == g[0] {
		t.Fatalf("header %s has no EdDSA alg", header)
	}
	tampered := b64.EncodeToString(bytes.Replace(payload, []byte("Bachelor"), []byte("Doctor"), 1))
	forgeries := map[string]map[string]any{
		"alg none, no signature":    envelope(noneHeader, g[1], ""),
		"alg none, the signature":   envelope(noneHeader, g[1], g[2]),
		"another issuer's key":      envelope(g[0], g[1], m[2]),
		"another issuer's header":   envelope(m[0], g[1], m[2]),
		"tampered payload":          envelope(g[0], tampered, g[2]),
		"truncated signature":       envelope(g[0], g[1], g[2][:80]), // 60 bytes,
		"signature of another body": envelope(g[0], m[1], g[2]),
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 3 {
				for name, vc := range forgeries {
					r := authPost(t, n.url+"/credentials/verify", "", map[string]any{"verifiableCredential": vc})
					var res verifier.Result
					if err := json.Unmarshal(r.body, &res); err != nil || r.status != http.StatusBadRequest || res.Verified || len(res.ProblemDetails) == 0 {
						t.Errorf("%s: %d %s", name, r.status, r.body)
						continue
					}
					if typ := res.ProblemDetails[0].Type; typ != credential.CryptographicSecurityError.Type() && typ != credential.IssuerMismatchError.Type() {
						t.Errorf("%s: problem %s", name, typ)
					}
					if r := authPost(t, n.url+"/credentials/verify", "", map[string]any{"verifiableCredential": genuine}); r.status != http.StatusOK {
						t.Errorf("genuine after %s: %d %s", name, r.status, r.body)
					}
				}
			}
		})
	}
	wg.Wait()
	// The answer is encoding/json's encoding of the result it carries.
	for _, vc := range []map[string]any{genuine, forgeries["tampered payload"]} {
		r := authPost(t, n.url+"/credentials/verify", "", map[string]any{"verifiableCredential": vc})
		dec := json.NewDecoder(bytes.NewReader(r.body))
		dec.UseNumber()
		var res verifier.Result
		if err := dec.Decode(&res); err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.body, append(want, '\n')) || r.contentType != "application/json" {
			t.Fatalf("answer (%s):\n%s\nencoding/json:\n%s", r.contentType, r.body, want)
		}
	}
}

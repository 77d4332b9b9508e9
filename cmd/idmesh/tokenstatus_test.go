package main

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/tokenstatus"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/registry"
)

// TestTokenStatusListE2E publishes and revokes through a running `idmesh
// dev` over HTTP: Status List Tokens of an issuer that keeps its own key
// (a did:key) are posted to POST /v1/status-lists, the node serves the
// latest at GET /status-lists/{id}/token as application/statuslist+jwt,
// and the chain refuses a version that clears a revoked entry, a replay,
// a forgery, and a token that is no Status List Token.
func TestTokenStatusListE2E(t *testing.T) {
	n := startDevNode(t)
	k, err := keys.Generate(keys.Ed25519, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dk := key.New(k.Public())
	signer := credential.KeySigner{ID: dk + "#" + k.Public().Multibase(), Key: k}
	id := registry.StatusListOwner(dk) + "0001"
	uri := n.url + "/status-lists/" + id + "/token"
	base := time.Now().Add(-time.Minute).Truncate(time.Second)
	sign := func(s credential.KeySigner, iat time.Duration, set map[int]uint8) []byte {
		t.Helper()
		l, err := tokenstatus.New(tokenstatus.MinLength, tokenstatus.Bits)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range set {
			l.Set(i, v)
		}
		tok := tokenstatus.Token{Subject: uri, IssuedAt: base.Add(iat), List: l}
		jwt, err := tok.Sign(s, "")
		if err != nil {
			t.Fatal(err)
		}
		return []byte(jwt)
	}
	publish := func(tok []byte) httpResult {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, n.url+"/v1/status-lists", bytes.NewReader(tok))
		req.Header.Set("Content-Type", tokenstatus.MediaType)
		return do(t, req)
	}
	entry := func(i int) uint8 {
		t.Helper()
		r := get(t, uri, tokenstatus.MediaType)
		if r.status != http.StatusOK || r.contentType != tokenstatus.MediaType {
			t.Fatalf("GET %s: %d %s %s", uri, r.status, r.contentType, r.body)
		}
		u, err := tokenstatus.Parse(string(r.body), tokenstatus.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := u.Verify(k.Public(), tokenstatus.Limits{})
		if err != nil || tok.Subject != uri {
			t.Fatalf("served token: %v (sub %v)", err, tok)
		}
		v, _ := tok.List.Get(i)
		return v
	}

	if r := get(t, uri, ""); r.status != http.StatusNotFound || r.contentType != "application/problem+json" {
		t.Fatalf("before publishing: %d %s", r.status, r.body)
	}
	v1 := sign(signer, 0, map[int]uint8{3: tokenstatus.Suspended})
	if r := publish(v1); r.status != http.StatusCreated || !strings.Contains(string(r.body), `"list":"`+id+`"`) {
		t.Fatalf("publish v1: %d %s", r.status, r.body)
	}
	if r := get(t, uri, ""); !bytes.Equal(r.body, v1) {
		t.Fatal("the served token is not the signed bytes")
	}
	if v := entry(3); v != tokenstatus.Suspended {
		t.Fatalf("entry 3 = %d, want suspended", v)
	}
	v2 := sign(signer, time.Second, map[int]uint8{3: tokenstatus.Invalid, 4: tokenstatus.Suspended})
	if r := publish(v2); r.status != http.StatusCreated {
		t.Fatalf("publish v2: %d %s", r.status, r.body)
	}
	if v := entry(3); v != tokenstatus.Invalid {
		t.Fatalf("entry 3 = %d, want revoked", v)
	}
	other, _ := keys.Generate(keys.Ed25519, rand.Reader)
	otherDID := key.New(other.Public())
	for _, c := range []struct {
		name   string
		tok    []byte
		status int
	}{
		{"revoked entry cleared", sign(signer, 2*time.Second, map[int]uint8{4: tokenstatus.Suspended}), http.StatusConflict},
		{"revoked entry suspended", sign(signer, 2*time.Second, map[int]uint8{3: tokenstatus.Suspended}), http.StatusConflict},
		{"replay of v1", v1, http.StatusConflict},
		{"replay of v2", v2, http.StatusConflict},
		{"forged by another did:key", sign(credential.KeySigner{ID: otherDID + "#" + other.Public().Multibase(), Key: other}, 3*time.Second, nil), http.StatusForbidden},
		{"not a Status List Token", []byte("eyJhbGciOiJub25lIn0.e30."), http.StatusBadRequest},
	} {
		r := publish(c.tok)
		if r.status != c.status || r.contentType != "application/problem+json" {
			t.Fatalf("%s: %d %s, want %d", c.name, r.status, r.body, c.status)
		}
	}
	if v := entry(3); v != tokenstatus.Invalid {
		t.Fatalf("entry 3 = %d after the refusals", v)
	}
	if v := entry(4); v != tokenstatus.Suspended {
		t.Fatalf("entry 4 = %d", v)
	}
	// Suspension lifted, revocation kept.
	if r := publish(sign(signer, 2*time.Second, map[int]uint8{3: tokenstatus.Invalid})); r.status != http.StatusCreated {
		t.Fatalf("lift suspension: %d %s", r.status, r.body)
	}
	if entry(4) != tokenstatus.Valid || entry(3) != tokenstatus.Invalid {
		t.Fatal("lifting the suspension")
	}
}

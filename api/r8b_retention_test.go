package api_test

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

// TestR8bVPResultPinsPayload (security review R8, part VJ): a stored
// OpenID4VP result must not keep more memory than resultSize charges
// for it. Since strictjson.ObjectString, the holder (the VP JWT's iss,
// read by Compact.Payload) is a substring of the whole decoded VP
// payload: a wallet that pads its VP JWT with an unread member (here
// 150 KiB) makes each kept result (charged a few hundred bytes) hold
// the whole payload until the result's TTL.
func TestR8bVPResultPinsPayload(t *testing.T) {
	s := newVPServer(t, nil)
	hk, _ := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{81}))
	holderDID := key.New(hk.Public())
	holder := credential.KeySigner{ID: holderDID + "#" + hk.Public().Multibase(), Key: hk}
	s.keys.Add(credential.VerificationKey{ID: holder.ID, Controller: holderDID, Public: hk.Public()}, credential.PurposeAuthentication)
	iss, _ := s.reg.Find("uni")
	signer, _ := s.reg.Signer(iss)
	cred := alumniV1(s.did, "2026-01-01T00:00:00Z", "2030-01-01T00:00:00Z")
	cred["credentialSubject"] = map[string]any{"id": holderDID, "alumniOf": "The School of Examples"}
	vc, err := jose.SignJWTVC(cred, signer, jose.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	query := map[string]any{"credentials": []any{map[string]any{"id": "alumni", "format": "jwt_vc_json",
		"meta": map[string]any{"type_values": []any{[]any{"ExampleAlumniCredential"}}}, "claims": []any{map[string]any{"path": []any{"credentialSubject", "alumniOf"}}}}}}
	padding := strings.Repeat("A", 150<<10)
	answer := func() {
		out := s.create(t, map[string]any{"dcql_query": query})
		r := s.fetch(t, out)
		b, _ := json.Marshal(map[string]any{"iss": holderDID, "aud": r.str("client_id"), "nonce": r.str("nonce"), "iat": s.clock.Now().Unix(),
			"padding": padding,
			"vp":      map[string]any{"@context": []any{credential.ContextV1}, "type": []any{"VerifiablePresentation"}, "verifiableCredential": []any{vc}}})
		tok, err := jose.SignCompact(b, "JWT", holder.ID, holder, "")
		if err != nil {
			t.Fatal(err)
		}
		a := s.respond(t, r.str("response_uri"), vpTokenForm("alumni", tok, r.str("state")))
		if a.status != http.StatusOK {
			t.Fatalf("response: %d %s", a.status, a.body)
		}
		if v, raw := s.transaction(t, out.TransactionID); v.Status != api.VPVerified {
			t.Fatalf("transaction %s", raw)
		}
	}
	answer() // warm up every cache on the way
	heap := settledHeap
	before := heap()
	const n = 16
	for range n {
		answer()
	}
	grown := int64(heap()) - int64(before)
	t.Logf("%d results kept: heap grew %d KiB (%d KiB each)", n, grown>>10, grown/n>>10)
	// A result charged well under 4 KiB may cost some more in Go's
	// overheads, never the 150 KiB of padding its wallet sent.
	if grown > n*32<<10 {
		t.Fatalf("%d kept results hold %d KiB: each keeps its VP JWT's payload (%d KiB of padding nobody reads)", n, grown>>10, len(padding)>>10)
	}
	runtime.KeepAlive(s)
}

// settledHeap returns the bytes of the heap that stay after two
// collections: what a test's leftovers still hold.
func settledHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

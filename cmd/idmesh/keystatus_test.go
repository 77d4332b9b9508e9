package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/verifier"
)

// TestKeyStatus is issue 10 item 2 through the real binary: a key
// retired in a rotation keeps what it signed before valid, but not what
// it signs after; `idmesh did compromise` of the retired key stops both;
// and a key marked compromised by another DID, under another id, stops
// verifying under every id it had, did:key included. Both securing
// mechanisms (eddsa-rdfc-2022 and vc+jwt) are checked.
func TestKeyStatus(t *testing.T) {
	n := startDevNode(t)
	ks := filepath.Join(t.TempDir(), "keystore.json")
	chainID := status(t, n.url).ChainID

	createDID := func() string {
		var created struct {
			DID string `json:"did"`
		}
		if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "did", "create", "--json")), &created); err != nil {
			t.Fatal(err)
		}
		return created.DID
	}
	// loadKey reads a private key from the CLI's keystore, as an attacker
	// who stole it would hold it.
	loadKey := func(id string) keys.PrivateKey { return keystoreKey(t, ks, id) }
	// signed returns a credential of issuer signed by kid at the claimed
	// time, in both mechanisms.
	type pair struct{ di, jwt map[string]any }
	signed := func(issuer, kid string, k keys.PrivateKey, at time.Time) pair {
		s := credential.KeySigner{ID: kid, Key: k}
		di, err := dataintegrity.Sign(context.Background(), degree(issuer), s, dataintegrity.SignOptions{Created: at})
		if err != nil {
			t.Fatal(err)
		}
		c := degree(issuer)
		c["validFrom"] = credential.FormatDateTime(at)
		tok, err := jose.SignCredential(c, s, jose.SignOptions{IssuedAt: at})
		if err != nil {
			t.Fatal(err)
		}
		return pair{di, jose.Envelope(tok, jose.MediaTypeVC)}
	}
	verifies := func(what string, p pair) {
		t.Helper()
		for name, vc := range map[string]map[string]any{"eddsa-rdfc-2022": p.di, "vc+jwt": p.jwt} {
			if res, code := n.verify(t, vc, nil); code != http.StatusOK || !res.Verified {
				t.Fatalf("%s (%s): %d %+v", what, name, code, res.ProblemDetails)
			}
		}
	}
	fails := func(what string, p pair, want credential.Code) {
		t.Helper()
		for name, vc := range map[string]map[string]any{"eddsa-rdfc-2022": p.di, "vc+jwt": p.jwt} {
			res, code := n.verify(t, vc, nil)
			if code != http.StatusBadRequest || res.Verified || len(res.ProblemDetails) == 0 || res.ProblemDetails[0].Type != want.Type() {
				t.Fatalf("%s (%s): want %s, got %d %+v", what, name, want, code, res.ProblemDetails)
			}
		}
	}
	// after returns a claimed time strictly after every block committed
	// so far, in whole seconds (as proofs write it), and not in the future
	// beyond the verifier's skew.
	after := func() time.Time { return time.Now().Add(time.Second) }
	// addKey adds k's public key to d's document as id (assertionMethod),
	// signed by d's #key-1 from the keystore and by k (its proof of
	// possession: whoever adds a key holds it), and returns the HTTP answer.
	addKey := func(d, id string, k keys.PrivateKey) httpResult {
		pub := k.Public()
		res, code := resolveResult(t, n.url, d, nil)
		if code != http.StatusOK {
			t.Fatalf("resolve %s: %d", d, code)
		}
		doc := res.DIDDocument.Clone()
		doc.VerificationMethod = append(doc.VerificationMethod, did.NewMultikey(d+id, d, pub))
		doc.AssertionMethod = append(doc.AssertionMethod, did.Ref(d+id))
		op := &idmesh.Operation{Type: idmesh.Update, DID: d, Previous: res.DIDDocumentMetadata.VersionID, Document: doc}
		if err := op.SignAll(chainID, idmesh.Signer{VM: d + "#key-1", Key: loadKey(d + "#key-1")}, idmesh.Signer{VM: d + id, Key: k}); err != nil {
			t.Fatal(err)
		}
		b, err := op.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return post(t, n.url+"/v1/operations?wait=10s", b)
	}

	// presents returns whether a presentation by holder's key k, claiming
	// the time at and answering a fresh challenge of the node, verifies.
	presents := func(holder, kid string, k keys.PrivateKey, at time.Time) (bool, []verifier.ProblemDetail) {
		t.Helper()
		ch := decode[verifier.Challenge](t, authPost(t, n.url+"/challenges", "", map[string]any{}))
		vp := map[string]any{"@context": []any{credential.ContextV2}, "type": []any{"VerifiablePresentation"}, "holder": holder}
		signedVP, err := dataintegrity.Sign(context.Background(), vp, credential.KeySigner{ID: kid, Key: k},
			dataintegrity.SignOptions{ProofPurpose: credential.PurposeAuthentication, Created: at, Challenge: ch.Challenge})
		if err != nil {
			t.Fatal(err)
		}
		r := authPost(t, n.url+"/presentations/verify", "", map[string]any{"verifiablePresentation": signedVP, "options": map[string]any{"challenge": ch.Challenge}})
		res := decode[verifier.Result](t, r)
		return r.status == http.StatusOK && res.Verified, res.ProblemDetails
	}

	// 1. Key A of DID d signs; A is rotated out (retired).
	d := createDID()
	a := loadKey(d + "#key-1")
	old := signed(d, d+"#key-1", a, time.Now())
	verifies("signed by the current key", old)
	if ok, problems := presents(d, d+"#key-1", a, time.Now()); !ok {
		t.Fatalf("a presentation by the current key: %+v", problems)
	}
	mustCLI(t, n.url, ks, "did", "rotate", d)
	verifies("signed before the rotation by the retired key", old)
	// A retired key never authenticates a holder, however far back its
	// proof claims to have been made: the challenge is fresh.
	if ok, problems := presents(d, d+"#key-1", a, time.Now().Add(-time.Hour)); ok || len(problems) == 0 ||
		!strings.Contains(problems[0].Detail, "verification method not authorized") {
		t.Fatalf("a backdated presentation by a retired key: verified %v, problems %+v", ok, problems)
	}

	// 2. Whoever holds A signs a new credential now: refused.
	fails("signed by the retired key after its rotation", signed(d, d+"#key-1", a, after()), credential.KeyRetiredError)

	// 3. The controller marks the retired key compromised: the old
	// credential fails too, whatever it claims.
	out := mustCLI(t, n.url, ks, "did", "compromise", d, "#key-1")
	if !strings.Contains(out, "compromised  "+d+"#key-1") {
		t.Fatalf("did compromise printed %q", out)
	}
	fails("signed before the rotation by a key marked compromised since", old, credential.KeyCompromisedError)
	fails("backdated by the compromised key", signed(d, d+"#key-1", a, time.Now().Add(-time.Hour)), credential.KeyCompromisedError)
	res, _ := resolveResult(t, n.url, d, nil)
	if res.DIDDocumentMetadata.Extra["rotatedKeysTotal"] != float64(2) || len(res.DIDDocument.VerificationMethod) != 1 {
		t.Fatalf("after did compromise: %+v %+v", res.DIDDocumentMetadata, res.DIDDocument)
	}
	// Nobody may add the compromised key again.
	other := createDID()
	if r := addKey(other, "#stolen", a); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "compromised") {
		t.Fatalf("adding a compromised key: %d %s", r.status, r.body)
	}
	// An id that no version held cannot be marked.
	if _, errOut, code := cli(t, n.url, ks, "did", "compromise", d, "#key-9"); code == 0 || !strings.Contains(errOut, "names no key") {
		t.Fatalf("compromise of an unknown key: exit %d: %s", code, errOut)
	}

	// 4. Key B of DID d2, retired; its material re-added under another id
	// in another DID e by a holder of B (proof of possession), which marks
	// it compromised: B's credentials fail under d2's old id and as a
	// did:key.
	d2 := createDID()
	b := loadKey(d2 + "#key-1")
	oldB := signed(d2, d2+"#key-1", b, time.Now())
	dk := key.New(b.Public())
	asDIDKey := signed(dk, dk+"#"+b.Public().Multibase(), b, time.Now())
	mustCLI(t, n.url, ks, "did", "rotate", d2)
	verifies("B's credential after B's rotation", oldB)
	verifies("B's did:key credential", asDIDKey)
	e := createDID()
	if r := addKey(e, "#reused", b); r.status != http.StatusOK {
		t.Fatalf("re-adding B under another id: %d %s", r.status, r.body)
	}
	verifies("B's credential while e holds B", oldB)
	mustCLI(t, n.url, ks, "did", "compromise", e, e+"#reused")
	fails("B's credential under d2's old id, after e marked B compromised", oldB, credential.KeyCompromisedError)
	fails("B's did:key credential, after e marked B compromised", asDIDKey, credential.KeyCompromisedError)
}

package api_test

// Regression tests of the OpenID4VP verifier review (findings 1, 3, 4,
// 5, 7 and 12 of docs' review 16).

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

// selfIssuer is an attacker's did:key issuer, known to the test's keys
// (the node resolves did:key offline).
func selfIssuer(t *testing.T, s *vpServer) credential.KeySigner {
	t.Helper()
	k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{66}))
	if err != nil {
		t.Fatal(err)
	}
	d := key.New(k.Public())
	signer := credential.KeySigner{ID: d + "#" + k.Public().Multibase(), Key: k}
	s.keys.Add(credential.VerificationKey{ID: signer.ID, Controller: d, Public: k.Public()}, credential.PurposeAssertion)
	return signer
}

// selfIssue is an SD-JWT VC of sdVCT by iss, age_over_18 disclosable,
// with extra claims in the clear.
func selfIssue(t *testing.T, s *vpServer, iss credential.KeySigner, extra map[string]any) string {
	t.Helper()
	claims := map[string]any{"iss": credential.ControllerOf(iss.ID), "iat": sdNow.Unix(), "vct": sdVCT,
		"cnf": map[string]any{"jwk": s.holder.Public().JWK()}, "age_over_18": true}
	for k, v := range extra {
		claims[k] = v
	}
	tok, err := sdjwt.Issue(claims, iss, sdjwt.IssueOptions{Disclosable: []string{"/age_over_18"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// printableOnly fails unless s holds printable runes only.
func printableOnly(t *testing.T, what, s string) {
	t.Helper()
	for _, r := range s {
		if r != ' ' && (!unicode.IsGraphic(r) || r == unicode.ReplacementChar) {
			t.Fatalf("%s holds %U: %q", what, r, s)
		}
	}
}

// TestVPErrorDescriptionSanitized: anyone holding the request URI can
// decline the request with an error_description full of terminal
// escapes; the stored error holds them quoted, never raw, bounded. A
// description within RFC 6749's characters is kept as sent.
func TestVPErrorDescriptionSanitized(t *testing.T) {
	s := newVPServer(t, nil)
	for _, tc := range []struct {
		name, desc, want string
	}{
		{"escapes", "\x1b]0;pwned\x07\x1b[1A\x1b[2Ktransaction: verified", `"\x1b]0;pwned\a\x1b[1A\x1b[2Ktransaction: verified"`},
		{"bidi and separators", "a\u202eb\u2028c\u0085d", `"a\u202eb\u2028c\u0085d"`},
		{"invalid UTF-8", "a\xffb", `"a\ufffdb"`},
		{"long", strings.Repeat("\x1b", 4096), `\x1b`},
		{"plain", "the holder said no", "the holder said no"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := s.create(t, map[string]any{"dcql_query": pidQuery()})
			r := s.fetch(t, out)
			a := s.respond(t, r.str("response_uri"), url.Values{"error": {"access_denied"}, "error_description": {tc.desc}, "state": {r.str("state")}})
			if a.status != http.StatusOK {
				t.Fatalf("decline: %d %s", a.status, a.body)
			}
			v, _ := s.transaction(t, out.TransactionID)
			printableOnly(t, "the stored error", v.Error)
			if v.Status != api.VPFailed || !strings.HasPrefix(v.Error, "the wallet answered access_denied: ") || !strings.Contains(v.Error, tc.want) || len(v.Error) > api.MaxVPErrorBytes {
				t.Fatalf("error %q (%d bytes), want it to hold %q", v.Error, len(v.Error), tc.want)
			}
		})
	}
}

// TestVPErrorDetailsQuoted: a VP JWT whose typ, kid and iss carry
// terminal escapes fails with an error (to the wallet and in the
// transaction) that names them quoted, with no control character.
func TestVPErrorDetailsQuoted(t *testing.T) {
	s := newVPServer(t, nil)
	hk, _ := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{67}))
	query := map[string]any{"credentials": []any{map[string]any{"id": "alumni", "format": "jwt_vc_json",
		"meta": map[string]any{"type_values": []any{[]any{"ExampleAlumniCredential"}}}}}}
	for _, tc := range []struct {
		name, typ, kid, want string
	}{
		{"typ", "\x1b[2J", "did:example:x#k", `typ "\x1b[2J"`},
		{"kid", "JWT", "did:example:\x1b]0;x\x07#k", `key "did:example:\x1b]0;x\a#k"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := s.create(t, map[string]any{"dcql_query": query})
			r := s.fetch(t, out)
			b, _ := json.Marshal(map[string]any{"iss": "did:example:\x1b[31mx", "aud": r.str("client_id"), "nonce": r.str("nonce")})
			tok, err := jose.SignCompact(b, tc.typ, tc.kid, credential.KeySigner{ID: tc.kid, Key: hk}, "")
			if err != nil {
				t.Fatal(err)
			}
			d := vpOAuthError(t, s.respond(t, r.str("response_uri"), vpTokenForm("alumni", tok, r.str("state"))))
			v, _ := s.transaction(t, out.TransactionID)
			for what, text := range map[string]string{"the answer": d, "the stored error": v.Error} {
				printableOnly(t, what, text)
				if !strings.Contains(text, tc.want) {
					t.Fatalf("%s %q lacks %q", what, text, tc.want)
				}
			}
		})
	}
}

// TestVPTrustedIssuers: with trusted_issuers, a credential self-issued by
// a did:key (whose signature verifies) fails the transaction naming its
// issuer; one by a listed issuer is verified; without trusted_issuers the
// self-issued one is verified (the relying party checks issuer).
func TestVPTrustedIssuers(t *testing.T) {
	s := newVPServer(t, nil)
	self := selfIssuer(t, s)
	selfDID := credential.ControllerOf(self.ID)
	forged := selfIssue(t, s, self, nil)
	honest := MustCompact(t, s.issue(t, "uni", s.request(pidClaims())))
	for _, tc := range []struct {
		name    string
		trusted []any
		issued  string
		fail    string
	}{
		{"self-issued, not trusted", []any{s.did}, forged, "untrusted issuer: " + strconv.Quote(selfDID)},
		{"listed issuer", []any{"did:example:other", s.did}, honest, ""},
		{"self-issued, listed", []any{selfDID}, forged, ""},
		{"no list", nil, forged, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := map[string]any{"dcql_query": pidQuery()}
			if tc.trusted != nil {
				req["trusted_issuers"] = tc.trusted
			}
			out := s.create(t, req)
			r := s.fetch(t, out)
			pres := s.presentSD(t, tc.issued, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18")
			a := s.respond(t, r.str("response_uri"), vpTokenForm("pid", pres, r.str("state")))
			v, raw := s.transaction(t, out.TransactionID)
			if tc.fail != "" {
				if d := vpOAuthError(t, a); !strings.Contains(d, tc.fail) || v.Status != api.VPFailed || !strings.Contains(v.Error, tc.fail) || len(v.Credentials) != 0 {
					t.Fatalf("answer %q, transaction %s; want %q", d, raw, tc.fail)
				}
				return
			}
			if a.status != http.StatusOK || v.Status != api.VPVerified || v.Credentials[0].Issuer == "" {
				t.Fatalf("answer %d %s, transaction %s", a.status, a.body, raw)
			}
		})
	}
}

// TestVPTrustedIssuersRefused: a trusted_issuers that is not an array of
// 1 to 64 distinct DIDs is a 400 invalid-parameter naming the member.
func TestVPTrustedIssuersRefused(t *testing.T) {
	s := newVPServer(t, nil)
	many := make([]any, api.MaxTrustedIssuers+1)
	for i := range many {
		many[i] = "did:example:" + strconv.Itoa(i)
	}
	for name, v := range map[string]any{
		"not an array": "did:example:a", "empty": []any{}, "too many": many, "not a string": []any{7},
		"not a DID": []any{"https://issuer.example"}, "a DID URL": []any{"did:example:a#key-1"},
		"repeated": []any{"did:example:a", "did:example:a"}, "escapes": []any{"did:\x1b[2J"}, "null": nil,
	} {
		t.Run(name, func(t *testing.T) {
			b, _ := json.Marshal(map[string]any{"dcql_query": pidQuery(), "trusted_issuers": v})
			a := post(t, s.c, s.url+api.VerifierRequestsPath, b, "Authorization", "Bearer "+sdToken)
			p := problemOf(t, a, http.StatusBadRequest)
			if p.Type != api.ProblemInvalidParameter || !strings.HasPrefix(p.Detail, "trusted_issuers: ") {
				t.Fatalf("%+v", p)
			}
			printableOnly(t, "the detail", p.Detail)
		})
	}
	// 64 distinct DIDs are accepted.
	s.create(t, map[string]any{"dcql_query": pidQuery(), "trusted_issuers": many[:api.MaxTrustedIssuers]})
}

// TestVPRequireTrust: the node's --require-trust policy (Config.RequireTrust,
// on the node's own verifier) applies to OpenID4VP presentations as to
// /credentials/verify: a did:key issuer not accredited for the vct fails
// the transaction with the trust check; without the policy it verifies.
func TestVPRequireTrust(t *testing.T) {
	for _, tc := range []struct {
		name    string
		require []string
		fail    bool
	}{{"no policy", nil, false}, {"every type", []string{"*"}, true}, {"the vct", []string{sdVCT}, true}, {"another type", []string{"OtherCredential"}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newVPServer(t, func(c *api.Config) { c.Verifier, c.RequireTrust = nil, tc.require })
			self := selfIssuer(t, s) // did:key: resolved offline by the node's own verifier
			forged := selfIssue(t, s, self, nil)
			out := s.create(t, map[string]any{"dcql_query": pidQuery()})
			r := s.fetch(t, out)
			pres := s.presentSD(t, forged, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18")
			a := s.respond(t, r.str("response_uri"), vpTokenForm("pid", pres, r.str("state")))
			v, raw := s.transaction(t, out.TransactionID)
			b, _ := json.Marshal(map[string]any{"verifiableCredential": forged})
			direct := post(t, s.c, s.url+"/credentials/verify", b)
			if !tc.fail {
				if a.status != http.StatusOK || v.Status != api.VPVerified || direct.status != http.StatusOK {
					t.Fatalf("answer %d %s, transaction %s, /credentials/verify %d %s", a.status, a.body, raw, direct.status, direct.body)
				}
				return
			}
			if d := vpOAuthError(t, a); !strings.Contains(d, "trust") || v.Status != api.VPFailed || !strings.Contains(v.Error, "not accredited") {
				t.Fatalf("answer %q, transaction %s", d, raw)
			}
			if direct.status == http.StatusOK || !bytes.Contains(direct.body, []byte("not accredited")) {
				t.Fatalf("/credentials/verify: %d %s", direct.status, direct.body)
			}
		})
	}
}

// TestVPResultTooLarge: a presentation that discloses more than
// MaxVPResultBytes (here 100 KiB of clear claims) fails its transaction
// with "result too large", and only that is stored.
func TestVPResultTooLarge(t *testing.T) {
	s := newVPServer(t, nil)
	issued := selfIssue(t, s, selfIssuer(t, s), map[string]any{"padding": strings.Repeat("A", 100<<10)})
	out := s.create(t, map[string]any{"dcql_query": pidQuery()})
	r := s.fetch(t, out)
	pres := s.presentSD(t, issued, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18")
	d := vpOAuthError(t, s.respond(t, r.str("response_uri"), vpTokenForm("pid", pres, r.str("state"))))
	v, raw := s.transaction(t, out.TransactionID)
	if !strings.Contains(d, "result too large") || v.Status != api.VPFailed || !strings.Contains(v.Error, "result too large") || len(raw) > 4<<10 {
		t.Fatalf("answer %q, transaction %.500s", d, raw)
	}
}

// TestVPResultFlood: a hostile wallet answering every request a relying
// party hands out, with oversized results and then with results just
// under the bound, never keeps new requests out: results take at most
// half the store, and once forgotten honest results are kept again.
func TestVPResultFlood(t *testing.T) {
	const store = 1 << 20
	s := newVPServer(t, func(c *api.Config) { c.VerifierStoreBytes = store })
	self := selfIssuer(t, s)
	huge := selfIssue(t, s, self, map[string]any{"padding": strings.Repeat("A", 150<<10)})
	big := selfIssue(t, s, self, map[string]any{"padding": strings.Repeat("A", 60<<10)})
	honest := MustCompact(t, s.issue(t, "uni", s.request(pidClaims())))
	answer := func(issued string) api.VPTransaction {
		t.Helper()
		out := s.create(t, map[string]any{"dcql_query": pidQuery()}) // fails the test on 503
		r := s.fetch(t, out)
		// The KB-JWT at the verifier's (fixed) time, while the store's
		// clock moves.
		pres, err := sdjwt.Present(issued, sdjwt.PresentOptions{Disclose: []string{"/age_over_18"}, Holder: s.holder, Nonce: r.str("nonce"), Audience: r.str("client_id"), Now: sdNow})
		if err != nil {
			t.Fatal(err)
		}
		s.respond(t, r.str("response_uri"), vpTokenForm("pid", pres, r.str("state")))
		v, _ := s.transaction(t, out.TransactionID)
		return v
	}
	for i := range 40 {
		if v := answer(huge); v.Status != api.VPFailed || !strings.Contains(v.Error, "result too large") {
			t.Fatalf("huge answer %d: %s %s", i, v.Status, v.Error)
		}
	}
	full := false
	for i := range 40 {
		v := answer(big)
		if v.Status == api.VPFailed {
			if !strings.Contains(v.Error, "could not keep the result") {
				t.Fatalf("big answer %d: %s", i, v.Error)
			}
			full = true
		}
	}
	if !full {
		t.Fatal("40 results of 60 KiB fit in half of 1 MiB")
	}
	if v := answer(big); v.Status != api.VPFailed {
		t.Fatalf("a 60 KiB result while the results' share is full: %+v", v)
	}
	if v := answer(honest); v.Status != api.VPVerified {
		t.Fatalf("a small honest result: %s %s", v.Status, v.Error)
	}
	// Once the results' time passed, they are forgotten.
	s.clock.Add(api.DefaultVPResultTTL + time.Second)
	if v := answer(big); v.Status != api.VPVerified {
		t.Fatalf("a 60 KiB result once the others are forgotten: %s %s", v.Status, v.Error)
	}
}

// TestVPMultipleCheckedFirst: with a query without multiple, 63 valid
// copies and a junk presentation under one id are refused for their
// number before any is verified (the junk one is never reached).
func TestVPMultipleCheckedFirst(t *testing.T) {
	s := newVPServer(t, nil)
	issued := MustCompact(t, s.issue(t, "uni", s.request(pidClaims())))
	out := s.create(t, map[string]any{"dcql_query": pidQuery()})
	r := s.fetch(t, out)
	pres := s.presentSD(t, issued, s.holder, r.str("nonce"), r.str("client_id"), "/age_over_18")
	arr := make([]any, 0, 64)
	for range 63 {
		arr = append(arr, pres)
	}
	arr = append(arr, "garbage")
	tok, _ := json.Marshal(map[string]any{"pid": arr})
	d := vpOAuthError(t, s.respond(t, r.str("response_uri"), url.Values{"vp_token": {string(tok)}, "state": {r.str("state")}}))
	if !strings.Contains(d, "64 presentations for a query without multiple") || strings.Contains(d, "presentation 64") {
		t.Fatalf("refusal %q", d)
	}
	if v, _ := s.transaction(t, out.TransactionID); v.Status != api.VPFailed {
		t.Fatalf("transaction %+v", v)
	}
}

// TestVPLogRedactsReferences: the debug HTTP log shows the request
// object, response and transaction paths without their IDs (request
// references are bearer capabilities).
func TestVPLogRedactsReferences(t *testing.T) {
	var logs syncBuffer
	s := newVPServer(t, func(c *api.Config) {
		c.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	out := s.create(t, map[string]any{"dcql_query": pidQuery()})
	r := s.fetch(t, out)
	ref := out.RequestURI[strings.LastIndex(out.RequestURI, "/")+1:]
	s.respond(t, r.str("response_uri"), url.Values{"error": {"access_denied"}, "state": {r.str("state")}})
	s.transaction(t, out.TransactionID)
	want := []string{"path=" + api.VerifierRequestObjectsPath + "{id}", "path=" + api.VerifierResponsesPath + "{id}", "path=" + api.VerifierTransactionsPath + "{id}"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		all := true
		for _, w := range want {
			all = all && strings.Contains(logs.String(), w)
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("want %v logged:\n%s", want, logs.String())
		}
		runtime.Gosched()
	}
	if strings.Contains(logs.String(), ref) || strings.Contains(logs.String(), api.VerifierTransactionsPath+out.TransactionID) {
		t.Fatalf("the log shows a reference or a transaction path:\n%s", logs.String())
	}
}

// TestVPWebhookTimestamp: a webhook call carries X-Idmesh-Timestamp (the
// server's clock) and the HMAC of timestamp "." body; the body-only
// signature stays. A webhook given with an uppercase scheme
// (HTTP://127.0.0.1) is delivered over the loopback client.
func TestVPWebhookTimestamp(t *testing.T) {
	s := newVPServer(t, nil)
	type call struct {
		h    http.Header
		body []byte
	}
	got := make(chan call, 8)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- call{r.Header.Clone(), b}
	}))
	t.Cleanup(hook.Close)
	out := s.create(t, map[string]any{"dcql_query": pidQuery(), "webhook": strings.Replace(hook.URL, "http://", "HTTP://", 1) + "/done"})
	r := s.fetch(t, out)
	if a := s.respond(t, r.str("response_uri"), url.Values{"error": {"access_denied"}, "state": {r.str("state")}}); a.status != http.StatusOK {
		t.Fatalf("declined: %d %s", a.status, a.body)
	}
	var c call
	select {
	case c = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook with an uppercase scheme was not delivered")
	}
	key, _ := base64.RawURLEncoding.DecodeString(out.WebhookSecret)
	mac := func(parts ...string) string {
		m := hmac.New(sha256.New, key)
		for _, p := range parts {
			m.Write([]byte(p))
		}
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	ts := c.h.Get(api.WebhookTimestampHeader)
	if ts != strconv.FormatInt(s.clock.Now().Unix(), 10) {
		t.Fatalf("timestamp %q, want %d", ts, s.clock.Now().Unix())
	}
	if c.h.Get(api.WebhookSignatureHeader) != mac(ts, ".", string(c.body)) || c.h.Get(api.WebhookSignatureHeader) == mac(string(c.body)) {
		t.Fatalf("signature %q: want the HMAC of timestamp \".\" body, not of the body alone", c.h.Get(api.WebhookSignatureHeader))
	}
	// Another timestamp with the same body does not verify.
	if c.h.Get(api.WebhookSignatureHeader) == mac(strconv.FormatInt(s.clock.Now().Unix()+600, 10), ".", string(c.body)) {
		t.Fatal("the signature does not cover the timestamp")
	}
}

package daemon_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential/tokenstatus"
	"github.com/idmesh/idmesh/node/daemon"
	"github.com/idmesh/idmesh/node/home"
)

// authDo sends a JSON request with the bearer token.
func authDo(tb testing.TB, method, url, token string, body any) (int, []byte) {
	tb.Helper()
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(tb.Context(), method, url, bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestTokenStatusThroughNode runs token status lists on a real node over
// its HTTP API: the status service allocates an SD-JWT VC's entry (as
// the issue path does), every node serves the list's token at the uri,
// POST /credentials/status suspends, unsuspends and revokes it, each
// change visible in the served token and to the node's verifier, and a
// revoked entry stays revoked.
func TestTokenStatusThroughNode(t *testing.T) {
	dir := t.TempDir()
	if _, err := home.Dir(dir).InitSingle(chainID, genesisTime); err != nil {
		t.Fatal(err)
	}
	const token = "test-token"
	d := MustStart(t, daemon.Config{Home: dir, HTTPAddr: "127.0.0.1:0", P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, FirstPeerWait: -1,
		BlockInterval: time.Millisecond, Version: "test", APIToken: token, IssuerPassphrase: "correct horse"})
	if code, b := authDo(t, http.MethodPost, d.BaseURL()+"/v1/issuers", token, map[string]any{"name": "clinic"}); code != http.StatusCreated {
		t.Fatalf("create issuer: %d %s", code, b)
	}
	st := d.Status()
	iss, err := st.Registry.Find("clinic")
	if err != nil {
		t.Fatal(err)
	}
	alloc := func(id string) (string, int) {
		t.Helper()
		claim, err := st.TokenStatus(t.Context(), iss, id)
		if err != nil {
			t.Fatal(err)
		}
		sl := claim["status_list"].(map[string]any)
		return sl["uri"].(string), sl["idx"].(int)
	}
	uri, idx := alloc("urn:uuid:sd-1")
	uri2, idx2 := alloc("urn:uuid:sd-2")
	if uri != uri2 || idx == idx2 || !strings.HasPrefix(uri, d.BaseURL()+"/status-lists/") || !strings.HasSuffix(uri, "/token") {
		t.Fatalf("entries %s#%d and %s#%d", uri, idx, uri2, idx2)
	}

	// served reads the entries from the token GET uri serves.
	served := func(i int) uint8 {
		t.Helper()
		resp, err := http.Get(uri)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tokenstatus.MediaType {
			t.Fatalf("GET %s: %d %s %s", uri, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		u, err := tokenstatus.Parse(string(b), tokenstatus.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := u.Claims(tokenstatus.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if tok.Subject != uri || u.Signer() != iss.DID || u.KeyID != iss.KeyID || tok.List.Len() < tokenstatus.MinLength {
			t.Fatalf("token sub %s by %s (%s), %d entries", tok.Subject, u.Signer(), u.KeyID, tok.List.Len())
		}
		v, _ := tok.List.Get(i)
		// The node's verifier reads the same, with the signature checked.
		vv, _, err := d.API().TokenLists().TokenStatus(t.Context(), iss.DID, uri, i)
		if err != nil || vv != v {
			t.Fatalf("TokenLists: %d, %v; served %d", vv, err, v)
		}
		return v
	}
	set := func(purpose string, value bool) (int, []byte) {
		return authDo(t, http.MethodPost, d.BaseURL()+"/credentials/status", token, map[string]any{"credentialId": "urn:uuid:sd-1",
			"credentialStatus": map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": purpose}, "status": value})
	}
	if v := served(idx); v != tokenstatus.Valid {
		t.Fatalf("new entry %d", v)
	}
	for _, s := range []struct {
		purpose string
		value   bool
		code    int
		want    uint8
	}{
		{"suspension", true, http.StatusOK, tokenstatus.Suspended},
		{"suspension", false, http.StatusOK, tokenstatus.Valid},
		{"suspension", true, http.StatusOK, tokenstatus.Suspended},
		{"revocation", true, http.StatusOK, tokenstatus.Invalid},
		{"suspension", false, http.StatusBadRequest, tokenstatus.Invalid},
		{"revocation", false, http.StatusBadRequest, tokenstatus.Invalid},
	} {
		code, b := set(s.purpose, s.value)
		if code != s.code {
			t.Fatalf("%s %t: %d %s", s.purpose, s.value, code, b)
		}
		if code == http.StatusBadRequest && !bytes.Contains(b, []byte("revocation-final")) {
			t.Fatalf("%s %t: %s", s.purpose, s.value, b)
		}
		if v := served(idx); v != s.want {
			t.Fatalf("%s %t: entry %d, want %d", s.purpose, s.value, v, s.want)
		}
		if v := served(idx2); v != tokenstatus.Valid {
			t.Fatalf("%s %t: the other entry is %d", s.purpose, s.value, v)
		}
	}
}

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOfferTTLFlag: `idmesh dev --offer-ttl` sets how long offers live
// (the expires_at `vc offer --json` prints), and values outside 1s..24h
// are usage errors (exit 2, one line).
func TestOfferTTLFlag(t *testing.T) {
	ks := filepath.Join(t.TempDir(), "wallet.json")
	for _, bad := range []string{"0", "-1m", "999ms", "25h", "soon"} {
		home := filepath.Join(t.TempDir(), "home")
		_, errOut, code := cli(t, "", ks, "dev", "--home", home, "--http", "127.0.0.1:0", "--offer-ttl", bad)
		if code != exitUsage || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "--offer-ttl") {
			t.Errorf("--offer-ttl %s: exit %d, %q", bad, code, errOut)
		}
	}
	n := startDevNode(t, "--offer-ttl", "90s")
	n.createIssuer(t, "uni")
	flat := writeFile(t, "flat.json", `{"given_name":"Alice"}`)
	before := time.Now()
	out := mustCLI(t, n.url, ks, "vc", "offer", "--api-token", n.token, "--issuer", "uni", "--json", flat)
	after := time.Now()
	var o struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("vc offer --json: %v: %s", err, out)
	}
	if o.ExpiresAt.Before(before.Add(90*time.Second-time.Second)) || o.ExpiresAt.After(after.Add(90*time.Second+time.Second)) {
		t.Errorf("expires_at %s; want 90s after %s..%s", o.ExpiresAt, before, after)
	}
}

// TestOID4VCITxCodeMissingBinary: against idmesh dev, token requests
// without tx_code for an offer that has one are invalid_request and
// burn nothing (`wallet receive` with the right code still works after
// more of them than the attempt limit), and the node's debug log never
// shows an offer's ID or pre-authorized code.
func TestOID4VCITxCodeMissingBinary(t *testing.T) {
	n := startDevNode(t)
	n.createIssuer(t, "uni")
	ks := filepath.Join(t.TempDir(), "wallet.json")
	flat := writeFile(t, "flat.json", `{"given_name":"Alice"}`)
	out := mustCLI(t, n.url, ks, "vc", "offer", "--api-token", n.token, "--issuer", "uni", "--tx-code", "2468", "--json", flat)
	var o struct {
		URI string `json:"uri"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatalf("vc offer --json: %v: %s", err, out)
	}
	u, err := url.Parse(o.URI)
	if err != nil {
		t.Fatal(err)
	}
	offerURI := u.Query().Get("credential_offer_uri")
	offerID := offerURI[strings.LastIndex(offerURI, "/")+1:]
	resp, err := http.Get(offerURI)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var offer struct {
		Grants map[string]struct {
			Code string `json:"pre-authorized_code"`
		} `json:"grants"`
	}
	if err := json.Unmarshal(body, &offer); err != nil {
		t.Fatalf("offer %s: %v", body, err)
	}
	code := offer.Grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].Code
	if code == "" || len(offerID) < 20 {
		t.Fatalf("offer %s at %s", body, offerURI)
	}
	for i := range 5 {
		resp, err := http.PostForm(n.url+"/token", url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Error string `json:"error"`
		}
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(b, &e) != nil || e.Error != "invalid_request" {
			t.Fatalf("token request %d without tx_code: %d %s", i, resp.StatusCode, b)
		}
	}
	if out, errOut, code := cli(t, n.url, ks, "wallet", "receive", o.URI, "--tx-code", "2468"); code != 0 {
		t.Fatalf("wallet receive after requests without tx_code: exit %d: %s %s", code, out, errOut)
	}
	// The offer's request was logged (debug level) without its ID.
	logs := func() string {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.logs.String()
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs(), "path=/credential-offers/{id}") {
		if time.Now().After(deadline) {
			t.Fatalf("the offer request is not in the log:\n%s", tail(logs(), 3000))
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, secret := range []string{offerID, code} {
		if strings.Contains(logs(), secret) {
			t.Errorf("the node's log shows %q", secret)
		}
	}
}

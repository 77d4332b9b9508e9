package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOID4VCIOfferReceive: against idmesh dev, vc offer prints an
// openid-credential-offer:// URI and a QR code (and writes the PNG),
// wallet receive redeems it, and wallet list and show display the
// credential, in each format; then the refusals a holder meets through
// the binary: a reused offer, a wrong transaction code (and the code
// burnt after three), each a one-line error and a non-zero exit.
// (Expiry and forged proofs are api-level tests, which control the
// clock and build proofs by hand: TestOID4VCITokenRefusals,
// TestOID4VCIProofRefusals.)
func TestOID4VCIOfferReceive(t *testing.T) {
	n := startDevNode(t)
	n.createIssuer(t, "uni")
	ks := filepath.Join(t.TempDir(), "wallet.json")
	dir := t.TempDir()
	degree := writeFile(t, "degree.json", `{"name":"Alice","degree":{"type":"BachelorDegree","name":"Bachelor of Science"}}`)
	flat := writeFile(t, "flat.json", `{"given_name":"Alice","member":true}`)
	offer := func(args ...string) string {
		t.Helper()
		out, errOut, code := cli(t, n.url, ks, append([]string{"vc", "offer", "--api-token", n.token, "--issuer", "uni"}, args...)...)
		if code != 0 {
			t.Fatalf("vc offer %v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	// --json prints {"uri", "expires_at"} and nothing else.
	var js map[string]any
	if err := json.Unmarshal([]byte(offer("--json", flat)), &js); err != nil || len(js) != 2 || !strings.HasPrefix(js["uri"].(string), "openid-credential-offer://?credential_offer_uri=") {
		t.Fatalf("vc offer --json: %v %v", js, err)
	}
	for _, tc := range []struct {
		typ, file, format, typeName string
	}{
		{"", flat, "dc+sd-jwt", "urn:idmesh:vct:generic"},
		{"university-degree_sd_jwt", degree, "dc+sd-jwt", n.url + "/vct/university-degree"},
		{"university-degree_jwt_vc_json", degree, "jwt_vc_json", "UniversityDegreeCredential"},
		{"university-degree_ldp_vc", degree, "ldp_vc", "UniversityDegreeCredential"},
	} {
		t.Run(tc.format+tc.typ, func(t *testing.T) {
			args := []string{tc.file}
			if tc.typ != "" {
				args = []string{"--type", tc.typ, tc.file}
			}
			png := filepath.Join(dir, "offer.png")
			out := offer(append([]string{"--png", png}, args...)...)
			lines := strings.Split(strings.TrimSpace(out), "\n")
			uri := lines[len(lines)-1]
			if !strings.HasPrefix(uri, "openid-credential-offer://?credential_offer_uri=") || len(lines) < 20 || !strings.ContainsAny(out, "█▀▄") {
				t.Fatalf("vc offer printed %q", out)
			}
			if b, err := os.ReadFile(png); err != nil || !strings.HasPrefix(string(b), "\x89PNG") {
				t.Fatalf("--png: %v", err)
			}
			var got map[string]any
			recv, errOut, code := cli(t, n.url, ks, "wallet", "receive", uri, "--json")
			if code != 0 || json.Unmarshal([]byte(recv), &got) != nil {
				t.Fatalf("wallet receive: exit %d: %s %s", code, recv, errOut)
			}
			c := got["credentials"].([]any)[0].(map[string]any)
			if c["format"] != tc.format {
				t.Fatalf("received %v", c)
			}
			id := c["id"].(string)
			if list := mustCLI(t, n.url, ks, "wallet", "list"); !strings.Contains(list, id) {
				t.Errorf("wallet list: %q", list)
			}
			show := mustCLI(t, n.url, ks, "wallet", "show", id)
			if !strings.Contains(show, tc.format) || !strings.Contains(show, "Alice") || !strings.Contains(show, tc.typeName) {
				t.Errorf("wallet show: %q", show)
			}
			// The node verifies what it issued (signature, status, schema).
			if out, errOut, code := cli(t, n.url, ks, "wallet", "show", id, "--verify"); code != 0 {
				t.Errorf("wallet show --verify: exit %d: %s %s", code, out, errOut)
			}
			// Redeemed once only.
			_, errOut, code = cli(t, n.url, ks, "wallet", "receive", uri)
			if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Errorf("reused offer: exit %d, %q", code, errOut)
			}
		})
	}
	t.Run("tx code", func(t *testing.T) {
		uri := lastLine(offer("--tx-code", "2468", flat))
		for i := range 3 {
			_, errOut, code := cli(t, n.url, ks, "wallet", "receive", uri, "--tx-code", "1357")
			if code == 0 || !strings.Contains(errOut, "invalid_grant") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
				t.Fatalf("wrong tx code %d: exit %d, %q", i, code, errOut)
			}
		}
		// Burnt: the right code no longer redeems it.
		if _, errOut, code := cli(t, n.url, ks, "wallet", "receive", uri, "--tx-code", "2468"); code == 0 {
			t.Errorf("burnt code redeemed: %q", errOut)
		}
		uri = lastLine(offer("--tx-code", "2468", flat))
		if _, errOut, code := cli(t, n.url, ks, "wallet", "receive", uri, "--tx-code", "2468"); code != 0 {
			t.Errorf("right tx code: exit %d %q", code, errOut)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{
			{flat},              // no --issuer
			{"--issuer", "uni"}, // no file
			{"--issuer", "uni", "--tx-code", "12ab", flat},
			{"--issuer", "nobody", flat},
			{"--issuer", "uni", "--type", "nope", flat},
		} {
			_, errOut, code := cli(t, n.url, ks, append([]string{"vc", "offer", "--api-token", n.token}, args...)...)
			if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || errOut == "" {
				t.Errorf("vc offer %v: exit %d, %q", args, code, errOut)
			}
		}
	})
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

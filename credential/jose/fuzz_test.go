package jose_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/jose"
)

// FuzzVerify feeds token text to Verify as a credential and as a
// presentation: it must never panic, every error must carry a code, and a
// success must come with a payload and the resolved key.
func FuzzVerify(f *testing.F) {
	fx := MustFixture(f)
	vc := mustSignVC(f, fx)
	vp, err := jose.SignPresentation(presentationDoc(holderDID), fx.holder, jose.SignOptions{Nonce: "n"})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{vc, vp, vc + "~", vc[:len(vc)/2], strings.Replace(vc, ".", "..", 1), "", ".", "..", "a.b.c", "{}", "e30.e30.e30"} {
		f.Add(s)
	}
	for _, name := range []string{"credential-jose-minimal.txt", "credential-issuer-match-signed.txt", "presentation-jose-bad-credential.txt", "credential-sdjwt-selective.txt"} {
		f.Add(string(bytes.TrimSpace(mustRead(f, name))))
	}
	f.Fuzz(func(t *testing.T, token string) {
		for _, mt := range []string{jose.MediaTypeVC, jose.MediaTypeVP} {
			payload, key, err := jose.Verify(t.Context(), token, mt, fx.keys, jose.VerifyOptions{MaxBytes: 1 << 16})
			if err != nil {
				if credential.CodeOf(err, "") == "" {
					t.Fatalf("error without a code: %v", err)
				}
				continue
			}
			if payload == nil || key.ID == "" {
				t.Fatal("success without payload or key")
			}
			if mt == jose.MediaTypeVP {
				_, _ = jose.EnvelopedCredentials(payload)
			}
		}
	})
}

// FuzzParseDataURL must never panic, and what it accepts must come back
// unchanged through Envelope's encoding.
func FuzzParseDataURL(f *testing.F) {
	for _, s := range []string{
		"data:application/vc+jwt,eyJ.e30.c2ln", "data:application/vc+jwt;base64,ZXlK", "data:,A%20b",
		"data:;charset=utf-8,x", "DATA:Text/Plain;a=b;base64,AAEC", "data:,%G1", "data:a/b;base64,YW%0AI=", "not-a-credential",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		mt, data, err := jose.ParseDataURL(u)
		if err != nil {
			if credential.CodeOf(err, "") != credential.ParsingError {
				t.Fatalf("error without PARSING_ERROR: %v", err)
			}
			return
		}
		id := jose.Envelope(string(data), mt)["id"].(string)
		if len(id) > jose.MaxDataURLBytes {
			return // escaping binary data can triple it
		}
		mt2, data2, err := jose.ParseDataURL(id)
		if err != nil {
			t.Fatalf("re-parse %q: %v", id, err)
		}
		if mt2 != mt || !bytes.Equal(data2, data) {
			t.Fatalf("round trip %q: %q %q, want %q %q", u, mt2, data2, mt, data)
		}
	})
}

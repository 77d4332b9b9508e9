package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"math/rand/v2"
	"net/url"
	"testing"
)

// FuzzParseVPForm: whatever a wallet posts, the response parser neither
// panics nor accepts a form without exactly one of vp_token, response and
// error, nor a vp_token outside its bounds; the JWE opener refuses what
// it cannot decrypt with the request's key without panicking.
func FuzzParseVPForm(f *testing.F) {
	for _, s := range []string{
		"vp_token=%7B%22pid%22%3A%5B%22a~b~%22%5D%7D&state=s",
		"response=a.b.c.d.e",
		"response=eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTEyOEdDTSJ9.b.c.d.e",
		"error=access_denied&error_description=no",
		"vp_token=%7B%7D",
		"vp_token=x&vp_token=y",
		"vp_token=%7B%22a%22%3A%5B%7B%7D%2C1%5D%7D",
	} {
		f.Add([]byte(s))
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.NewChaCha8([32]byte{1}))
	if err != nil {
		f.Fatal(err)
	}
	tx := &vpTx{mode: ResponseModeDirectPostJWT, encKey: k, encKID: "k"}
	f.Fuzz(func(t *testing.T, body []byte) {
		form, err := parseVPForm(body)
		if err != nil {
			return
		}
		q, _ := url.ParseQuery(string(body))
		n := 0
		for _, p := range []string{"vp_token", "response", "error"} {
			if q.Get(p) != "" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("accepted %q", body)
		}
		if form.vpToken != nil {
			if len(form.vpToken) == 0 || len(form.vpToken) > MaxVPTokenQueries {
				t.Fatalf("vp_token of %d ids accepted", len(form.vpToken))
			}
		}
		if form.response != "" {
			_ = form.open(tx)
		}
	})
}

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/didkeys"
	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/verifier"
)

// BenchmarkVerifySDJWT measures SD-JWT VC verifications with key binding
// per second (every check: parse, proof with the issuer's key resolved,
// the Disclosures, the KB-JWT against the verifier's nonce and audience,
// validity), in process and over HTTP (POST /credentials/verify with
// options.challenge and options.domain, the credential enveloped, on
// loopback), each as a ratio of raw ed25519.Verify per second measured
// right before it with the same parallelism (GOMAXPROCS goroutines). The
// credential is an employment claim set from a did:key issuer as
// issuer.IssueSDJWT issues it (every top-level claim disclosable),
// presented with one claim.
//
//	go test -run '^$' -bench VerifySDJWT ./api/
func BenchmarkVerifySDJWT(b *testing.B) {
	signer := benchIssuer(b)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	hk, err := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{5}))
	if err != nil {
		b.Fatal(err)
	}
	claims := map[string]any{"vct": "https://node.example/vct/employment", "jobTitle": "Engineer",
		"employer": map[string]any{"name": "Example Corp"}, "startDate": "2024-01-01", "employmentType": "FullTime"}
	issued, err := issuer.IssueSDJWT(claims, signer, issuer.SDJWTOptions{HolderKey: hk.Public(), Now: now.Add(-time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	const nonce, aud = "n-bench", "https://verifier.example"
	pres, err := sdjwt.Present(issued, sdjwt.PresentOptions{Disclose: []string{"/jobTitle"}, Holder: credential.KeySigner{Key: hk}, Nonce: nonce, Audience: aud, Now: now})
	if err != nil {
		b.Fatal(err)
	}
	// Raw ed25519.Verify is measured again right before each row, so
	// that on a shared machine each ratio compares the same moments.
	msgLen := strings.IndexByte(pres, '~')
	raw := rawVerifyRate(b, msgLen)
	v := &verifier.Verifier{Keys: &didkeys.CachedKeys{Next: didkeys.DIDKeys{Resolver: did.Methods{"key": key.Resolver{}}}}, Now: func() time.Time { return now }}
	vc := jose.Envelope(pres, sdjwt.MediaType)
	opts := verifier.Options{Challenge: nonce, Domain: aud}
	b.Run("in-process/dc+sd-jwt+kb", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if res := v.VerifyCredential(context.Background(), vc, opts); !res.Verified || !res.Disclosed.KeyBound {
					b.Fatalf("not verified: %+v", res.ProblemDetails)
				}
			}
		})
		rate := float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "verify/s")
		b.ReportMetric(rate/raw, "x-raw")
	})
	// One client measures throughput: no per-client rate limit.
	srv, err := api.NewServer(api.Config{Ledger: newFakeLedger(), Resolver: did.Methods{"key": key.Resolver{}}, Verifier: v, VerifyRate: -1})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := benchClient()
	body, _ := json.Marshal(map[string]any{"verifiableCredential": vc, "options": map[string]any{"challenge": nonce, "domain": aud}})
	// The HTTP stack alone: the same request to a handler that reads the
	// body and answers a fixed result.
	trivial := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"verified":true}`)
	}))
	defer trivial.Close()
	raw = rawVerifyRate(b, msgLen)
	b.Run("http/trivial-handler", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Post(trivial.URL, "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
		rate := float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "req/s")
		b.ReportMetric(rate/raw, "x-raw")
	})
	raw = rawVerifyRate(b, msgLen)
	b.Run("http/dc+sd-jwt+kb", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Post(ts.URL+"/credentials/verify", "application/json", bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("status %d", resp.StatusCode)
				}
			}
		})
		rate := float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "verify/s")
		b.ReportMetric(rate/raw, "x-raw")
	})
}

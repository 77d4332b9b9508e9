package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/didkeys"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
	"github.com/idmesh/idmesh/verifier"
)

// benchIssuer is a did:key issuer: resolving it needs no chain, so the
// figures are the cost of the credential checks themselves.
func benchIssuer(b *testing.B) credential.KeySigner {
	k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8([32]byte{7}))
	if err != nil {
		b.Fatal(err)
	}
	d := key.New(k.Public())
	return credential.KeySigner{ID: d + "#" + k.Public().Multibase(), Key: k}
}

func benchCredential(issuerDID string) map[string]any {
	return map[string]any{
		"@context":  []any{"https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"},
		"id":        "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
		"type":      []any{"VerifiableCredential", "ExampleDegreeCredential"},
		"issuer":    issuerDID,
		"validFrom": "2024-01-01T00:00:00Z",
		"credentialSubject": map[string]any{
			"id":     "did:example:ebfeb1f712ebc6f1c276e12ec21",
			"degree": map[string]any{"type": "ExampleBachelorDegree", "name": "Bachelor of Science and Arts"},
		},
	}
}

// rawVerifyRate measures ed25519.Verify per second over a message of the
// credential's size, with the benchmark's parallelism.
func rawVerifyRate(b *testing.B, msgLen int) float64 {
	var rate float64
	b.Run("ed25519.Verify", func(b *testing.B) {
		pub, priv, _ := ed25519.GenerateKey(rand.NewChaCha8([32]byte{1}))
		msg := bytes.Repeat([]byte{'x'}, msgLen)
		sig := ed25519.Sign(priv, msg)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if !ed25519.Verify(pub, msg, sig) {
					b.Fatal("verify")
				}
			}
		})
		rate = float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(rate, "verify/s")
	})
	return rate
}

// BenchmarkVerifyCredential measures credential verifications per second
// (every check: parse, contexts, proof with key resolution, validity) in
// process and over HTTP (POST /credentials/verify on loopback), each as a
// ratio of raw ed25519.Verify per second measured in the same run with the
// same parallelism (GOMAXPROCS goroutines).
//
//	go test -run '^$' -bench VerifyCredential ./api/
func BenchmarkVerifyCredential(b *testing.B) {
	signer := benchIssuer(b)
	v := &verifier.Verifier{Keys: &didkeys.CachedKeys{Next: didkeys.DIDKeys{Resolver: did.Methods{"key": key.Resolver{}}}}, Now: func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }}
	raw := rawVerifyRate(b, 600)
	c, err := registrytest.Open("")
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Fill(0, 1000, 500, nil); err != nil {
		b.Fatal(err)
	}
	// The same keys with the chain's key-status index consulted for every
	// verification (one state read, as a node's verifier does).
	vi := &verifier.Verifier{Keys: &didkeys.CachedKeys{Next: didkeys.DIDKeys{Resolver: did.Methods{"key": key.Resolver{}},
		Index: &idmesh.Resolver{State: registry.ReaderOf(c.Store)}}}, Now: v.Now}
	creds := map[string]map[string]any{}
	for _, f := range issuer.Formats {
		vc, err := issuer.Issue(context.Background(), benchCredential(key.New(signer.Public())), signer, issuer.Options{Format: f, Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			b.Fatal(err)
		}
		creds[f] = vc
		b.Run("in-process/"+f, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if res := v.VerifyCredential(context.Background(), vc, verifier.Options{}); !res.Verified {
						b.Fatalf("not verified: %+v", res.ProblemDetails)
					}
				}
			})
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "verify/s")
			b.ReportMetric(rate/raw, "x-raw")
		})
		b.Run("in-process/"+f+"+key-index", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if res := vi.VerifyCredential(context.Background(), vc, verifier.Options{}); !res.Verified {
						b.Fatalf("not verified: %+v", res.ProblemDetails)
					}
				}
			})
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "verify/s")
			b.ReportMetric(rate/raw, "x-raw")
		})
	}
	// The same credentials with a status entry, checked against a list of
	// 131,072 entries (1% set) that the verifier reads from its node
	// (here served from memory) and verifies once per version.
	lists := benchLists(b, signer)
	vs := &verifier.Verifier{Keys: v.Keys, Now: v.Now, Lists: lists}
	for _, f := range []string{issuer.FormatJWT, issuer.FormatRDFC} {
		cred := benchCredential(key.New(signer.Public()))
		cred["credentialStatus"] = map[string]any{"type": "BitstringStatusListEntry", "statusPurpose": "revocation",
			"statusListIndex": "4242", "statusListCredential": lists.url}
		vc, err := issuer.Issue(context.Background(), cred, signer, issuer.Options{Format: f, Now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			b.Fatal(err)
		}
		b.Run("in-process/"+f+"+status", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if res := vs.VerifyCredential(context.Background(), vc, verifier.Options{}); !res.Verified || res.StatusHeight == 0 {
						b.Fatalf("not verified: %+v", res.ProblemDetails)
					}
				}
			})
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "verify/s")
			b.ReportMetric(rate/raw, "x-raw")
		})
	}
	n, err := node.New(c.Chain, node.Options{})
	if err != nil {
		b.Fatal(err)
	}
	// One client measures throughput: no per-client rate limit.
	srv, err := api.NewServer(api.Config{Ledger: n, Resolver: did.Methods{"key": key.Resolver{}}, Verifier: v, VerifyRate: -1})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := benchClient()
	// The HTTP stack alone: the same request to a handler that reads the
	// body and answers a fixed result, the bound of any HTTP endpoint on
	// this machine with this client.
	trivial := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"verified":true}`)
	}))
	defer trivial.Close()
	trivialBody, _ := json.Marshal(map[string]any{"verifiableCredential": creds[issuer.FormatJWT]})
	b.Run("http/trivial-handler", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				resp, err := client.Post(trivial.URL, "application/json", bytes.NewReader(trivialBody))
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
	for _, f := range []string{issuer.FormatJWT, issuer.FormatRDFC} {
		body, _ := json.Marshal(map[string]any{"verifiableCredential": creds[f]})
		b.Run("http/"+f, func(b *testing.B) {
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
}

// BenchmarkIssue measures credentials issued per second in process (the
// credential checked, canonicalized where the mechanism needs it, signed).
//
//	go test -run '^$' -bench Issue ./api/
func BenchmarkIssue(b *testing.B) {
	signer := benchIssuer(b)
	cred := benchCredential(key.New(signer.Public()))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range issuer.Formats {
		b.Run(f, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := issuer.Issue(context.Background(), cred, signer, issuer.Options{Format: f, Now: now}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "issue/s")
		})
	}
}

// memLists serves one signed status list from memory.
type memLists struct {
	url  string
	list []byte
}

func (m memLists) StatusList(string) ([]byte, uint64, error) { return m.list, 7, nil }

func benchLists(b *testing.B, signer credential.KeySigner) memLists {
	bits, err := statuslist.New(statuslist.MinLength)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for range statuslist.MinLength / 100 {
		if i := r.IntN(statuslist.MinLength); i != 4242 {
			_ = bits.Set(i, true)
		}
	}
	url := "https://node.example/status-lists/bench-1"
	lc, err := statuslist.NewListCredential(url, key.New(signer.Public()), statuslist.PurposeRevocation, bits, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	signed, err := dataintegrity.Sign(context.Background(), lc, signer, dataintegrity.SignOptions{Created: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(signed)
	return memLists{url: url, list: raw}
}

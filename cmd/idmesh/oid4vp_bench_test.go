package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential/jose"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
	"github.com/idmesh/idmesh/wallet"
)

// httpResolver resolves DIDs through a node's resolver endpoint, as the
// CLI's wallet does for did:idmesh.
type httpResolver struct{ node string }

func (r httpResolver) Resolve(ctx context.Context, d string, _ did.Options) (*did.ResolutionResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.node+"/1.0/identifiers/"+d, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var res did.ResolutionResult
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&res); err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("resolve %s: %d: %w", d, resp.StatusCode, err)
	}
	return &res, nil
}

// BenchmarkOpenID4VPRoundTrip measures complete OpenID4VP round trips
// per second over HTTP on loopback, against raw ed25519.Verify measured
// right before with the same parallelism (GOMAXPROCS goroutines): the
// relying party creates a request (POST /verifier/requests with the API
// token, a DCQL query for age_over_18 of an SD-JWT VC); the wallet
// (package wallet, as `idmesh wallet present` runs it) fetches the
// signed request object, resolves the verifier's did:idmesh through the
// node and checks the signature, matches its stored SD-JWT VC, presents
// only age_over_18 with a key-binding JWT and posts it (direct_post);
// the verifier checks it through the pipeline (issuer key, status,
// binding, DCQL) and stores the result; the relying party reads it
// (GET /verifier/transactions/{id}: verified). The node is an `idmesh
// dev` node in the test process, with its chain.
//
//	go test -run '^$' -bench OpenID4VPRoundTrip -benchtime 3s ./cmd/idmesh/
func BenchmarkOpenID4VPRoundTrip(b *testing.B) {
	n := startBenchNode(b) // its issuer "uni" is also the verifier (the first live issuer)
	holder, err := wallet.NewHolderKey(keys.Ed25519, "key", rand.NewChaCha8([32]byte{16}))
	if err != nil {
		b.Fatal(err)
	}
	ks, err := keystore.Create(filepath.Join(b.TempDir(), "wallet.json"), []byte("bench"), keystore.TestParams)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ks.Close() })
	w := wallet.New(ks)
	if err := w.SaveKey(holder); err != nil {
		b.Fatal(err)
	}
	vct := n.url + "/vct/person"
	code, out := n.post(b, "/issuers/uni/dc+sd-jwt/credentials/issue", map[string]any{
		"credential": map[string]any{"vct": vct, "given_name": "Alice", "family_name": "Liddell", "age_over_18": true},
		"options":    map[string]any{"format": "dc+sd-jwt", "holderKey": holder.Key.Public().JWK()}})
	if code != http.StatusCreated {
		b.Fatalf("issue: %d %s", code, out)
	}
	var issued struct {
		VC struct{ ID string } `json:"verifiableCredential"`
	}
	if err := json.Unmarshal(out, &issued); err != nil {
		b.Fatal(err)
	}
	token, _, err := jose.DataURLText(issued.VC.ID)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.Import([]byte(token), "bench"); err != nil {
		b.Fatal(err)
	}
	query := map[string]any{"credentials": []any{map[string]any{"id": "age", "format": "dc+sd-jwt",
		"meta": map[string]any{"vct_values": []any{vct}}, "claims": []any{map[string]any{"path": []any{"age_over_18"}}}}}}
	resolver := did.Methods{"idmesh": httpResolver{n.url}}
	opts := wallet.Options{Timeout: 30 * time.Second}

	roundTrip := func() error {
		code, out := n.post(b, "/verifier/requests", map[string]any{"dcql_query": query})
		var req struct {
			TransactionID string `json:"transaction_id"`
			URI           string `json:"uri"`
		}
		if code != http.StatusCreated || json.Unmarshal(out, &req) != nil {
			return fmt.Errorf("request: %d %s", code, out)
		}
		ctx := context.Background()
		r, err := wallet.FetchRequest(ctx, req.URI, resolver, opts)
		if err != nil {
			return err
		}
		plan, err := w.Plan(r)
		if err != nil {
			return err
		}
		if _, err := plan.Present(ctx, r, opts); err != nil {
			return err
		}
		hr, _ := http.NewRequest(http.MethodGet, n.url+"/verifier/transactions/"+url.PathEscape(req.TransactionID), nil)
		hr.Header.Set("Authorization", "Bearer "+n.token)
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":"verified"`) || strings.Contains(string(body), "Alice") {
			return fmt.Errorf("transaction: %d %s", resp.StatusCode, body)
		}
		return nil
	}
	if err := roundTrip(); err != nil { // warm up, and check
		b.Fatal(err)
	}
	raw := rawVerifyRate(len(token), time.Second)
	b.ResetTimer()
	var failed atomic.Pointer[error]
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := roundTrip(); err != nil {
				failed.CompareAndSwap(nil, &err)
				return
			}
		}
	})
	if p := failed.Load(); p != nil {
		b.Fatal(*p)
	}
	rate := float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "roundtrips/s")
	b.ReportMetric(raw.perSecond, "raw-verify/s")
	b.ReportMetric(rate/raw.perSecond, "x-raw")
}

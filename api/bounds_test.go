package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"pgregory.net/rapid"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
	"github.com/idmesh/idmesh/verifier"
)

// chainServer is the real API over a node on a real on-disk LevelDB
// chain, served on loopback TCP (port 0).
type chainServer struct {
	url   string
	chain *registrytest.Chain
	node  *node.Node
	reg   *prometheus.Registry
	dids  []string
}

// mustChainServer commits n DIDs and serves the API over them; ledger,
// if set, wraps the node as the server's Ledger.
func mustChainServer(tb testing.TB, n uint64, mutate func(*api.Config), ledger func(*node.Node) api.Ledger) *chainServer {
	tb.Helper()
	c, err := registrytest.Open(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	dids, err := c.Fill(0, n, int(n), nil)
	if err != nil {
		tb.Fatal(err)
	}
	nd, err := node.New(c.Chain, node.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	cfg := api.Config{Ledger: nd, Resolver: did.Methods{idmesh.Method: &idmesh.Resolver{State: registry.ReaderOf(c.Store)}}, Registry: reg, State: c.Store}
	if ledger != nil {
		cfg.Ledger = ledger(nd)
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := api.NewServer(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ts := httptest.NewServer(validated(tb, srv))
	tb.Cleanup(ts.Close)
	return &chainServer{url: ts.URL, chain: c, node: nd, reg: reg, dids: dids}
}

// get fetches path with optional header pairs and returns the status,
// headers and body.
func (s *chainServer) get(tb testing.TB, path string, header ...string) (int, http.Header, []byte) {
	tb.Helper()
	return s.send(tb, http.MethodGet, path, nil, header...)
}

func (s *chainServer) send(tb testing.TB, method, path string, body []byte, header ...string) (int, http.Header, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// gauge reads a gauge from the server's metrics registry.
func (s *chainServer) gauge(tb testing.TB, name string) float64 {
	tb.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	tb.Fatalf("no gauge %s", name)
	return 0
}

// mustProblemBody checks a problem+json answer's status and type.
func mustProblemBody(tb testing.TB, status int, h http.Header, body []byte, wantStatus int, typ string) {
	tb.Helper()
	if status != wantStatus {
		tb.Fatalf("status %d, want %d: %.200s", status, wantStatus, body)
	}
	if ct := h.Get("Content-Type"); ct != "application/problem+json" {
		tb.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p api.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		tb.Fatal(err)
	}
	if p.Type != typ || p.Status != wantStatus || p.Title == "" {
		tb.Fatalf("problem %+v, want %s", p, typ)
	}
}

// TestResolveCacheIgnoresUnknownParameters is the attack of issue 10:
// 300 resolutions of one DID with ?x=N, other spellings of one Accept
// preference and of one versionTime, all answered as the first, leave
// the cache with the first answer's entry and bytes.
func TestResolveCacheIgnoresUnknownParameters(t *testing.T) {
	s := mustChainServer(t, 3, nil, nil)
	d := s.dids[0]
	status, _, first := s.get(t, "/1.0/identifiers/"+d)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, first)
	}
	bytes1, entries1 := s.gauge(t, "idmesh_resolve_cache_bytes"), s.gauge(t, "idmesh_resolve_cache_entries")
	if entries1 != 1 || bytes1 < float64(len(first)) {
		t.Fatalf("after one resolution the cache holds %v entries, %v bytes", entries1, bytes1)
	}
	for i := range 300 {
		status, _, body := s.get(t, "/1.0/identifiers/"+d+"?x="+strconv.Itoa(i))
		if status != http.StatusOK || !bytes.Equal(body, first) {
			t.Fatalf("?x=%d: status %d, body differs: %s", i, status, body)
		}
	}
	if b, n := s.gauge(t, "idmesh_resolve_cache_bytes"), s.gauge(t, "idmesh_resolve_cache_entries"); b != bytes1 || n != entries1 {
		t.Fatalf("300 requests with ?x=N: cache %v bytes in %v entries, want %v in %v", b, n, bytes1, entries1)
	}
	// One negotiated representation, one entry, however Accept is spelled.
	for _, accept := range []string{"application/did+json", " application/did+json ", "application/did+json;q=1", "text/html;q=0.5, application/did+json"} {
		if status, _, body := s.get(t, "/1.0/identifiers/"+d, "Accept", accept); status != http.StatusOK {
			t.Fatalf("Accept %q: %d %s", accept, status, body)
		}
	}
	// One instant, one entry, whatever its offset.
	for _, vt := range []string{"2030-01-01T00:00:00Z", "2030-01-01T01:00:00%2B01:00", "2029-12-31T19:00:00-05:00"} {
		if status, _, body := s.get(t, "/1.0/identifiers/"+d+"?versionTime="+vt+"&y="+vt); status != http.StatusOK {
			t.Fatalf("versionTime %s: %d %s", vt, status, body)
		}
	}
	if n := s.gauge(t, "idmesh_resolve_cache_entries"); n != 3 {
		t.Fatalf("%v entries, want 3 (latest, did+json, one versionTime)", n)
	}
}

// TestResolveCacheBoundedInBytes drives random resolutions (DIDs that
// exist or not, versions by id and time, representations, unknown
// parameters, new blocks) at a small cache budget: the cache's bytes
// never pass the budget, and every answer equals an uncached server's.
func TestResolveCacheBoundedInBytes(t *testing.T) {
	const budget = 24 << 10
	s := mustChainServer(t, 8, func(c *api.Config) { c.ResolveCacheBytes = budget }, nil)
	uncached, err := api.NewServer(api.Config{Ledger: s.node, Resolver: did.Methods{idmesh.Method: &idmesh.Resolver{State: registry.ReaderOf(s.chain.Store)}}, ResolveCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	ref := httptest.NewServer(validated(t, uncached))
	defer ref.Close()
	refServer := &chainServer{url: ref.URL}
	// A versionId that exists: the first DID's.
	var meta struct {
		Metadata struct {
			VersionID string `json:"versionId"`
		} `json:"didDocumentMetadata"`
	}
	_, _, body := s.get(t, "/1.0/identifiers/"+s.dids[0])
	if err := json.Unmarshal(body, &meta); err != nil || meta.Metadata.VersionID == "" {
		t.Fatalf("no versionId in %s: %v", body, err)
	}
	next := uint64(len(s.dids))
	accepts := []string{"", "*/*", "application/did-resolution", `application/ld+json;profile="https://w3id.org/did-resolution"`,
		"application/did+ld+json", "application/did+json", "application/did", "text/html"}
	var maxSeen float64
	rapid.Check(t, func(rt *rapid.T) {
		for range rapid.IntRange(1, 40).Draw(rt, "requests") {
			if rapid.IntRange(0, 100).Draw(rt, "block") == 0 {
				txs, dids, err := registrytest.CreateOps(next, 1)
				if err != nil {
					rt.Fatal(err)
				}
				if _, err := s.chain.CommitBlock(txs); err != nil {
					rt.Fatal(err)
				}
				next++
				s.dids = append(s.dids, dids...)
			}
			d := rapid.SampledFrom(append([]string{"did:idmesh:test:zzzzzzzzzzzzzzzzzzzzzz", "did:example:x"}, s.dids...)).Draw(rt, "did")
			q := url.Values{}
			switch rapid.IntRange(0, 3).Draw(rt, "version") {
			case 1:
				q.Set("versionId", rapid.SampledFrom([]string{meta.Metadata.VersionID, "bogus"}).Draw(rt, "versionId"))
			case 2:
				q.Set("versionTime", rapid.SampledFrom([]string{"2000-01-01T00:00:00Z", "2100-01-01T00:00:00+02:00", "not-a-time"}).Draw(rt, "versionTime"))
			}
			for range rapid.IntRange(0, 2).Draw(rt, "junk") {
				q.Set(rapid.StringMatching(`[a-z]{1,6}`).Draw(rt, "param"), rapid.StringMatching(`[a-z0-9]{0,40}`).Draw(rt, "value"))
			}
			path := "/1.0/identifiers/" + d
			if len(q) > 0 {
				path += "?" + q.Encode()
			}
			accept := rapid.SampledFrom(accepts).Draw(rt, "accept")
			var hdr []string
			if accept != "" {
				hdr = []string{"Accept", accept}
			}
			status, h, got := s.get(t, path, hdr...)
			wantStatus, wantH, want := refServer.get(t, path, hdr...)
			if status != wantStatus || !bytes.Equal(got, want) || h.Get("Content-Type") != wantH.Get("Content-Type") {
				rt.Fatalf("%s (Accept %q): cached server %d %s %s, uncached %d %s %s", path, accept, status, h.Get("Content-Type"), got, wantStatus, wantH.Get("Content-Type"), want)
			}
			b := s.gauge(t, "idmesh_resolve_cache_bytes")
			if b > budget {
				rt.Fatalf("cache holds %v bytes, budget %d", b, budget)
			}
			maxSeen = max(maxSeen, b)
		}
	})
	t.Logf("random requests: the cache held at most %v of %d bytes", maxSeen, budget)
	// Deterministically past the budget: every DID in every representation.
	for _, d := range s.dids {
		for _, accept := range accepts[2:7] {
			if status, _, body := s.get(t, "/1.0/identifiers/"+d, "Accept", accept); status != http.StatusOK {
				t.Fatalf("%s: %d %s", d, status, body)
			}
			if b := s.gauge(t, "idmesh_resolve_cache_bytes"); b > budget {
				t.Fatalf("cache holds %v bytes, budget %d", b, budget)
			}
		}
	}
	if b := s.gauge(t, "idmesh_resolve_cache_bytes"); b < budget*3/4 {
		t.Fatalf("%d DIDs in 5 representations fill %v of %d bytes: the test evicts nothing", len(s.dids), b, budget)
	}
}

// TestChallengeStoreBounded: a huge domain is refused, thousands of
// challenges from one client stop at the store's byte bound with 503
// and Retry-After, and moving the injected clock past the TTL sweeps
// the expired ones.
func TestChallengeStoreBounded(t *testing.T) {
	const maxBytes = 256 << 10
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	store := &verifier.Challenges{TTL: 5 * time.Minute, MaxBytes: maxBytes, MaxPerClient: 1_000_000, MaxClientBytes: 2 * maxBytes, Now: clk.Now, Rand: rand.NewChaCha8([32]byte{8})}
	s := mustChainServer(t, 1, func(c *api.Config) {
		c.Now, c.VerifyRate = clk.Now, -1 // the store's bounds, not the rate, are under test
		c.Verifier = &verifier.Verifier{Now: clk.Now, Challenges: store}
	}, nil)
	post := func(domain string) (int, http.Header, []byte) {
		b, _ := json.Marshal(map[string]string{"domain": domain})
		return s.send(t, http.MethodPost, "/challenges", b, "Content-Type", "application/json")
	}
	status, h, body := post(strings.Repeat("a", 200<<10))
	mustProblemBody(t, status, h, body, http.StatusBadRequest, api.ProblemInvalidParameter)
	if b := s.gauge(t, "idmesh_challenge_store_bytes"); b != 0 {
		t.Fatalf("a refused challenge left %v bytes", b)
	}
	domain := "https://" + strings.Repeat("a", 253) + ":65535"
	issued, full := 0, 0
	for i := range 3000 {
		status, h, body := post(domain)
		switch {
		case status == http.StatusCreated && full == 0:
			issued++
		case status == http.StatusServiceUnavailable:
			mustProblemBody(t, status, h, body, http.StatusServiceUnavailable, api.ProblemUnavailable)
			if ra, err := strconv.Atoi(h.Get("Retry-After")); err != nil || ra < 1 || ra > 301 {
				t.Fatalf("Retry-After %q", h.Get("Retry-After"))
			}
			full++
		default:
			t.Fatalf("challenge %d: status %d after %d refusals: %s", i, status, full, body)
		}
		if b := s.gauge(t, "idmesh_challenge_store_bytes"); b > maxBytes {
			t.Fatalf("after %d challenges the store holds %v bytes, bound %d", i+1, b, maxBytes)
		}
	}
	if full == 0 || issued == 0 {
		t.Fatalf("%d issued, %d refused: the bound was not reached", issued, full)
	}
	if n := s.gauge(t, "idmesh_challenge_store_challenges"); int(n) != issued {
		t.Fatalf("store holds %v challenges, issued %d", n, issued)
	}
	clk.Add(5*time.Minute + time.Second)
	if status, _, body := post("verifier.example"); status != http.StatusCreated {
		t.Fatalf("after the TTL: %d %s", status, body)
	}
	if n, b := s.gauge(t, "idmesh_challenge_store_challenges"), s.gauge(t, "idmesh_challenge_store_bytes"); n != 1 || b > 1024 {
		t.Fatalf("expired challenges not swept: %v challenges, %v bytes", n, b)
	}
}

// holdingLedger is the node, but its first hold block reads announce
// themselves on entered and wait for release: the test holds slots
// deterministically. Later reads go through, so that a server without
// the bound answers rather than hangs.
type holdingLedger struct {
	*node.Node
	hold    int32
	reads   atomic.Int32
	entered chan uint64
	release chan struct{}
}

func (l *holdingLedger) Block(h uint64) (*registry.Block, error) {
	if l.reads.Add(1) <= l.hold {
		l.entered <- h
		<-l.release
	}
	return l.Node.Block(h)
}

// TestBlockDownloadsBounded holds MaxLargeReads block downloads inside
// the store read; one more block, or a proof, gets 503 with Retry-After,
// and the held ones complete once released.
func TestBlockDownloadsBounded(t *testing.T) {
	const limit = 3
	hold := &holdingLedger{hold: limit, entered: make(chan uint64, limit), release: make(chan struct{})}
	release := sync.OnceFunc(func() { close(hold.release) })
	s := mustChainServer(t, 4, func(c *api.Config) { c.MaxLargeReads = limit }, func(n *node.Node) api.Ledger {
		hold.Node = n
		return hold
	})
	t.Cleanup(release) // before the server closes, should the test fail
	type answer struct {
		status int
		body   []byte
	}
	answers := make(chan answer, limit)
	for range limit {
		go func() {
			resp, err := http.Get(s.url + "/v1/blocks/1")
			if err != nil {
				answers <- answer{status: -1, body: []byte(err.Error())}
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			answers <- answer{resp.StatusCode, b}
		}()
	}
	for range limit {
		<-hold.entered
	}
	status, h, body := s.get(t, "/v1/blocks/1")
	mustProblemBody(t, status, h, body, http.StatusServiceUnavailable, api.ProblemUnavailable)
	if h.Get("Retry-After") != "1" {
		t.Fatalf("503 with Retry-After %q, want 1", h.Get("Retry-After"))
	}
	status, h, body = s.get(t, "/v1/proofs/dids/"+s.dids[0])
	mustProblemBody(t, status, h, body, http.StatusServiceUnavailable, api.ProblemUnavailable)
	if n := s.gauge(t, "idmesh_large_reads_in_flight"); n != limit {
		t.Fatalf("%v large reads in flight, want %d", n, limit)
	}
	release()
	for range limit {
		a := <-answers
		var br api.BlockResponse
		if a.status != http.StatusOK || json.Unmarshal(a.body, &br) != nil || br.Header.Height != 1 || len(br.Txs) != 4 {
			t.Fatalf("held download: %d %s", a.status, a.body)
		}
	}
	// The slots are free again.
	if status, _, body := s.get(t, "/v1/blocks/1"); status != http.StatusOK {
		t.Fatalf("after release: %d %s", status, body)
	}
	if status, _, body := s.get(t, "/v1/proofs/dids/"+s.dids[0]); status != http.StatusOK {
		t.Fatalf("proof after release: %d %s", status, body)
	}
}

// bigBlock is a block of n transactions with JSON payloads of size
// bytes each, and its commit.
func bigBlock(n, size int) (*registry.Block, *registry.Commit) {
	b := &registry.Block{Header: registry.Header{ChainID: "test", Height: 1, Time: time.Unix(1_700_000_000, 0).UTC()}}
	for i := range n {
		p := fmt.Appendf(nil, `{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", size-20))
		b.Txs = append(b.Txs, registry.Tx{Type: registry.TxDIDOperation, Payload: p})
	}
	b.Header.TxRoot = registry.MerkleRoot(b.TxHashes())
	return b, &registry.Commit{Height: 1, BlockID: b.ID()}
}

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// blockAlloc returns the bytes the server allocates per GET /v1/blocks/1,
// the block being in memory already.
func blockAlloc(tb testing.TB, s *api.Server, runs int) uint64 {
	tb.Helper()
	serve := func() {
		w := &discard{h: http.Header{}}
		s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/blocks/1", nil))
	}
	serve() // warm up pools
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		serve()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

// TestBlockDownloadStreams serves an 8 MiB block: the handler allocates
// a small fraction of the block's size (encoding it whole took about
// four times its size), and the answer is the block's JSON as before.
func TestBlockDownloadStreams(t *testing.T) {
	s := mustServer(t, nil)
	const n, size = 128, 64 << 10
	b, c := bigBlock(n, size)
	s.ledger.mu.Lock()
	s.ledger.blocks[1], s.ledger.commits[1] = b, c
	s.ledger.mu.Unlock()
	if per := blockAlloc(t, s.Server, 3); per > n*size/8 {
		t.Fatalf("a %d-byte block allocates %d bytes per download (%.2fx its size)", n*size, per, float64(per)/float64(n*size))
	}
	w := s.do(http.MethodGet, "/v1/blocks/1", nil)
	want := oldBlockJSON(t, b, c)
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), want) {
		t.Fatalf("the streamed block differs from its JSON encoding (%d bytes, want %d)", w.Body.Len(), len(want))
	}
}

// oldBlockJSON is the block's answer as encoding/json writes a
// BlockResponse.
func oldBlockJSON(tb testing.TB, b *registry.Block, c *registry.Commit) []byte {
	tb.Helper()
	resp := api.BlockResponse{BlockID: b.ID(), Header: b.Header, TxHashes: b.TxHashes(), Last: b.LastCommit, Commit: c}
	for i, t := range b.Txs {
		tv := api.TxView{Hash: resp.TxHashes[i], Type: t.Type.String()}
		if json.Valid(t.Payload) {
			tv.Payload = t.Payload
		}
		resp.Txs = append(resp.Txs, tv)
	}
	out, err := json.Marshal(resp)
	if err != nil {
		tb.Fatal(err)
	}
	return append(out, '\n')
}

// TestBlockEncoding checks the streamed encoding against encoding/json
// for blocks with no transactions, payloads that are not JSON, and
// commits.
func TestBlockEncoding(t *testing.T) {
	big, bigCommit := bigBlock(3, 100)
	notJSON := &registry.Block{Header: registry.Header{ChainID: "test", Height: 1}, Txs: []registry.Tx{{Type: registry.TxDIDOperation, Payload: []byte("{not json")}, {Type: 9, Payload: []byte(`[1,2]`)}},
		LastCommit: &registry.Commit{Height: 1, Signatures: []registry.CommitSig{{Signature: []byte{1, 2, 3}}}}}
	tests := []struct {
		name string
		b    *registry.Block
		c    *registry.Commit
	}{
		{"empty", &registry.Block{Header: registry.Header{ChainID: "test", Height: 1}}, nil},
		{"JSON payloads", big, bigCommit},
		{"payload not JSON, last commit", notJSON, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustServer(t, nil)
			s.ledger.mu.Lock()
			s.ledger.blocks[1] = tt.b
			if tt.c != nil {
				s.ledger.commits[1] = tt.c
			}
			s.ledger.mu.Unlock()
			w := s.do(http.MethodGet, "/v1/blocks/1", nil)
			if want := oldBlockJSON(t, tt.b, tt.c); w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), want) {
				t.Fatalf("got %d\n%s\nwant\n%s", w.Code, w.Body, want)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
}

// BenchmarkBlockDownload measures the bytes allocated per GET
// /v1/blocks/{h} of an 8 MiB block held in memory, as a ratio of the
// block's size ("x-block"), next to encoding the same answer with
// encoding/json in the same run (the handler before streaming).
//
//	go test -run '^$' -bench BlockDownload -benchmem ./api/
func BenchmarkBlockDownload(b *testing.B) {
	const n, size = 128, 64 << 10
	blk, c := bigBlock(n, size)
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		var per uint64
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for b.Loop() {
			_ = oldBlockJSON(b, blk, c)
		}
		runtime.ReadMemStats(&after)
		per = (after.TotalAlloc - before.TotalAlloc) / uint64(b.N)
		b.ReportMetric(float64(per)/float64(n*size), "x-block")
	})
	b.Run("handler", func(b *testing.B) {
		s := mustServer(b, nil)
		s.ledger.blocks[1], s.ledger.commits[1] = blk, c
		b.ReportAllocs()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for b.Loop() {
			s.ServeHTTP(&discard{h: http.Header{}}, httptest.NewRequest(http.MethodGet, "/v1/blocks/1", nil))
		}
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64((after.TotalAlloc-before.TotalAlloc)/uint64(b.N))/float64(n*size), "x-block")
	})
}

// TestProofEncoding checks the streamed proof against encoding/json, for
// a DID that exists and one that does not.
func TestProofEncoding(t *testing.T) {
	s := mustChainServer(t, 2, nil, nil)
	absent, _, err := registrytest.NewCreate(registrytest.ChainID, 99)
	if err != nil {
		t.Fatal(err)
	}
	absentDID, err := absent.SubjectDID()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{s.dids[0], absentDID} {
		status, h, body := s.get(t, "/v1/proofs/dids/"+d)
		key := idmesh.RecordKey(d)
		value, proof, height, root, err := s.node.ProveKey(key)
		if err != nil {
			t.Fatal(err)
		}
		want := api.ProofResponse{Height: height, StateRoot: root, Key: base64.StdEncoding.EncodeToString(key), Proof: proof}
		if value != nil {
			v := base64.StdEncoding.EncodeToString(value)
			want.Value = &v
		}
		wb, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusOK || h.Get("Content-Type") != "application/json" || !bytes.Equal(body, append(wb, '\n')) {
			t.Fatalf("%s: %d %s\n%s\nwant\n%s", d, status, h.Get("Content-Type"), body, wb)
		}
	}
}

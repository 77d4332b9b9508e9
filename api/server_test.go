package api_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// fakeLedger is an in-memory api.Ledger.
type fakeLedger struct {
	mu         sync.Mutex
	state      registry.ChainState
	blocks     map[uint64]*registry.Block
	commits    map[uint64]*registry.Commit
	statuses   map[registry.Hash]node.TxStatus
	submitErr  error
	waitStatus *node.TxStatus // nil: WaitStatus returns Status
	submitted  []registry.Tx
	panicState bool
}

func newFakeLedger() *fakeLedger {
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize)).Public().(ed25519.PublicKey)
	vs, err := registry.NewValidatorSet([]registry.Validator{{PubKey: pub, Power: 10}})
	if err != nil {
		panic(err)
	}
	return &fakeLedger{
		state:    registry.ChainState{ChainID: "test", LastBlockTime: time.Unix(1_700_000_000, 0).UTC(), Validators: vs, NextValidators: vs},
		blocks:   map[uint64]*registry.Block{},
		commits:  map[uint64]*registry.Commit{},
		statuses: map[registry.Hash]node.TxStatus{},
	}
}

func (l *fakeLedger) Submit(t registry.Tx) (registry.Hash, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.submitErr != nil {
		return t.Hash(), l.submitErr
	}
	l.submitted = append(l.submitted, t)
	l.statuses[t.Hash()] = node.TxStatus{Hash: t.Hash(), Status: node.TxPending}
	return t.Hash(), nil
}

func (l *fakeLedger) Status(h registry.Hash) (node.TxStatus, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.statuses[h]
	if !ok {
		return node.TxStatus{}, fmt.Errorf("transaction %s: %w", h, registry.ErrNotFound)
	}
	return s, nil
}

func (l *fakeLedger) WaitStatus(_ context.Context, h registry.Hash) (node.TxStatus, error) {
	l.mu.Lock()
	w := l.waitStatus
	l.mu.Unlock()
	if w != nil {
		s := *w
		s.Hash = h
		return s, nil
	}
	return l.Status(h)
}

func (l *fakeLedger) State() registry.ChainState {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.panicState {
		panic("ledger state is broken")
	}
	return l.state
}

func (l *fakeLedger) Block(height uint64) (*registry.Block, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.blocks[height]
	if !ok {
		return nil, fmt.Errorf("block %d: %w", height, registry.ErrNotFound)
	}
	return b, nil
}

func (l *fakeLedger) Commit(height uint64) (*registry.Commit, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.commits[height]
	if !ok {
		return nil, fmt.Errorf("commit %d: %w", height, registry.ErrNotFound)
	}
	return c, nil
}

// addBlock makes a block at the next height the tip.
func (l *fakeLedger) addBlock(txs ...registry.Tx) *registry.Block {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.state.Height + 1
	b := &registry.Block{Header: registry.Header{ChainID: l.state.ChainID, Height: h, Time: l.state.LastBlockTime.Add(time.Second), LastBlockID: l.state.LastBlockID}, Txs: txs}
	b.Header.TxRoot = registry.MerkleRoot(b.TxHashes())
	l.blocks[h] = b
	l.commits[h] = &registry.Commit{Height: h, BlockID: b.ID()}
	l.state.Height, l.state.LastBlockID, l.state.LastBlockTime = h, b.ID(), b.Header.Time
	return b
}

// fakeResolver answers with res or err and records its calls.
type fakeResolver struct {
	mu    sync.Mutex
	res   *did.ResolutionResult
	err   error
	calls []resolveCall
}

type resolveCall struct {
	did  string
	opts did.Options
}

func (r *fakeResolver) Resolve(_ context.Context, d string, opts did.Options) (*did.ResolutionResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, resolveCall{d, opts})
	if r.err != nil {
		return nil, r.err
	}
	res := *r.res // the caller owns the result
	return &res, nil
}

func (r *fakeResolver) lastCall(tb testing.TB) resolveCall {
	tb.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) == 0 {
		tb.Fatal("the resolver was not called")
	}
	return r.calls[len(r.calls)-1]
}

func (r *fakeResolver) numCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

const testDID = "did:example:123"

func okResult(deactivated bool) *did.ResolutionResult {
	return &did.ResolutionResult{
		DIDDocument:           &did.Document{Context: []any{did.ContextV1}, ID: testDID},
		DIDResolutionMetadata: did.ResolutionMetadata{ContentType: did.MediaTypeDIDLDJSON},
		DIDDocumentMetadata:   did.DocumentMetadata{VersionID: "v1", Deactivated: deactivated},
	}
}

type testServer struct {
	*api.Server
	ledger   *fakeLedger
	resolver *fakeResolver
	checked  http.Handler // Server, its responses checked against openapi.yaml
}

// ServeHTTP serves through the server with every response checked
// against openapi.yaml.
func (s *testServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.checked.ServeHTTP(w, r)
}

func mustServer(tb testing.TB, mutate func(*api.Config)) *testServer {
	tb.Helper()
	l, r := newFakeLedger(), &fakeResolver{res: okResult(false)}
	cfg := api.Config{Ledger: l, Resolver: r, Version: "v0.0.0-test", ResolveCacheBytes: -1}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := api.NewServer(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return &testServer{Server: s, ledger: l, resolver: r, checked: validated(tb, s)}
}

func (s *testServer) do(method, target string, body []byte, header ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

// mustProblem checks that w is a problem+json answer with status and
// type, and returns it.
func mustProblem(tb testing.TB, w *httptest.ResponseRecorder, status int, typ string) api.Problem {
	tb.Helper()
	if w.Code != status {
		tb.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		tb.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p api.Problem
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		tb.Fatalf("decode problem: %v", err)
	}
	if p.Type != typ || p.Status != status || p.Title == "" {
		tb.Fatalf("problem %+v, want type %s and status %d with a title", p, typ, status)
	}
	if !strings.HasPrefix(p.Type, api.ProblemBase) {
		tb.Fatalf("problem type %s is not under %s", p.Type, api.ProblemBase)
	}
	return p
}

func mustJSON(tb testing.TB, w *httptest.ResponseRecorder, status int, v any) {
	tb.Helper()
	if w.Code != status {
		tb.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		tb.Fatalf("Content-Type %q, want application/json", ct)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		tb.Fatalf("decode %s: %v", w.Body, err)
	}
}

// mustOperation returns a signed did:idmesh create operation in JSON.
func mustOperation(tb testing.TB) ([]byte, string) {
	tb.Helper()
	op, _, err := registrytest.NewCreate("test", 5)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := op.Encode()
	if err != nil {
		tb.Fatal(err)
	}
	d, err := op.SubjectDID()
	if err != nil {
		tb.Fatal(err)
	}
	return b, d
}

func TestNewServerRequiresLedgerAndResolver(t *testing.T) {
	if _, err := api.NewServer(api.Config{Resolver: &fakeResolver{}}); err == nil {
		t.Fatal("no ledger accepted")
	}
	if _, err := api.NewServer(api.Config{Ledger: newFakeLedger()}); err == nil {
		t.Fatal("no resolver accepted")
	}
}

// resolutionBody is the part of a resolution result the tests read.
type resolutionBody struct {
	Context     any             `json:"@context"`
	DIDDocument json.RawMessage `json:"didDocument"`
	Metadata    struct {
		ContentType string       `json:"contentType"`
		Error       *did.Problem `json:"error"`
	} `json:"didResolutionMetadata"`
	DocumentMetadata struct {
		Deactivated bool `json:"deactivated"`
	} `json:"didDocumentMetadata"`
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		status  int
		typ     string
		version string // versionTime query, if any
		accept  string
	}{
		{"invalid DID", fmt.Errorf("resolve: %w", did.ErrInvalidDID), 400, did.ProblemInvalidDID, "", ""},
		{"invalid DID URL", fmt.Errorf("%w: x", did.ErrInvalidDIDURL), 400, did.ProblemInvalidDIDURL, "", ""},
		{"invalid options", fmt.Errorf("%w: x", did.ErrInvalidOptions), 400, did.ProblemInvalidOptions, "", ""},
		{"not found", fmt.Errorf("%w: %s", did.ErrNotFound, testDID), 404, did.ProblemNotFound, "", ""},
		{"representation not supported", fmt.Errorf("%w: x", did.ErrRepresentationNotSupported), 406, did.ProblemRepresentationNotSupported, "", ""},
		{"method not supported", fmt.Errorf("%w: %q", did.ErrMethodNotSupported, "example"), 501, did.ProblemMethodNotSupported, "", ""},
		{"invalid document from the method", fmt.Errorf("%w: x", did.ErrInvalidDocument), 500, did.ProblemInvalidDIDDocument, "", ""},
		{"any other error", errors.New("disk on fire"), 500, did.ProblemInternalError, "", ""},
		{"bad versionTime", nil, 400, did.ProblemInvalidOptions, "yesterday", ""},
		{"unacceptable representation", nil, 406, did.ProblemRepresentationNotSupported, "", "text/html"},
		// An error result is the whole result even if the client asked
		// for a bare document.
		{"error when a document was asked for", fmt.Errorf("%w: x", did.ErrNotFound), 404, did.ProblemNotFound, "", "application/did+json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustServer(t, nil)
			s.resolver.err = tt.err
			target := "/1.0/identifiers/" + testDID
			if tt.version != "" {
				target += "?versionTime=" + tt.version
			}
			w := s.do(http.MethodGet, target, nil, "Accept", tt.accept)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != did.MediaTypeDIDResolution {
				t.Fatalf("Content-Type %q, want %s", ct, did.MediaTypeDIDResolution)
			}
			var body resolutionBody
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if string(body.DIDDocument) != "null" {
				t.Fatalf("didDocument %s, want null", body.DIDDocument)
			}
			if body.Metadata.Error == nil || body.Metadata.Error.Type != tt.typ {
				t.Fatalf("error %+v, want type %s", body.Metadata.Error, tt.typ)
			}
			if tt.err == nil && s.resolver.numCalls() != 0 {
				t.Fatal("the resolver was called for a request refused before resolving")
			}
		})
	}
}

func TestResolveFeatureNotSupportedIs501(t *testing.T) {
	s := mustServer(t, nil)
	s.resolver.err = fmt.Errorf("%w: versionTime", did.ErrFeatureNotSupported)
	w := s.do(http.MethodGet, "/1.0/identifiers/"+testDID, nil)
	if w.Code != http.StatusNotImplemented {
		t.Fatalf("status %d, want 501: %s", w.Code, w.Body)
	}
}

func TestResolveRepresentations(t *testing.T) {
	const ldProfile = `application/ld+json;profile="https://w3id.org/did-resolution"`
	tests := []struct {
		name        string
		accept      string
		contentType string
		wholeResult bool
		askedFor    string // the resolver's Accept option
	}{
		{"default", "", did.MediaTypeDIDResolution, true, did.MediaTypeDIDLDJSON},
		{"resolution result", did.MediaTypeDIDResolution, did.MediaTypeDIDResolution, true, did.MediaTypeDIDLDJSON},
		{"resolution profile", ldProfile, ldProfile, true, did.MediaTypeDIDLDJSON},
		{"did+ld+json", did.MediaTypeDIDLDJSON, did.MediaTypeDIDLDJSON, false, did.MediaTypeDIDLDJSON},
		{"did+json", did.MediaTypeDIDJSON, did.MediaTypeDIDJSON, false, did.MediaTypeDIDJSON},
		{"did", did.MediaTypeDID, did.MediaTypeDID, false, did.MediaTypeDID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustServer(t, nil)
			w := s.do(http.MethodGet, "/1.0/identifiers/"+testDID, nil, "Accept", tt.accept)
			if w.Code != http.StatusOK {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != tt.contentType {
				t.Fatalf("Content-Type %q, want %q", ct, tt.contentType)
			}
			if got := s.resolver.lastCall(t); got.did != testDID || got.opts.Accept != tt.askedFor {
				t.Fatalf("resolver called with %q %+v, want accept %q", got.did, got.opts, tt.askedFor)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			if tt.wholeResult {
				var body resolutionBody
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
					t.Fatal(err)
				}
				if body.Context != did.ContextResolution || body.Metadata.Error != nil || !bytes.Contains(body.DIDDocument, []byte(testDID)) {
					t.Fatalf("result %s", w.Body)
				}
				return
			}
			if string(m["id"]) != `"`+testDID+`"` || m["didDocument"] != nil {
				t.Fatalf("want the bare document: %s", w.Body)
			}
		})
	}
}

func TestResolveResultContentTypeIsTheDocuments(t *testing.T) {
	s := mustServer(t, nil)
	w := s.do(http.MethodGet, "/1.0/identifiers/"+testDID, nil, "Accept", did.MediaTypeDIDResolution)
	var body resolutionBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Metadata.ContentType != did.MediaTypeDIDLDJSON {
		t.Fatalf("didResolutionMetadata.contentType %q, want %s", body.Metadata.ContentType, did.MediaTypeDIDLDJSON)
	}
}

func TestResolveRequestDetails(t *testing.T) {
	t.Run("percent-encoded DID", func(t *testing.T) {
		s := mustServer(t, nil)
		if w := s.do(http.MethodGet, "/1.0/identifiers/did%3Aexample%3A123", nil); w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if got := s.resolver.lastCall(t).did; got != testDID {
			t.Fatalf("resolver asked for %q, want %q", got, testDID)
		}
	})
	t.Run("DID keeps its own percent-encoding", func(t *testing.T) {
		s := mustServer(t, nil)
		s.do(http.MethodGet, "/1.0/identifiers/did:example:a%2Fb", nil)
		if got := s.resolver.lastCall(t).did; got != "did:example:a%2Fb" {
			t.Fatalf("resolver asked for %q", got)
		}
	})
	t.Run("version options", func(t *testing.T) {
		s := mustServer(t, nil)
		s.do(http.MethodGet, "/1.0/identifiers/"+testDID+"?versionId=v7&versionTime=2026-01-02T03:04:05Z", nil)
		got := s.resolver.lastCall(t).opts
		if got.VersionID != "v7" || !got.VersionTime.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) {
			t.Fatalf("options %+v", got)
		}
	})
	t.Run("deactivated is 410 with the whole result", func(t *testing.T) {
		s := mustServer(t, nil)
		s.resolver.res = okResult(true)
		w := s.do(http.MethodGet, "/1.0/identifiers/"+testDID, nil, "Accept", did.MediaTypeDIDJSON)
		if w.Code != http.StatusGone {
			t.Fatalf("status %d, want 410", w.Code)
		}
		if ct := w.Header().Get("Content-Type"); ct != did.MediaTypeDIDResolution {
			t.Fatalf("Content-Type %q", ct)
		}
		var body resolutionBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if !body.DocumentMetadata.Deactivated || string(body.DIDDocument) == "null" {
			t.Fatalf("body %s", w.Body)
		}
	})
}

func TestResolveCache(t *testing.T) {
	s := mustServer(t, func(c *api.Config) { c.ResolveCacheBytes = 1 << 20 })
	get := func() *httptest.ResponseRecorder {
		return s.do(http.MethodGet, "/1.0/identifiers/"+testDID, nil)
	}
	first := get()
	second := get()
	if s.resolver.numCalls() != 1 {
		t.Fatalf("resolver called %d times at one height, want 1", s.resolver.numCalls())
	}
	if first.Code != second.Code || first.Body.String() != second.Body.String() || first.Header().Get("Content-Type") != second.Header().Get("Content-Type") {
		t.Fatal("the cached answer differs")
	}
	// Another representation is another entry.
	s.do(http.MethodGet, "/1.0/identifiers/"+testDID, nil, "Accept", did.MediaTypeDIDJSON)
	if s.resolver.numCalls() != 2 {
		t.Fatalf("resolver called %d times, want 2", s.resolver.numCalls())
	}
	// A new block empties the cache.
	s.ledger.addBlock()
	get()
	if s.resolver.numCalls() != 3 {
		t.Fatalf("resolver called %d times after a block, want 3", s.resolver.numCalls())
	}
	// Errors are not cached.
	s.resolver.err = did.ErrNotFound
	for range 2 {
		if w := s.do(http.MethodGet, "/1.0/identifiers/did:example:other", nil); w.Code != http.StatusNotFound {
			t.Fatalf("status %d", w.Code)
		}
	}
	if s.resolver.numCalls() != 5 {
		t.Fatalf("resolver called %d times, want errors resolved each time", s.resolver.numCalls())
	}
}

func TestSubmitOperation(t *testing.T) {
	op, subject := mustOperation(t)
	rejected := func(code uint32) error {
		return fmt.Errorf("%w: %w", node.ErrRejected, registry.Reject(code, errors.New("no")))
	}
	tests := []struct {
		name      string
		query     string
		body      []byte
		maxBody   int64
		submitErr error
		wait      *node.TxStatus
		status    int
		typ       string // problem type; "" for success
		code      uint32
	}{
		{name: "accepted", body: op, status: 202},
		{name: "wait=0 does not wait", query: "?wait=0", body: op, status: 202},
		{name: "wait=false does not wait", query: "?wait=false", body: op, status: 202},
		{name: "committed while waiting", query: "?wait=5s", body: op, wait: &node.TxStatus{Status: node.TxCommitted, Height: 4}, status: 200},
		{name: "wait=true", query: "?wait=true", body: op, wait: &node.TxStatus{Status: node.TxCommitted, Height: 4}, status: 200},
		{name: "still pending after waiting", query: "?wait=1ms", body: op, wait: &node.TxStatus{Status: node.TxPending}, status: 202},
		{name: "rejected while waiting", query: "?wait=5s", body: op, wait: &node.TxStatus{Status: node.TxRejected, Code: registry.CodeConflict, Reason: "stale"}, status: 409, typ: api.ProblemConflict, code: registry.CodeConflict},
		{name: "wait not a duration", query: "?wait=soon", body: op, status: 400, typ: api.ProblemInvalidParameter},
		{name: "wait negative", query: "?wait=-1s", body: op, status: 400, typ: api.ProblemInvalidParameter},
		{name: "body too large", body: op, maxBody: 16, status: 413, typ: api.ProblemBodyTooLarge},
		{name: "not JSON", body: []byte(`{"type":`), status: 400, typ: api.ProblemInvalidJSON},
		{name: "empty body", body: []byte{}, status: 400, typ: api.ProblemInvalidJSON},
		{name: "JSON but not an operation", body: []byte(`{"hello":"world"}`), status: 400, typ: api.ProblemInvalidOperation},
		{name: "mempool full", body: op, submitErr: fmt.Errorf("add: %w", node.ErrMempoolFull), status: 503, typ: api.ProblemUnavailable},
		{name: "rejected unauthorized", body: op, submitErr: rejected(registry.CodeUnauthorized), status: 403, typ: api.ProblemUnauthorizedOp, code: registry.CodeUnauthorized},
		{name: "rejected conflict", body: op, submitErr: rejected(registry.CodeConflict), status: 409, typ: api.ProblemConflict, code: registry.CodeConflict},
		{name: "rejected not found", body: op, submitErr: rejected(registry.CodeNotFound), status: 404, typ: api.ProblemNotFound, code: registry.CodeNotFound},
		{name: "rejected invalid", body: op, submitErr: rejected(registry.CodeInvalid), status: 400, typ: api.ProblemInvalidOperation, code: registry.CodeInvalid},
		{name: "node failure", body: op, submitErr: errors.New("disk on fire"), status: 500, typ: api.ProblemInternal},
		{name: "never fits a block", body: op, submitErr: fmt.Errorf("%w: %w", node.ErrRejected, registry.Reject(registry.CodeInvalid, registry.ErrTxTooLargeForBlock)), status: 413, typ: api.ProblemBodyTooLarge, code: registry.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustServer(t, func(c *api.Config) { c.MaxBodyBytes = tt.maxBody })
			s.ledger.submitErr, s.ledger.waitStatus = tt.submitErr, tt.wait
			w := s.do(http.MethodPost, "/v1/operations"+tt.query, tt.body, "Content-Type", "application/json")
			if tt.typ != "" {
				p := mustProblem(t, w, tt.status, tt.typ)
				if p.Code != tt.code {
					t.Fatalf("problem code %d, want %d", p.Code, tt.code)
				}
				if p.Instance != "/v1/operations" {
					t.Fatalf("problem instance %q", p.Instance)
				}
				if got := w.Header().Get("Retry-After"); (tt.status == 503) != (got != "") {
					t.Fatalf("Retry-After %q with status %d", got, tt.status)
				}
				return
			}
			var resp api.SubmitResponse
			mustJSON(t, w, tt.status, &resp)
			if len(s.ledger.submitted) != 1 || resp.Hash != s.ledger.submitted[0].Hash() || resp.DID != subject || resp.VersionID == "" {
				t.Fatalf("response %+v", resp)
			}
			loc := w.Header().Get("Location")
			switch tt.status {
			case 200:
				if resp.Status != node.TxCommitted || resp.Height != 4 || loc != "" {
					t.Fatalf("response %+v, Location %q", resp, loc)
				}
			case 202:
				if resp.Status != node.TxPending || loc != "/v1/operations/"+resp.Hash.String() {
					t.Fatalf("response %+v, Location %q", resp, loc)
				}
			}
		})
	}
}

func TestOperationStatus(t *testing.T) {
	s := mustServer(t, nil)
	known := registry.Tx{Type: registry.TxDIDOperation, Payload: []byte("{}")}.Hash()
	s.ledger.statuses[known] = node.TxStatus{Hash: known, Status: node.TxCommitted, Height: 3}
	unknown := registry.Sum([]byte("unknown"))

	t.Run("known", func(t *testing.T) {
		var st node.TxStatus
		mustJSON(t, s.do(http.MethodGet, "/v1/operations/"+known.String(), nil), 200, &st)
		if st.Hash != known || st.Status != node.TxCommitted || st.Height != 3 {
			t.Fatalf("status %+v", st)
		}
	})
	t.Run("known, waiting", func(t *testing.T) {
		var st node.TxStatus
		mustJSON(t, s.do(http.MethodGet, "/v1/operations/"+known.String()+"?wait=2s", nil), 200, &st)
		if st.Status != node.TxCommitted {
			t.Fatalf("status %+v", st)
		}
	})
	for _, tt := range []struct {
		name, target string
		status       int
		typ          string
	}{
		{"unknown", "/v1/operations/" + unknown.String(), 404, api.ProblemNotFound},
		{"not a hash", "/v1/operations/xyz", 400, api.ProblemInvalidParameter},
		{"bad wait", "/v1/operations/" + known.String() + "?wait=forever", 400, api.ProblemInvalidParameter},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mustProblem(t, s.do(http.MethodGet, tt.target, nil), tt.status, tt.typ)
		})
	}
}

func TestBlocks(t *testing.T) {
	s := mustServer(t, nil)
	mustProblem(t, s.do(http.MethodGet, "/v1/blocks/latest", nil), 404, api.ProblemNotFound)

	b1 := s.ledger.addBlock(registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(`{"a":1}`)}, registry.Tx{Type: registry.TxDIDOperation, Payload: []byte("not json")})
	b2 := s.ledger.addBlock()

	for _, tt := range []struct {
		name, height string
		want         *registry.Block
	}{
		{"by height", "1", b1},
		{"latest", "latest", b2},
		{"by height, the tip", "2", b2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var resp api.BlockResponse
			mustJSON(t, s.do(http.MethodGet, "/v1/blocks/"+tt.height, nil), 200, &resp)
			if resp.BlockID != tt.want.ID() || resp.Header.Height != tt.want.Header.Height || len(resp.TxHashes) != len(tt.want.Txs) || len(resp.Txs) != len(tt.want.Txs) {
				t.Fatalf("response %+v", resp)
			}
			if resp.Commit == nil || resp.Commit.BlockID != tt.want.ID() {
				t.Fatal("no commit in the response")
			}
		})
	}
	t.Run("tx payloads", func(t *testing.T) {
		var resp api.BlockResponse
		mustJSON(t, s.do(http.MethodGet, "/v1/blocks/1", nil), 200, &resp)
		if string(resp.Txs[0].Payload) != `{"a":1}` || resp.Txs[0].Type != "did-operation" || resp.Txs[0].Hash != b1.Txs[0].Hash() {
			t.Fatalf("tx 0 %+v", resp.Txs[0])
		}
		if p := string(resp.Txs[1].Payload); p != "" && p != "null" {
			t.Fatalf("a non-JSON payload is shown as %s", resp.Txs[1].Payload)
		}
	})
	for _, tt := range []struct {
		name, height string
		status       int
		typ          string
	}{
		{"zero", "0", 400, api.ProblemInvalidParameter},
		{"not a number", "abc", 400, api.ProblemInvalidParameter},
		{"negative", "-1", 400, api.ProblemInvalidParameter},
		{"overflow", "18446744073709551616", 400, api.ProblemInvalidParameter},
		{"not found", "99", 404, api.ProblemNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := mustProblem(t, s.do(http.MethodGet, "/v1/blocks/"+tt.height, nil), tt.status, tt.typ)
			if p.Instance != "/v1/blocks/"+tt.height || p.Detail == "" {
				t.Fatalf("problem %+v", p)
			}
		})
	}
}

func TestStatusAndHealth(t *testing.T) {
	s := mustServer(t, nil)
	var st api.StatusResponse
	mustJSON(t, s.do(http.MethodGet, "/v1/status", nil), 200, &st)
	if st.ChainID != "test" || st.Height != 0 || st.Version != "v0.0.0-test" || len(st.Validators) != 1 || st.Peers == nil || st.LastCommit != nil {
		t.Fatalf("status %+v", st)
	}
	if st.LastBlockTime != "2023-11-14T22:13:20.000Z" {
		t.Fatalf("last block time %q", st.LastBlockTime)
	}

	b := s.ledger.addBlock()
	mustJSON(t, s.do(http.MethodGet, "/v1/status", nil), 200, &st)
	if st.Height != 1 || st.LastBlockHash != b.ID() || st.LastCommit == nil || st.LastCommit.BlockID != b.ID() {
		t.Fatalf("status after a block %+v", st)
	}

	var h struct {
		Status string `json:"status"`
		Height uint64 `json:"height"`
	}
	mustJSON(t, s.do(http.MethodGet, "/healthz", nil), 200, &h)
	if h.Status != "ok" || h.Height != 1 {
		t.Fatalf("health %+v", h)
	}
}

func TestRoutingProblems(t *testing.T) {
	s := mustServer(t, nil)
	tests := []struct {
		method, target string
		status         int
		typ            string
	}{
		{http.MethodPost, "/v1/status", 405, api.ProblemMethodNotAllowed},
		{http.MethodDelete, "/v1/blocks/1", 405, api.ProblemMethodNotAllowed},
		{http.MethodGet, "/v1/operations", 405, api.ProblemMethodNotAllowed},
		{http.MethodPut, "/healthz", 405, api.ProblemMethodNotAllowed},
		{http.MethodGet, "/no/such/endpoint", 404, api.ProblemNotFound},
		{http.MethodGet, "/metrics", 404, api.ProblemNotFound}, // no Registry
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			mustProblem(t, s.do(tt.method, tt.target, nil), tt.status, tt.typ)
		})
	}
}

func TestMethodNotAllowedListsAllow(t *testing.T) {
	s := mustServer(t, nil)
	w := s.do(http.MethodPost, "/v1/status", nil)
	if got := w.Header().Get("Allow"); !strings.Contains(got, http.MethodGet) {
		t.Fatalf("Allow %q, want it to list GET", got)
	}
}

func TestHandlerPanicIsProblem(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := mustServer(t, func(c *api.Config) { c.Registry = reg })
	s.ledger.panicState = true
	for _, target := range []string{"/healthz", "/v1/status", "/v1/blocks/latest"} {
		t.Run(target, func(t *testing.T) {
			p := mustProblem(t, s.do(http.MethodGet, target, nil), 500, api.ProblemInternal)
			if strings.Contains(p.Detail, "broken") {
				t.Fatalf("the panic value leaked into the answer: %q", p.Detail)
			}
		})
	}
	// The server keeps serving, and counted the failures under 500.
	s.ledger.mu.Lock()
	s.ledger.panicState = false
	s.ledger.mu.Unlock()
	if w := s.do(http.MethodGet, "/healthz", nil); w.Code != 200 {
		t.Fatalf("status %d after a panic", w.Code)
	}
	if w := s.do(http.MethodGet, "/metrics", nil); !strings.Contains(w.Body.String(), `idmesh_http_request_duration_seconds_count{code="500",route="healthz"} 1`) {
		t.Fatalf("metrics do not count the panic as a 500:\n%s", w.Body)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := mustServer(t, func(c *api.Config) { c.Registry = reg })
	s.do(http.MethodGet, "/healthz", nil)
	s.do(http.MethodGet, "/v1/blocks/7", nil)
	w := s.do(http.MethodGet, "/metrics", nil)
	if w.Code != 200 {
		t.Fatalf("status %d", w.Code)
	}
	for _, want := range []string{
		`idmesh_http_request_duration_seconds_count{code="200",route="healthz"} 1`,
		`idmesh_http_request_duration_seconds_count{code="404",route="block"} 1`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s:\n%s", want, w.Body)
		}
	}
	// A second server cannot register the same metrics on the registry.
	if _, err := api.NewServer(api.Config{Ledger: newFakeLedger(), Resolver: &fakeResolver{}, Registry: reg}); err == nil {
		t.Fatal("registered the HTTP metrics twice")
	}
}

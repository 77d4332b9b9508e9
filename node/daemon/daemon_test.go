package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/daemon"
	"github.com/idmesh/idmesh/node/home"
	"github.com/idmesh/idmesh/registry/registrytest"
)

const chainID = "daemon-test"

var genesisTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// running is a daemon whose Run goes on in the background.
type running struct {
	*daemon.Daemon
	cancel context.CancelFunc
	done   chan error
}

// MustStart assembles a daemon from cfg and runs it.
func MustStart(tb testing.TB, cfg daemon.Config) *running {
	tb.Helper()
	d, err := daemon.New(tb.Context(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Daemon: d, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- d.Run(ctx) }()
	tb.Cleanup(func() { r.MustStop(tb) })
	return r
}

// MustStop ends Run, checks that it ended cleanly, and closes the
// daemon; a second call does nothing.
func (r *running) MustStop(tb testing.TB) {
	tb.Helper()
	if r.done == nil {
		return
	}
	r.cancel()
	err := <-r.done
	r.done = nil
	if err != nil {
		tb.Errorf("run: %v", err)
	}
	if err := r.Close(); err != nil {
		tb.Errorf("close: %v", err)
	}
}

// mustDo sends a request and returns the status and body.
func mustDo(tb testing.TB, method, url string, body []byte) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
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
	return resp.StatusCode, b
}

// TestDaemonCommitsAndReopens assembles a real single-validator node on
// loopback (LevelDB in a temporary home, a libp2p host, HTTP on port
// 0), commits a DID through the HTTP API, stops and closes it, then
// reopens the same home and finds the DID and its transaction committed.
func TestDaemonCommitsAndReopens(t *testing.T) {
	dir := t.TempDir()
	if _, err := home.Dir(dir).InitSingle(chainID, genesisTime); err != nil {
		t.Fatal(err)
	}
	cfg := daemon.Config{Home: dir, HTTPAddr: "127.0.0.1:0", P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, FirstPeerWait: -1,
		BlockInterval: time.Millisecond, Version: "test"}

	d := MustStart(t, cfg)
	if _, ok := d.Validator(); !ok {
		t.Fatal("a home with a validator key runs a full node")
	}
	if len(d.P2PAddrs()) == 0 {
		t.Fatal("no libp2p address")
	}
	op, _, err := registrytest.NewCreate(chainID, 1)
	if err != nil {
		t.Fatal(err)
	}
	body, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	subject, err := op.SubjectDID()
	if err != nil {
		t.Fatal(err)
	}
	code, b := mustDo(t, http.MethodPost, d.BaseURL()+"/v1/operations?wait=30s", body)
	var sub struct {
		Hash   string       `json:"hash"`
		DID    string       `json:"did"`
		Status node.TxState `json:"status"`
		Height uint64       `json:"height"`
	}
	if err := json.Unmarshal(b, &sub); err != nil || code != http.StatusOK || sub.Status != node.TxCommitted || sub.DID != subject || sub.Height == 0 {
		t.Fatalf("submit: %d %s (%v)", code, b, err)
	}
	d.MustStop(t)
	if resp, err := http.Get(d.BaseURL() + "/v1/status"); err == nil {
		resp.Body.Close()
		t.Fatal("still serving after Close")
	}

	d = MustStart(t, cfg)
	if h := d.Node().State().Height; h < sub.Height {
		t.Fatalf("reopened at height %d, before the commit at %d", h, sub.Height)
	}
	if code, b := mustDo(t, http.MethodGet, d.BaseURL()+"/v1/operations/"+sub.Hash, nil); code != http.StatusOK || !bytes.Contains(b, []byte(`"committed"`)) {
		t.Fatalf("transaction after reopening: %d %s", code, b)
	}
	if code, b := mustDo(t, http.MethodGet, d.BaseURL()+"/1.0/identifiers/"+subject, nil); code != http.StatusOK || !bytes.Contains(b, []byte(subject)) {
		t.Fatalf("resolve after reopening: %d %s", code, b)
	}
	// The same API in-process.
	rec := httptest.NewRecorder()
	d.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/1.0/identifiers/"+subject, nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("in-process resolve: %d %s", rec.Code, rec.Body)
	}
}

// TestNewWithoutGenesis: a home without a genesis fails with a
// GenesisError, and what New opened is closed again (the home can be
// initialized and opened next).
func TestNewWithoutGenesis(t *testing.T) {
	dir := t.TempDir()
	cfg := daemon.Config{Home: dir, HTTPAddr: "127.0.0.1:0"}
	_, err := daemon.New(t.Context(), cfg)
	var ge *daemon.GenesisError
	if !errors.As(err, &ge) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("no genesis: %v, want a GenesisError wrapping ErrNotExist", err)
	}
	if _, err := home.Dir(dir).InitSingle(chainID, genesisTime); err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// Closed without running: the store's lock is released.
	d, err = daemon.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("reopen after Close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
}

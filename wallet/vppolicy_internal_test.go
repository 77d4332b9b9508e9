package wallet

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestVerifierDialPolicy (review 16 finding 6): a host name is checked
// where it resolves: "localhost" reaches a loopback server only for a
// request that came from loopback; otherwise the wallet's verifier
// client refuses the connection before sending anything, even through a
// caller's transport with its own dialer.
func TestVerifierDialPolicy(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	u := "http://localhost:" + port + "/r"
	if _, _, err := newVPClient(Options{}, true).do(context.Background(), http.MethodGet, u, "*/*", "", nil, "", 1<<10, EndpointRequestObject); err != nil {
		t.Fatalf("from loopback: %v", err)
	}
	if hits.Load() != 1 {
		t.Fatalf("hits = %d", hits.Load())
	}
	custom := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{}).DialContext}}
	for _, o := range []Options{{}, {Client: custom}} {
		_, _, err := newVPClient(o, false).do(context.Background(), http.MethodGet, u, "*/*", "", nil, "", 1<<10, EndpointRequestObject)
		if !errors.Is(err, ErrInsecureURL) {
			t.Fatalf("not from loopback: err = %v, want ErrInsecureURL", err)
		}
	}
	if hits.Load() != 1 {
		t.Fatalf("the server was reached: hits = %d", hits.Load())
	}
	for _, a := range []string{"0.0.0.0:443", "10.0.0.1:443", "[fe80::1]:443", "127.0.0.1:443"} {
		if err := verifierDialPolicy(false)("tcp", a, nil); !errors.Is(err, ErrInsecureURL) {
			t.Errorf("dial %s: %v", a, err)
		}
	}
	if err := verifierDialPolicy(false)("tcp", "93.184.215.14:443", nil); err != nil {
		t.Errorf("public address: %v", err)
	}
}

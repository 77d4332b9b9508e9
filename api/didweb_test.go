package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/web"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDIDWebErrorsRevealNothing resolves did:web DIDs that the node cannot
// or must not fetch, through the real HTTP server with the real did:web
// resolver: whatever the cause, the client gets the same generic answer,
// without host names, addresses, ports or Go error text; the log has the
// detail.
func TestDIDWebErrorsRevealNothing(t *testing.T) {
	inner := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("the resolver reached a loopback server")
	}))
	defer inner.Close()
	port := inner.URL[strings.LastIndex(inner.URL, ":")+1:]

	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s := mustServer(t, func(c *api.Config) {
		c.Resolver = did.Methods{web.Method: &web.Resolver{Log: log}}
		c.Log = log
	})
	ts := httptest.NewServer(s)
	defer ts.Close()

	dids := []string{
		"did:web:localhost%3A" + port,         // resolves to loopback: refused at dial
		"did:web:localhost%3A" + port + ":u",  // same, with a path
		"did:web:idmesh-no-such-host.invalid", // DNS failure
	}
	var first []byte
	for _, d := range dids {
		resp, err := http.Get(ts.URL + "/1.0/identifiers/" + d)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var res did.ResolutionResult
		if err := json.Unmarshal(body, &res); err != nil || res.DIDResolutionMetadata.Error == nil {
			t.Fatalf("%s: %d %s", d, resp.StatusCode, body)
		}
		p := res.DIDResolutionMetadata.Error
		if resp.StatusCode != http.StatusInternalServerError || p.Type != did.ProblemInternalError || p.Detail != web.ErrNotRetrieved.Error() {
			t.Fatalf("%s: %d %+v, want 500 INTERNAL_ERROR %q", d, resp.StatusCode, p, web.ErrNotRetrieved)
		}
		for _, leak := range []string{"localhost", "127.0.0.1", "::1", port, "invalid", "lookup", "dial", "tcp", "non-public", "no such host", "did.json", "get "} {
			if bytes.Contains(body, []byte(leak)) {
				t.Errorf("%s: the answer reveals %q: %s", d, leak, body)
			}
		}
		if first == nil {
			first = body
		} else if !bytes.Equal(body, first) {
			t.Errorf("answers differ by cause:\n%s\n%s", first, body)
		}
	}
	l := logs.String()
	for _, want := range []string{"refusing to connect to a non-public address", "idmesh-no-such-host.invalid"} {
		if !strings.Contains(l, want) {
			t.Errorf("the log lacks %q:\n%s", want, l)
		}
	}
}

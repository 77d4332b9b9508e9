package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/web"
)

func TestURLFor(t *testing.T) {
	valid := []struct{ did, url string }{
		{"did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"},
		{"did:web:example.com", "https://example.com/.well-known/did.json"},
		{"did:web:example.com:user:alice", "https://example.com/user/alice/did.json"},
		{"did:web:example.com%3A3000", "https://example.com:3000/.well-known/did.json"},
		{"did:web:example.com%3a3000:user:alice", "https://example.com:3000/user/alice/did.json"},
		{"did:web:localhost%3A8443", "https://localhost:8443/.well-known/did.json"},
		{"did:web:example.com:a%20b", "https://example.com/a%20b/did.json"},
	}
	for _, tc := range valid {
		t.Run(tc.did, func(t *testing.T) {
			got, err := web.URLFor(tc.did)
			if err != nil || got != tc.url {
				t.Fatalf("URLFor = %q, %v; want %q", got, err, tc.url)
			}
		})
	}
	invalid := []struct{ name, did string }{
		{"not a did", "web:example.com"},
		{"other method", "did:key:z6Mk"},
		{"ipv4", "did:web:127.0.0.1"},
		{"ipv4 with port", "did:web:127.0.0.1%3A8443"},
		{"numeric tld", "did:web:1.2.3"},
		{"empty label", "did:web:example..com"},
		{"leading dash", "did:web:-example.com"},
		{"underscore", "did:web:exa_mple.com"},
		{"bad port", "did:web:example.com%3Ahttp"},
		{"port zero", "did:web:example.com%3A0"},
		{"port too big", "did:web:example.com%3A70000"},
		{"other pct in host", "did:web:example%2Ecom"},
		{"empty path segment", "did:web:example.com::alice"},
		{"dot dot", "did:web:example.com:..:alice"},
		{"encoded dot dot", "did:web:example.com:%2e%2e"},
		{"encoded slash", "did:web:example.com:a%2Fb"},
		{"trailing colon", "did:web:example.com:"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := web.URLFor(tc.did); !errors.Is(err, did.ErrInvalidDID) {
				t.Fatalf("URLFor(%q) error = %v, want ErrInvalidDID", tc.did, err)
			}
		})
	}
}

// MustDocument builds a valid document for id, with relative ids as
// did:web documents often have.
func MustDocument(tb testing.TB, id string) []byte {
	tb.Helper()
	k, err := keys.Generate(keys.Ed25519, bytes.NewReader(make([]byte, 32)))
	if err != nil {
		tb.Fatal(err)
	}
	doc := did.Document{
		Context:            []any{did.ContextV1, did.ContextMultikey},
		ID:                 id,
		VerificationMethod: []did.VerificationMethod{did.NewMultikey("#key-1", id, k.Public())},
		Authentication:     []did.Relationship{did.Ref("#key-1")},
		AssertionMethod:    []did.Relationship{did.Ref(id + "#key-1")},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// NewServer starts a TLS test server and returns a client that sends every
// request, whatever its host, to that server. The test certificate is valid
// for example.com, so DIDs use that name.
func NewServer(t *testing.T, h http.Handler) *http.Client {
	t.Helper()
	ts := httptest.NewTLSServer(h)
	t.Cleanup(ts.Close)
	tr := ts.Client().Transport.(*http.Transport).Clone()
	addr := ts.Listener.Addr().String()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr}
}

func TestResolve(t *testing.T) {
	big := append([]byte(`{"pad":"`), bytes.Repeat([]byte("a"), 70<<10)...)
	big = append(big, `"}`...)
	mux := http.NewServeMux()
	serve := func(path string, body []byte) {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/did+json")
			_, _ = w.Write(body)
		})
	}
	serve("/.well-known/did.json", MustDocument(t, "did:web:example.com"))
	serve("/user/alice/did.json", MustDocument(t, "did:web:example.com:user:alice"))
	serve("/wrong-id/did.json", MustDocument(t, "did:web:example.com:someone-else"))
	serve("/big/did.json", big)
	serve("/not-json/did.json", []byte("<html></html>"))
	serve("/invalid/did.json", []byte(`{"@context":"https://www.w3.org/ns/did/v1","id":"did:web:example.com:invalid","authentication":["#missing"]}`))
	mux.HandleFunc("/chunked-big/did.json", func(w http.ResponseWriter, _ *http.Request) {
		// No Content-Length: the limit applies while reading.
		for range 80 {
			_, _ = w.Write(bytes.Repeat([]byte(" "), 1<<10))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/error/did.json", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	mux.HandleFunc("/gone/did.json", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "gone", http.StatusGone)
	})
	mux.HandleFunc("/moved/did.json", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://example.com/user/alice/did.json", http.StatusFound)
	})
	mux.HandleFunc("/to-http/did.json", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://example.com/user/alice/did.json", http.StatusFound)
	})
	mux.HandleFunc("/loop/did.json", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop/did.json", http.StatusFound)
	})
	// The "moved" document is served under alice's path, so its id is
	// alice's: a redirect does not change which DID a document must name.
	r := &web.Resolver{Client: NewServer(t, mux)}

	ok := []string{"did:web:example.com", "did:web:example.com:user:alice", "did:web:example.com%3A8443:user:alice"}
	for _, d := range ok[:2] {
		t.Run(d, func(t *testing.T) {
			res, err := r.Resolve(t.Context(), d, did.Options{})
			if err != nil {
				t.Fatal(err)
			}
			doc := res.DIDDocument
			if doc.ID != d || res.DIDResolutionMetadata.ContentType != did.MediaTypeDIDLDJSON {
				t.Fatalf("result = %+v", res)
			}
			if err := doc.Validate(); err != nil {
				t.Fatalf("returned document invalid: %v", err)
			}
			if doc.VerificationMethod[0].ID != d+"#key-1" || doc.Authentication[0].Reference != d+"#key-1" {
				t.Fatalf("relative ids not made absolute: %+v", doc)
			}
		})
	}
	t.Run("port", func(t *testing.T) {
		// The port DID names a different document id than the one served.
		_, err := r.Resolve(t.Context(), ok[2], did.Options{})
		if !errors.Is(err, did.ErrInvalidDocument) {
			t.Fatalf("err = %v, want ErrInvalidDocument (id mismatch)", err)
		}
	})

	errs := []struct {
		name, did string
		want      error
	}{
		{"not found", "did:web:example.com:nobody", web.ErrNotRetrieved},
		{"gone", "did:web:example.com:gone", web.ErrNotRetrieved},
		{"wrong id", "did:web:example.com:wrong-id", did.ErrInvalidDocument},
		{"oversize", "did:web:example.com:big", web.ErrNotRetrieved},
		{"oversize without length", "did:web:example.com:chunked-big", web.ErrNotRetrieved},
		{"not json", "did:web:example.com:not-json", web.ErrNotRetrieved},
		{"fails validation", "did:web:example.com:invalid", did.ErrInvalidDocument},
		{"server error", "did:web:example.com:error", web.ErrNotRetrieved},
		{"redirect to http", "did:web:example.com:to-http", web.ErrNotRetrieved},
		{"redirect loop", "did:web:example.com:loop", web.ErrNotRetrieved},
		{"redirect changes document", "did:web:example.com:moved", did.ErrInvalidDocument},
		{"invalid did", "did:web:127.0.0.1", did.ErrInvalidDID},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			res, err := r.Resolve(t.Context(), tc.did, did.Options{})
			if !errors.Is(err, tc.want) || res != nil {
				t.Fatalf("Resolve = %v, %v; want %v", res, err, tc.want)
			}
			if errors.Is(tc.want, web.ErrNotRetrieved) {
				// One answer for every fetch failure: the sentence, the
				// INTERNAL_ERROR type, nothing of the cause.
				if p := did.ProblemFor(err); err.Error() != web.ErrNotRetrieved.Error() || p.Type != did.ProblemInternalError {
					t.Fatalf("Resolve error = %q, problem %+v; want only %q", err, p, web.ErrNotRetrieved)
				}
			}
		})
	}
	t.Run("options", func(t *testing.T) {
		for _, o := range []did.Options{{VersionID: "1"}, {VersionTime: time.Unix(1, 0)}} {
			if _, err := r.Resolve(t.Context(), ok[0], o); !errors.Is(err, did.ErrFeatureNotSupported) {
				t.Fatalf("Resolve(%+v) = %v", o, err)
			}
		}
		if _, err := r.Resolve(t.Context(), ok[0], did.Options{Accept: "text/html"}); !errors.Is(err, did.ErrRepresentationNotSupported) {
			t.Fatal(err)
		}
	})
	t.Run("small MaxBytes", func(t *testing.T) {
		small := &web.Resolver{Client: r.Client, MaxBytes: 10}
		if _, err := small.Resolve(t.Context(), ok[0], did.Options{}); !errors.Is(err, web.ErrNotRetrieved) {
			t.Fatal(err)
		}
	})
	t.Run("dispatch", func(t *testing.T) {
		m := did.Methods{web.Method: r}
		if _, err := m.Resolve(t.Context(), ok[0], did.Options{}); err != nil {
			t.Fatal(err)
		}
	})
}

// stallingServer never answers until the test ends; started receives one
// value per request.
func stallingServer(t *testing.T) (*http.Client, <-chan struct{}) {
	t.Helper()
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	c := NewServer(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release) }) // runs before the server closes
	return c, started
}

func TestTimeout(t *testing.T) {
	c, _ := stallingServer(t)
	r := &web.Resolver{Client: c, Timeout: 50 * time.Millisecond}
	_, err := r.Resolve(t.Context(), "did:web:example.com", did.Options{})
	// The deadline may fire while dialing, where package net reports it
	// as an i/o timeout rather than context.DeadlineExceeded (CI saw it).
	var ne net.Error
	timedOut := errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
	if !errors.Is(err, did.ErrInternal) || !timedOut {
		t.Fatalf("err = %v, want ErrInternal and a timeout", err)
	}
}

func TestContextCancel(t *testing.T) {
	c, started := stallingServer(t)
	r := &web.Resolver{Client: c, Timeout: time.Minute}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := r.Resolve(ctx, "did:web:example.com", did.Options{})
		done <- err
	}()
	<-started
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestPlainHTTPRefused(t *testing.T) {
	// A client that can only reach a plain-HTTP server: the TLS handshake
	// fails, so nothing is read over an unauthenticated channel.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(MustDocument(t, "did:web:example.com"))
	}))
	defer ts.Close()
	addr := ts.Listener.Addr().String()
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}}
	_, err := (&web.Resolver{Client: c}).Resolve(t.Context(), "did:web:example.com", did.Options{})
	if !errors.Is(err, did.ErrInternal) || strings.Contains(err.Error(), "did.json: 200") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzURLFor(f *testing.F) {
	for _, s := range []string{"did:web:example.com", "did:web:example.com%3A80:a:b", "did:web:1.2.3.4", "did:web:a:..", "did:web:a:%2f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, d string) {
		u, err := web.URLFor(d)
		if err != nil {
			if !errors.Is(err, did.ErrInvalidDID) {
				t.Fatalf("error %v does not wrap ErrInvalidDID", err)
			}
			return
		}
		if !strings.HasPrefix(u, "https://") || !strings.HasSuffix(u, "/did.json") || strings.Contains(u, "/../") {
			t.Fatalf("URLFor(%q) = %q", d, u)
		}
	})
}

// TestDefaultClientRefusesNonPublicAddresses checks that a node cannot be
// made to fetch from its own network: the default client refuses to
// connect to loopback even when the server is there.
func TestDefaultClientRefusesNonPublicAddresses(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("the default client reached a loopback server")
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	_, err := (&web.Resolver{}).Resolve(context.Background(), "did:web:localhost%3A"+port, did.Options{})
	if !errors.Is(err, web.ErrNotPublic) || !errors.Is(err, web.ErrNotRetrieved) {
		t.Fatalf("error %v, want a refusal of the non-public address", err)
	}
}

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/node"
)

// clientFlags are the flags of commands that talk to a node (--json is
// global).
type clientFlags struct {
	node, caCert, config string
	timeout              time.Duration
}

func (f *clientFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.node, "node", "http://127.0.0.1:8080", "URL of an idmesh node")
	fs.StringVar(&f.caCert, "ca-cert", "", "trust this PEM certificate for HTTPS (e.g. HOME/tls/cert.pem of idmesh dev --tls)")
	fs.DurationVar(&f.timeout, "timeout", 60*time.Second, "how long to wait for the node, including the commit")
	fs.StringVar(&f.config, "config", "", "JSON file of flag values")
}

// client talks to a node's HTTP API.
type client struct {
	base  string
	http  *http.Client
	token string // bearer token for the issuer and admin endpoints
}

func (f *clientFlags) client() (*client, error) {
	u, err := url.Parse(f.node)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError(fmt.Sprintf("--node %q is not an http(s) URL", f.node))
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if f.caCert != "" {
		pem, err := os.ReadFile(f.caCert)
		if err != nil {
			return nil, fmt.Errorf("--ca-cert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--ca-cert %s: no PEM certificate", f.caCert)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &client{base: strings.TrimRight(f.node, "/"), http: &http.Client{Transport: tr, Timeout: f.timeout + 5*time.Second}}, nil
}

func (c *client) do(ctx context.Context, method, path string, body []byte, accept string, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("reach node: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("read response: %w", err)
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		var p api.Problem
		if err := json.Unmarshal(b, &p); err == nil {
			if p.Status == 0 {
				p.Status = resp.StatusCode
			}
			return resp.StatusCode, &problemError{p}
		}
	}
	// A gateway's error page is not the node's answer; other error
	// answers are read if they decode (a resolution or verification
	// result), and are the HTTP status's problem if not.
	code := resp.StatusCode
	if code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout {
		return code, httpError(code)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			if code >= 400 {
				return code, httpError(code)
			}
			return code, fmt.Errorf("decode response (HTTP %d): %w", code, err)
		}
	} else if code >= 400 {
		return code, httpError(code)
	}
	return resp.StatusCode, nil
}

// resolve returns the resolution result of d (a deactivated DID is not
// an error here: the caller reads the metadata).
func (c *client) resolve(ctx context.Context, d string, q url.Values) (*did.ResolutionResult, error) {
	var res did.ResolutionResult
	path := "/1.0/identifiers/" + url.PathEscape(d)
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	code, err := c.do(ctx, http.MethodGet, path, nil, did.MediaTypeDIDResolution, &res)
	if err != nil {
		return nil, err
	}
	if e := res.DIDResolutionMetadata.Error; e != nil {
		// The resolver's error is a problem (DID Resolution section 12.1).
		return &res, fmt.Errorf("resolve %s: %w", d, &problemError{api.Problem{Type: e.Type, Title: e.Title, Status: code, Detail: firstNonEmpty(e.Detail, e.Title, e.Type)}})
	}
	if code != http.StatusOK && code != http.StatusGone {
		return &res, fmt.Errorf("resolve %s: %w", d, httpError(code))
	}
	return &res, nil
}

// dereferenceResult is a DID URL dereferencing result with its content
// left encoded: a verification method, a service, a document or a URL.
type dereferenceResult struct {
	Context               any                       `json:"@context,omitempty"`
	DereferencingMetadata did.DereferencingMetadata `json:"dereferencingMetadata"`
	ContentStream         json.RawMessage           `json:"contentStream"`
	ContentMetadata       did.DocumentMetadata      `json:"contentMetadata"`
}

// dereference returns the dereferencing result of the DID URL u, sent
// percent-encoded as a whole, with q (DID parameters and options) as the
// request's query. A deactivated DID is not an error here: the caller
// reads the metadata.
func (c *client) dereference(ctx context.Context, u string, q url.Values) (*dereferenceResult, error) {
	var res dereferenceResult
	path := "/1.0/identifiers/did%3A" + url.PathEscape(strings.TrimPrefix(u, "did:"))
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	code, err := c.do(ctx, http.MethodGet, path, nil, did.MediaTypeDIDURLDereferencing, &res)
	if err != nil {
		return nil, err
	}
	if e := res.DereferencingMetadata.Error; e != nil {
		return &res, fmt.Errorf("dereference %s: %w", u, &problemError{api.Problem{Type: e.Type, Title: e.Title, Status: code, Detail: firstNonEmpty(e.Detail, e.Title, e.Type)}})
	}
	if code != http.StatusOK && code != http.StatusGone {
		return &res, fmt.Errorf("dereference %s: %w", u, httpError(code))
	}
	return &res, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// submit sends a signed operation and waits until it is committed.
func (c *client) submit(ctx context.Context, op *idmesh.Operation, timeout time.Duration) (*api.SubmitResponse, error) {
	body, err := op.Encode()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	wait := min(timeout, 30*time.Second)
	var resp api.SubmitResponse
	if _, err := c.do(ctx, http.MethodPost, "/v1/operations?wait="+wait.String(), body, "", &resp); err != nil {
		return nil, err
	}
	for resp.Status == node.TxPending {
		var st node.TxStatus
		if _, err := c.do(ctx, http.MethodGet, "/v1/operations/"+resp.Hash.String()+"?wait="+wait.String(), nil, "", &st); err != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, timedOut{fmt.Errorf("operation %s still pending after %s", resp.Hash, timeout)}
			}
			return nil, err
		}
		if st.Status == node.TxRejected {
			return nil, fmt.Errorf("operation %s rejected: %s", resp.Hash, st.Reason)
		}
		resp.Status, resp.Height = st.Status, st.Height
	}
	return &resp, nil
}

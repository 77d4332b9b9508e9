package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/idmesh/idmesh/did"
)

// Method is the DID method name.
const Method = "web"

// Defaults of [Resolver].
const (
	// DefaultMaxBytes bounds the size of a fetched document.
	DefaultMaxBytes = 64 << 10
	// DefaultTimeout bounds one resolution, redirects included.
	DefaultTimeout = 5 * time.Second
	// MaxRedirects is the number of redirects a resolution follows.
	MaxRedirects = 3
)

// URLFor returns the HTTPS URL of the document of the did:web d. Errors
// wrap did.ErrInvalidDID.
func URLFor(d string) (string, error) {
	p, err := did.Parse(d)
	if err != nil {
		return "", fmt.Errorf("did:web: %w", err)
	}
	if p.Method != Method {
		return "", fmt.Errorf("did:web: %w: method %q is not %q", did.ErrInvalidDID, p.Method, Method)
	}
	segs := strings.Split(p.ID, ":")
	host, err := parseHost(segs[0])
	if err != nil {
		return "", fmt.Errorf("did:web %s: %w: %w", d, did.ErrInvalidDID, err)
	}
	path := "/.well-known"
	if len(segs) > 1 {
		path = ""
		for _, s := range segs[1:] {
			dec, err := url.PathUnescape(s)
			if err != nil || s == "" || dec == "." || dec == ".." || strings.ContainsAny(dec, "/\\") {
				return "", fmt.Errorf("did:web %s: %w: bad path segment %q", d, did.ErrInvalidDID, s)
			}
			path += "/" + s
		}
	}
	return "https://" + host + path + "/did.json", nil
}

// parseHost decodes and checks the host[%3Aport] segment.
func parseHost(seg string) (string, error) {
	hostport := strings.ReplaceAll(strings.ReplaceAll(seg, "%3A", ":"), "%3a", ":")
	if strings.Contains(hostport, "%") {
		return "", errors.New("host contains pct-encoding other than %3A")
	}
	host, port, hasPort := strings.Cut(hostport, ":")
	if hasPort {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return "", fmt.Errorf("bad port %q", port)
		}
	}
	if net.ParseIP(host) != nil {
		return "", fmt.Errorf("host %q is an IP address", host)
	}
	if len(host) == 0 || len(host) > 253 {
		return "", fmt.Errorf("bad host length %d", len(host))
	}
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("bad host label %q", l)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' {
				return "", fmt.Errorf("bad host label %q", l)
			}
		}
	}
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return "", fmt.Errorf("host %q ends in a numeric label", host)
	}
	return hostport, nil
}

// Resolver resolves did:web DIDs over HTTPS. The zero value is ready to
// use; it is safe for concurrent use if Client is.
type Resolver struct {
	// Client makes the requests; nil means a client that connects only to
	// public addresses, so that nobody can make a node fetch from its own
	// network (loopback, private, link-local and other special ranges are
	// refused after DNS resolution). Its CheckRedirect is replaced (on a
	// copy) by the redirect policy of this package.
	Client *http.Client
	// MaxBytes bounds the document size; 0 means DefaultMaxBytes.
	MaxBytes int64
	// Timeout bounds one resolution; 0 means DefaultTimeout.
	Timeout time.Duration
}

var _ did.Resolver = (*Resolver)(nil)

var errRedirect = errors.New("redirect refused")

// Resolve implements did.Resolver. Errors: did.ErrInvalidDID for a bad
// DID; did.ErrNotFound for HTTP 404 and 410; did.ErrInvalidDocument for a
// body over MaxBytes, one that is not a DID document, whose id is not the
// DID, or that fails validation; did.ErrFeatureNotSupported for versionId
// and versionTime options; did.ErrInternal, together with the cause, for
// transport failures, timeouts, refused redirects and other statuses.
func (r *Resolver) Resolve(ctx context.Context, d string, opts did.Options) (*did.ResolutionResult, error) {
	ct, err := did.NegotiateContentType(opts.Accept)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", d, err)
	}
	if opts.VersionID != "" || !opts.VersionTime.IsZero() {
		return nil, fmt.Errorf("resolve %s: %w: did:web has no versions", d, did.ErrFeatureNotSupported)
	}
	u, err := URLFor(d)
	if err != nil {
		return nil, fmt.Errorf("resolve: %w", err)
	}
	body, err := r.fetch(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", d, err)
	}
	var doc did.Document
	if err := json.Unmarshal(body, &doc); err != nil {
		if errors.Is(err, did.ErrInvalidDocument) {
			return nil, fmt.Errorf("resolve %s: %w", d, err)
		}
		return nil, fmt.Errorf("resolve %s: %w: %w", d, did.ErrInvalidDocument, err)
	}
	if doc.ID != d {
		return nil, fmt.Errorf("resolve %s: %w: document id %.80q is not the DID", d, did.ErrInvalidDocument, doc.ID)
	}
	abs, err := doc.WithID(d)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w: %w", d, did.ErrInternal, err)
	}
	if err := abs.Validate(); err != nil {
		return nil, fmt.Errorf("resolve %s: %w", d, err)
	}
	return &did.ResolutionResult{
		DIDDocument:           abs,
		DIDResolutionMetadata: did.ResolutionMetadata{ContentType: ct},
	}, nil
}

// fetch GETs u and returns the body.
func (r *Resolver) fetch(ctx context.Context, u string) ([]byte, error) {
	timeout, maxBytes := r.Timeout, r.MaxBytes
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	c := http.Client{Transport: publicTransport}
	if r.Client != nil {
		c = *r.Client
	}
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > MaxRedirects {
			return fmt.Errorf("%w: more than %d redirects", errRedirect, MaxRedirects)
		}
		if req.URL.Scheme != "https" {
			return fmt.Errorf("%w: redirect to %s URL", errRedirect, req.URL.Scheme)
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", did.ErrInternal, err)
	}
	req.Header.Set("Accept", did.MediaTypeDIDLDJSON+", "+did.MediaTypeDIDJSON+", application/json;q=0.9")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: get %s: %w", did.ErrInternal, u, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, fmt.Errorf("%w: get %s: %s", did.ErrNotFound, u, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: get %s: unexpected status %s", did.ErrInternal, u, resp.Status)
	}
	if resp.ContentLength > maxBytes {
		return nil, fmt.Errorf("%w: get %s: body of %d bytes exceeds %d", did.ErrInvalidDocument, u, resp.ContentLength, maxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", did.ErrInternal, u, err)
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("%w: get %s: body exceeds %d bytes", did.ErrInvalidDocument, u, maxBytes)
	}
	return body, nil
}

// errNotPublic reports a connection to an address that is not public.
var errNotPublic = errors.New("refusing to connect to a non-public address")

// publicTransport dials only public unicast addresses, checked on the
// resolved IP at connect time (so DNS cannot point it inward).
var publicTransport = func() *http.Transport {
	d := &net.Dialer{Timeout: DefaultTimeout, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !isPublic(ip.Unmap()) {
			return fmt.Errorf("%w: %s", errNotPublic, host)
		}
		return nil
	}}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = d.DialContext
	return t
}()

// special are ranges that are not public destinations (RFC 6890 and
// friends) beyond what netip's predicates cover.
var special = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"), // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64, could reach IPv4 inside
}

func isPublic(ip netip.Addr) bool {
	if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
		return false
	}
	for _, p := range special {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

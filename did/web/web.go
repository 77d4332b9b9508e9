package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
	// Log receives the detail of every failed fetch (host, address,
	// status, transport error), which the error returned to the caller
	// leaves out; nil discards it.
	Log *slog.Logger
}

var _ did.Resolver = (*Resolver)(nil)

var errRedirect = errors.New("redirect refused")

// ErrNotRetrieved is wrapped, together with did.ErrInternal and the cause,
// by every failure to obtain a document: DNS, connection, a non-public
// address, TLS, timeout, HTTP status, redirect, size or a body that is not
// a DID document in JSON. Its message is the whole message of such an
// error, so that nothing of the network the node sees (names, addresses,
// ports, transport errors) reaches whoever asked; the detail is logged.
var ErrNotRetrieved = errors.New("did:web document could not be retrieved")

// ErrNotPublic is the cause of a fetch refused because the address it
// would connect to is not public.
var ErrNotPublic = errors.New("refusing to connect to a non-public address")

// retrievalError hides its cause from Error but not from errors.Is/As.
type retrievalError struct{ cause error }

func (e *retrievalError) Error() string   { return ErrNotRetrieved.Error() }
func (e *retrievalError) Unwrap() []error { return []error{ErrNotRetrieved, did.ErrInternal, e.cause} }

// notRetrieved logs the detail of a failed fetch and returns the generic
// error.
func (r *Resolver) notRetrieved(ctx context.Context, d string, cause error) error {
	if r.Log != nil {
		r.Log.LogAttrs(ctx, slog.LevelInfo, "did:web document not retrieved", slog.String("did", d), slog.String("err", cause.Error()))
	}
	return &retrievalError{cause: cause}
}

// Resolve implements did.Resolver. Errors: did.ErrInvalidDID for a bad
// DID; did.ErrFeatureNotSupported for versionId and versionTime options;
// ErrNotRetrieved and did.ErrInternal, together with the cause (for
// errors.Is), for every failure to obtain a document in JSON (see
// ErrNotRetrieved: the message says no more, the detail goes to Log);
// did.ErrInvalidDocument for a document whose id is not the DID or that
// fails validation.
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
		return nil, r.notRetrieved(ctx, d, err)
	}
	var doc did.Document
	if err := json.Unmarshal(body, &doc); err != nil {
		// %v: the cause must not carry did.ErrInvalidDocument, which would
		// make errors.Is report an invalid document rather than no document.
		return nil, r.notRetrieved(ctx, d, fmt.Errorf("decode %s: not a DID document: %v", u, err)) //nolint:errorlint // on purpose, see above
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

// fetch GETs u and returns the body. Its errors wrap none of package
// did's sentinels: the caller classifies them all as ErrNotRetrieved.
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
		return nil, fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Accept", did.MediaTypeDIDLDJSON+", "+did.MediaTypeDIDJSON+", application/json;q=0.9")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: unexpected status %s", u, resp.Status)
	}
	if resp.ContentLength > maxBytes {
		return nil, fmt.Errorf("get %s: body of %d bytes exceeds %d", u, resp.ContentLength, maxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", u, err)
	}
	if int64(len(body)) > maxBytes {
		return nil, fmt.Errorf("get %s: body exceeds %d bytes", u, maxBytes)
	}
	return body, nil
}

// publicTransport dials only public addresses. The check runs in the
// dialer's Control hook, on the IP address of each connect(2) after DNS
// resolution, so no lookup can differ from what is checked: a name that
// resolves (or re-resolves, DNS rebinding) to an inner address is refused,
// and so is every address of a happy-eyeballs race. No proxy is used.
var publicTransport = func() *http.Transport {
	d := &net.Dialer{Timeout: DefaultTimeout, Control: checkPublic}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = d.DialContext
	return t
}()

// CheckPublic is a net.Dialer Control hook that refuses non-public
// addresses (those a did:web fetch never connects to), for other clients
// of arbitrary URLs to hold to the same policy.
func CheckPublic(network, address string, c syscall.RawConn) error {
	return checkPublic(network, address, c)
}

// checkPublic is a net.Dialer Control hook that refuses non-public
// addresses.
func checkPublic(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotPublic, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !isPublic(ip) {
		return fmt.Errorf("%w: %s", ErrNotPublic, host)
	}
	return nil
}

// nonPublic lists the destinations a did:web fetch never connects to:
// every entry of the IANA IPv4 and IPv6 Special-Purpose Address Registries
// that is not globally reachable or that reaches into another network
// (translation, tunnels), plus the deprecated site-local and
// IPv4-compatible IPv6 ranges. IPv4-mapped IPv6 addresses are classified
// by the IPv4 address they carry.
var nonPublic = []netip.Prefix{
	// IPv4 (RFC 6890, IANA ipv4-address-space and special registries).
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (TEST-NET-1)
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast (deprecated)
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation (TEST-NET-3)
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255 broadcast
	// IPv6 (RFC 6890, IANA ipv6-address-space and special registries).
	netip.MustParsePrefix("::/96"),           // unspecified, loopback, IPv4-compatible (deprecated)
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (SIIT)
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64 well-known prefix
	netip.MustParsePrefix("64:ff9b:1::/48"),  // NAT64 local-use
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments, Teredo 2001::/32 among them
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4
	netip.MustParsePrefix("3fff::/20"),       // documentation
	netip.MustParsePrefix("5f00::/16"),       // SRv6 SIDs
	netip.MustParsePrefix("fc00::/7"),        // unique local
	netip.MustParsePrefix("fe80::/10"),       // link-local
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("ff00::/8"),        // multicast
}

// globalIPv6 is the only IPv6 range IANA allocates for global unicast.
var globalIPv6 = netip.MustParsePrefix("2000::/3")

// isPublic reports whether a did:web fetch may connect to ip: a global
// unicast address outside every range of nonPublic. An IPv4-mapped IPv6
// address (::ffff:a.b.c.d) is judged by its IPv4 address; an IPv6 address
// must lie in 2000::/3.
func isPublic(ip netip.Addr) bool {
	ip = ip.WithZone("")
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if !ip.IsValid() || ip.Is6() && !globalIPv6.Contains(ip) {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

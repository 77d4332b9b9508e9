package wallet

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/idmesh/idmesh/did/web"
)

// maxQuoted bounds the bytes of an untrusted value that an error quotes.
const maxQuoted = 128

// quote returns s for an error message: at most maxQuoted bytes of it
// (cut on a character boundary, "..." marking the cut), Go-quoted, so
// that no control or format character of a verifier's data reaches a
// terminal.
func quote(s string) string {
	if len(s) > maxQuoted {
		cut := maxQuoted
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "..."
	}
	return strconv.Quote(s)
}

// quoteAny is quote for a JSON value of a request object: strings as
// they are, anything else as fmt prints it, then quoted and bounded.
func quoteAny(v any) string {
	if s, ok := v.(string); ok {
		return quote(s)
	}
	return quote(fmt.Sprint(v))
}

// isLoopbackHost reports whether h (a URL's Hostname) is a loopback
// address literal or localhost.
func isLoopbackHost(h string) bool {
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().IsLoopback()
	}
	return strings.EqualFold(h, "localhost")
}

// checkVerifierURL applies the wallet's policy for the URLs of a
// verifier (request_uri, response_uri) on top of CheckURL: a host that
// is an address literal must be a public address, or a loopback one
// when fromLoopback (the request came from a loopback request_uri); the
// unspecified addresses (0.0.0.0, ::), private, link-local and other
// special-purpose addresses are refused. Host names are checked where
// they are resolved, at connect time (see verifierDialPolicy).
func checkVerifierURL(raw string, fromLoopback bool) error {
	if err := CheckURL(raw); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInsecureURL, quote(raw), err)
	}
	h := u.Hostname()
	if isLoopbackHost(h) {
		if !fromLoopback {
			return fmt.Errorf("%w: %s is on a loopback host, and the request did not come from loopback", ErrInsecureURL, quote(raw))
		}
		return nil
	}
	if a, err := netip.ParseAddr(h); err == nil && web.CheckPublic("tcp", net.JoinHostPort(a.String(), "443"), nil) != nil {
		return fmt.Errorf("%w: %s is not a public address (unspecified, private, link-local and other special addresses are refused)", ErrInsecureURL, quote(raw))
	}
	return nil
}

// verifierDialPolicy is a net.Dialer Control hook that enforces
// checkVerifierURL's rule on the address actually dialled, whatever
// name resolved to it: loopback only when fromLoopback, otherwise
// public addresses only (did/web's CheckPublic).
func verifierDialPolicy(fromLoopback bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, c syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("%w: dial %s: %w", ErrInsecureURL, quote(address), err)
		}
		if a, err := netip.ParseAddr(host); err == nil && a.Unmap().IsLoopback() {
			if fromLoopback {
				return nil
			}
			return fmt.Errorf("%w: the verifier's host resolved to the loopback address %s, and the request did not come from loopback", ErrInsecureURL, host)
		}
		if err := web.CheckPublic(network, address, c); err != nil {
			return fmt.Errorf("%w: the verifier's host resolved to %s, not a public address", ErrInsecureURL, quote(host))
		}
		return nil
	}
}

// guardTransport makes hc's transport check every address it connects
// to with verifierDialPolicy, and use no proxy (the policy is about the
// verifier's address, not a proxy's). A client whose transport is not
// an *http.Transport keeps it: its owner is trusted with the policy,
// and checkVerifierURL still applies to the URLs.
func guardTransport(hc *httpClient, fromLoopback bool) {
	var tr *http.Transport
	switch t := hc.c.Transport.(type) {
	case nil:
		tr = http.DefaultTransport.(*http.Transport).Clone()
	case *http.Transport:
		tr = t.Clone()
	default:
		return
	}
	check := verifierDialPolicy(fromLoopback)
	tr.Proxy = nil
	if tr.DialContext == nil {
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: check}
		tr.DialContext = d.DialContext
	} else {
		tr.DialContext = checkedDial(tr.DialContext, check)
	}
	if tr.DialTLSContext != nil {
		tr.DialTLSContext = checkedDial(tr.DialTLSContext, check)
	}
	hc.c.Transport = tr
}

// checkedDial wraps a dial function the wallet cannot give a Control
// hook: the connection's remote address is checked before anything is
// sent on it.
func checkedDial(dial func(ctx context.Context, network, addr string) (net.Conn, error), check func(network, address string, c syscall.RawConn) error) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		if err := check(network, c.RemoteAddr().String(), nil); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
}

// maxErrorBytes bounds the text of an error from another package that
// may carry a verifier's data.
const maxErrorBytes = 512

// boundedError is an error whose text is cut at maxErrorBytes and
// stripped of control and format characters; it unwraps to the error.
type boundedError struct{ err error }

func (e boundedError) Error() string { return clean(e.err.Error()) }

// clean returns s without control and format characters, cut at
// maxErrorBytes ("..." marking the cut): text of a verifier or a
// credential put in an error without quotes.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) || r == utf8.RuneError || !printable(string(r)) {
			return -1
		}
		return r
	}, s)
	if len(s) > maxErrorBytes {
		cut := maxErrorBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

func (e boundedError) Unwrap() error { return e.err }

// bounded wraps err so that its text is bounded and printable (nil
// stays nil).
func bounded(err error) error {
	if err == nil {
		return nil
	}
	return boundedError{err}
}

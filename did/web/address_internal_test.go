package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// TestIsPublic covers every range the did:web client must not connect to:
// the IANA IPv4 and IPv6 special-purpose registries, the translation and
// tunnel prefixes that embed an IPv4 address, and the deprecated ranges.
func TestIsPublic(t *testing.T) {
	tests := []struct {
		addr   string
		public bool
	}{
		// Public.
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"93.184.215.14", true},
		{"2606:4700:4700::1111", true},
		{"2a00:1450:4001:80b::200e", true},
		{"::ffff:8.8.8.8", true}, // IPv4-mapped: judged by 8.8.8.8
		// IPv4 special-purpose registry.
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"10.0.0.1", false},
		{"10.255.255.255", false},
		{"100.64.0.1", false},
		{"100.127.255.254", false},
		{"127.0.0.1", false},
		{"127.255.0.1", false},
		{"169.254.169.254", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.0.0.1", false},
		{"192.0.0.170", false},
		{"192.0.2.1", false},
		{"192.88.99.1", false},
		{"192.168.1.1", false},
		{"198.18.0.1", false},
		{"198.19.255.255", false},
		{"198.51.100.7", false},
		{"203.0.113.9", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"240.0.0.1", false},
		{"255.255.255.255", false},
		// Just outside the ranges: public.
		{"100.63.255.255", true},
		{"100.128.0.0", true},
		{"172.15.255.255", true},
		{"172.32.0.0", true},
		{"198.17.255.255", true},
		{"198.20.0.0", true},
		// IPv6 special-purpose registry.
		{"::", false},
		{"::1", false},
		{"::ffff:10.0.0.1", false},  // IPv4-mapped private
		{"::ffff:127.0.0.1", false}, // IPv4-mapped loopback
		{"::ffff:169.254.169.254", false},
		{"::ffff:0:a00:1", false},   // IPv4-translated (SIIT) 10.0.0.1
		{"::ffff:0:808:808", false}, // IPv4-translated, even of a public address
		{"::10.0.0.1", false},       // IPv4-compatible (deprecated)
		{"::8.8.8.8", false},        // IPv4-compatible, even of a public address
		{"64:ff9b::a00:1", false},   // NAT64 of 10.0.0.1
		{"64:ff9b::808:808", false}, // NAT64 of 8.8.8.8: the translator decides, not us
		{"64:ff9b:1::a00:1", false}, // NAT64 local-use
		{"100::1", false},           // discard-only
		{"2001::1", false},          // Teredo
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false},
		{"2001:2::1", false},         // benchmarking, within 2001::/23
		{"2001:10::1", false},        // ORCHID, within 2001::/23
		{"2001:1ff:ffff::1", false},  // end of 2001::/23
		{"2001:db8::1", false},       // documentation
		{"2002:a00:1::1", false},     // 6to4 of 10.0.0.1
		{"2002:808:808::1", false},   // 6to4, even of a public address
		{"3fff::1", false},           // documentation (RFC 9637)
		{"5f00::1", false},           // SRv6 SIDs
		{"fc00::1", false},           // unique local
		{"fd12:3456:789a::1", false}, // unique local
		{"fe80::1", false},           // link-local
		{"fe80::1%eth0", false},      // link-local with a zone
		{"fec0::1", false},           // site-local (deprecated)
		{"ff02::1", false},           // multicast
		{"ff0e::1", false},           // global multicast
		{"4000::1", false},           // outside 2000::/3: not allocated for unicast
		{"2001:200::1", true},        // just past 2001::/23
	}
	for _, tc := range tests {
		ip := netip.MustParseAddr(tc.addr)
		if got := isPublic(ip); got != tc.public {
			t.Errorf("isPublic(%s) = %v, want %v", tc.addr, got, tc.public)
		}
		// The dial-time hook agrees, on the form the dialer passes it.
		err := checkPublic("tcp", net.JoinHostPort(ip.String(), "443"), nil)
		if (err == nil) != tc.public || err != nil && !errors.Is(err, ErrNotPublic) {
			t.Errorf("checkPublic(%s) = %v", tc.addr, err)
		}
	}
}

// TestNonPublicCheckedAtDial checks where the address policy applies: on
// the address a connection is about to use, after DNS resolution, in the
// transport's dialer. A name that resolves to loopback is refused without
// a connection, and since the check sees the very address connect(2) gets,
// no second lookup (DNS rebinding) can slip past it.
func TestNonPublicCheckedAtDial(t *testing.T) {
	reached := make(chan struct{}, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached <- struct{}{} }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	for _, host := range []string{"localhost", "127.0.0.1", "[::1]", "[::ffff:127.0.0.1]"} {
		ctx, cancel := context.WithCancel(t.Context())
		conn, err := publicTransport.DialContext(ctx, "tcp", host+":"+port)
		cancel()
		if err == nil {
			conn.Close()
			t.Fatalf("dial %s: connected to a loopback server", host)
		}
		if !errors.Is(err, ErrNotPublic) {
			t.Fatalf("dial %s: %v, want ErrNotPublic", host, err)
		}
	}
	select {
	case <-reached:
		t.Fatal("the loopback server was reached")
	default:
	}
}

package api

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

// TestRateLimiter drives the token buckets with a fake clock.
func TestRateLimiter(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	a, b, c := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2"), netip.MustParseAddr("192.0.2.3")
	type step struct {
		at     time.Duration // since t0
		client netip.Addr
		ok     bool
		retry  int
		size   int // clients in the table after the step
	}
	tests := []struct {
		name        string
		rate, burst float64
		maxClients  int
		steps       []step
	}{
		{"burst then refill", 2, 3, 10, []step{
			{0, a, true, 0, 1}, {0, a, true, 0, 1}, {0, a, true, 0, 1},
			{0, a, false, 1, 1}, // empty: one token in 0.5 s, rounded up
			{0, b, true, 0, 2},  // another client has its own bucket
			{500 * time.Millisecond, a, true, 0, 2},
			{500 * time.Millisecond, a, false, 1, 2},
		}},
		{"slow rate: Retry-After in whole seconds", 0.1, 1, 10, []step{
			{0, a, true, 0, 1}, {0, a, false, 10, 1}, {5 * time.Second, a, false, 5, 1}, {10 * time.Second, a, true, 0, 1},
		}},
		{"full table: idle clients swept, then the overflow bucket", 1, 2, 2, []step{
			{0, a, true, 0, 1}, {0, b, true, 0, 2},
			{0, c, true, 0, 2}, {0, c, true, 0, 2}, {0, c, false, 1, 2}, // c shares the overflow bucket
			{3 * time.Second, c, true, 0, 1}, // a and b are full again: swept, c gets its entry
		}},
		{"periodic sweep", 1, 1, 10, []step{
			{0, a, true, 0, 1}, {0, b, true, 0, 2},
			{sweepEvery, c, true, 0, 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rl := newRateLimiter(tt.rate, tt.burst, tt.maxClients)
			for i, s := range tt.steps {
				ok, retry := rl.allow(s.client, t0.Add(s.at))
				if ok != s.ok || retry != s.retry || rl.size() != s.size {
					t.Fatalf("step %d: allow = %v, %d with %d clients; want %v, %d with %d", i, ok, retry, rl.size(), s.ok, s.retry, s.size)
				}
			}
		})
	}
}

// TestRateLimiterBounded: a million clients leave at most maxClients
// entries.
func TestRateLimiterBounded(t *testing.T) {
	rl := newRateLimiter(1, 1, 1000)
	t0 := time.Unix(1_700_000_000, 0)
	for i := range 1_000_000 {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		rl.allow(a, t0.Add(time.Duration(i)*time.Microsecond))
		if rl.size() > 1000 {
			t.Fatalf("%d clients after %d", rl.size(), i)
		}
	}
}

// TestClientKey: the peer's address, X-Forwarded-For only from a trusted
// proxy, IPv6 by /64.
func TestClientKey(t *testing.T) {
	l := &verifyLimits{proxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	tests := []struct{ remote, xff, want string }{
		{"192.0.2.1:1234", "", "192.0.2.1"},
		{"192.0.2.1:1234", "198.51.100.7", "192.0.2.1"}, // not a trusted proxy
		{"10.0.0.1:1234", "198.51.100.7", "198.51.100.7"},
		{"10.0.0.1:1234", "203.0.113.9, 198.51.100.7, 10.0.0.2", "198.51.100.7"},
		{"10.0.0.1:1234", "garbage", "10.0.0.1"},
		{"[2001:db8:1:2:3:4:5:6]:1234", "", "2001:db8:1:2::"},
		{"[::ffff:192.0.2.1]:1234", "", "192.0.2.1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("POST", "/credentials/verify", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := l.client(r); got != netip.MustParseAddr(tt.want) {
			t.Errorf("%s %q: %v, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}

// TestChallengeClient: challenges count against an IPv6 client's /48 (a
// site's many /64s share one part of the store), an IPv4 client's
// address.
func TestChallengeClient(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":           "192.0.2.7",
		"2001:db8:1:2:3::4":   "2001:db8:1::",
		"2001:db8:1:ffff::1":  "2001:db8:1::",
		"2001:db8:2::1":       "2001:db8:2::",
		"::ffff:198.51.100.1": "198.51.100.1",
	} {
		if got := challengeClient(netip.MustParseAddr(in)).String(); got != want {
			t.Errorf("challengeClient(%s) = %s, want %s", in, got, want)
		}
	}
}

package node_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
)

// payloadTx returns a transaction whose payload is s.
func payloadTx(s string) registry.Tx {
	return registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(s)}
}

// mustAdd adds t to m under its hash.
func mustAdd(tb testing.TB, m *node.Mempool, t registry.Tx) registry.Hash {
	tb.Helper()
	h := t.Hash()
	if err := m.Add(h, t); err != nil {
		tb.Fatalf("add %q: %v", t.Payload, err)
	}
	return h
}

func payloads(txs []registry.Tx) []string {
	out := make([]string, len(txs))
	for i, t := range txs {
		out[i] = string(t.Payload)
	}
	return out
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

func TestMempoolAddBounds(t *testing.T) {
	tests := []struct {
		name     string
		maxTxs   int
		maxBytes int
		add      []string
		wantErr  []error // one per add
		wantLen  int
	}{
		{
			name: "within bounds", maxTxs: 3, maxBytes: 100,
			add:     []string{"a", "b", "c"},
			wantErr: []error{nil, nil, nil}, wantLen: 3,
		},
		{
			name: "count bound", maxTxs: 2, maxBytes: 100,
			add:     []string{"a", "b", "c"},
			wantErr: []error{nil, nil, node.ErrMempoolFull}, wantLen: 2,
		},
		{
			name: "byte bound exactly reached", maxTxs: 10, maxBytes: 6,
			add:     []string{"aaa", "bbb", "c"},
			wantErr: []error{nil, nil, node.ErrMempoolFull}, wantLen: 2,
		},
		{
			name: "byte bound leaves room for a smaller tx", maxTxs: 10, maxBytes: 6,
			add:     []string{"aaaa", "bbb", "cc"},
			wantErr: []error{nil, node.ErrMempoolFull, nil}, wantLen: 2,
		},
		{
			name: "single tx larger than the bound", maxTxs: 10, maxBytes: 2,
			add:     []string{"aaa"},
			wantErr: []error{node.ErrMempoolFull}, wantLen: 0,
		},
		{
			name: "duplicate", maxTxs: 10, maxBytes: 100,
			add:     []string{"a", "a"},
			wantErr: []error{nil, node.ErrDuplicate}, wantLen: 1,
		},
		{
			name: "duplicate of a pending tx when full is a duplicate", maxTxs: 1, maxBytes: 100,
			add:     []string{"a", "a"},
			wantErr: []error{nil, node.ErrDuplicate}, wantLen: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := node.NewMempool(tt.maxTxs, tt.maxBytes)
			for i, s := range tt.add {
				tx := payloadTx(s)
				err := m.Add(tx.Hash(), tx)
				if !errors.Is(err, tt.wantErr[i]) || (tt.wantErr[i] == nil) != (err == nil) {
					t.Fatalf("add %d (%q): err = %v, want %v", i, s, err, tt.wantErr[i])
				}
			}
			if got := m.Len(); got != tt.wantLen {
				t.Fatalf("Len = %d, want %d", got, tt.wantLen)
			}
		})
	}
}

func TestMempoolRemoveFreesRoom(t *testing.T) {
	m := node.NewMempool(2, 6)
	a := mustAdd(t, m, payloadTx("aaa"))
	mustAdd(t, m, payloadTx("bbb"))
	if err := m.Add(payloadTx("c").Hash(), payloadTx("c")); !errors.Is(err, node.ErrMempoolFull) {
		t.Fatalf("err = %v, want ErrMempoolFull", err)
	}
	m.Remove([]registry.Hash{a}, nil)
	mustAdd(t, m, payloadTx("ccc"))
	if err := m.Add(payloadTx("d").Hash(), payloadTx("d")); !errors.Is(err, node.ErrMempoolFull) {
		t.Fatalf("err = %v, want ErrMempoolFull", err)
	}
	// Bytes of a removed tx are released too: drop everything, then fill
	// the byte bound in one tx.
	m.Remove([]registry.Hash{payloadTx("bbb").Hash(), payloadTx("ccc").Hash()}, nil)
	if m.Len() != 0 {
		t.Fatalf("Len = %d after removing everything", m.Len())
	}
	mustAdd(t, m, payloadTx("eeeeee"))
}

func TestMempoolReapArrivalOrder(t *testing.T) {
	m := node.NewMempool(100, 1000)
	var hs []registry.Hash
	for _, s := range []string{"z", "a", "m", "b", "y"} {
		hs = append(hs, mustAdd(t, m, payloadTx(s)))
	}
	tests := []struct {
		max  int
		want string
	}{
		{0, ""},
		{1, "z"},
		{3, "z a m"},
		{5, "z a m b y"},
		{50, "z a m b y"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			if got := strings.Join(payloads(m.Reap(tt.max, math.MaxInt)), " "); got != tt.want {
				t.Fatalf("Reap(%d) = %q, want %q", tt.max, got, tt.want)
			}
		})
	}
	if m.Len() != 5 {
		t.Fatal("Reap removed transactions")
	}
	// Removing from the middle keeps the order of the rest, and new
	// arrivals go last.
	m.Remove([]registry.Hash{hs[1]}, map[registry.Hash]error{hs[3]: errors.New("bad")})
	mustAdd(t, m, payloadTx("a"))
	if got := strings.Join(payloads(m.Reap(10, math.MaxInt)), " "); got != "z m y a" {
		t.Fatalf("after remove and re-add: %q, want %q", got, "z m y a")
	}
}

// TestMempoolReapBytes: Reap keeps arrival order within a byte budget,
// skipping what does not fit (it stays pending) for smaller ones after.
func TestMempoolReapBytes(t *testing.T) {
	m := node.NewMempool(100, 1<<20)
	// Block sizes: a 5, bbb 7, c 5, 300 x's 306, dd 6.
	for _, s := range []string{"a", "bbb", "c", strings.Repeat("x", 300), "dd"} {
		mustAdd(t, m, payloadTx(s))
	}
	big := strings.Repeat("x", 300)
	tests := []struct {
		name           string
		maxTxs, budget int
		want           string
	}{
		{"nothing", 10, 0, ""},
		{"below the smallest", 10, 4, ""},
		{"exactly the first", 10, 5, "a"},
		{"second does not fit, third does", 10, 11, "a c"},
		{"first two", 10, 12, "a bbb"},
		{"big skipped", 10, 300, "a bbb c dd"},
		{"big fits exactly", 10, 5 + 7 + 5 + 306, "a bbb c " + big},
		{"everything", 10, 5 + 7 + 5 + 306 + 6, "a bbb c " + big + " dd"},
		{"count first", 2, 1 << 20, "a bbb"},
		{"no count", 0, 1 << 20, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := m.Reap(tt.maxTxs, tt.budget)
			if s := strings.Join(payloads(got), " "); s != tt.want {
				t.Fatalf("Reap(%d, %d) = %q, want %q", tt.maxTxs, tt.budget, s, tt.want)
			}
			used := 0
			for _, tx := range got {
				used += registry.TxBlockBytes(tx)
			}
			if used > tt.budget {
				t.Fatalf("reaped %d bytes over the budget %d", used, tt.budget)
			}
		})
	}
	if m.Len() != 5 {
		t.Fatal("Reap removed transactions")
	}

	// Skipping is bounded: behind hundreds of transactions that do not
	// fit, Reap stops rather than scan the whole mempool.
	m = node.NewMempool(1000, 1<<20)
	for i := range 300 {
		mustAdd(t, m, payloadTx(fmt.Sprintf("%03d", i)+strings.Repeat("x", 100)))
	}
	mustAdd(t, m, payloadTx("a"))
	if got := m.Reap(10, 50); len(got) != 0 {
		t.Fatalf("Reap scanned past 300 misfits: %q", payloads(got))
	}
	// The bound exactly: a fitting transaction behind 255 misfits is
	// reaped, one behind 256 is not.
	for _, tc := range []struct {
		misfits int
		want    int
	}{{255, 1}, {256, 0}} {
		m := node.NewMempool(1000, 1<<20)
		for i := range tc.misfits {
			mustAdd(t, m, payloadTx(fmt.Sprintf("%03d", i)+strings.Repeat("x", 100)))
		}
		mustAdd(t, m, payloadTx("a"))
		if got := m.Reap(10, 50); len(got) != tc.want {
			t.Fatalf("behind %d misfits: reaped %q, want %d", tc.misfits, payloads(got), tc.want)
		}
	}
}

func TestMempoolRemove(t *testing.T) {
	m := node.NewMempool(100, 1000)
	a := mustAdd(t, m, payloadTx("a"))
	b := mustAdd(t, m, payloadTx("b"))
	c := mustAdd(t, m, payloadTx("c"))
	unknown := payloadTx("never added").Hash()

	m.Remove([]registry.Hash{a, unknown}, map[registry.Hash]error{b: registry.Reject(registry.CodeConflict, errors.New("stale version")), unknown: errors.New("bad signature")})

	for _, tt := range []struct {
		name       string
		h          registry.Hash
		pending    bool
		rejected   bool
		wantReason string
		wantCode   uint32
	}{
		{"committed", a, false, false, "", registry.CodeOK},
		{"rejected", b, false, true, "stale version", registry.CodeConflict},
		{"untouched", c, true, false, "", registry.CodeOK},
		{"rejected without being pending", unknown, false, true, "bad signature", registry.CodeInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Has(tt.h); got != tt.pending {
				t.Fatalf("Has = %v, want %v", got, tt.pending)
			}
			err, ok := m.Rejected(tt.h)
			if ok != tt.rejected || reason(err) != tt.wantReason || registry.CodeOf(err) != tt.wantCode {
				t.Fatalf("Rejected = %v (code %d), %v; want %q (code %d), %v", err, registry.CodeOf(err), ok, tt.wantReason, tt.wantCode, tt.rejected)
			}
		})
	}
	if m.Len() != 1 {
		t.Fatalf("Len = %d, want 1", m.Len())
	}

	// A newer reason replaces the older one.
	m.Remove(nil, map[registry.Hash]error{b: errors.New("conflict")})
	if err, _ := m.Rejected(b); reason(err) != "conflict" {
		t.Fatalf("reason %v, want the latest", err)
	}
	// Adding a rejected transaction again forgets the rejection.
	mustAdd(t, m, payloadTx("b"))
	if _, ok := m.Rejected(b); ok {
		t.Fatal("a pending transaction is still reported rejected")
	}
}

func TestMempoolRejectedIsBounded(t *testing.T) {
	const maxRejected = 10_000 // the mempool's bound
	m := node.NewMempool(1, 1)
	hash := func(i int) registry.Hash { return payloadTx(fmt.Sprintf("tx-%d", i)).Hash() }
	for i := range maxRejected + 5 {
		m.Remove(nil, map[registry.Hash]error{hash(i): fmt.Errorf("reason %d", i)})
	}
	for i := range 5 {
		if _, ok := m.Rejected(hash(i)); ok {
			t.Fatalf("rejection %d kept beyond the bound", i)
		}
	}
	for _, i := range []int{5, maxRejected, maxRejected + 4} {
		if err, ok := m.Rejected(hash(i)); !ok || reason(err) != fmt.Sprint("reason ", i) {
			t.Fatalf("rejection %d: %v, %v", i, err, ok)
		}
	}
}

func TestMempoolRejectedEvictsByLatestRejection(t *testing.T) {
	const maxRejected = 10_000
	m := node.NewMempool(10, 1000)
	tx := payloadTx("again")
	h := tx.Hash()
	m.Remove(nil, map[registry.Hash]error{h: errors.New("first")})
	mustAdd(t, m, tx)
	m.Remove(nil, map[registry.Hash]error{h: errors.New("second")})
	// h's latest rejection is now the oldest of exactly maxRejected.
	for i := range maxRejected - 1 {
		m.Remove(nil, map[registry.Hash]error{payloadTx(fmt.Sprint("x", i)).Hash(): errors.New("x")})
	}
	if err, ok := m.Rejected(h); !ok || reason(err) != "second" {
		t.Fatalf("Rejected = %v, %v; want the latest reason while within the bound", err, ok)
	}
}

func TestMempoolWait(t *testing.T) {
	m := node.NewMempool(10, 100)
	w := m.Wait()
	if isClosed(w) {
		t.Fatal("Wait on an empty mempool is already closed")
	}
	if isClosed(m.Wait()) {
		t.Fatal("second Wait on an empty mempool is already closed")
	}
	a := mustAdd(t, m, payloadTx("a"))
	if !isClosed(w) {
		t.Fatal("Wait channel not closed by Add")
	}
	if !isClosed(m.Wait()) {
		t.Fatal("Wait with a pending transaction is not closed")
	}
	// A failed Add does not wake waiters.
	m.Remove([]registry.Hash{a}, nil)
	w = m.Wait()
	if isClosed(w) {
		t.Fatal("Wait after draining the mempool is already closed")
	}
	full := node.NewMempool(0, 0)
	fw := full.Wait()
	if err := full.Add(payloadTx("x").Hash(), payloadTx("x")); !errors.Is(err, node.ErrMempoolFull) {
		t.Fatalf("err = %v, want ErrMempoolFull", err)
	}
	if isClosed(fw) {
		t.Fatal("a refused Add woke waiters")
	}
	// Rejections alone do not wake waiters.
	m.Remove(nil, map[registry.Hash]error{a: errors.New("no")})
	if isClosed(w) {
		t.Fatal("Remove woke waiters")
	}
	mustAdd(t, m, payloadTx("b"))
	if !isClosed(w) {
		t.Fatal("Wait channel not closed by the next Add")
	}
}

// reason is err's message, "" for nil.
func reason(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// BenchmarkMempoolReap reaps a 2,000-transaction block from 50,000
// pending ~300-byte transactions, by count only and by count and bytes
// (sizes come from payload lengths, nothing is encoded).
func BenchmarkMempoolReap(b *testing.B) {
	m := node.NewMempool(50_000, 1<<30)
	for i := range 50_000 {
		mustAdd(b, m, payloadTx(fmt.Sprintf("%06d", i)+strings.Repeat("x", 300)))
	}
	for _, bc := range []struct {
		name   string
		budget int
	}{{"count", math.MaxInt}, {"bytes", 4 << 20}, {"bytes-tight", 64 << 10}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if len(m.Reap(2000, bc.budget)) == 0 {
					b.Fatal("nothing reaped")
				}
			}
		})
	}
}

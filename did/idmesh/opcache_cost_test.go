package idmesh_test

import (
	"runtime"
	"testing"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
)

// bigCreate returns a canonical, signed create whose document's @context
// carries n extra elements elem (decoded as []any).
func bigCreate(t testing.TB, seed uint64, n int, elem any) []byte {
	t.Helper()
	k := genKey(t, keys.Ed25519, seed)
	doc := template(k.Public())
	for range n {
		doc.Context = append(doc.Context, elem)
	}
	op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
	if err := op.Sign(chainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	b, err := op.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestOpCacheChargesDecodedSize (security review R4): opCost charged 4n+1024 for
// an operation of n bytes, but a document of many tiny JSON values
// decodes to far more than that, and the byte bound then held up to six
// times OpCacheBytes of heap. The live heap of kept operations of the
// largest size must stay within twice what they are charged.
func TestOpCacheChargesDecodedSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		elem any
	}{{"objects", map[string]any{}}, {"strings", "a"}, {"arrays", []any{}}} {
		// fill to just under MaxOperationBytes
		probe := bigCreate(t, 1, 1000, tc.elem)
		per := (len(probe) - len(bigCreate(t, 1, 0, tc.elem))) / 1000
		n := (idmesh.MaxOperationBytes - len(bigCreate(t, 1, 0, tc.elem)) - 64) / per
		const ops = 20
		payloads := make([][]byte, ops)
		for i := range payloads {
			payloads[i] = bigCreate(t, uint64(100+i), n, tc.elem)
		}
		c := idmesh.NewOpCache(1000)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, b := range payloads {
			if _, err := c.DecodeSubmitted(b); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held, cost := c.Len()
		live := int(after.HeapAlloc) - int(before.HeapAlloc)
		t.Logf("%s: %d ops of %d bytes kept: charged %d bytes, live heap +%d (%.1fx the charge)", tc.name, held, len(payloads[0]), cost, live, float64(live)/float64(cost))
		if held != ops {
			t.Fatalf("%s: kept %d of %d", tc.name, held, ops)
		}
		if live > 2*cost {
			t.Errorf("%s: the cache holds %.1fx what it charges against OpCacheBytes", tc.name, float64(live)/float64(cost))
		}
		runtime.KeepAlive(c)
	}
}

// TestR4OpCacheCheapFlush (review R4): OpCacheBytes/opCost(64 KiB) =
// about 255 entries, so about 255 canonical submissions of the largest
// size, none of which needs a valid signature to be kept (DecodeSubmitted
// keeps before any check), flush an operation a client submitted and
// that waits in the mempool for its block (re-decoded at proposal and
// execution). Before the byte bound, flushing took 20,000 submissions.

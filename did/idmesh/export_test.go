package idmesh

// WithoutMember exposes withoutMember.
func WithoutMember(obj []byte, key string) ([]byte, bool) { return withoutMember(obj, key) }

// BodyFast and BodySlow expose the two ways to compute the body.
func (op *Operation) BodyFast() ([]byte, error) { return op.body() }

// BodySlow is body by decoding and re-encoding.
func (op *Operation) BodySlow() ([]byte, error) { return op.bodySlow() }

// DecodeLong is Decode taking the long way for every input (strictjson,
// jcs and encoding/json throughout), the reference the fast way must match.
func DecodeLong(b []byte) (*Operation, error) { return decode(b, false) }

// ShortWay reports which of Decode's one-scan checks vouch for b: its
// canonical form (isCanonical), the typed decode (decodeTyped) and that
// nothing is dropped (decodeTyped's kept).
func ShortWay(b []byte) (canonical, typed, kept bool) {
	if canonical = isCanonical(b); !canonical {
		return
	}
	_, kept, typed = decodeTyped(b)
	return canonical, typed, kept
}

// NewOpCacheBytes is NewOpCache with maxBytes in place of OpCacheBytes.
func NewOpCacheBytes(max, maxBytes int) *OpCache {
	c := NewOpCache(max)
	c.ops.SetMaxCost(maxBytes)
	return c
}

// OpCost exposes opCost.
func OpCost(n int) int { return opCost(n) }

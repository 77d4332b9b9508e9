package idmesh

import (
	"bytes"
	"crypto/sha256"
	"sync/atomic"

	"github.com/idmesh/idmesh/did/internal/fifo"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/zip215"
)

// SigCache remembers signatures that verified, so that a node checks an
// operation's signature once (when it enters the mempool) and not again
// when it proposes, re-executes or commits the block, and, apart, a few
// that did not (a submission's signature verified ahead of its check
// fails once, not twice). Verification is deterministic, so the cache
// never changes a result. It is safe for concurrent use and bounded;
// failures are kept apart so that they cannot push out successes. nil is
// a valid, empty cache.
type SigCache struct{ ok, bad *fifo.Map[[32]byte, struct{}] }

// NewSigCache returns a cache of at most max verified signatures and
// max/8 failed ones.
func NewSigCache(max int) *SigCache {
	return &SigCache{ok: fifo.New[[32]byte, struct{}](max), bad: fifo.New[[32]byte, struct{}](max / 8)}
}

func sigKey(pub keys.PublicKey, msg, sig []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(pub.Type()))
	h.Write(pub.Bytes())
	m := sha256.Sum256(msg)
	h.Write(m[:])
	h.Write(sig)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// VerifySignature reports whether sig is pub's signature of msg under the
// ledger's rule: Ed25519 under ZIP-215 (did/zip215), the one rule of the
// consensus path, so that checking the signatures of a block one by one or
// in a batch gives the same answer on every node; P-256 as
// [keys.PublicKey.Verify].
func VerifySignature(pub keys.PublicKey, msg, sig []byte) bool {
	if pub.Type() == keys.Ed25519 {
		if k, ok := pub.ZIP215Key(); ok { // checked when it was parsed
			return zip215.VerifyKey(k, msg, sig)
		}
		return zip215.Verify(pub.Bytes(), msg, sig)
	}
	return pub.Verify(msg, sig)
}

// Verify reports whether sig is pub's signature of msg (VerifySignature),
// from the cache when it was verified before.
func (c *SigCache) Verify(pub keys.PublicKey, msg, sig []byte) bool {
	if c == nil {
		return VerifySignature(pub, msg, sig)
	}
	k := sigKey(pub, msg, sig)
	if _, hit := c.ok.Get(k); hit {
		return true
	}
	if _, hit := c.bad.Get(k); hit {
		return false
	}
	if !VerifySignature(pub, msg, sig) {
		c.bad.Put(k, struct{}{}, 0)
		return false
	}
	c.ok.Put(k, struct{}{}, 0)
	return true
}

// Len returns the number of signatures the cache holds as verified
// (failures not counted).
func (c *SigCache) Len() int {
	if c == nil {
		return 0
	}
	n, _ := c.ok.Len()
	return n
}

// OpCache keeps decoded operations by the SHA-256 of their encoding, so a
// node decodes an operation once (when its API receives it or it enters
// the mempool) and not again when it is checked, proposed or re-executed.
// Decoding is deterministic and decoded operations are never modified,
// so the cache never changes a result. It is safe for concurrent use and
// bounded in entries and in bytes (OpCacheBytes); nil decodes every time.
type OpCache struct {
	ops     *fifo.Map[[32]byte, opEntry]
	decodes atomic.Uint64
}

// opEntry is a decoded operation with the bytes it was decoded from: a
// look-up answers only for the same bytes, whatever key a caller passes
// (review R22).
type opEntry struct {
	op  *Operation
	src []byte
}

// OpCacheBytes bounds the memory of an OpCache: each operation counts
// opCost of its encoding (its decoded form and the encoding it keeps).
const OpCacheBytes = 128 << 20

// opCost is what an operation decoded from n bytes counts against
// OpCacheBytes: the encoding it keeps (raw and body), its decoded model
// and a fixed share for the structures. The model of a document made of
// many tiny JSON values (an @context of 16,000 {}) takes about 24 times
// its encoding, which opCost charges every operation, so the bound holds
// for the worst (security review R4: 4n was exceeded 6 times over).
func opCost(n int) int { return 24*n + 1024 }

// NewOpCache returns a cache of at most max operations and OpCacheBytes.
func NewOpCache(max int) *OpCache {
	f := fifo.New[[32]byte, opEntry](max)
	f.SetMaxCost(OpCacheBytes)
	return &OpCache{ops: f}
}

// Decodes returns the number of decodings c made: the requests it could
// not answer from what it holds.
func (c *OpCache) Decodes() uint64 {
	if c == nil {
		return 0
	}
	return c.decodes.Load()
}

// Forget drops the operation kept under key (as for DecodeKeyed), if
// any: for a node that has committed its transaction, whose checks
// rarely ask for it again (a node's submission path refuses a repeat as
// committed before decoding it). The cache then holds the operations in
// flight, not the last thousands committed. An operation decoded again
// after its Forget (a check racing the commit, a repeat through
// Chain.CheckTx) is kept again, until it is the oldest, as before.
func (c *OpCache) Forget(key [32]byte) {
	if c != nil {
		c.ops.Delete(key)
	}
}

// Decode returns Decode(b), from the cache when b was decoded before.
// Only operations that decode are cached.
func (c *OpCache) Decode(b []byte) (*Operation, error) {
	return c.decode(sha256.Sum256(b), b, keepAll)
}

// DecodeKeyed is Decode for a caller that holds a digest of b already,
// key: SHA-256 of an encoding that b alone determines and that holds b
// whole (registry passes its transaction's hash). It saves hashing b
// again on every look-up. The cache still compares the bytes it decoded
// with b, so a key that is not b's (a caller's bug) costs a decoding,
// never another operation; an operation kept under one kind of key is
// not found under the other (it is decoded again).
func (c *OpCache) DecodeKeyed(key [32]byte, b []byte) (*Operation, error) {
	return c.decode(key, b, keepAll)
}

func keepAll(*Operation) bool { return true }

// DecodeSubmitted returns Decode(b) for an operation a client submitted,
// from the cache when b was decoded before, and keeps it only when b is
// the operation's canonical encoding (Encode), the payload its
// transaction will carry: then the mempool's check (Decode of that
// payload through c) finds it, and the node decodes the operation once.
// Other spellings are not kept: their transaction carries other bytes,
// and a client's variants must not crowd out the operations that will
// be checked.
func (c *OpCache) DecodeSubmitted(b []byte) (*Operation, error) {
	return c.DecodeSubmittedKeyed(sha256.Sum256(b), b)
}

// DecodeSubmittedKeyed is DecodeSubmitted with key as for DecodeKeyed.
func (c *OpCache) DecodeSubmittedKeyed(key [32]byte, b []byte) (*Operation, error) {
	return c.decode(key, b, func(op *Operation) bool {
		canon, err := op.Encode()
		return err == nil && bytes.Equal(canon, b)
	})
}

// decode answers Decode(b) from the cache under k, b's key, or decodes
// it, keeping what decodes when keep says so.
func (c *OpCache) decode(k [32]byte, b []byte, keep func(*Operation) bool) (*Operation, error) {
	if c == nil {
		return Decode(b)
	}
	if e, ok := c.ops.Get(k); ok {
		if bytes.Equal(e.src, b) {
			return e.op, nil
		}
		// Other bytes under this key: decoded, and the entry kept.
		c.decodes.Add(1)
		return Decode(b)
	}
	c.decodes.Add(1)
	op, err := Decode(b)
	if err != nil {
		return nil, err
	}
	if keep(op) {
		// The operation keeps its canonical form, usually b itself.
		src, cost := op.raw, opCost(len(b))
		if !bytes.Equal(src, b) {
			src, cost = bytes.Clone(b), cost+len(b)
		}
		c.ops.Put(k, opEntry{op: op, src: src}, cost)
	}
	return op, nil
}

// Len returns the number of operations c holds and what they count
// against OpCacheBytes.
func (c *OpCache) Len() (n, cost int) {
	if c == nil {
		return 0, 0
	}
	return c.ops.Len()
}

package keys

import (
	"bytes"
	"crypto/ed25519"
	"crypto/fips140"
	"crypto/sha512"
	"sync"
	"sync/atomic"

	"filippo.io/edwards25519"

	"github.com/idmesh/idmesh/did/internal/fifo"
)

// verifyEd25519 reports whether sig is a valid signature of msg by the
// Ed25519 public key pub (32 bytes), with exactly crypto/ed25519.Verify's
// rule (RFC 8032 PureEdDSA, cofactorless: s < L, R compared as encoded,
// any encoding of a point on the curve as the key, as SetBytes takes
// it). A verifier sees the same issuer keys over and over, so the
// decoded key (negated, as the check uses it) is remembered per key,
// which saves its decompression, about 2.6 µs of a 40 µs check; and a
// key checked combEvery times gets a table of its multiples
// (ed25519comb.go), with which the check costs about half
// (BenchmarkVerifyEd25519). It is not the FIPS 140 module's
// implementation: under GODEBUG=fips140=on or only it calls
// crypto/ed25519.Verify.
func verifyEd25519(pub string, msg, sig []byte) bool {
	if len(sig) != ed25519.SignatureSize || len(pub) != ed25519.PublicKeySize {
		return false
	}
	if fips140.Enabled() {
		return ed25519.Verify(ed25519.PublicKey(pub), msg, sig)
	}
	key, ok := ed25519Points.Get(pub)
	if !ok {
		var a *edwards25519.Point
		if k, checked := checkedKey(pub); checked { // decoded by the key check already
			p := k.Point()
			a = &p
		} else {
			var err error
			if a, err = new(edwards25519.Point).SetBytes([]byte(pub)); err != nil {
				return false // not a point: crypto/ed25519 refuses the key
			}
		}
		key = &ed25519Key{minusA: new(edwards25519.Point).Negate(a)}
		ed25519Points.Put(pub, key, 0)
	}
	if sig[63]&224 != 0 {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write([]byte(pub))
	h.Write(msg)
	var digest [sha512.Size]byte
	k, err := new(edwards25519.Scalar).SetUniformBytes(h.Sum(digest[:0]))
	if err != nil {
		return false // unreachable: a SHA-512 digest is 64 bytes
	}
	s, err := new(edwards25519.Scalar).SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	// [s]B = R + [k]A, checked as R = [k](-A) + [s]B.
	ed25519Tables.count()
	if t := key.table(); t != nil {
		var kb, sb [32]byte
		copy(kb[:], k.Bytes())
		copy(sb[:], s.Bytes())
		r := combDoubleMult(&kb, t, &sb)
		return bytes.Equal(sig[:32], r[:])
	}
	r := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(k, key.minusA, s)
	return bytes.Equal(sig[:32], r.Bytes())
}

// ed25519Key is a remembered key: its point negated, how often it was
// checked, and its table of multiples once it has one.
type ed25519Key struct {
	minusA   *edwards25519.Point
	uses     atomic.Uint64
	tab      atomic.Pointer[combTable]
	hit      atomic.Bool // checked with its table since ed25519Tables' hand passed it
	building atomic.Bool
}

// combEvery is how many checks of a key without a table make one build
// it: a table costs 380 point additions and doublings and 1,000 field
// multiplications to build (BenchmarkVerifyEd25519/build-table: 100 to
// 170 µs, 2.5 to 4 checks) and 30 KiB to keep, and saves about 20 µs a
// check.
const combEvery = 16

// table returns the key's table of multiples, building it on every
// combEvery-th check while it has none and ed25519Tables' budget
// allows; nil while it has none.
func (k *ed25519Key) table() *combTable {
	if t := k.tab.Load(); t != nil {
		if !k.hit.Load() {
			k.hit.Store(true)
		}
		return t
	}
	if k.uses.Add(1)%combEvery != 0 || !k.building.CompareAndSwap(false, true) {
		return nil
	}
	defer k.building.Store(false)
	if !ed25519Tables.mayBuild() {
		return nil
	}
	t := newCombTable(k.minusA)
	ed25519Tables.install(k, t)
	return t
}

// ed25519Points remembers decoded Ed25519 keys for verifyEd25519: 4,096
// keys of 32 bytes, each with a point of 160 bytes, about 1.5 MiB with
// the map's own overhead (their tables are bounded apart, by
// ed25519Tables). Decoding is a pure function of the key's bytes and
// only valid points are kept, so the cache never changes an answer; a
// peer that sends many keys only makes others be decoded again.
var ed25519Points = fifo.New[string, *ed25519Key](4096)

// ed25519Tables bounds the keys' tables: 64 of them (30 KiB each, about
// 2 MiB), and one build per buildEvery checks, counted over all keys.
var ed25519Tables = &tableSet{max: 64, buildEvery: 64}

// tableSet is the set of keys holding a table. A table is a pure
// function of its key, so tables never change an answer; what they
// bound is what an attacker sending many keys (any point encoding will
// do, no private key is needed: the check only has to run) can make the
// verifier spend:
//   - builds: at most one per buildEvery checks (plus one), so at most
//     about 4/64 more CPU a check than without tables;
//   - eviction: the second-chance clock, so that a key checked again
//     since the hand last passed it keeps its table while keys checked
//     once with theirs go first: an issuer's key in steady use survives
//     a flood of one-off keys, which without tables would cost 40 µs a
//     check anyway.
type tableSet struct {
	max, buildEvery uint64
	checks, builds  atomic.Uint64
	mu              sync.Mutex
	ring            []*ed25519Key // the keys holding a table (under mu)
	hand            int
}

// count counts one check.
func (s *tableSet) count() { s.checks.Add(1) }

// mayBuild reports whether a build is within the budget, counting it if
// so.
func (s *tableSet) mayBuild() bool {
	if s.builds.Load() > s.checks.Load()/s.buildEvery {
		return false
	}
	s.builds.Add(1)
	return true
}

// install gives k its table t, taking a place in the ring: a free one,
// or that of the first key the hand finds not checked with its table
// since it last passed (the hand clears the marks it passes, so one
// turn at most).
func (s *tableSet) install(k *ed25519Key, t *combTable) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k.hit.Store(false)
	if uint64(len(s.ring)) < s.max {
		s.ring = append(s.ring, k)
		k.tab.Store(t)
		return
	}
	for {
		old := s.ring[s.hand]
		s.hand = (s.hand + 1) % len(s.ring)
		if old.hit.Swap(false) {
			continue
		}
		old.tab.Store(nil)
		s.ring[(s.hand+len(s.ring)-1)%len(s.ring)] = k
		k.tab.Store(t)
		return
	}
}

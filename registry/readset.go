package registry

import (
	"hash/maphash"
	"time"

	"github.com/idmesh/idmesh/registry/smt"
)

// MaxReadKeys and MaxReadBytes bound the state keys CheckTxReads
// reports, so that a mempool keeps at most that much per transaction: a
// check that reads more reports none (ok false), and its transaction is
// simply checked again after every block. (A did:idmesh create reads one
// key.)
const (
	MaxReadKeys  = 16
	MaxReadBytes = 1024
)

// writeLogHeights is how many recent blocks' written keys a Chain keeps
// for WrittenSince.
const writeLogHeights = 32

// ReadSet is what a transaction's check read of the committed state: the
// keys (kept as 64-bit hashes: two keys that collide only cause a
// needless recheck), and the tip height before the check (the reads saw
// that state or a later one).
type ReadSet struct {
	Height uint64
	keys   []uint64
}

// Len returns the number of keys read.
func (rs ReadSet) Len() int { return len(rs.keys) }

// keySeed hashes state keys for ReadSet and the write log.
var keySeed = maphash.MakeSeed()

func keyHash(k string) uint64 { return maphash.String(keySeed, k) }

// StateOnly is implemented by a Handler whose DeliverTx succeeds or fails
// depending only on the payload, the chain ID and the state it reads
// through its Overlay: not on the block's time, height or validators, nor
// on state it remembers elsewhere. For such a handler, a check that
// passed still passes after blocks that wrote none of the keys it read
// (CheckTxReads, WrittenSince).
type StateOnly interface {
	StateOnly()
}

// StateOnly marks DIDHandler: did:idmesh operations are judged on their
// payload and the state they read (idmesh.Apply uses the block's time and
// height only in what it writes; its caches hold decoded payloads and
// verified signatures, which no block changes).
func (DIDHandler) StateOnly() {}

// CheckTxReads is CheckTx that also reports what the check read, so that
// a mempool can tell whether a later block may change its outcome
// (WrittenSince). ok is false when the handler of t's type is not
// StateOnly, or the check read tree nodes or more than MaxReadKeys keys
// or MaxReadBytes of keys, or failed: then nothing is known.
func (c *Chain) CheckTxReads(t Tx, now time.Time) (ReadSet, bool, error) {
	if _, stateOnly := c.m.handlers[t.Type].(StateOnly); !stateOnly {
		return ReadSet{}, false, c.CheckTx(t, now)
	}
	if n, limit := t.Size(), c.MaxTxBytes(); n > limit {
		return ReadSet{}, false, c.CheckTx(t, now)
	}
	st, r := c.tip()
	rec := &readRecorder{r: r, keys: make(map[string]struct{})}
	if err := c.m.checkDiscard(c.nextContext(st, c.blockTime(st, now)), NewOverlay(rec), t); err != nil {
		return ReadSet{}, false, err
	}
	if rec.nodes || len(rec.keys) > MaxReadKeys || rec.bytes > MaxReadBytes {
		return ReadSet{Height: st.Height}, false, nil
	}
	rs := ReadSet{Height: st.Height, keys: make([]uint64, 0, len(rec.keys))}
	for k := range rec.keys {
		rs.keys = append(rs.keys, keyHash(k))
	}
	return rs, true, nil
}

// readRecorder is a StateReader that remembers the keys read through it
// and whether tree nodes were.
type readRecorder struct {
	r     StateReader
	keys  map[string]struct{}
	bytes int // of the keys
	nodes bool
}

func (r *readRecorder) Get(key []byte) ([]byte, error) {
	if len(r.keys) <= MaxReadKeys && r.bytes <= MaxReadBytes {
		if _, ok := r.keys[string(key)]; !ok {
			r.keys[string(key)] = struct{}{}
			r.bytes += len(key)
		}
	}
	return r.r.Get(key)
}

func (r *readRecorder) Node(h smt.Hash) ([]byte, error) {
	r.nodes = true
	return r.r.Node(h)
}

// writeLog holds the state keys written by recent blocks, oldest first,
// at consecutive heights: about 28 bytes per key written (a map entry of
// its 64-bit hash, measured by security review R2), so at most 32 blocks'
// writes, which the block size bounds.
type writeLog struct {
	heights []uint64
	keys    []map[uint64]struct{} // hashes of the keys written (keyHash)
}

func (w *writeLog) add(height uint64, writes []KV) {
	if n := len(w.heights); n > 0 && w.heights[n-1]+1 != height {
		w.heights, w.keys = nil, nil // a gap: what came before is unknown
	}
	set := make(map[uint64]struct{}, len(writes))
	for _, kv := range writes {
		set[keyHash(string(kv.Key))] = struct{}{}
	}
	w.heights = append(w.heights, height)
	w.keys = append(w.keys, set)
	if len(w.heights) > writeLogHeights {
		w.heights[0], w.keys[0] = 0, nil
		w.heights, w.keys = w.heights[1:], w.keys[1:]
	}
}

// WrittenSince reports whether a block committed after rs.Height wrote a
// key that rs read. ok is false when the chain does not know every block
// since (more than 32 blocks ago, or committed by another path than
// Commit, such as a restore): then the answer must be taken as yes.
func (c *Chain) WrittenSince(rs ReadSet) (written, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	tip := c.state.Height
	if rs.Height >= tip {
		return false, true
	}
	w := &c.writes
	n := len(w.heights)
	if n == 0 || w.heights[n-1] != tip || w.heights[0] > rs.Height+1 {
		return false, false
	}
	for i := n - 1; i >= 0 && w.heights[i] > rs.Height; i-- {
		for _, k := range rs.keys {
			if _, hit := w.keys[i][k]; hit {
				return true, true
			}
		}
	}
	return false, true
}

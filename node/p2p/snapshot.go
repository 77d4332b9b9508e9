package p2p

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/sync/errgroup"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// The snapshot protocol (/idmesh/<chainID>/snapshot/1) serves state sync:
// the snapshots a node offers, their chunks, and the header chain with
// its commits that makes a snapshot's state root trusted. A request is
//
//	u8 version (1) | u8 kind | payload
//	offers (1):  nothing
//	chunk (2):   u64 height | u32 index
//	headers (3): u64 from | u64 to
//
// and its answer, after which the server closes the stream:
//
//	offers:  u8 tagOffers | u8 count | count × (u64 height | u32 chunks | u32 format | root [32])
//	chunk:   u8 tagChunk | u32 length | chunk (registry/snapshot's encoding)
//	headers: (u8 tagHeader | header | commit | validators | next)* | u8 tagEnd
//	error:   u8 tagError | u32 length | message
//
// where header and commit are registry's encodings and validators and
// next a validator set's JSON or empty, each after a u32 length.
// validators is the set deciding that height, sent with the first header
// of an answer and wherever the set changes; next, sent with the last
// header only, is the set that header names as next.

// Snapshot protocol kinds and answer tags.
const (
	snapKindOffers  = 1
	snapKindChunk   = 2
	snapKindHeaders = 3

	tagOffers = 3
	tagChunk  = 4
	tagHeader = 5
)

// Bounds of the snapshot protocol.
const (
	// MaxSnapshotOffers bounds the offers in one answer.
	MaxSnapshotOffers = 16
	// maxSetBytes bounds a validator set's JSON in a headers answer.
	maxSetBytes = 1 << 20
	// maxSnapPeers bounds the peers with a request bucket.
	maxSnapPeers = 1024
	// snapServes bounds the snapshot requests served at once, and so
	// the bytes in flight (at most this many chunks of
	// snapshot.MaxChunkBytes).
	snapServes = 8
	// snapServesPerPeer bounds those of one peer (a joining node
	// fetches 4 chunks at once): one peer cannot hold every slot.
	snapServesPerPeer = 4
	// snapRequestRead bounds the time a peer has to send its request
	// (at most 18 bytes), before it takes a slot: a peer that sends
	// slowly holds none (security review R3).
	snapRequestRead = 2 * time.Second
	// snapMinRate is the slowest a peer may read an answer: a chunk's
	// write must end within snapRequestRead plus its size at this rate.
	snapMinRate = 256 << 10 // bytes a second
)

// Defaults of Config's snapshot bounds.
const (
	DefaultMaxSyncHeaders = 1000
	DefaultSnapshotRate   = 50
	DefaultSnapshotBurst  = 100
)

// ErrRateLimited reports a snapshot request refused because the peer
// asked too often or the server was busy.
var ErrRateLimited = errors.New("p2p: too many requests")

// SnapshotOffer is a snapshot a peer offers. Nothing in it is trusted:
// the state root a syncing node checks chunks against comes from the
// verified header of Height, the chunk count only sizes the progress
// display, and the end of the state is seen in the chunks.
type SnapshotOffer struct {
	// Height is the snapshot's height.
	Height uint64
	// Chunks is the number of chunks the peer says it has.
	Chunks uint32
	// Format is the chunk format version (1).
	Format uint32
	// Root is the state root the peer claims.
	Root registry.Hash
}

// PeerOffers are the snapshots one peer offers.
type PeerOffers struct {
	Peer   string
	Offers []SnapshotOffer
}

// HeaderBatch is an answer to FetchHeaders: consecutive signed headers,
// each with its commit and, where the set deciding it is sent, that set;
// and the set the last header names as next.
type HeaderBatch struct {
	Headers []snapshot.SignedHeader
	Next    *registry.ValidatorSet
}

// SnapshotSource is what a host serves through the snapshot protocol.
// Its methods are called from many goroutines.
type SnapshotSource interface {
	// Offers returns the snapshots held, at most MaxSnapshotOffers.
	Offers() []SnapshotOffer
	// Chunk returns chunk index of the snapshot at height, or an error
	// if no such snapshot or chunk is held.
	Chunk(height uint64, index uint32) ([]byte, error)
	// HeaderRead returns the committed header at height and its commit,
	// or an error wrapping registry.ErrNotFound; and the bytes it read
	// from its store for them (a headers answer stops once its reads
	// reach maxHeaderReads, so that a store holding headers only inside
	// their blocks, up to 4 MiB each, is not made to read 1,000 blocks
	// for one request). A source that cannot tell counts what it must
	// have read: the block's size.
	HeaderRead(height uint64) (*registry.Header, *registry.Commit, int, error)
	// ValidatorSet returns the validator set of hash, if known.
	ValidatorSet(hash registry.Hash) (*registry.ValidatorSet, bool)
}

// maxHeaderReads bounds the bytes read from the store for one headers
// answer (at least one header is read).
const maxHeaderReads = 32 << 20

// snapServer holds the serving side's bounds.
type snapServer struct {
	serves  chan struct{}
	mu      sync.Mutex
	peers   map[peer.ID]*snapBucket
	busy    map[peer.ID]int // requests being served, by peer (under mu)
	served  atomic.Uint64   // chunks served
	fetched atomic.Uint64   // chunks fetched from peers
	denied  atomic.Uint64   // requests refused for rate or load
}

// snapBucket is a token bucket of requests.
type snapBucket struct {
	tokens float64
	last   time.Time
}

func newSnapServer() *snapServer {
	return &snapServer{serves: make(chan struct{}, snapServes), peers: make(map[peer.ID]*snapBucket), busy: make(map[peer.ID]int)}
}

// allow takes a token of p's bucket.
func (h *Host) snapAllow(p peer.ID) bool {
	s := h.snap
	now := h.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.peers[p]
	if b == nil {
		if len(s.peers) >= maxSnapPeers {
			// Drop the peer idle longest.
			var oldest peer.ID
			var at time.Time
			for q, qb := range s.peers {
				if oldest == "" || qb.last.Before(at) {
					oldest, at = q, qb.last
				}
			}
			delete(s.peers, oldest)
		}
		b = &snapBucket{tokens: float64(h.cfg.SnapshotBurst), last: now}
		s.peers[p] = b
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(float64(h.cfg.SnapshotBurst), b.tokens+d.Seconds()*h.cfg.SnapshotRate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// snapTake takes a serving slot for p: one of snapServes, and one of
// p's snapServesPerPeer.
func (h *Host) snapTake(p peer.ID) bool {
	s := h.snap
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[p] >= snapServesPerPeer {
		return false
	}
	select {
	case s.serves <- struct{}{}:
	default:
		return false
	}
	s.busy[p]++
	return true
}

// snapRelease gives back p's slot.
func (h *Host) snapRelease(p peer.ID) {
	s := h.snap
	s.mu.Lock()
	defer s.mu.Unlock()
	<-s.serves
	if s.busy[p]--; s.busy[p] <= 0 {
		delete(s.busy, p)
	}
}

// handleSnapshot serves one snapshot protocol request.
func (h *Host) handleSnapshot(s network.Stream) {
	defer s.Close()
	fail := func(msg string) {
		var w writer
		w.u8(tagError)
		w.str(msg)
		if _, err := s.Write(w.b); err != nil {
			s.Reset()
		}
	}
	p := s.Conn().RemotePeer()
	if !h.snapAllow(p) {
		h.snap.denied.Add(1)
		fail(ErrRateLimited.Error())
		return
	}
	// The whole request is read before a slot is taken, within
	// snapRequestRead.
	s.SetReadDeadline(time.Now().Add(snapRequestRead))
	var head [2]byte
	if _, err := io.ReadFull(s, head[:]); err != nil || head[0] != wireVersion {
		s.Reset()
		return
	}
	var req [16]byte
	switch head[1] {
	case snapKindChunk:
		if _, err := io.ReadFull(s, req[:12]); err != nil {
			s.Reset()
			return
		}
	case snapKindHeaders:
		if _, err := io.ReadFull(s, req[:16]); err != nil {
			s.Reset()
			return
		}
	}
	if !h.snapTake(p) {
		h.snap.denied.Add(1)
		fail("busy")
		return
	}
	defer h.snapRelease(p)
	src := h.cfg.Snapshots
	switch head[1] {
	case snapKindOffers:
		offers := src.Offers()
		if len(offers) > MaxSnapshotOffers {
			offers = offers[len(offers)-MaxSnapshotOffers:]
		}
		var w writer
		w.u8(tagOffers)
		w.u8(uint8(len(offers)))
		for _, o := range offers {
			w.u64(o.Height)
			w.u32(o.Chunks)
			w.u32(o.Format)
			w.hash(o.Root)
		}
		if _, err := s.Write(w.b); err != nil {
			s.Reset()
		}
	case snapKindChunk:
		height, index := binary.BigEndian.Uint64(req[:8]), binary.BigEndian.Uint32(req[8:12])
		c, err := src.Chunk(height, index)
		if err != nil || len(c) > snapshot.MaxChunkBytes {
			fail(fmt.Sprintf("no chunk %d of a snapshot at %d", index, height))
			return
		}
		// A peer that reads slower than snapMinRate loses the answer
		// and frees the slot.
		s.SetWriteDeadline(time.Now().Add(snapRequestRead + time.Duration(len(c))*time.Second/snapMinRate))
		var w writer
		w.u8(tagChunk)
		w.bytes(c)
		if _, err := s.Write(w.b); err != nil {
			s.Reset()
			return
		}
		h.snap.served.Add(1)
	case snapKindHeaders:
		bw := bufio.NewWriter(s)
		if err := h.serveHeaders(bw, binary.BigEndian.Uint64(req[:8]), binary.BigEndian.Uint64(req[8:])); err != nil {
			h.log.Debug("headers request not served", "peer", s.Conn().RemotePeer(), "err", err)
			s.Reset()
			return
		}
		if err := bw.Flush(); err != nil {
			s.Reset()
		}
	default:
		fail(fmt.Sprintf("unknown request kind %d", head[1]))
	}
}

// serveHeaders writes the answer to a request for the headers from..to:
// at most MaxSyncHeaders of them and about MaxSyncBytes (at least one),
// read with at most about maxHeaderReads bytes from the store.
func (h *Host) serveHeaders(bw *bufio.Writer, from, to uint64) error {
	fail := func(msg string) error {
		var w writer
		w.u8(tagError)
		w.str(msg)
		_, err := bw.Write(w.b)
		return err
	}
	if from == 0 || to < from {
		return fail(fmt.Sprintf("bad range %d..%d", from, to))
	}
	if span := uint64(h.cfg.MaxSyncHeaders) - 1; to-from > span {
		to = from + span
	}
	src := h.cfg.Snapshots
	type item struct {
		hd     *registry.Header
		hb, cb []byte // their encodings, made once
		sets   bool
	}
	var items []item
	total, read := 0, 0
	header := func(height uint64) (*registry.Header, *registry.Commit, error) {
		hd, c, n, err := src.HeaderRead(height)
		read += n
		return hd, c, err
	}
	var prev registry.Hash
	for height := from; height <= to; height++ {
		if height > from && read >= maxHeaderReads {
			break
		}
		hd, c, err := header(height)
		if err != nil {
			if height == from {
				if errors.Is(err, registry.ErrNotFound) {
					return fail(fmt.Sprintf("no header at %d", height))
				}
				return fail("header unavailable")
			}
			break
		}
		hb, cb := hd.Encode(), c.Encode()
		size := 1 + 12 + len(hb) + len(cb)
		if height > from && total+size > h.cfg.MaxSyncBytes {
			break
		}
		total += size
		items = append(items, item{hd: hd, hb: hb, cb: cb, sets: height == from || hd.ValidatorsHash != prev})
		prev = hd.ValidatorsHash
	}
	setJSON := func(hash registry.Hash) ([]byte, bool) {
		vs, ok := src.ValidatorSet(hash)
		if !ok {
			return nil, false
		}
		b, err := json.Marshal(vs)
		return b, err == nil && len(b) <= maxSetBytes
	}
	for i, it := range items {
		var vals, next []byte
		var ok bool
		if it.sets {
			if vals, ok = setJSON(it.hd.ValidatorsHash); !ok {
				return fail(fmt.Sprintf("validator set of height %d unavailable", it.hd.Height))
			}
		}
		if i == len(items)-1 {
			if next, ok = setJSON(it.hd.NextValidatorsHash); !ok {
				return fail(fmt.Sprintf("next validator set of height %d unavailable", it.hd.Height))
			}
		}
		var w writer
		w.u8(tagHeader)
		w.bytes(it.hb)
		w.bytes(it.cb)
		w.bytes(vals)
		w.bytes(next)
		if _, err := bw.Write(w.b); err != nil {
			return err
		}
	}
	return bw.WriteByte(tagEnd)
}

// snapRequest opens a snapshot stream to peerID, sends req and returns
// a reader of the answer bounded by limit bytes.
func (h *Host) snapRequest(ctx context.Context, peerID string, req []byte, limit int64) (network.Stream, *bufio.Reader, error) {
	p, err := peer.Decode(peerID)
	if err != nil {
		return nil, nil, err
	}
	s, err := h.host.NewStream(network.WithNoDial(ctx, "snapshot"), p, h.protoSnapshot)
	if err != nil {
		return nil, nil, err
	}
	s.SetDeadline(h.deadline(ctx))
	if _, err := s.Write(req); err != nil {
		s.Reset()
		return nil, nil, err
	}
	_ = s.CloseWrite() // see FetchBlocks
	return s, bufio.NewReader(io.LimitReader(s, limit)), nil
}

// readTag reads an answer's tag; an error answer becomes ErrRemote (or
// ErrRateLimited).
func readTag(r *bufio.Reader, want ...byte) (byte, error) {
	tag, err := r.ReadByte()
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if tag == tagError {
		msg, err := readField(r, maxErrorBytes)
		if err != nil {
			return 0, err
		}
		if string(msg) == ErrRateLimited.Error() || string(msg) == "busy" {
			return 0, fmt.Errorf("%w: %s", ErrRateLimited, msg)
		}
		return 0, fmt.Errorf("%w: %s", ErrRemote, msg)
	}
	for _, w := range want {
		if tag == w {
			return tag, nil
		}
	}
	return 0, fmt.Errorf("%w: answer tag %d", ErrMalformed, tag)
}

// SnapshotOffersOf asks peerID for the snapshots it offers.
func (h *Host) SnapshotOffersOf(ctx context.Context, peerID string) ([]SnapshotOffer, error) {
	s, r, err := h.snapRequest(ctx, peerID, []byte{wireVersion, snapKindOffers}, 2+MaxSnapshotOffers*(8+4+4+32)+maxErrorBytes+5)
	if err != nil {
		return nil, fmt.Errorf("p2p: snapshot offers of %s: %w", peerID, err)
	}
	defer s.Close()
	if _, err := readTag(r, tagOffers); err != nil {
		s.Reset()
		return nil, fmt.Errorf("p2p: snapshot offers of %s: %w", peerID, err)
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		s.Reset()
		return nil, fmt.Errorf("p2p: snapshot offers of %s: %w: %w", peerID, ErrMalformed, err)
	}
	rd := reader{b: rest}
	n := int(rd.u8())
	if n > MaxSnapshotOffers && rd.err == nil {
		rd.err = fmt.Errorf("%w: %d offers", ErrTooLarge, n)
	}
	var out []SnapshotOffer
	for i := 0; i < n && rd.err == nil; i++ {
		out = append(out, SnapshotOffer{Height: rd.u64(), Chunks: rd.u32(), Format: rd.u32(), Root: rd.hash()})
	}
	if err := rd.finish(); err != nil {
		return nil, fmt.Errorf("p2p: snapshot offers of %s: %w", peerID, err)
	}
	return out, nil
}

// SnapshotOffers asks every connected peer, at most eight at a time, for
// the snapshots it offers; peers that offer none or fail to answer are
// left out.
func (h *Host) SnapshotOffers(ctx context.Context) []PeerOffers {
	peers := h.host.Network().Peers()
	res := make([]PeerOffers, len(peers))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, p := range peers {
		g.Go(func() error {
			if offs, err := h.SnapshotOffersOf(gctx, p.String()); err == nil {
				res[i] = PeerOffers{Peer: p.String(), Offers: offs}
			}
			return nil
		})
	}
	g.Wait()
	var out []PeerOffers
	for _, r := range res {
		if len(r.Offers) > 0 {
			out = append(out, r)
		}
	}
	return out
}

// FetchSnapshotChunk asks peerID for chunk index of its snapshot at
// height. Nothing is verified here: the caller checks the chunk with a
// snapshot.Verifier (or Restorer) against a trusted root.
func (h *Host) FetchSnapshotChunk(ctx context.Context, peerID string, height uint64, index uint32) ([]byte, error) {
	var w writer
	w.u8(wireVersion)
	w.u8(snapKindChunk)
	w.u64(height)
	w.u32(index)
	s, r, err := h.snapRequest(ctx, peerID, w.b, 1+4+snapshot.MaxChunkBytes+1)
	if err != nil {
		return nil, fmt.Errorf("p2p: fetch chunk %d at %d from %s: %w", index, height, peerID, err)
	}
	defer s.Close()
	if _, err := readTag(r, tagChunk); err != nil {
		s.Reset()
		return nil, fmt.Errorf("p2p: fetch chunk %d at %d from %s: %w", index, height, peerID, err)
	}
	c, err := readField(r, snapshot.MaxChunkBytes)
	if err == nil {
		if _, e := r.ReadByte(); e != io.EOF {
			err = fmt.Errorf("%w: bytes after the chunk", ErrMalformed)
		}
	}
	if err != nil {
		s.Reset()
		return nil, fmt.Errorf("p2p: fetch chunk %d at %d from %s: %w", index, height, peerID, err)
	}
	h.snap.fetched.Add(1)
	return c, nil
}

// FetchHeaders asks peerID for the signed headers from..to (inclusive).
// The peer answers with a prefix of the range (at most
// Config.MaxSyncHeaders headers or about MaxSyncBytes); the caller asks
// again from the height after the last. Only the shape is checked here:
// the heights run from `from` without gaps and each commit names its
// header's height and ID. The caller checks the chain
// (snapshot.HeaderChain or VerifyHeaders) before trusting any of it.
func (h *Host) FetchHeaders(ctx context.Context, peerID string, from, to uint64) (HeaderBatch, error) {
	if from == 0 || to < from {
		return HeaderBatch{}, fmt.Errorf("p2p: fetch headers: bad range %d..%d", from, to)
	}
	var w writer
	w.u8(wireVersion)
	w.u8(snapKindHeaders)
	w.u64(from)
	w.u64(to)
	// The answer is bounded by the range asked too (security review R6:
	// a one-header answer could take 28 MiB).
	limit := int64(h.cfg.MaxSyncBytes + h.cfg.MaxMessageBytes + 4*maxSetBytes)
	if n := to - from + 1; n < uint64(h.cfg.MaxSyncHeaders) {
		limit = min(limit, int64(n)*h.maxHeaderBytes()+1)
	}
	s, r, err := h.snapRequest(ctx, peerID, w.b, limit)
	if err != nil {
		return HeaderBatch{}, fmt.Errorf("p2p: fetch headers from %s: %w", peerID, err)
	}
	defer s.Close()
	b, err := h.readHeaders(r, from, to)
	if err != nil {
		s.Reset()
		return HeaderBatch{}, fmt.Errorf("p2p: fetch headers from %s: %w", peerID, err)
	}
	return b, nil
}

// maxHeaderBytes bounds one header of a headers answer: its tag, and
// the header, commit and two sets, each with its length.
func (h *Host) maxHeaderBytes() int64 {
	return int64(1 + 4 + registry.MaxChainIDBytes + 512 + 4 + h.cfg.MaxMessageBytes + 2*(4+maxSetBytes))
}

// readHeaders reads a headers answer to a request for from..to: more
// headers than asked is ErrTooLarge.
func (h *Host) readHeaders(r *bufio.Reader, from, to uint64) (HeaderBatch, error) {
	var out HeaderBatch
	for {
		tag, err := readTag(r, tagHeader, tagEnd)
		if err != nil {
			return HeaderBatch{}, err
		}
		if tag == tagEnd {
			if _, e := r.ReadByte(); e != io.EOF {
				return HeaderBatch{}, fmt.Errorf("%w: bytes after the end", ErrMalformed)
			}
			return out, nil
		}
		if out.Next != nil {
			return HeaderBatch{}, fmt.Errorf("%w: a header after the one with the next set", ErrMalformed)
		}
		if len(out.Headers) >= h.cfg.MaxSyncHeaders {
			return HeaderBatch{}, fmt.Errorf("%w: more than %d headers", ErrTooLarge, h.cfg.MaxSyncHeaders)
		}
		if n := uint64(len(out.Headers)); n > to-from {
			return HeaderBatch{}, fmt.Errorf("%w: more than the %d headers asked", ErrTooLarge, n)
		}
		rh, err := readField(r, registry.MaxChainIDBytes+512)
		if err != nil {
			return HeaderBatch{}, err
		}
		rc, err := readField(r, h.cfg.MaxMessageBytes)
		if err != nil {
			return HeaderBatch{}, err
		}
		rv, err := readField(r, maxSetBytes)
		if err != nil {
			return HeaderBatch{}, err
		}
		rn, err := readField(r, maxSetBytes)
		if err != nil {
			return HeaderBatch{}, err
		}
		hd, err := registry.DecodeHeader(rh)
		if err != nil {
			return HeaderBatch{}, fmt.Errorf("%w: header: %w", ErrMalformed, err)
		}
		c, err := registry.DecodeCommit(rc)
		if err != nil {
			return HeaderBatch{}, fmt.Errorf("%w: commit: %w", ErrMalformed, err)
		}
		want := from + uint64(len(out.Headers))
		if hd.Height != want || c.Height != want || c.BlockID != hd.ID() {
			return HeaderBatch{}, fmt.Errorf("%w: header %d (commit for %d) where %d was due", ErrMalformed, hd.Height, c.Height, want)
		}
		sh := snapshot.SignedHeader{Header: *hd, Commit: c}
		if sh.Validators, err = decodeSet(rv); err != nil {
			return HeaderBatch{}, err
		}
		if out.Next, err = decodeSet(rn); err != nil {
			return HeaderBatch{}, err
		}
		out.Headers = append(out.Headers, sh)
	}
}

// decodeSet decodes a validator set's JSON; empty is none.
func decodeSet(b []byte) (*registry.ValidatorSet, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var vs registry.ValidatorSet
	if err := json.Unmarshal(b, &vs); err != nil {
		return nil, fmt.Errorf("%w: validator set: %w", ErrMalformed, err)
	}
	if err := vs.Validate(); err != nil {
		return nil, fmt.Errorf("%w: validator set: %w", ErrMalformed, err)
	}
	return &vs, nil
}

package p2p

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/idmesh/idmesh/registry"
)

// headersAnswer encodes a headers answer holding the headers of blocks
// from..to of chain, each with a commit naming it, and no sets.
func headersAnswer(chain []*registry.Block, from, to uint64) []byte {
	var w writer
	for h := from; h <= to; h++ {
		b := chain[h-1]
		w.u8(tagHeader)
		w.bytes(b.Header.Encode())
		w.bytes((&registry.Commit{Height: h, BlockID: b.ID()}).Encode())
		w.bytes(nil)
		w.bytes(nil)
	}
	w.u8(tagEnd)
	return w.b
}

// headersChain returns n chained blocks of the chain "fuzz".
func headersChain(tb testing.TB, n int) []*registry.Block {
	var chain []*registry.Block
	for i := range n {
		var last *registry.Block
		if i > 0 {
			last = chain[i-1]
		}
		chain = append(chain, FullBlock(tb, "fuzz", uint64(i+1), last, 2, 64, 4096))
	}
	return chain
}

// TestReadHeadersAsked: an answer holding more headers than the range
// asked is refused as ErrTooLarge (security review R6: a one-header
// answer of the cross-check could hold a whole batch), fewer are taken.
func TestReadHeadersAsked(t *testing.T) {
	chain := headersChain(t, 4)
	h := &Host{cfg: Config{ChainID: "fuzz", MaxSyncHeaders: 1000, MaxMessageBytes: DefaultMaxMessageBytes, MaxSyncBytes: DefaultMaxSyncBytes}}
	for _, tc := range []struct {
		name             string
		from, to         uint64 // asked
		sentFrom, sentTo uint64
		want             int
		err              error
	}{
		{name: "one asked, one sent", from: 2, to: 2, sentFrom: 2, sentTo: 2, want: 1},
		{name: "one asked, two sent", from: 2, to: 2, sentFrom: 2, sentTo: 3, err: ErrTooLarge},
		{name: "one asked, four sent", from: 1, to: 1, sentFrom: 1, sentTo: 4, err: ErrTooLarge},
		{name: "three asked, two sent", from: 1, to: 3, sentFrom: 1, sentTo: 2, want: 2},
		{name: "three asked, three sent", from: 1, to: 3, sentFrom: 1, sentTo: 3, want: 3},
		{name: "three asked, four sent", from: 1, to: 3, sentFrom: 1, sentTo: 4, err: ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := headersAnswer(chain, tc.sentFrom, tc.sentTo)
			b, err := h.readHeaders(bufio.NewReader(bytes.NewReader(raw)), tc.from, tc.to)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || len(b.Headers) != tc.want {
				t.Fatalf("%d headers, %v; want %d", len(b.Headers), err, tc.want)
			}
		})
	}
}

// TestMaxHeaderBytes: the byte bound of a one-header request holds the
// largest header answer the server may send (a commit of MaxMessageBytes
// and two sets of maxSetBytes) and is well below the bound of a batch.
func TestMaxHeaderBytes(t *testing.T) {
	h := &Host{cfg: Config{MaxMessageBytes: DefaultMaxMessageBytes, MaxSyncBytes: DefaultMaxSyncBytes}}
	largest := int64(1 + 4 + registry.MaxChainIDBytes + 512 + 4 + DefaultMaxMessageBytes + 2*(4+maxSetBytes))
	if got := h.maxHeaderBytes(); got < largest || got >= int64(DefaultMaxSyncBytes+DefaultMaxMessageBytes) {
		t.Fatalf("maxHeaderBytes %d, want at least %d and below a batch's bound", got, largest)
	}
}

// FuzzReadHeaders feeds a syncing node any headers answer a lying peer
// could send: it never panics, never returns more headers than asked,
// and what it returns starts at the height asked, in order, each commit
// naming its header.
func FuzzReadHeaders(f *testing.F) {
	chain := headersChain(f, 3)
	h := &Host{cfg: Config{ChainID: "fuzz", MaxSyncHeaders: 4, MaxMessageBytes: DefaultMaxMessageBytes, MaxSyncBytes: DefaultMaxSyncBytes}}
	for _, r := range [][4]uint64{{1, 3, 1, 3}, {2, 2, 2, 3}, {1, 1, 1, 1}, {1, 2, 1, 3}} {
		f.Add(r[0], r[1]-r[0], headersAnswer(chain, r[2], r[3]))
	}
	f.Add(uint64(1), uint64(0), []byte{tagHeader, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, from, span uint64, data []byte) {
		if from == 0 || from+span < from {
			return
		}
		b, err := h.readHeaders(bufio.NewReader(bytes.NewReader(data)), from, from+span)
		if err != nil {
			return
		}
		if uint64(len(b.Headers)) > span+1 || len(b.Headers) > h.cfg.MaxSyncHeaders {
			t.Fatalf("%d headers for %d asked (bound %d)", len(b.Headers), span+1, h.cfg.MaxSyncHeaders)
		}
		for i, sh := range b.Headers {
			if sh.Header.Height != from+uint64(i) || sh.Commit.Height != sh.Header.Height || sh.Commit.BlockID != sh.Header.ID() {
				t.Fatalf("header %d out of place", i)
			}
		}
	})
}

// readingSource serves the headers of chain and says each took perRead
// bytes to read, as a store holding headers only inside their blocks
// would.
type readingSource struct {
	chain   []*registry.Block
	vals    *registry.ValidatorSet
	perRead int
	reads   int
}

func (r *readingSource) Offers() []SnapshotOffer              { return nil }
func (r *readingSource) Chunk(uint64, uint32) ([]byte, error) { return nil, registry.ErrNotFound }
func (r *readingSource) ValidatorSet(registry.Hash) (*registry.ValidatorSet, bool) {
	return r.vals, true
}

func (r *readingSource) HeaderRead(height uint64) (*registry.Header, *registry.Commit, int, error) {
	if height == 0 || height > uint64(len(r.chain)) {
		return nil, nil, 0, registry.ErrNotFound
	}
	r.reads++
	b := r.chain[height-1]
	return &b.Header, &registry.Commit{Height: height, BlockID: b.ID()}, r.perRead, nil
}

// TestServeHeadersBoundsReads: a headers answer stops once its reads
// from the store reach maxHeaderReads (at least one header), however
// many headers were asked and however small they are to send.
func TestServeHeadersBoundsReads(t *testing.T) {
	chain := headersChain(t, 40)
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	vals, err := registry.NewValidatorSet([]registry.Validator{{PubKey: key.Public().(ed25519.PublicKey), Power: 1}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		perRead int
		want    int
	}{
		{"header keys", 400, 40},
		{"4 MiB blocks", 4 << 20, maxHeaderReads / (4 << 20)},
		{"blocks above the bound", maxHeaderReads + 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &readingSource{chain: chain, vals: vals, perRead: tc.perRead}
			h := &Host{cfg: Config{ChainID: "fuzz", MaxSyncHeaders: 1000, MaxMessageBytes: DefaultMaxMessageBytes, MaxSyncBytes: DefaultMaxSyncBytes, Snapshots: src}}
			var out bytes.Buffer
			bw := bufio.NewWriter(&out)
			if err := h.serveHeaders(bw, 1, 40); err != nil {
				t.Fatal(err)
			}
			bw.Flush()
			b, err := h.readHeaders(bufio.NewReader(&out), 1, 40)
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Headers) != tc.want || src.reads != tc.want {
				t.Fatalf("%d headers sent, %d read; want %d", len(b.Headers), src.reads, tc.want)
			}
		})
	}
}

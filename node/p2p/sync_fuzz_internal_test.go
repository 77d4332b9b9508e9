package p2p

import (
	"bufio"
	"bytes"
	"fmt"
	"testing"

	"github.com/idmesh/idmesh/registry"
)

// fuzzBlocks serves fixed blocks and commits to serveBlocks.
type fuzzBlocks struct {
	blocks  []*registry.Block
	commits []*registry.Commit
}

func (m fuzzBlocks) Block(h uint64) (*registry.Block, error) {
	if h == 0 || h > uint64(len(m.blocks)) {
		return nil, fmt.Errorf("block %d: %w", h, registry.ErrNotFound)
	}
	return m.blocks[h-1], nil
}

func (m fuzzBlocks) Commit(h uint64) (*registry.Commit, error) {
	if h == 0 || h > uint64(len(m.commits)) {
		return nil, fmt.Errorf("commit %d: %w", h, registry.ErrNotFound)
	}
	return m.commits[h-1], nil
}

func (m fuzzBlocks) Height() uint64 { return uint64(len(m.blocks)) }

// FuzzReadBlocks feeds a syncing node any response a lying peer could
// send: it never panics, never returns more than the configured blocks,
// and what it returns is the consecutive chain it asked for, each
// commit naming its block.
func FuzzReadBlocks(f *testing.F) {
	var src fuzzBlocks
	for i := range 3 {
		var last *registry.Block
		if i > 0 {
			last = src.blocks[i-1]
		}
		src.blocks = append(src.blocks, FullBlock(f, "fuzz", uint64(i+1), last, 2, 64, 4096))
	}
	for i, b := range src.blocks {
		c := &registry.Commit{Height: b.Header.Height, BlockID: b.ID()}
		if i+1 < len(src.blocks) {
			c = src.blocks[i+1].LastCommit
		}
		src.commits = append(src.commits, c)
	}
	cfg := Config{ChainID: "fuzz", Blocks: src, MaxSyncBlocks: 4, MaxMessageBytes: DefaultMaxMessageBytes, MaxSyncBytes: DefaultMaxSyncBytes}
	h := &Host{cfg: cfg}
	for _, r := range [][2]uint64{{1, 3}, {2, 3}, {1, 1}, {0, 1}} {
		var buf bytes.Buffer
		bw := bufio.NewWriter(&buf)
		if err := h.serveBlocks(bw, r[0], r[1]); err != nil {
			f.Fatal(err)
		}
		bw.Flush()
		f.Add(r[0], buf.Bytes())
	}
	f.Add(uint64(1), []byte{tagBlock, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, from uint64, data []byte) {
		out, err := h.readBlocks(bufio.NewReader(bytes.NewReader(data)), from)
		if err != nil {
			return
		}
		if len(out) > h.cfg.MaxSyncBlocks {
			t.Fatalf("%d blocks, bound %d", len(out), h.cfg.MaxSyncBlocks)
		}
		for i, d := range out {
			if d.Block.Header.Height != from+uint64(i) || d.Commit.Height != d.Block.Header.Height || d.Commit.BlockID != d.Block.ID() {
				t.Fatalf("block %d out of place", i)
			}
		}
	})
}

// FuzzDecodeStatus: a status answer either decodes, for the node's own
// chain, or is refused; it never panics.
func FuzzDecodeStatus(f *testing.F) {
	var w writer
	w.u8(wireVersion)
	w.str("fuzz")
	w.u64(7)
	w.hash([32]byte{1})
	f.Add(w.b)
	f.Add([]byte{wireVersion})
	f.Fuzz(func(t *testing.T, raw []byte) {
		st, err := decodeStatus(raw, "fuzz")
		if err == nil && st.Peer != "" {
			t.Fatal("decoded a peer name from the wire")
		}
	})
}

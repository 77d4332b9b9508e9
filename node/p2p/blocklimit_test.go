package p2p_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// memBlocks serves fixed blocks and commits.
type memBlocks struct {
	blocks  []*registry.Block
	commits []*registry.Commit
}

func (m memBlocks) Block(h uint64) (*registry.Block, error) {
	if h == 0 || h > uint64(len(m.blocks)) {
		return nil, fmt.Errorf("block %d: %w", h, registry.ErrNotFound)
	}
	return m.blocks[h-1], nil
}

func (m memBlocks) Commit(h uint64) (*registry.Commit, error) {
	if h == 0 || h > uint64(len(m.commits)) {
		return nil, fmt.Errorf("commit %d: %w", h, registry.ErrNotFound)
	}
	return m.commits[h-1], nil
}

func (m memBlocks) Height() uint64 { return uint64(len(m.blocks)) }

// TestFetchFullBlocks: a syncing node fetches blocks at the default
// limit (4 MiB) and at the largest a genesis may set, each with a full
// commit, within the default message and sync bounds.
func TestFetchFullBlocks(t *testing.T) {
	// 4 + 7 + 4 MiB fill one response (DefaultMaxSyncBytes, 16 MiB); the
	// last block comes in a second one.
	sizes := []int{registry.DefaultMaxBlockBytes, registry.MaxBlockBytesCeiling, registry.DefaultMaxBlockBytes, registry.DefaultMaxBlockBytes}
	var src memBlocks
	for i, size := range sizes {
		var last *registry.Block
		if i > 0 {
			last = src.blocks[i-1]
		}
		src.blocks = append(src.blocks, p2p.FullBlock(t, testChainID, uint64(i+1), last, registry.MaxCommitSigs, 64, size))
	}
	// A block's commit is the next one's last commit.
	for i, b := range src.blocks {
		c := &registry.Commit{Height: b.Header.Height, BlockID: b.ID()}
		if i+1 < len(src.blocks) {
			c = src.blocks[i+1].LastCommit
		}
		src.commits = append(src.commits, c)
	}
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 2, func(i int, c *p2p.Config) {
		if i == 0 {
			c.Blocks = src
		}
	})
	var got, responses int
	for from := uint64(1); from <= uint64(len(sizes)); {
		batch, err := nodes[1].FetchBlocks(t.Context(), nodes[0].ID(), from, uint64(len(sizes)))
		if err != nil {
			t.Fatalf("fetch from %d: %v", from, err)
		}
		if len(batch) == 0 {
			t.Fatalf("fetch from %d: nothing", from)
		}
		bytes := 0
		for _, d := range batch {
			bytes += len(d.Block.Encode()) + len(d.Commit.Encode())
		}
		if bytes > p2p.DefaultMaxSyncBytes && len(batch) > 1 {
			t.Fatalf("a response of %d blocks, %d bytes", len(batch), bytes)
		}
		for i, d := range batch {
			if d.Block.ID() != src.blocks[from-1+uint64(i)].ID() {
				t.Fatalf("block %d differs", from+uint64(i))
			}
		}
		got += len(batch)
		from += uint64(len(batch))
		responses++
	}
	if got != len(sizes) || responses != 2 {
		t.Fatalf("fetched %d blocks in %d responses, want %d in 2", got, responses, len(sizes))
	}
}

// TestTxGossipMaxTxBytes: a gossiped transaction larger than
// Config.MaxTxBytes (it could never fit in a block) is rejected by the
// gossip validator, and PublishTx refuses one.
func TestTxGossipMaxTxBytes(t *testing.T) {
	const limit = 1000
	nodes := MustHosts(t, newTestChain(t, validatorKeys...), 2, func(i int, c *p2p.Config) {
		if i == 1 {
			c.MaxTxBytes = limit
		}
	})
	ctx := t.Context()
	big := registrytest.ToyTx("set big " + strings.Repeat("v", limit))
	if err := nodes[1].PublishTx(ctx, big); !errors.Is(err, p2p.ErrTooLarge) || !errors.Is(err, registry.ErrTxTooLargeForBlock) {
		t.Fatalf("PublishTx of %d bytes with a limit of %d = %v", big.Size(), limit, err)
	}
	if err := nodes[0].PublishTx(ctx, big); err != nil {
		t.Fatal(err)
	}
	v := nodes[1].verdicts.nextRefusal(t)
	if v.Outcome != p2p.Rejected || !errors.Is(v.Err, registry.ErrTxTooLargeForBlock) {
		t.Fatalf("verdict %+v", v)
	}
	small := registrytest.ToyTx("set small 1")
	if err := nodes[0].PublishTx(ctx, small); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-nodes[1].Txs():
		if got.Hash() != small.Hash() {
			t.Fatalf("received %s, want the small transaction", got.Hash())
		}
	case <-time.After(failsafe):
		t.Fatal("the small transaction was not received")
	}
}

package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
)

// ChainView adapts a chain to what the network needs to judge consensus
// messages.
type ChainView struct{ Chain *registry.Chain }

var _ p2p.ChainView = ChainView{}

// Height returns the tip's height.
func (v ChainView) Height() uint64 { return v.Chain.State().Height }

// Validators returns the set that signs the block at height, for the
// tip and the two heights after it.
func (v ChainView) Validators(height uint64) (*registry.ValidatorSet, bool) {
	st := v.Chain.State()
	switch {
	case height == st.Height && st.LastValidators != nil:
		return st.LastValidators, true
	case height == st.Height+1:
		return st.Validators, true
	case height == st.Height+2:
		return st.NextValidators, true
	}
	return nil, false
}

// BlockSource serves the committed chain to syncing peers.
type BlockSource struct{ Chain *registry.Chain }

var _ p2p.BlockSource = BlockSource{}

// Block returns the committed block at height.
func (s BlockSource) Block(h uint64) (*registry.Block, error) { return s.Chain.Store().Block(h) }

// Commit returns the commit of the block at height.
func (s BlockSource) Commit(h uint64) (*registry.Commit, error) { return s.Chain.Store().Commit(h) }

// Height returns the tip's height.
func (s BlockSource) Height() uint64 { return s.Chain.State().Height }

// Sync fetches committed blocks from the best peer until this node is at
// its tip, verifying each block's commit and re-executing the block, and
// calls progress after each batch. It must run before the consensus
// driver starts (one goroutine commits to the chain).
func Sync(ctx context.Context, host *p2p.Host, n *Node, log *slog.Logger, progress func(height, target uint64)) error {
	for {
		best, err := host.BestPeer(ctx)
		if errors.Is(err, p2p.ErrNoPeers) {
			return nil // alone: nothing to catch up with
		}
		if err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		st := n.Chain.State()
		if best.Height <= st.Height {
			return nil
		}
		batch, err := host.FetchBlocks(ctx, best.Peer, st.Height+1, best.Height)
		if err != nil {
			return fmt.Errorf("sync from %s: %w", best.Peer, err)
		}
		if len(batch) == 0 {
			return fmt.Errorf("sync from %s: no blocks above %d", best.Peer, st.Height)
		}
		for _, d := range batch {
			// Chain.Commit checks the commit against the validators of
			// that height and re-executes the block.
			results, err := n.Chain.Commit(d.Block, d.Commit)
			if err != nil {
				return fmt.Errorf("sync block %d from %s: %w", d.Block.Header.Height, best.Peer, err)
			}
			n.Mempool.Remove(d.Block.TxHashes(), nil)
			n.Committed(d.Block, results)
		}
		if progress != nil {
			progress(n.Chain.State().Height, best.Height)
		}
		log.Debug("synced", "height", n.Chain.State().Height, "target", best.Height, "peer", best.Peer)
	}
}

package node

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

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

// syncBatch is the number of blocks asked of one peer at a time.
const syncBatch = 100

// Sync fetches committed blocks from the peers that are ahead until this
// node is at the tip: consecutive batches from different peers at once,
// each block's commit checked against the validators of its height and
// the block re-executed before it is saved, in order. It calls progress
// after each round of batches. It must run before the consensus driver
// starts (one goroutine commits to the chain).
func Sync(ctx context.Context, host *p2p.Host, n *Node, log *slog.Logger, progress func(height, target uint64)) error {
	for {
		st := n.Chain.State()
		var ahead []p2p.Status
		for _, s := range host.Statuses(ctx) {
			if s.Height > st.Height {
				ahead = append(ahead, s)
			}
		}
		if len(ahead) == 0 {
			return ctx.Err() // no peer is ahead (or none answered)
		}
		target := ahead[0].Height // Statuses sorts by height, highest first
		type job struct {
			peer     string
			from, to uint64
			got      []p2p.Decided
			err      error
		}
		var jobs []*job
		for i, from := 0, st.Height+1; i < len(ahead) && i < 4 && from <= target; i++ {
			to := min(from+syncBatch-1, ahead[i].Height)
			if to < from {
				break
			}
			jobs = append(jobs, &job{peer: ahead[i].Peer, from: from, to: to})
			from = to + 1
		}
		var wg sync.WaitGroup
		for _, j := range jobs {
			wg.Go(func() { j.got, j.err = host.FetchBlocks(ctx, j.peer, j.from, j.to) })
		}
		wg.Wait()
		saved := 0
		for _, j := range jobs {
			if j.err != nil {
				log.DebugContext(ctx, "sync batch failed", "peer", j.peer, "from", j.from, "err", j.err)
				break
			}
			for _, d := range j.got {
				if d.Block.Header.Height != n.Chain.State().Height+1 {
					break // a short answer: the next round asks again
				}
				// Chain.Commit checks the commit against the validators of
				// that height and re-executes the block.
				results, err := n.Chain.Commit(d.Block, d.Commit)
				if err != nil {
					return fmt.Errorf("sync block %d from %s: %w", d.Block.Header.Height, j.peer, err)
				}
				n.Committed(d.Block, results)
				n.Mempool.Remove(d.Block.TxHashes(), nil) // wakes the waiters, after Committed
				saved++
			}
			if len(j.got) == 0 || j.got[len(j.got)-1].Block.Header.Height != j.to {
				break
			}
		}
		if saved == 0 {
			return fmt.Errorf("sync: no peer gave blocks above %d", st.Height)
		}
		if progress != nil {
			progress(n.Chain.State().Height, target)
		}
		log.DebugContext(ctx, "synced", "height", n.Chain.State().Height, "target", target, "peers", len(jobs))
	}
}

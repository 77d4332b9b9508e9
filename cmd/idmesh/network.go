package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/home"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
)

// listenTCP listens on addr for the HTTP API.
func listenTCP(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// startNetwork starts the libp2p host of a node. A node that does not
// validate is named in consensus messages by an address derived from its
// network key (returned), so that peers can answer it directly.
func startNetwork(ctx context.Context, f nodeFlags, h home.Dir, chain *registry.Chain, self registry.Address, log *slog.Logger) (*p2p.Host, registry.Address, error) {
	id, err := p2p.LoadOrCreateIdentity(h.NodeKey())
	if err != nil {
		return nil, self, err
	}
	if self == (registry.Address{}) {
		raw, err := id.GetPublic().Raw()
		if err != nil {
			return nil, self, fmt.Errorf("node key: %w", err)
		}
		self = registry.AddressOf(raw)
	}
	cfg := p2p.Config{
		ChainID:     chain.State().ChainID,
		ListenAddrs: splitList(f.p2p),
		Identity:    id,
		Bootstrap:   splitList(f.bootstrap),
		MDNS:        f.mdns,
		Log:         quiet(log),
		Self:        self,
		Chain:       node.ChainView{Chain: chain},
		Blocks:      node.BlockSource{Chain: chain},
		// A gossiped transaction that could never fit in a block is
		// rejected in the gossip validator (a size check, cheap).
		MaxTxBytes: chain.MaxTxBytes(),
		// No CheckTx in the gossip validator: gossipsub validates every
		// topic through one queue, and checking each transaction there
		// (signature, state) delayed consensus messages behind thousands of
		// transactions under load. The node checks every gossiped
		// transaction once, in SubmitGossiped, off the network's path.
	}
	host, err := p2p.New(ctx, cfg)
	if err != nil {
		return nil, self, err
	}
	return host, self, nil
}

// receiveTxs queues transactions gossiped by peers.
func receiveTxs(ctx context.Context, host *p2p.Host, n *node.Node, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case t, ok := <-host.Txs():
			if !ok {
				return
			}
			if _, err := n.SubmitGossiped(t); err != nil {
				log.Debug("gossiped transaction refused", "tx", t.Hash(), "err", err)
			}
		}
	}
}

// catchUp syncs blocks from peers before consensus starts: it waits a
// little for a first peer, then fetches until no peer is ahead.
func catchUp(ctx context.Context, host *p2p.Host, n *node.Node, info *netInfo, log *slog.Logger) error {
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_ = host.WaitPeers(wctx, 1)
	cancel()
	info.syncing.Store(true)
	defer info.syncing.Store(false)
	start, began := n.Chain.State().Height, time.Now()
	err := node.Sync(ctx, host, n, log, func(height, target uint64) {
		log.Info("syncing", "height", height, "target", target)
	})
	if err != nil && ctx.Err() == nil {
		// Consensus catches up from peers too; a failed bulk sync only
		// makes that slower.
		log.Warn("block sync stopped", "err", err)
	}
	if got := n.Chain.State().Height - start; got > 0 {
		log.Info("synced", "blocks", got, "height", n.Chain.State().Height, "took", time.Since(began).Round(time.Millisecond))
	}
	return nil
}

// netInfo is what /v1/status shows of the network.
type netInfo struct {
	host    *p2p.Host
	syncing atomic.Bool
}

func (i *netInfo) Peers() []string {
	if i.host == nil {
		return []string{}
	}
	return i.host.Peers()
}

func (i *netInfo) Syncing() bool { return i.syncing.Load() }

// failpoint returns a Consensus.Failpoint for IDMESH_FAILPOINT=POINT@HEIGHT:
// the process exits abruptly (status 99, no cleanup, as a crash) when the
// driver reaches POINT at HEIGHT. For crash tests.
func failpoint(spec string, log *slog.Logger) func(string, uint64) {
	point, h, ok := strings.Cut(spec, "@")
	height, err := strconv.ParseUint(h, 10, 64)
	if !ok || err != nil {
		log.Error("ignoring IDMESH_FAILPOINT: want POINT@HEIGHT", "value", spec)
		return nil
	}
	return func(p string, at uint64) {
		if p == point && at == height {
			fmt.Fprintf(os.Stderr, "idmesh: failpoint %s at height %d: crashing\n", p, at)
			os.Exit(99)
		}
	}
}

// quiet keeps libp2p's debug logs (a line per gossip message) out of the
// node's debug log: the network logs at info and above.
func quiet(log *slog.Logger) *slog.Logger {
	return slog.New(minLevel{log.Handler(), slog.LevelInfo})
}

type minLevel struct {
	slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(a []slog.Attr) slog.Handler {
	return minLevel{m.Handler.WithAttrs(a), m.min}
}
func (m minLevel) WithGroup(g string) slog.Handler { return minLevel{m.Handler.WithGroup(g), m.min} }

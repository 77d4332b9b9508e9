package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/home"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
)

// startNetwork starts the libp2p host of a node. A node that does not
// validate is named in consensus messages by an address derived from its
// network key (returned), so that peers can answer it directly.
func startNetwork(ctx context.Context, cfg Config, h home.Dir, chain *registry.Chain, self registry.Address, sigs *p2p.SigCache, reg prometheus.Registerer, log *slog.Logger, snaps p2p.SnapshotSource) (*p2p.Host, registry.Address, error) {
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
	pc := p2p.Config{
		ChainID:     chain.State().ChainID,
		ListenAddrs: cfg.P2PListen,
		Identity:    id,
		Bootstrap:   cfg.Bootstrap,
		MDNS:        cfg.MDNS,
		Log:         quiet(log),
		// libp2p's own metrics (libp2p_*) beside the node's.
		Registerer: reg,
		Self:       self,
		Chain:      node.ChainView{Chain: chain},
		Blocks:     node.BlockSource{Chain: chain},
		Snapshots:  snaps,
		// A gossiped transaction that could never fit in a block is
		// rejected in the gossip validator (a size check, cheap).
		MaxTxBytes: chain.MaxTxBytes(),
		// One signature cache for the gossip validator and the engine.
		Verify: sigs.Verify,
		// No CheckTx in the gossip validator: gossipsub validates every
		// topic through one queue, and checking each transaction there
		// (signature, state) delayed consensus messages behind thousands of
		// transactions under load. The node checks every gossiped
		// transaction once, in SubmitGossiped, off the network's path.
	}
	host, err := p2p.New(ctx, pc)
	if err != nil {
		return nil, self, err
	}
	return host, self, nil
}

// registerNetworkMetrics exports the host's counters of what peers
// could not make it do: Status messages refused for claiming another
// sender, and answers dropped beyond a peer's reply rate or for want of
// a route (never broadcast instead); of gossip links mended (peers
// disconnected to be dialed again); and of the gossip per topic: first copies of peers'
// messages and duplicates.
func registerNetworkMetrics(reg prometheus.Registerer, host *p2p.Host) {
	labelled := func(name, help string, labels prometheus.Labels, f func(p2p.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels}, func() float64 { return float64(f(host.Stats())) })
	}
	counter := func(name, help string, f func(p2p.Stats) uint64) prometheus.Collector {
		return labelled(name, help, nil, f)
	}
	reg.MustRegister(
		counter("idmesh_p2p_spoofed_status_total", "Consensus Status messages refused because their sender was not the peer that sent them.",
			func(s p2p.Stats) uint64 { return s.Spoofed }),
		counter("idmesh_p2p_replies_dropped_total", "Direct consensus answers dropped beyond the peer's reply rate or queue, or because its stream failed.",
			func(s p2p.Stats) uint64 { return s.ReplyDropped }),
		counter("idmesh_p2p_replies_dropped_bytes_total", "Bytes of the direct consensus answers dropped.",
			func(s p2p.Stats) uint64 { return s.ReplyDroppedBytes }),
		counter("idmesh_p2p_direct_sent_total", "Direct consensus messages (answers to peers: decided blocks, proposals and votes they lack) that the peer acknowledged.",
			func(s p2p.Stats) uint64 { return s.DirectSent }),
		counter("idmesh_p2p_direct_sent_bytes_total", "Bytes of the direct consensus messages peers acknowledged.",
			func(s p2p.Stats) uint64 { return s.DirectSentBytes }),
		counter("idmesh_p2p_unroutable_total", "Direct consensus answers dropped because no route to their addressee was known.",
			func(s p2p.Stats) uint64 { return s.Unroutable }),
		counter("idmesh_p2p_routes_evicted_total", "Answer routes dropped because the route table was full.",
			func(s p2p.Stats) uint64 { return s.RoutesEvicted }),
		counter("idmesh_p2p_reply_peers_evicted_total", "Idle peers whose answer state made room for a new peer.",
			func(s p2p.Stats) uint64 { return s.ReplyEvicted }),
		counter("idmesh_p2p_reply_peers_cut_total", "Peers whose answer queue and state were dropped because a stream to them timed out.",
			func(s p2p.Stats) uint64 { return s.ReplyCut }),
		counter("idmesh_p2p_gossip_relinks_total", "Peers disconnected, to be dialed again, because gossipsub had lost their topic subscriptions while they were connected.",
			func(s p2p.Stats) uint64 { return s.GossipRelinks }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idmesh_p2p_reply_peers", Help: "Peers with answer state (rate budget, queue)."},
			func() float64 { return float64(host.Stats().ReplyPeers) }),
	)
	// Gossip per topic: first copies of peers' messages and the further
	// copies dropped as duplicates (with their bytes), which cost
	// transport and decoding but no validation.
	for _, t := range []struct {
		name string
		of   func(p2p.Stats) p2p.GossipStats
	}{
		{"consensus", func(s p2p.Stats) p2p.GossipStats { return s.GossipConsensus }},
		{"txs", func(s p2p.Stats) p2p.GossipStats { return s.GossipTxs }},
	} {
		gossip := func(name, help string, f func(p2p.GossipStats) uint64) prometheus.Collector {
			return labelled(name, help, prometheus.Labels{"topic": t.name}, func(s p2p.Stats) uint64 { return f(t.of(s)) })
		}
		reg.MustRegister(
			gossip("idmesh_p2p_gossip_received_total", "First copies of peers' gossip messages, validated.",
				func(s p2p.GossipStats) uint64 { return s.Received }),
			gossip("idmesh_p2p_gossip_received_bytes_total", "Data bytes of the first copies of peers' gossip messages.",
				func(s p2p.GossipStats) uint64 { return s.ReceivedBytes }),
			gossip("idmesh_p2p_gossip_duplicates_total", "Further copies of gossip messages already seen, dropped before validation.",
				func(s p2p.GossipStats) uint64 { return s.Duplicates }),
			gossip("idmesh_p2p_gossip_duplicate_bytes_total", "Data bytes of the gossip duplicates dropped.",
				func(s p2p.GossipStats) uint64 { return s.DuplicateBytes }),
		)
	}
}

// registerNodeMetrics exports, in every mode (0 without a network), the
// connected peers and how far a running sync from peers is behind.
func registerNodeMetrics(reg prometheus.Registerer, info *netInfo) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idmesh_p2p_peers", Help: "Connected libp2p peers (0 without a network)."},
			func() float64 { return float64(len(info.Peers())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "idmesh_sync_blocks_behind", Help: "During a sync from peers (at start), its target height minus the node's; 0 when caught up."},
			func() float64 { return float64(info.behind()) }),
	)
}

// receiveTxs queues transactions gossiped by peers. It takes what is
// queued at once (up to registry.MaxPrepareChecks) and has the chain
// verify the signatures of those not pending already in batches
// (registry.Chain.PrepareChecks) before checking each as before.
func receiveTxs(ctx context.Context, host *p2p.Host, n *node.Node, log *slog.Logger) {
	batch := make([]registry.Tx, 0, registry.MaxPrepareChecks)
	for {
		select {
		case <-ctx.Done():
			return
		case t, ok := <-host.Txs():
			if !ok {
				return
			}
			batch, ok = append(batch[:0], t), true
		drain:
			for ok && len(batch) < cap(batch) {
				select {
				case t, ok = <-host.Txs():
					if ok {
						batch = append(batch, t)
					}
				default:
					break drain
				}
			}
			n.PrepareChecks(batch)
			for _, t := range batch {
				if _, err := n.SubmitGossiped(t); err != nil {
					log.DebugContext(ctx, "gossiped transaction refused", "tx", t.Hash(), "err", err)
				}
			}
			if !ok {
				return
			}
		}
	}
}

// catchUp syncs blocks from peers before consensus starts: it waits at
// most firstPeer for a first peer, then fetches until no peer is ahead.
func catchUp(ctx context.Context, host *p2p.Host, n *node.Node, info *netInfo, firstPeer time.Duration, log *slog.Logger, progress func(height, target uint64)) error {
	if firstPeer > 0 {
		wctx, cancel := context.WithTimeout(ctx, firstPeer)
		_ = host.WaitPeers(wctx, 1)
		cancel()
	}
	info.syncing.Store(true)
	defer func() {
		info.target.Store(0)
		info.syncing.Store(false)
		info.synced.Store(true)
	}()
	start, began := n.Chain.State().Height, time.Now()
	err := node.Sync(ctx, host, n, log, func(height, target uint64) {
		info.target.Store(target)
		log.InfoContext(ctx, "syncing", "height", height, "target", target)
		if progress != nil {
			progress(height, target)
		}
	})
	if progress != nil {
		h := n.Chain.State().Height
		if err != nil {
			progress(h, 0)
		} else {
			progress(h, h)
		}
	}
	if err != nil && ctx.Err() == nil {
		// Consensus catches up from peers too; a failed bulk sync only
		// makes that slower.
		log.WarnContext(ctx, "block sync stopped", "err", err)
	}
	if got := n.Chain.State().Height - start; got > 0 {
		log.InfoContext(ctx, "synced", "blocks", got, "height", n.Chain.State().Height, "took", time.Since(began).Round(time.Millisecond))
	}
	return nil
}

// netInfo is what /v1/status, /readyz and the metrics show of the
// network and the sync.
type netInfo struct {
	host  *p2p.Host // nil without a network
	chain *registry.Chain
	self  registry.Address // the validator's address; zero on a full node
	// bootstrap: the node has bootstrap peers configured.
	bootstrap bool
	// syncing is set while a sync from peers runs (catchUp); synced once
	// the start-up sync has finished (at once without a network); target
	// is the height a running sync goes to (0: not known yet).
	syncing, synced atomic.Bool
	target          atomic.Uint64
}

// Peers returns the IDs of the connected peers, none without a network.
func (i *netInfo) Peers() []string {
	if i.host == nil {
		return []string{}
	}
	return i.host.Peers()
}

// Syncing reports whether a sync from peers runs.
func (i *netInfo) Syncing() bool { return i.syncing.Load() }

// behind returns how many blocks a running sync has still to fetch (its
// target minus the tip's height), 0 when none runs or its target is not
// known yet.
func (i *netInfo) behind() uint64 {
	t, h := i.target.Load(), i.chain.State().Height
	if !i.syncing.Load() || t <= h {
		return 0
	}
	return t - h
}

// NotReady implements api.Readiness with the readiness rule.
func (i *netInfo) NotReady() []string {
	st := i.chain.State()
	_, validator := st.Validators.ByAddress(i.self)
	r := readiness{Host: i.host != nil, Bootstrap: i.bootstrap, Validators: len(st.Validators.Validators), Validator: i.self != (registry.Address{}) && validator,
		Syncing: !i.synced.Load() || i.syncing.Load(), Height: st.Height, Target: i.target.Load()}
	if r.Host {
		r.Peers = len(i.host.Peers())
	}
	return r.notReady()
}

// readiness is what the readiness rule looks at.
type readiness struct {
	// Host: the node runs a libp2p host (it has P2P listen addresses,
	// bootstrap peers or mDNS).
	Host bool
	// Bootstrap: it has bootstrap peers configured.
	Bootstrap bool
	// Validators is the size of the current validator set; Validator
	// whether this node is in it.
	Validators int
	Validator  bool
	// Syncing: the start-up sync from peers has not finished, or a sync
	// from peers runs; Height and Target are where it stands and where
	// it goes (Target 0: not known yet).
	Syncing        bool
	Height, Target uint64
	// Peers is the number of connected peers.
	Peers int
}

// multiNode reports whether the node is on a multi-node network: it
// runs a libp2p host and it has bootstrap peers, or the validator set
// has more than one validator, or it is not a validator (it follows
// others). Such a node without peers cannot follow the chain. `idmesh
// dev`, and a single validator without bootstrap peers, are not on one.
func (r readiness) multiNode() bool {
	return r.Host && (r.Bootstrap || r.Validators > 1 || !r.Validator)
}

// notReady returns why a node in state r should not take traffic yet:
// it syncs, or it is on a multi-node network without peers. None when it
// is ready.
func (r readiness) notReady() []string {
	var why []string
	if r.Syncing {
		if r.Target > r.Height {
			why = append(why, fmt.Sprintf("syncing: height %d of %d", r.Height, r.Target))
		} else {
			why = append(why, fmt.Sprintf("syncing: the start-up sync from peers has not finished (height %d)", r.Height))
		}
	}
	if r.multiNode() && r.Peers == 0 {
		var because []string
		if r.Bootstrap {
			because = append(because, "bootstrap peers configured")
		}
		if r.Validators > 1 {
			because = append(because, fmt.Sprintf("%d validators", r.Validators))
		}
		if !r.Validator {
			because = append(because, "not a validator")
		}
		why = append(why, "no peers on a multi-node network ("+strings.Join(because, ", ")+")")
	}
	return why
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

package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/home"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
)

// ErrStateSyncNotEmpty reports --state-sync on a home whose store
// already holds a chain: state sync only fills an empty store.
var ErrStateSyncNotEmpty = errors.New("state sync needs an empty store")

// ErrStateSyncNoPeers reports --state-sync on a node without a network.
var ErrStateSyncNoPeers = errors.New("state sync needs peers (--bootstrap, --p2p or --mdns)")

// stateSync restores the empty store from a snapshot served by peers
// (Config.StateSync), through a network host of its own that it closes
// after, so that New then opens the store as a chain at the snapshot's
// height and Run's block sync continues from the next. An unfinished
// restore left by a crash is discarded first.
func stateSync(ctx context.Context, cfg Config, h home.Dir, g *registry.Genesis, store *leveldb.Store, sets *node.ValidatorSets, log *slog.Logger) (*node.StateSyncProgress, error) {
	if len(cfg.P2PListen) == 0 && len(cfg.Bootstrap) == 0 && !cfg.MDNS {
		return nil, ErrStateSyncNoPeers
	}
	if err := store.DiscardRestore(); err == nil {
		log.WarnContext(ctx, "state sync: discarded the unfinished restore of an earlier run")
	}
	if st, ok, err := store.State(); err != nil {
		return nil, err
	} else if ok {
		return nil, fmt.Errorf("%w: %s holds chain %q at height %d (remove it to sync again)", ErrStateSyncNotEmpty, h.Chain(), st.ChainID, st.Height)
	}
	if _, err := store.Genesis(); err == nil {
		return nil, fmt.Errorf("%w: %s holds a chain (remove it to sync again)", ErrStateSyncNotEmpty, h.Chain())
	}
	id, err := p2p.LoadOrCreateIdentity(h.NodeKey())
	if err != nil {
		return nil, err
	}
	host, err := p2p.New(ctx, p2p.Config{ChainID: g.ChainID, ListenAddrs: cfg.P2PListen, Identity: id, Bootstrap: cfg.Bootstrap, MDNS: cfg.MDNS,
		Log: quiet(log), Chain: noChain{}})
	if err != nil {
		return nil, err
	}
	defer host.Close()
	if cfg.StateSyncTrust == nil {
		log.WarnContext(ctx, "state sync: no checkpoint (--state-sync-trust HEIGHT:BLOCKID): the chain is trusted from the genesis only, and a validator set since replaced could sign a fork it cannot tell apart",
			"cross_check", cfg.StateSyncCrossCheck.String())
	} else {
		log.InfoContext(ctx, "state sync: checkpoint", "height", cfg.StateSyncTrust.Height, "block", cfg.StateSyncTrust.BlockID)
	}
	log.InfoContext(ctx, "state sync: looking for snapshots")
	began, lastLog := time.Now(), time.Time{}
	phase := ""
	ss := &node.StateSync{Peers: host, Store: store, Genesis: g, Log: log, Trust: cfg.StateSyncTrust, CrossCheck: cfg.StateSyncCrossCheck, Progress: func(p node.StateSyncProgress) {
		if p.Phase != phase || time.Since(lastLog) >= 2*time.Second {
			phase, lastLog = p.Phase, time.Now()
			log.InfoContext(ctx, "state sync", "phase", p.Phase, "height", p.Height, "headers", p.Headers, "chunks", p.Chunks, "of", p.ChunksTotal,
				"entries", p.Entries, "bytes", p.Bytes, "refused", p.Refused, "conflicts", p.Conflicts, "waited", p.Waited.Round(time.Millisecond))
		}
		if cfg.StateSyncProgress != nil {
			cfg.StateSyncProgress(p)
		}
	}}
	res, err := ss.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("state sync: %w", err)
	}
	if err := sets.Add(res.Sets...); err != nil {
		return nil, err
	}
	log.InfoContext(ctx, "state synced", "height", res.State.Height, "entries", res.Progress.Entries, "chunks", res.Progress.Chunks,
		"bytes", res.Progress.Bytes, "refused", res.Progress.Refused, "conflicts", res.Progress.Conflicts, "took", time.Since(began).Round(time.Millisecond))
	return &res.Progress, nil
}

// noChain is the chain view of a node that has no chain yet: it judges
// no consensus message.
type noChain struct{}

func (noChain) Height() uint64                                   { return 0 }
func (noChain) Validators(uint64) (*registry.ValidatorSet, bool) { return nil, false }

// registerSnapshotMetrics exports the snapshot chunks served to peers,
// and those fetched and refused by this node's state sync, and the header
// conflicts its cross-check met.
func registerSnapshotMetrics(reg prometheus.Registerer, host *p2p.Host, synced *node.StateSyncProgress) {
	var fetched, refused, conflicts float64
	if synced != nil {
		fetched, refused, conflicts = float64(synced.Fetched), float64(synced.Refused), float64(synced.Conflicts)
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "idmesh_snapshot_chunks_served_total", Help: "State snapshot chunks sent to syncing peers."},
			func() float64 { return float64(host.Stats().SnapshotChunksServed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "idmesh_snapshot_requests_denied_total", Help: "Snapshot requests refused because the peer asked too often or too many were served at once."},
			func() float64 { return float64(host.Stats().SnapshotDenied) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "idmesh_snapshot_chunks_fetched_total", Help: "State snapshot chunks this node's state sync received from peers."},
			func() float64 { return fetched }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "idmesh_snapshot_chunks_refused_total", Help: "Snapshot chunks and header batches this node's state sync refused (a peer lied or sent something malformed)."},
			func() float64 { return refused }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "idmesh_statesync_header_conflicts_total", Help: "Peers whose header chain, verified from the genesis, held another block than the one this node's state sync chose (a fork signed by a validator set)."},
			func() float64 { return conflicts }),
	)
}

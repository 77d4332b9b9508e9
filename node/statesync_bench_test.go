package node_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// localPeers serves a node's snapshots, headers and blocks to a state
// sync in the same process, by direct calls: the state sync of
// BenchmarkStateSyncNetwork without the network.
type localPeers struct {
	snaps *node.Snapshots
	chain *registry.Chain
}

const localPeer = "local"

func (l localPeers) SnapshotOffers(context.Context) []p2p.PeerOffers {
	return []p2p.PeerOffers{{Peer: localPeer, Offers: l.snaps.Offers()}}
}

// FetchHeaders answers as a host does (at most 1,000 headers, the set
// where it changes, the next set of the last).
func (l localPeers) FetchHeaders(_ context.Context, _ string, from, to uint64) (p2p.HeaderBatch, error) {
	to = min(to, from+999)
	var b p2p.HeaderBatch
	var prev registry.Hash
	for h := from; h <= to; h++ {
		hd, c, _, err := l.snaps.HeaderRead(h)
		if err != nil {
			return b, err
		}
		sh := snapshot.SignedHeader{Header: *hd, Commit: c}
		if h == from || hd.ValidatorsHash != prev {
			sh.Validators, _ = l.snaps.ValidatorSet(hd.ValidatorsHash)
		}
		prev = hd.ValidatorsHash
		b.Headers = append(b.Headers, sh)
		if h == to {
			b.Next, _ = l.snaps.ValidatorSet(hd.NextValidatorsHash)
		}
	}
	return b, nil
}

func (l localPeers) FetchSnapshotChunk(_ context.Context, _ string, height uint64, index uint32) ([]byte, error) {
	return l.snaps.Chunk(height, index)
}

func (l localPeers) FetchBlocks(_ context.Context, _ string, from, to uint64) ([]p2p.Decided, error) {
	var out []p2p.Decided
	for h := from; h <= to; h++ {
		b, err := l.chain.Store().Block(h)
		if err != nil {
			return nil, err
		}
		c, err := l.chain.Store().Commit(h)
		if err != nil {
			return nil, err
		}
		out = append(out, p2p.Decided{Block: b, Commit: c})
	}
	return out, nil
}

// BenchmarkStateSyncNetwork joins a new node to a chain of DIDs (the
// registrytest store of IDMESH_BENCH_DIR, as BenchmarkStateSyncDIDs
// uses; 100,000 by default, IDMESH_BENCH_STATESYNC_DIDS for another
// count) through the network code path: a serving node's snapshot of its
// tip, taken before the clock starts as a node takes it at its snapshot
// interval, is fetched by node.StateSync over two libp2p hosts on
// loopback (headers, chunks four at a time, each verified against the
// header's root, the base block, Finish). The same sync with the same
// snapshot served by direct calls in the process (localPeers) runs in
// the same iteration, alternating which goes first; "ratio" is its time
// over the network's (1 would mean the network costs nothing).
//
//	IDMESH_BENCH_DIR=$PWD/.bench go test -run '^$' -bench 'StateSyncNetwork' -benchtime 1x -timeout 60m ./node/
func BenchmarkStateSyncNetwork(b *testing.B) {
	dir := os.Getenv("IDMESH_BENCH_DIR")
	if dir == "" {
		b.Skip("set IDMESH_BENCH_DIR (make bench does) to build and reuse the benchmark chains")
	}
	n := uint64(100_000)
	if s := os.Getenv("IDMESH_BENCH_STATESYNC_DIDS"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v == 0 {
			b.Fatalf("IDMESH_BENCH_STATESYNC_DIDS=%q: a positive count", s)
		}
		n = v
	}
	name := fmt.Sprintf("dids-%dk", n/1000)
	if n == 1_000_000 {
		name = "dids-1m"
	}
	start := time.Now()
	stored, err := registrytest.EnsureStore(filepath.Join(dir, name), n, func(done uint64) {
		if done%50_000 == 0 {
			fmt.Fprintf(os.Stderr, "building the benchmark store: %d/%d DIDs (%s)\n", done, n, time.Since(start).Round(time.Second))
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	src, err := leveldb.Open(stored.Dir)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	g := registrytest.Genesis()
	chain, err := registry.OpenChain(src, g, registry.NewMachineDefault())
	if err != nil {
		b.Fatal(err)
	}
	tip := chain.State()
	sets, err := node.OpenValidatorSets("")
	if err != nil {
		b.Fatal(err)
	}
	gs, _ := g.ValidatorSet()
	if err := sets.Add(gs); err != nil {
		b.Fatal(err)
	}
	if err := sets.AddState(tip); err != nil {
		b.Fatal(err)
	}
	snaps := &node.Snapshots{Chain: chain, View: func() (node.SnapshotView, error) { return src.View() }, Dir: b.TempDir(), Interval: tip.Height, Sets: sets}
	if err := snaps.Open(); err != nil {
		b.Fatal(err)
	}
	defer snaps.Close()
	built := time.Now()
	snaps.Take(tip.Height)
	for len(snaps.Offers()) == 0 { // the build runs in the background
		if time.Since(built) > 30*time.Minute {
			b.Fatal("no snapshot taken")
		}
		time.Sleep(10 * time.Millisecond)
	}
	buildTime := time.Since(built)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	server, err := p2p.New(ctx, p2p.Config{ChainID: g.ChainID, Chain: node.ChainView{Chain: chain}, Blocks: node.BlockSource{Chain: chain}, Snapshots: snaps})
	if err != nil {
		b.Fatal(err)
	}
	defer server.Close()
	client, err := p2p.New(ctx, p2p.Config{ChainID: g.ChainID, Chain: emptyView{}, Bootstrap: []string{server.Addrs()[0]}})
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	for len(client.Peers()) < 1 {
		if time.Since(built) > time.Minute+buildTime {
			b.Fatal("peers not connected")
		}
		time.Sleep(10 * time.Millisecond)
	}

	type run struct {
		took, cpu time.Duration
		prog      node.StateSyncProgress
	}
	join := func(peers node.StateSyncPeers) run {
		dst, err := leveldb.Open(filepath.Join(b.TempDir(), "joined"))
		if err != nil {
			b.Fatal(err)
		}
		defer dst.Close()
		cpu0, t0 := cpuTime(), time.Now()
		res, err := (&node.StateSync{Peers: peers, Store: dst, Genesis: g}).Run(ctx)
		if err != nil {
			b.Fatal(err)
		}
		r := run{took: time.Since(t0), cpu: cpuTime() - cpu0, prog: res.Progress}
		if res.State.StateRoot != tip.StateRoot || res.State.Height != tip.Height {
			b.Fatalf("joined at %d %s, want %d %s", res.State.Height, res.State.StateRoot, tip.Height, tip.StateRoot)
		}
		return r
	}
	var netRun, localRun run
	i := 0
	for b.Loop() {
		if i%2 == 0 {
			netRun, localRun = join(client), join(localPeers{snaps: snaps, chain: chain})
		} else {
			localRun, netRun = join(localPeers{snaps: snaps, chain: chain}), join(client)
		}
		i++
	}
	e := float64(netRun.prog.Entries)
	b.ReportMetric(netRun.took.Seconds(), "s/sync")
	b.ReportMetric(e/netRun.took.Seconds(), "entries/s")
	b.ReportMetric(float64(netRun.cpu.Nanoseconds())/e/1e3, "cpu-µs/entry")
	b.ReportMetric(e, "entries")
	b.ReportMetric(float64(netRun.prog.Chunks), "chunks")
	b.ReportMetric(float64(netRun.prog.Bytes)/1e6, "MB")
	b.ReportMetric(localRun.took.Seconds(), "local-s/sync")
	b.ReportMetric(float64(localRun.cpu.Nanoseconds())/e/1e3, "local-cpu-µs/entry")
	b.ReportMetric(localRun.took.Seconds()/netRun.took.Seconds(), "ratio")
	b.ReportMetric(buildTime.Seconds(), "build-s")
}

package node_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// snapServer is a chain that serves snapshots: a registrytest chain of
// DIDs with a snapshot taken at its tip.
type snapServer struct {
	chain *registrytest.Chain
	snaps *node.Snapshots
}

func newSnapServer(t *testing.T, dids uint64) *snapServer {
	t.Helper()
	c, err := registrytest.Open("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Fill(0, dids, 25, nil); err != nil {
		t.Fatal(err)
	}
	sets, err := node.OpenValidatorSets("")
	if err != nil {
		t.Fatal(err)
	}
	g, _ := registrytest.Genesis().ValidatorSet()
	if err := sets.Add(g); err != nil {
		t.Fatal(err)
	}
	if err := sets.AddState(c.State()); err != nil {
		t.Fatal(err)
	}
	s := &node.Snapshots{Chain: c.Chain, View: func() (node.SnapshotView, error) { return c.Store.View() }, Dir: t.TempDir(),
		Interval: c.State().Height, ChunkBytes: 16 << 10, Sets: sets}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.Take(c.State().Height)
	deadline := time.Now().Add(failsafe)
	for len(s.Offers()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no snapshot taken")
		}
		time.Sleep(10 * time.Millisecond) // the build runs in the background
	}
	return &snapServer{chain: c, snaps: s}
}

// liar serves the snapshot of an honest source with one lie.
type liar struct {
	p2p.SnapshotSource
	lie    string
	height uint64
	asked  atomic.Int64
}

func (l *liar) Chunk(height uint64, index uint32) ([]byte, error) {
	l.asked.Add(1)
	raw, err := l.SnapshotSource.Chunk(height, index)
	if err != nil || index == 0 {
		return raw, err
	}
	switch l.lie {
	case "altered chunk":
		raw = bytes.Clone(raw)
		raw[len(raw)-1] ^= 1
	case "wrong height":
		c, err := snapshot.DecodeChunk(raw)
		if err != nil {
			return nil, err
		}
		c.Height--
		raw = c.Encode()
	case "chunk left out":
		return l.SnapshotSource.Chunk(height, index+1)
	}
	return raw, nil
}

func (l *liar) HeaderRead(height uint64) (*registry.Header, *registry.Commit, int, error) {
	h, c, n, err := l.SnapshotSource.HeaderRead(height)
	if err != nil || l.lie != "forged header" {
		return h, c, n, err
	}
	// Another state root, with a commit naming the forged header: its
	// signatures cannot match.
	f := *h
	f.StateRoot[0] ^= 1
	fc := *c
	fc.BlockID = f.ID()
	return &f, &fc, n, nil
}

func (l *liar) Offers() []p2p.SnapshotOffer {
	os := l.SnapshotSource.Offers()
	switch l.lie {
	case "higher offer":
		os = append(os, p2p.SnapshotOffer{Height: l.height + 50, Chunks: 3, Format: node.SnapshotFormat})
	case "older format":
		// The same snapshot, said to hold state of another layout.
		os = slices.Clone(os)
		for i := range os {
			os[i].Format = node.SnapshotFormat - 1
		}
	}
	return os
}

// startHosts starts a host per source (serving it and the chain's
// blocks) and a client host connected to them all.
func startHosts(t *testing.T, chain *registry.Chain, sources ...p2p.SnapshotSource) (*p2p.Host, []*p2p.Host) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), failsafe)
	defer cancel()
	var servers []*p2p.Host
	var boot []string
	for _, src := range sources {
		h, err := p2p.New(ctx, p2p.Config{ChainID: registrytest.ChainID, Chain: node.ChainView{Chain: chain}, Blocks: node.BlockSource{Chain: chain}, Snapshots: src, MaxSyncHeaders: 3})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		servers = append(servers, h)
		boot = append(boot, h.Addrs()[0])
	}
	empty, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	view := emptyView{}
	client, err := p2p.New(ctx, p2p.Config{ChainID: registrytest.ChainID, Chain: view, Bootstrap: boot})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	for len(client.Peers()) < len(sources) {
		if ctx.Err() != nil {
			t.Fatal("peers not connected")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return client, servers
}

// emptyView is the chain view of a node with no chain yet.
type emptyView struct{}

func (emptyView) Height() uint64                                   { return 0 }
func (emptyView) Validators(uint64) (*registry.ValidatorSet, bool) { return nil, false }

// TestStateSyncFromPeers: a node with an empty store restores the
// snapshot of a chain of DIDs from two peers, one honest and one that
// lies (an altered chunk, a chunk of another height, a chunk left out, a
// forged header with its commit, an offer of a snapshot it does not
// have, a snapshot of another format, which is never asked for): each
// lie is refused, the honest peer is asked instead, and the
// restored store opens as the chain at the snapshot's height, with the
// same state root, resolving a DID, holding no block below, and taking
// the next block.
func TestStateSyncFromPeers(t *testing.T) {
	srv := newSnapServer(t, 300)
	st := srv.chain.State()
	if o := srv.snaps.Offers(); len(o) != 1 || o[0].Chunks < 3 {
		t.Fatalf("offers %+v: want one snapshot of several chunks", o)
	}
	for _, lie := range []string{"altered chunk", "wrong height", "chunk left out", "forged header", "higher offer", "older format"} {
		t.Run(lie, func(t *testing.T) {
			l := &liar{SnapshotSource: srv.snaps, lie: lie, height: st.Height}
			client, _ := startHosts(t, srv.chain.Chain, l, srv.snaps)
			store, err := leveldb.OpenMemory()
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			var last node.StateSyncProgress
			ss := &node.StateSync{Peers: client, Store: store, Genesis: registrytest.Genesis(), Parallel: 3, Retry: 10 * time.Millisecond,
				Progress: func(p node.StateSyncProgress) { last = p }, Log: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))}
			ctx, cancel := context.WithTimeout(t.Context(), failsafe)
			defer cancel()
			res, err := ss.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if res.State.Height != st.Height || res.State.StateRoot != st.StateRoot {
				t.Fatalf("restored %d %s, want %d %s", res.State.Height, res.State.StateRoot, st.Height, st.StateRoot)
			}
			if last.Phase != "done" || last.Chunks == 0 || last.Entries == 0 || last.Bytes == 0 || last.Headers != st.Height {
				t.Fatalf("progress %+v", last)
			}
			if lie == "older format" && l.asked.Load() != 0 {
				t.Fatalf("%d chunks asked of a peer offering only a snapshot of another format", l.asked.Load())
			}
			if lie != "higher offer" && last.Refused == 0 && l.asked.Load() > 0 {
				t.Fatalf("the lie %q was not refused: %+v", lie, last)
			}
			c2, err := registry.OpenChain(store, registrytest.Genesis(), registry.NewMachineDefault())
			if err != nil {
				t.Fatal(err)
			}
			if c2.State().StateRoot != st.StateRoot {
				t.Fatal("the restored chain has another root")
			}
			if _, err := store.Block(1); !errors.Is(err, registry.ErrNotFound) {
				t.Fatalf("block 1 on the restored node: %v", err)
			}
			// The base block's header has its own key: serving it reads
			// the header, not the block; so does the server's.
			if hd, _, n, err := srv.snaps.HeaderRead(st.Height); err != nil || n != len(hd.Encode()) {
				t.Fatalf("served header: %d bytes read, %v", n, err)
			}
			if hd, n, err := store.BlockHeaderRead(st.Height); err != nil || hd.Height != st.Height || n != len(hd.Encode()) {
				t.Fatalf("base header: %+v, %d bytes read, %v", hd, n, err)
			}
			first := didOf(t, 0)
			if _, err := store.Get(idmesh.RecordKey(first)); err != nil {
				t.Errorf("DID %s not restored: %v", first, err)
			}
		})
	}
}

func didOf(t *testing.T, i uint64) string {
	t.Helper()
	op, _, err := registrytest.NewCreate(registrytest.ChainID, i)
	if err != nil {
		t.Fatal(err)
	}
	d, err := op.SubjectDID()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestStateSyncCrashStartsOver: a state sync stopped halfway (as by a
// crash) leaves a store that refuses to open as a chain; discarded, as
// the daemon does at the next start with --state-sync, it syncs again
// from scratch.
func TestStateSyncCrashStartsOver(t *testing.T) {
	srv := newSnapServer(t, 300)
	client, _ := startHosts(t, srv.chain.Chain, srv.snaps)
	dir := t.TempDir()
	store, err := leveldb.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ss := &node.StateSync{Peers: client, Store: store, Genesis: registrytest.Genesis(), Progress: func(p node.StateSyncProgress) {
		if p.Chunks == 5 {
			cancel()
		}
	}}
	if _, err := ss.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("stopped sync: %v", err)
	}
	store.Close()
	if store, err = leveldb.Open(dir); err != nil {
		t.Fatal(err)
	}
	defer func() { store.Close() }()
	if _, err := registry.OpenChain(store, registrytest.Genesis(), registry.NewMachineDefault()); !errors.Is(err, leveldb.ErrRestoring) {
		t.Fatalf("chain over a half restore: %v", err)
	}
	if err := store.DiscardRestore(); err != nil {
		t.Fatal(err)
	}
	ss = &node.StateSync{Peers: client, Store: store, Genesis: registrytest.Genesis()}
	ctx2, cancel2 := context.WithTimeout(t.Context(), failsafe)
	defer cancel2()
	res, err := ss.Run(ctx2)
	if err != nil {
		t.Fatal(err)
	}
	c, err := registry.OpenChain(store, registrytest.Genesis(), registry.NewMachineDefault())
	if err != nil || c.State().StateRoot != srv.chain.State().StateRoot || res.State.Height != srv.chain.State().Height {
		t.Fatalf("after the restart: %v", err)
	}
}

// slowBlocks holds back the base block until released.
type slowBlocks struct {
	node.StateSyncPeers
	release chan struct{}
}

func (s *slowBlocks) FetchBlocks(ctx context.Context, peerID string, from, to uint64) ([]p2p.Decided, error) {
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.StateSyncPeers.FetchBlocks(ctx, peerID, from, to)
}

// TestStateSyncReportsBaseBlockWait: between the last chunk and the end,
// progress says the base block is being fetched and for how long (the
// block is held back until such a report arrives), then that the
// restore is being finished.
func TestStateSyncReportsBaseBlockWait(t *testing.T) {
	srv := newSnapServer(t, 100)
	client, _ := startHosts(t, srv.chain.Chain, srv.snaps)
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	peers := &slowBlocks{StateSyncPeers: client, release: make(chan struct{})}
	var clock atomic.Int64
	var once sync.Once
	var reports []node.StateSyncProgress
	ss := &node.StateSync{Peers: peers, Store: store, Genesis: registrytest.Genesis(), Heartbeat: time.Millisecond,
		Now: func() time.Time { return time.Unix(clock.Add(1), 0) }, // a second a call
		Progress: func(p node.StateSyncProgress) {
			reports = append(reports, p)
			if p.Phase == "block" && p.Waited > 0 {
				once.Do(func() { close(peers.release) })
			}
		}}
	ctx, cancel := context.WithTimeout(t.Context(), failsafe)
	defer cancel()
	res, err := ss.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var waited bool
	var phases []string
	for _, p := range reports {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
		if p.Phase == "block" && p.Waited >= time.Second && p.Chunks == res.Progress.Chunks && p.Height == res.State.Height {
			waited = true
		}
	}
	if !waited {
		t.Errorf("no report of the wait for the base block: %+v", reports)
	}
	if want := []string{"offers", "headers", "chunks", "block", "finish", "done"}; !slices.Equal(phases, want) {
		t.Errorf("phases %v, want %v", phases, want)
	}
}

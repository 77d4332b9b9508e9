package node_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// govChain is a chain of toy transactions decided by test validators
// whose keys it holds, with validator-set changes by governance.
type govChain struct {
	g     *registry.Genesis
	keys  map[registry.Address]ed25519.PrivateKey
	chain *registry.Chain
	last  *registry.Commit
	gov   uint64
}

func govKey(i int) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i + 1)}, ed25519.SeedSize))
}

func govValidators(ids ...int) []registry.Validator {
	var vs []registry.Validator
	for _, i := range ids {
		vs = append(vs, registry.Validator{PubKey: govKey(i).Public().(ed25519.PublicKey), Power: 10})
	}
	return vs
}

func govMachine() *registry.Machine {
	return registry.NewMachine(map[registry.TxType]registry.Handler{
		registry.TxDIDOperation: registrytest.ToyHandler{},
		registry.TxValidatorSet: registry.ValidatorSetHandler{},
	})
}

func govGenesis() *registry.Genesis {
	return &registry.Genesis{ChainID: "gov", GenesisTime: time.Unix(1_700_000_000, 0).UTC(), Validators: govValidators(0, 1, 2)}
}

func newGovChain(t *testing.T) *govChain {
	t.Helper()
	c := &govChain{g: govGenesis(), keys: map[registry.Address]ed25519.PrivateKey{}}
	for i := range 6 {
		k := govKey(i)
		c.keys[registry.AddressOf(k.Public().(ed25519.PublicKey))] = k
	}
	s, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if c.chain, err = registry.OpenChain(s, c.g, govMachine()); err != nil {
		t.Fatal(err)
	}
	return c
}

// next builds the next block of txs and commits it signed by every
// validator of the set deciding it.
func (c *govChain) next(t *testing.T, txs ...registry.Tx) {
	t.Helper()
	st := c.chain.State()
	b, rej, err := c.chain.Propose(txs, st.LastBlockTime.Add(time.Second), st.Validators.Validators[0].Address(), c.last)
	if err != nil || len(rej) > 0 {
		t.Fatalf("propose: %v %v", err, rej)
	}
	id := b.ID()
	commit := &registry.Commit{Height: b.Header.Height, BlockID: id}
	for _, v := range st.Validators.Validators {
		commit.Signatures = append(commit.Signatures, registry.CommitSig{Validator: v.Address(),
			Signature: ed25519.Sign(c.keys[v.Address()], registry.VoteSignBytes(c.g.ChainID, b.Header.Height, 0, id))})
	}
	if _, err := c.chain.Commit(b, commit); err != nil {
		t.Fatal(err)
	}
	c.last = commit
}

// change is a governance transaction replacing the validators with ids,
// signed by the current set.
func (c *govChain) change(t *testing.T, ids ...int) registry.Tx {
	t.Helper()
	ch := &registry.ValidatorSetChange{ChainID: c.g.ChainID, Sequence: c.gov, Validators: govValidators(ids...)}
	for _, v := range c.chain.State().Validators.Validators {
		if err := ch.Sign(c.keys[v.Address()]); err != nil {
			t.Fatal(err)
		}
	}
	c.gov++
	tx, err := ch.Tx()
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func toys(prefix string, n int) []registry.Tx {
	var txs []registry.Tx
	for i := range n {
		txs = append(txs, registrytest.ToyTx(fmt.Sprintf("set %s%04d value-%d", prefix, i, i)))
	}
	return txs
}

// TestValidatorSetsAfterBlockSync: a chain changes its validators twice
// by governance ({0,1,2} to {1,2,3} to {2,3,4}); a node that reaches its
// tip by block sync, starting with only the genesis set recorded as the
// daemon starts, records every set (in its file, which reopens with
// them), serves the headers across both changes, and a third node
// state-syncs from it alone.
func TestValidatorSetsAfterBlockSync(t *testing.T) {
	src := newGovChain(t)
	src.next(t, toys("a", 40)...)
	src.next(t, src.change(t, 1, 2, 3))
	src.next(t, toys("b", 40)...)
	src.next(t, toys("c", 40)...)
	src.next(t, src.change(t, 2, 3, 4))
	for i := range 5 {
		src.next(t, toys(fmt.Sprintf("d%d", i), 30)...)
	}
	tip := src.chain.State()

	// The node that block-syncs: its sets start as the daemon's do.
	storeB, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { storeB.Close() })
	chainB, err := registry.OpenChain(storeB, src.g, govMachine())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "validator-sets.json")
	setsB, err := node.OpenValidatorSets(path)
	if err != nil {
		t.Fatal(err)
	}
	gs, _ := src.g.ValidatorSet()
	if err := setsB.Add(gs); err != nil {
		t.Fatal(err)
	}
	if err := setsB.AddState(chainB.State()); err != nil {
		t.Fatal(err)
	}
	nodeB, err := node.New(chainB, node.Options{ValidatorSets: setsB})
	if err != nil {
		t.Fatal(err)
	}
	snapsB := &node.Snapshots{Chain: chainB, View: func() (node.SnapshotView, error) { return storeB.View() }, Dir: t.TempDir(),
		Interval: tip.Height, ChunkBytes: 1 << 10, Sets: setsB}
	if err := snapsB.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(snapsB.Close)

	ctx, cancel := context.WithTimeout(t.Context(), failsafe)
	defer cancel()
	hostA, err := p2p.New(ctx, p2p.Config{ChainID: src.g.ChainID, Chain: node.ChainView{Chain: src.chain}, Blocks: node.BlockSource{Chain: src.chain}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hostA.Close() })
	// Three headers an answer: the batches cross both changes.
	hostB, err := p2p.New(ctx, p2p.Config{ChainID: src.g.ChainID, Chain: node.ChainView{Chain: chainB}, Blocks: node.BlockSource{Chain: chainB},
		Snapshots: snapsB, MaxSyncHeaders: 3, Bootstrap: []string{hostA.Addrs()[0]}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hostB.Close() })
	waitPeers(t, ctx, hostB, 1)
	if err := node.Sync(ctx, hostB, nodeB, slog.New(slog.DiscardHandler), nil); err != nil {
		t.Fatal(err)
	}
	if got := chainB.State(); got.Height != tip.Height || got.StateRoot != tip.StateRoot {
		t.Fatalf("block sync reached %d, want %d", got.Height, tip.Height)
	}
	want := []registry.Hash{gs.Hash(), mustSet(t, 1, 2, 3).Hash(), mustSet(t, 2, 3, 4).Hash()}
	reopened, err := node.OpenValidatorSets(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range want {
		if _, ok := setsB.Get(h); !ok {
			t.Errorf("set %s not recorded by block sync", h)
		}
		if _, ok := reopened.Get(h); !ok {
			t.Errorf("set %s not in the file", h)
		}
	}
	if reopened.Len() != len(want) {
		t.Errorf("the file holds %d sets, want %d", reopened.Len(), len(want))
	}

	snapsB.Take(tip.Height)
	for len(snapsB.Offers()) == 0 {
		if ctx.Err() != nil {
			t.Fatal("no snapshot taken")
		}
		time.Sleep(10 * time.Millisecond) // the build runs in the background
	}
	// Every header across both changes, from B.
	hostC, err := p2p.New(ctx, p2p.Config{ChainID: src.g.ChainID, Chain: emptyView{}, Bootstrap: []string{hostB.Addrs()[0]}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hostC.Close() })
	waitPeers(t, ctx, hostC, 1)
	peerB := hostC.Peers()[0]
	for from := uint64(1); from <= tip.Height; {
		b, err := hostC.FetchHeaders(ctx, peerB, from, tip.Height)
		if err != nil || len(b.Headers) == 0 {
			t.Fatalf("headers from %d: %v", from, err)
		}
		from += uint64(len(b.Headers))
	}
	storeC, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { storeC.Close() })
	var phases []string
	ss := &node.StateSync{Peers: hostC, Store: storeC, Genesis: src.g, Retry: 10 * time.Millisecond, Progress: func(p node.StateSyncProgress) {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
	}}
	res, err := ss.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.State.Height != tip.Height || res.State.StateRoot != tip.StateRoot {
		t.Fatalf("state synced %d %s, want %d %s", res.State.Height, res.State.StateRoot, tip.Height, tip.StateRoot)
	}
	var got []registry.Hash
	for _, vs := range res.Sets {
		if h := vs.Hash(); !slices.Contains(got, h) {
			got = append(got, h)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("state sync met sets %v, want %v", got, want)
	}
	if wantPhases := []string{"offers", "headers", "chunks", "block", "finish", "done"}; !slices.Equal(phases, wantPhases) {
		t.Errorf("phases %v, want %v", phases, wantPhases)
	}
}

func mustSet(t *testing.T, ids ...int) *registry.ValidatorSet {
	t.Helper()
	vs, err := registry.NewValidatorSet(govValidators(ids...))
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func waitPeers(t *testing.T, ctx context.Context, h *p2p.Host, n int) {
	t.Helper()
	for len(h.Peers()) < n {
		if ctx.Err() != nil {
			t.Fatal("peers not connected")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestValidatorSetsSaveRetried: a save that fails leaves the set in
// memory and an error; the next Add, even with nothing new, saves it,
// and the file never holds a part of a write (it is replaced whole).
func TestValidatorSetsSaveRetried(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "validator-sets.json")
	v, err := node.OpenValidatorSets(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := mustSet(t, 0, 1, 2), mustSet(t, 1, 2, 3)
	if err := v.Add(a); err != nil {
		t.Fatal(err)
	}
	// The temporary file cannot be created: a directory is in its way.
	if err := os.Mkdir(path+".tmp", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := v.Add(b); err == nil {
		t.Fatal("a failed save reported no error")
	}
	if r, err := node.OpenValidatorSets(path); err != nil || r.Len() != 1 {
		t.Fatalf("after the failed save the file holds %v sets (%v), want the 1 before", r, err)
	}
	if err := os.Remove(path + ".tmp"); err != nil {
		t.Fatal(err)
	}
	if err := v.Add(a); err != nil { // nothing new: the save is retried
		t.Fatal(err)
	}
	r, err := node.OpenValidatorSets(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Get(b.Hash()); !ok || r.Len() != 2 {
		t.Fatalf("the retried save holds %d sets", r.Len())
	}
	// A torn file is refused, never read as fewer sets.
	raw, _ := os.ReadFile(path)
	if err := os.WriteFile(path, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := node.OpenValidatorSets(path); err == nil {
		t.Fatal("a torn file opened")
	}
}

// TestHeadersRefusedWithoutSet: a node whose record lacks a set (a home
// from before sets were recorded after block sync) never guesses it: it
// answers headers that need it with an error naming the height, and
// serves those that do not.
func TestHeadersRefusedWithoutSet(t *testing.T) {
	src := newGovChain(t)
	src.next(t, toys("a", 10)...)
	src.next(t, src.change(t, 1, 2, 3))
	src.next(t, toys("b", 10)...)
	src.next(t, toys("c", 10)...)
	sets, err := node.OpenValidatorSets("")
	if err != nil {
		t.Fatal(err)
	}
	gs, _ := src.g.ValidatorSet()
	if err := sets.Add(gs); err != nil { // the genesis set only
		t.Fatal(err)
	}
	snaps := &node.Snapshots{Chain: src.chain, View: func() (node.SnapshotView, error) { return nil, fmt.Errorf("no views") }, Dir: t.TempDir(), Sets: sets}
	if err := snaps.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(snaps.Close)
	ctx, cancel := context.WithTimeout(t.Context(), failsafe)
	defer cancel()
	server, err := p2p.New(ctx, p2p.Config{ChainID: src.g.ChainID, Chain: node.ChainView{Chain: src.chain}, Blocks: node.BlockSource{Chain: src.chain}, Snapshots: snaps})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	client, err := p2p.New(ctx, p2p.Config{ChainID: src.g.ChainID, Chain: emptyView{}, Bootstrap: []string{server.Addrs()[0]}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	waitPeers(t, ctx, client, 1)
	peer := client.Peers()[0]
	// Headers 1 and 2 are decided by the genesis set, which names the
	// new set as next from height 2 on.
	if b, err := client.FetchHeaders(ctx, peer, 1, 1); err != nil || len(b.Headers) != 1 || b.Next == nil {
		t.Fatalf("header 1: %+v %v", b, err)
	}
	_, err = client.FetchHeaders(ctx, peer, 1, 4)
	if err == nil || !strings.Contains(err.Error(), "validator set of height") {
		t.Fatalf("headers across the missing set: %v", err)
	}
}

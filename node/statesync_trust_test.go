package node_test

// The long-range attack on state sync (security review R3's one high
// finding left): a validator set that governance replaced signs another
// chain from a height it decided. These tests build the real chain, whose
// genesis set (keys 1-3) hands over to keys 4-6 at height 4, and a fork
// the genesis set signs from height 2 on, each a registry chain serving
// snapshots, and sync a new node against them with a checkpoint, with a
// cross-check, and with neither.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// lrNet is a chain decided by test validators whose keys it holds.
type lrNet struct {
	g     *registry.Genesis
	keys  map[registry.Address]ed25519.PrivateKey
	chain *registry.Chain
	store *leveldb.Store
	gov   uint64
	sets  []*registry.ValidatorSet
}

func lrKey(i int) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i)}, ed25519.SeedSize))
}

func lrValidators(ids ...int) []registry.Validator {
	var vs []registry.Validator
	for _, i := range ids {
		vs = append(vs, registry.Validator{PubKey: lrKey(i).Public().(ed25519.PublicKey), Power: 10})
	}
	return vs
}

// lrGenesis is the chain's genesis: keys 1, 2 and 3.
func lrGenesis() *registry.Genesis {
	return &registry.Genesis{ChainID: registrytest.ChainID, GenesisTime: time.Unix(1_760_000_000, 0).UTC(), Validators: lrValidators(1, 2, 3)}
}

func newLRNet(t *testing.T) *lrNet {
	t.Helper()
	n := &lrNet{g: lrGenesis(), keys: map[registry.Address]ed25519.PrivateKey{}}
	for i := 1; i <= 6; i++ {
		k := lrKey(i)
		n.keys[registry.AddressOf(k.Public().(ed25519.PublicKey))] = k
	}
	s, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	n.store = s
	if n.chain, err = registry.OpenChain(s, n.g, registry.NewMachineDefault()); err != nil {
		t.Fatal(err)
	}
	gs, _ := n.g.ValidatorSet()
	n.sets = append(n.sets, gs)
	return n
}

// next commits a block of txs, signed by every validator of the set
// deciding it.
func (n *lrNet) next(t *testing.T, txs ...registry.Tx) *registry.Block {
	t.Helper()
	st := n.chain.State()
	var last *registry.Commit
	if st.Height > 0 {
		var err error
		if last, err = n.store.Commit(st.Height); err != nil {
			t.Fatal(err)
		}
	}
	b, rej, err := n.chain.Propose(txs, st.LastBlockTime.Add(time.Second), st.Validators.Validators[0].Address(), last)
	if err != nil || len(rej) > 0 {
		t.Fatalf("propose: %v %v", err, rej)
	}
	id := b.ID()
	c := &registry.Commit{Height: b.Header.Height, BlockID: id}
	for _, v := range st.Validators.Validators {
		c.Signatures = append(c.Signatures, registry.CommitSig{Validator: v.Address(),
			Signature: ed25519.Sign(n.keys[v.Address()], registry.VoteSignBytes(n.g.ChainID, b.Header.Height, 0, id))})
	}
	if _, err := n.chain.Commit(b, c); err != nil {
		t.Fatal(err)
	}
	n.sets = append(n.sets, n.chain.State().NextValidators)
	return b
}

// dids commits the creates [from, from+count) in one block.
func (n *lrNet) dids(t *testing.T, from, count uint64) {
	t.Helper()
	txs, _, err := registrytest.CreateOps(from, count)
	if err != nil {
		t.Fatal(err)
	}
	n.next(t, txs...)
}

// handOver commits the governance change to keys ids, signed by the
// current set.
func (n *lrNet) handOver(t *testing.T, ids ...int) {
	t.Helper()
	c := &registry.ValidatorSetChange{ChainID: n.g.ChainID, Sequence: n.gov, Validators: lrValidators(ids...)}
	for _, v := range n.chain.State().Validators.Validators {
		if err := c.Sign(n.keys[v.Address()]); err != nil {
			t.Fatal(err)
		}
	}
	n.gov++
	tx, err := c.Tx()
	if err != nil {
		t.Fatal(err)
	}
	n.next(t, tx)
}

// serve takes a snapshot at the tip and serves it.
func (n *lrNet) serve(t *testing.T) *snapServer {
	t.Helper()
	sets, err := node.OpenValidatorSets("")
	if err != nil {
		t.Fatal(err)
	}
	if err := sets.Add(n.sets...); err != nil {
		t.Fatal(err)
	}
	if err := sets.AddState(n.chain.State()); err != nil {
		t.Fatal(err)
	}
	s := &node.Snapshots{Chain: n.chain, View: func() (node.SnapshotView, error) { return n.store.View() }, Dir: t.TempDir(),
		Interval: n.chain.State().Height, ChunkBytes: 16 << 10, Sets: sets}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.Take(n.chain.State().Height)
	deadline := time.Now().Add(failsafe)
	for len(s.Offers()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no snapshot taken")
		}
		time.Sleep(10 * time.Millisecond) // the build runs in the background
	}
	return &snapServer{chain: &registrytest.Chain{Chain: n.chain, Store: n.store}, snaps: s}
}

// blockID returns the ID of the block at height.
func (n *lrNet) blockID(t *testing.T, height uint64) registry.Hash {
	t.Helper()
	b, err := n.store.Block(height)
	if err != nil {
		t.Fatal(err)
	}
	return b.ID()
}

// longRange returns the real chain (genesis set until height 3, keys
// 4-6 from height 4, tip 6) and a fork the genesis set signed after the
// hand-over, from height 2 (tip 8: it offers the higher snapshot).
func longRange(t *testing.T) (real, fork *lrNet) {
	t.Helper()
	real, fork = newLRNet(t), newLRNet(t)
	for _, n := range []*lrNet{real, fork} {
		n.dids(t, 0, 20) // the same block 1
	}
	real.handOver(t, 4, 5, 6) // decides height 4 on
	for i := range uint64(4) {
		real.dids(t, 100+10*i, 10)
	}
	for i := range uint64(7) {
		fork.dids(t, 500+10*i, 10) // keys 1-3 forever
	}
	if real.blockID(t, 1) != fork.blockID(t, 1) || real.blockID(t, 2) == fork.blockID(t, 2) {
		t.Fatal("the chains do not fork at height 2")
	}
	if st := real.chain.State(); st.Height != 6 || st.Validators.Hash() == fork.sets[0].Hash() {
		t.Fatalf("the real chain is at %d with the genesis set", st.Height)
	}
	return real, fork
}

// listed is r3Peers that lists its peers as connected (as *p2p.Host
// does), so that the cross-check asks peers offering no snapshot.
type listed struct{ *r3Peers }

func (l listed) Peers() []string { return l.order }

// stalled answers header ranges of peer only when ctx ends (a peer that
// stops answering), its one-header answers as its peers do.
type stalled struct {
	listed
	peer string
}

func (s stalled) FetchHeaders(ctx context.Context, id string, from, to uint64) (p2p.HeaderBatch, error) {
	if id == s.peer && from != to {
		<-ctx.Done()
		return p2p.HeaderBatch{}, ctx.Err()
	}
	return s.listed.FetchHeaders(ctx, id, from, to)
}

// lrSync syncs an empty store of the long-range genesis from peers.
func lrSync(t *testing.T, peers node.StateSyncPeers, timeout time.Duration, set func(*node.StateSync)) (*node.StateSyncResult, string, *leveldb.Store, error) {
	t.Helper()
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	var logs logBuf
	ss := &node.StateSync{Peers: peers, Store: store, Genesis: lrGenesis(), Parallel: 2, Retry: time.Millisecond, RequestTimeout: 5 * time.Second,
		CrossCheckWait: 50 * time.Millisecond, Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if set != nil {
		set(ss)
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	res, err := ss.Run(ctx)
	return res, logs.String(), store, err
}

// emptyStore fails t unless store holds nothing of a chain.
func emptyStore(t *testing.T, store *leveldb.Store) {
	t.Helper()
	if st, ok, err := store.State(); err != nil || ok {
		t.Fatalf("the store holds a chain state (height %d): %v", st.Height, err)
	}
	if _, err := store.Genesis(); err == nil {
		t.Fatal("the store holds a genesis")
	}
	if err := store.DiscardRestore(); err == nil {
		t.Fatal("the store holds an unfinished restore")
	}
}

func peersOf(srvs map[string]*snapServer, order ...string) *r3Peers {
	ps := &r3Peers{order: order, peers: map[string]*r3Peer{}}
	for id, s := range srvs {
		ps.peers[id] = &r3Peer{srv: s}
	}
	return ps
}

// TestStateSyncCheckpoint: the header chain must hold the checkpoint's
// block. With the real block ID at the hand-over height, or at the
// snapshot's height, the sync completes; with another ID it fails with
// ErrTrustMismatch naming the height and both IDs, the store left
// empty; a checkpoint above every offer refuses them all.
func TestStateSyncCheckpoint(t *testing.T) {
	real, _ := longRange(t)
	srv := real.serve(t)
	for _, c := range []struct {
		name  string
		trust node.StateSyncTrust
		want  error
	}{
		{"hand-over height", node.StateSyncTrust{Height: 4, BlockID: real.blockID(t, 4)}, nil},
		{"snapshot height", node.StateSyncTrust{Height: 6, BlockID: real.blockID(t, 6)}, nil},
		{"first height", node.StateSyncTrust{Height: 1, BlockID: real.blockID(t, 1)}, nil},
		{"wrong block", node.StateSyncTrust{Height: 4, BlockID: real.blockID(t, 3)}, node.ErrTrustMismatch},
		{"wrong block at the snapshot", node.StateSyncTrust{Height: 6, BlockID: registry.Hash{1}}, node.ErrTrustMismatch},
	} {
		t.Run(c.name, func(t *testing.T) {
			trust := c.trust
			res, logs, store, err := lrSync(t, peersOf(map[string]*snapServer{"real": srv}, "real"), failsafe, func(s *node.StateSync) { s.Trust = &trust })
			if !errors.Is(err, c.want) {
				t.Fatalf("sync with checkpoint %s: %v, want %v\n%s", trust, err, c.want, logs)
			}
			if c.want == nil {
				if res.State.StateRoot != real.chain.State().StateRoot {
					t.Fatal("another state root")
				}
				return
			}
			for _, w := range []string{fmt.Sprint(trust.Height), trust.BlockID.String(), real.blockID(t, trust.Height).String()} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error %q does not name %s", err, w)
				}
			}
			emptyStore(t, store)
		})
	}
	t.Run("above every offer", func(t *testing.T) {
		trust := node.StateSyncTrust{Height: 7, BlockID: registry.Hash{7}}
		_, logs, store, err := lrSync(t, peersOf(map[string]*snapServer{"real": srv}, "real"), 300*time.Millisecond, func(s *node.StateSync) { s.Trust = &trust })
		if !errors.Is(err, node.ErrNoSnapshot) || !strings.Contains(logs, "refusing offers below the checkpoint's height") {
			t.Fatalf("offers below the checkpoint: %v\n%s", err, logs)
		}
		emptyStore(t, store)
	})
}

// TestStateSyncLongRangeCheckpoint: the fork (signed by the replaced
// genesis set, offering a higher snapshot) is picked first and its
// header chain verifies from the genesis, but it does not hold the
// checkpoint's block: it is refused, and the real chain's snapshot is
// restored. Without a checkpoint or another peer the fork's state would
// be restored, with a warning (the limit that remains).
func TestStateSyncLongRangeCheckpoint(t *testing.T) {
	real, fork := longRange(t)
	rs, fs := real.serve(t), fork.serve(t)
	if _, err := snapshot.VerifyHeaders(lrGenesis(), forkHeaders(t, fs), fork.chain.State().NextValidators); err != nil {
		t.Fatalf("the fork does not verify from the genesis (no attack to test): %v", err)
	}
	trust := node.StateSyncTrust{Height: 4, BlockID: real.blockID(t, 4)}
	res, logs, _, err := lrSync(t, peersOf(map[string]*snapServer{"fork": fs, "real": rs}, "fork", "real"), failsafe, func(s *node.StateSync) { s.Trust = &trust })
	if err != nil {
		t.Fatalf("sync with the checkpoint: %v\n%s", err, logs)
	}
	if res.State.StateRoot != real.chain.State().StateRoot || res.State.Height != 6 {
		t.Fatalf("restored height %d: not the real chain", res.State.Height)
	}
	if !strings.Contains(logs, `msg="state sync: peer refused" peer=fork`) || res.Progress.Refused == 0 {
		t.Fatalf("the fork was not refused:\n%s", logs)
	}

	// The limit: alone, with neither, the fork wins (with a warning).
	res, logs, _, err = lrSync(t, peersOf(map[string]*snapServer{"fork": fs}, "fork"), failsafe, nil)
	if err != nil || res.State.StateRoot != fork.chain.State().StateRoot {
		t.Fatalf("the lone fork: %v", err)
	}
	if !strings.Contains(logs, "no other peer confirmed the header") {
		t.Fatalf("no warning on an unconfirmed header:\n%s", logs)
	}
	// Required without a checkpoint: refused.
	_, logs, store, err := lrSync(t, peersOf(map[string]*snapServer{"fork": fs}, "fork"), failsafe, func(s *node.StateSync) { s.CrossCheck = node.CrossCheckRequired })
	if !errors.Is(err, node.ErrNotCrossChecked) {
		t.Fatalf("the lone fork with the cross-check required: %v\n%s", err, logs)
	}
	emptyStore(t, store)
}

// forkHeaders returns srv's headers 1..tip as a syncing node gets them.
func forkHeaders(t *testing.T, srv *snapServer) []snapshot.SignedHeader {
	t.Helper()
	var out []snapshot.SignedHeader
	for h := uint64(1); h <= srv.chain.State().Height; {
		b, err := honestHeaders(srv, h, srv.chain.State().Height)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b.Headers...)
		h += uint64(len(b.Headers))
	}
	return out
}

// TestStateSyncLongRangeCrossCheck: without a checkpoint, the fork and
// the real chain both verify from the genesis. The fork's snapshot
// (height 8, above the real tip) is cross-checked with the real peer,
// which has no header 8 and is asked for its highest header below (6)
// instead.
// The conflict is logged with the peers and blocks and counted, and the
// sync fails with ErrHeaderConflict at once (security review R6: a proven
// conflict ends the run, the next offer is not tried), naming the count,
// the store left empty.
func TestStateSyncLongRangeCrossCheck(t *testing.T) {
	real, fork := longRange(t)
	rs, fs := real.serve(t), fork.serve(t)
	var prog node.StateSyncProgress
	_, logs, store, err := lrSync(t, peersOf(map[string]*snapServer{"fork": fs, "real": rs}, "fork", "real"), failsafe, func(s *node.StateSync) {
		s.Progress = func(p node.StateSyncProgress) { prog = p }
	})
	if !errors.Is(err, node.ErrHeaderConflict) {
		t.Fatalf("sync against a fork and the real chain: %v\n%s", err, logs)
	}
	for _, w := range []string{"fork", "real", real.blockID(t, 6).String(), fork.blockID(t, 6).String()} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error %q does not name %s", err, w)
		}
	}
	if n := strings.Count(logs, `msg="state sync: peers disagree on a verified header"`); n != 1 {
		t.Errorf("%d conflicts logged, want 1:\n%s", n, logs)
	}
	if prog.Conflicts != 1 || !strings.Contains(err.Error(), "conflicts: 1;") {
		t.Errorf("conflicts counted: %d, want 1, named in %q", prog.Conflicts, err)
	}
	if strings.Contains(logs, "state sync: peer refused") {
		t.Errorf("a peer was refused as a liar:\n%s", grepLines(logs, "peer refused"))
	}
	emptyStore(t, store)
}

// TestStateSyncCrossCheckAgrees: a second real peer that offers no
// snapshot (a connected peer) confirms the header, in required mode too.
func TestStateSyncCrossCheckAgrees(t *testing.T) {
	real, _ := longRange(t)
	rs := real.serve(t)
	ps := peersOf(map[string]*snapServer{"real": rs, "witness": rs}, "real", "witness")
	ps.peers["witness"].offers = func(int) []p2p.SnapshotOffer { return nil }
	res, logs, _, err := lrSync(t, listed{ps}, failsafe, func(s *node.StateSync) { s.CrossCheck = node.CrossCheckRequired })
	if err != nil || res.State.StateRoot != real.chain.State().StateRoot {
		t.Fatalf("sync with a confirming witness: %v\n%s", err, logs)
	}
	if !strings.Contains(logs, `msg="state sync: header cross-checked" height=6`) || !strings.Contains(logs, "agreed=1") {
		t.Fatalf("no cross-check logged:\n%s", logs)
	}
	// A checkpoint stands in for the confirmation of a required
	// cross-check.
	trust := node.StateSyncTrust{Height: 6, BlockID: real.blockID(t, 6)}
	if _, logs, _, err := lrSync(t, peersOf(map[string]*snapServer{"real": rs}, "real"), failsafe, func(s *node.StateSync) {
		s.CrossCheck, s.Trust = node.CrossCheckRequired, &trust
	}); err != nil {
		t.Fatalf("a lone peer, required, with a checkpoint: %v\n%s", err, logs)
	}
}

// TestStateSyncCrossCheckLiars: peers without any validator key answer
// the cross-check with other headers (an altered header with its commit
// re-aimed; a header signed by a validator set of their own, as many
// peers at once). Each is refused as a liar, none counts as a conflict,
// at most the bound of peers is asked, and the sync completes from the
// real peer. A peer whose chain never comes is given up within the
// bound.
func TestStateSyncCrossCheckLiars(t *testing.T) {
	real, _ := longRange(t)
	rs := real.serve(t)
	own := lrKey(9)
	ownSet := &registry.ValidatorSet{Validators: lrValidators(9)}
	forged := func(kind string) func(from, to uint64) (p2p.HeaderBatch, error) {
		return func(from, to uint64) (p2p.HeaderBatch, error) {
			b, err := honestHeaders(rs, from, to)
			if err != nil || to != from {
				return b, err
			}
			sh := &b.Headers[0]
			switch kind {
			case "altered":
				sh.Header.StateRoot[0] ^= 1
				c := *sh.Commit
				c.BlockID = sh.Header.ID()
				sh.Commit = &c
				sh.Validators, _ = rs.snaps.ValidatorSet(sh.Header.ValidatorsHash)
			case "own set":
				sh.Header.ValidatorsHash = ownSet.Hash()
				id := sh.Header.ID()
				sh.Validators = ownSet
				sh.Commit = &registry.Commit{Height: from, BlockID: id, Signatures: []registry.CommitSig{{Validator: registry.AddressOf(own.Public().(ed25519.PublicKey)),
					Signature: ed25519.Sign(own, registry.VoteSignBytes(registrytest.ChainID, from, 0, id))}}}
			}
			return b, nil
		}
	}
	ps := &r3Peers{order: []string{"real", "altered", "stall"}, peers: map[string]*r3Peer{
		"real":    {srv: rs},
		"altered": {srv: rs, heads: forged("altered"), offers: func(int) []p2p.SnapshotOffer { return nil }},
		// Its own set's header, then its chain from the genesis never
		// comes (stalled): the check of its chain is bounded.
		"stall": {srv: rs, offers: func(int) []p2p.SnapshotOffer { return nil }, heads: forged("own set")},
	}}
	asked := map[string]bool{}
	for i := range 40 {
		id := fmt.Sprintf("sybil%02d", i)
		ps.order = append(ps.order, id)
		h := forged("own set")
		ps.peers[id] = &r3Peer{srv: rs, offers: func(int) []p2p.SnapshotOffer { return nil }, heads: func(from, to uint64) (p2p.HeaderBatch, error) {
			ps.mu.Lock()
			asked[id] = true
			ps.mu.Unlock()
			return h(from, to)
		}}
	}
	var prog node.StateSyncProgress
	res, logs, _, err := lrSync(t, stalled{listed{ps}, "stall"}, failsafe, func(s *node.StateSync) {
		s.Progress = func(p node.StateSyncProgress) { prog = p }
		s.RequestTimeout = 300 * time.Millisecond
	})
	if err != nil || res.State.StateRoot != real.chain.State().StateRoot {
		t.Fatalf("sync with lying witnesses: %v\n%s", err, logs)
	}
	if !strings.Contains(logs, `msg="state sync: a peer's different header did not verify" peer=stall`) {
		t.Errorf("the stalling peer's chain was not given up:\n%s", grepLines(logs, "stall"))
	}
	if prog.Conflicts != 0 || strings.Contains(logs, "peers disagree") {
		t.Fatalf("a liar counted as a conflict:\n%s", logs)
	}
	if !strings.Contains(logs, `msg="state sync: peer refused" peer=altered what="cross-check header"`) {
		t.Errorf("the altered header was not refused:\n%s", logs)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(asked) == 0 || len(asked)+2 > 16 {
		t.Errorf("%d of 40 sybils asked (and the altered and stalling peers), want 1 to 16 in all", len(asked))
	}
	for id := range asked {
		if !strings.Contains(logs, `msg="state sync: peer refused" peer=`+id+" ") {
			t.Errorf("%s was asked and not refused", id)
		}
	}
}

// TestStateSyncCheckpointSettlesConflict: with a checkpoint (the real
// block at the snapshot's height, 6), a fork that answers the
// cross-check with another header is a liar, not a conflict: at the
// checkpoint's height its chain, verified from the genesis, fails the
// checkpoint; below it (the fork lacks height 6 and is asked at the
// height it offers, 5) no chain through another block can hold the
// checkpoint. The fork is refused and the real snapshot taken.
func TestStateSyncCheckpointSettlesConflict(t *testing.T) {
	real, fork := longRange(t)
	rs, fs := real.serve(t), fork.serve(t)
	trust := node.StateSyncTrust{Height: 6, BlockID: real.blockID(t, 6)}
	for _, below := range []bool{false, true} {
		t.Run(fmt.Sprintf("below=%v", below), func(t *testing.T) {
			ps := peersOf(map[string]*snapServer{"fork": fs, "real": rs}, "real", "fork")
			ps.peers["fork"].offers = func(int) []p2p.SnapshotOffer { return nil } // only asked in the cross-check
			if below {
				ps.peers["fork"].offers = func(int) []p2p.SnapshotOffer {
					return []p2p.SnapshotOffer{{Height: 5, Chunks: 1, Format: node.SnapshotFormat}} // below the checkpoint: never picked
				}
				ps.peers["fork"].heads = func(from, to uint64) (p2p.HeaderBatch, error) {
					if from == 6 {
						return p2p.HeaderBatch{}, fmt.Errorf("%w: no header at 6", p2p.ErrRemote)
					}
					return honestHeaders(fs, from, to)
				}
			}
			res, logs, _, err := lrSync(t, listed{ps}, failsafe, func(s *node.StateSync) { s.Trust = &trust })
			if err != nil || res.State.StateRoot != real.chain.State().StateRoot {
				t.Fatalf("sync: %v\n%s", err, logs)
			}
			if res.Progress.Conflicts != 0 || !strings.Contains(logs, `msg="state sync: peer refused" peer=fork`) {
				t.Fatalf("the fork was not refused as off the checkpoint's chain (conflicts %d):\n%s", res.Progress.Conflicts, logs)
			}
			if below != strings.Contains(logs, "below the checkpoint, on another chain") {
				t.Fatalf("below=%v, refused for:\n%s", below, grepLines(logs, "peer=fork"))
			}
		})
	}
}

// TestStateSyncLongRangeOverP2P: the same through libp2p hosts (the
// real snapshot protocol, three headers an answer; the cross-check asks
// the host's connected peers): without a checkpoint the fork and the real
// chain conflict and the sync fails; with one the real state is restored.
func TestStateSyncLongRangeOverP2P(t *testing.T) {
	real, fork := longRange(t)
	rs, fs := real.serve(t), fork.serve(t)
	ctx, cancel := context.WithTimeout(t.Context(), failsafe)
	defer cancel()
	var boot []string
	for _, n := range []struct {
		c   *registry.Chain
		src p2p.SnapshotSource
	}{{fork.chain, fs.snaps}, {real.chain, rs.snaps}} {
		h, err := p2p.New(ctx, p2p.Config{ChainID: registrytest.ChainID, Chain: node.ChainView{Chain: n.c}, Blocks: node.BlockSource{Chain: n.c}, Snapshots: n.src, MaxSyncHeaders: 3})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		boot = append(boot, h.Addrs()[0])
	}
	client, err := p2p.New(ctx, p2p.Config{ChainID: registrytest.ChainID, Chain: emptyView{}, Bootstrap: boot})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	for len(client.Peers()) < 2 {
		if ctx.Err() != nil {
			t.Fatal("peers not connected")
		}
		time.Sleep(10 * time.Millisecond) // polling the connection count
	}
	_, logs, store, err := lrSync(t, client, failsafe, nil)
	if !errors.Is(err, node.ErrHeaderConflict) || strings.Count(logs, "peers disagree on a verified header") != 1 {
		t.Fatalf("without a checkpoint: %v\n%s", err, logs)
	}
	emptyStore(t, store)
	trust := node.StateSyncTrust{Height: 4, BlockID: real.blockID(t, 4)}
	res, logs, _, err := lrSync(t, client, failsafe, func(s *node.StateSync) { s.Trust = &trust })
	if err != nil || res.State.StateRoot != real.chain.State().StateRoot {
		t.Fatalf("with a checkpoint: %v\n%s", err, logs)
	}
}

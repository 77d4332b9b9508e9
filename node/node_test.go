package node_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/node/privval"
	"github.com/idmesh/idmesh/node/wal"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

const chainID = "test"

var genesisTime = time.Unix(1_700_000_000, 0).UTC()

// toyHandler is a toy transaction type:
//
//	set K V       writes K
//	setonce K V   writes K unless it exists (CodeConflict)
//	until UNIX    succeeds only in blocks before time UNIX
//	anything else fails (CodeInvalid)
func toyTx(s string) registry.Tx { return payloadTx(s) }

// fakeClock advances by a second at every reading.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(start time.Time) *fakeClock { return &fakeClock{t: start} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// testNet is one node on a chain whose only validator is key.
type testNet struct {
	store   *leveldb.Store
	genesis *registry.Genesis
	machine *registry.Machine
	key     ed25519.PrivateKey
	walPath string
	// signer, if set, signs instead of key (with its watermark on disk).
	signer *privval.Signer
}

func mustNet(tb testing.TB, m *registry.Machine) *testNet {
	tb.Helper()
	store, err := leveldb.OpenMemory()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	return &testNet{
		store:   store,
		genesis: &registry.Genesis{ChainID: chainID, GenesisTime: genesisTime, Validators: []registry.Validator{{PubKey: key.Public().(ed25519.PublicKey), Power: 10}}},
		machine: m,
		key:     key,
		walPath: filepath.Join(tb.TempDir(), "consensus.wal"),
	}
}

// mustChain opens the chain on the net's store, as a (re)started node does.
func (tn *testNet) mustChain(tb testing.TB) *registry.Chain {
	tb.Helper()
	c, err := registry.OpenChain(tn.store, tn.genesis, tn.machine)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// mustSigner opens the validator's signer from its state file.
func mustNode(tb testing.TB, c *registry.Chain, o node.Options) *node.Node {
	tb.Helper()
	if o.Now == nil {
		o.Now = newClock(genesisTime).Now
	}
	n, err := node.New(c, o)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// runner runs a Consensus whose inter-block timer the test controls: each
// time the engine finishes a round it hands the test a timer channel on
// timers, and waits until the test fires it.
type runner struct {
	tb     testing.TB
	cancel context.CancelFunc
	errc   chan error
	timers chan chan time.Time
	done   bool
}

func mustStart(tb testing.TB, n *node.Node, tn *testNet, now func() time.Time) *runner {
	tb.Helper()
	return mustStartWith(tb, n, tn, now, nil)
}

// mustStartWith is mustStart with the driver's metrics.
func mustStartWith(tb testing.TB, n *node.Node, tn *testNet, now func() time.Time, metrics *node.ConsensusMetrics) *runner {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &runner{tb: tb, cancel: cancel, errc: make(chan error, 1), timers: make(chan chan time.Time)}
	p := &node.Consensus{
		Chain:     n.Chain,
		Mempool:   n.Mempool,
		Key:       tn.key,
		Signer:    tn.signer,
		WALPath:   tn.walPath,
		Interval:  time.Hour,            // never a real timer: After is injected
		Ticks:     make(chan time.Time), // one validator decides without timeouts
		Now:       now,
		Committed: n.Committed,
		Metrics:   metrics,
		After: func(time.Duration) <-chan time.Time {
			c := make(chan time.Time, 1)
			select {
			case r.timers <- c:
			case <-ctx.Done():
			}
			return c
		},
	}
	go func() { r.errc <- p.Run(ctx) }()
	tb.Cleanup(func() { _ = r.stop() })
	return r
}

// failsafe bounds every wait so that a broken engine fails the test
// instead of hanging it; passing runs never reach it.
const failsafe = 30 * time.Second

// nextRound waits until the engine finished a round and returns the
// timer that lets it start the next.
func (r *runner) nextRound() chan<- time.Time {
	r.tb.Helper()
	select {
	case c := <-r.timers:
		return c
	case err := <-r.errc:
		r.done = true
		r.tb.Fatalf("engine stopped: %v", err)
	case <-time.After(failsafe):
		r.tb.Fatal("engine did not finish a round")
	}
	return nil
}

// stop cancels the engine and returns what Run returned.
func (r *runner) stop() error {
	if r.done {
		return nil
	}
	r.done = true
	r.cancel()
	select {
	case err := <-r.errc:
		return err
	case <-time.After(failsafe):
		r.tb.Error("engine did not stop")
		return nil
	}
}

func mustRecv(tb testing.TB, c <-chan struct{}, what string) {
	tb.Helper()
	select {
	case <-c:
	case <-time.After(failsafe):
		tb.Fatalf("timed out waiting for %s", what)
	}
}

func mustSubmit(tb testing.TB, n *node.Node, t registry.Tx) registry.Hash {
	tb.Helper()
	h, err := n.Submit(t)
	if err != nil {
		tb.Fatalf("submit %q: %v", t.Payload, err)
	}
	if h != t.Hash() {
		tb.Fatalf("submit returned hash %s, want %s", h, t.Hash())
	}
	return h
}

func mustStatus(tb testing.TB, n *node.Node, h registry.Hash) node.TxStatus {
	tb.Helper()
	s, err := n.Status(h)
	if err != nil {
		tb.Fatalf("status %s: %v", h, err)
	}
	return s
}

func mustBlock(tb testing.TB, n *node.Node, height uint64) *registry.Block {
	tb.Helper()
	b, err := n.Block(height)
	if err != nil {
		tb.Fatalf("block %d: %v", height, err)
	}
	return b
}

func TestConsensusCommitsSubmittedTxs(t *testing.T) {
	tn := mustNet(t, registrytest.ToyMachine())
	n := mustNode(t, tn.mustChain(t), node.Options{})

	a := mustSubmit(t, n, toyTx("set a 1"))
	b := mustSubmit(t, n, toyTx("set b 2"))
	for _, h := range []registry.Hash{a, b} {
		if s := mustStatus(t, n, h); s.Status != node.TxPending || s.Height != 0 {
			t.Fatalf("before any block: %+v", s)
		}
	}
	// Submitting a pending transaction again is accepted.
	mustSubmit(t, n, toyTx("set a 1"))
	if n.Mempool.Len() != 2 {
		t.Fatalf("mempool holds %d, want 2", n.Mempool.Len())
	}

	changed := n.Changed()
	r := mustStart(t, n, tn, newClock(genesisTime.Add(time.Hour)).Now)
	mustRecv(t, changed, "block 1")
	for _, h := range []registry.Hash{a, b} {
		if s := mustStatus(t, n, h); s.Status != node.TxCommitted || s.Height != 1 || s.Hash != h {
			t.Fatalf("after block 1: %+v", s)
		}
	}
	timer := r.nextRound()
	b1 := mustBlock(t, n, 1)
	if got := strings.Join(payloads(b1.Txs), ","); got != "set a 1,set b 2" {
		t.Fatalf("block 1 holds %q, want arrival order", got)
	}
	if st := n.State(); st.Height != 1 || st.LastBlockID != b1.ID() {
		t.Fatalf("state %+v", st)
	}
	c1, err := n.Commit(1)
	if err != nil {
		t.Fatal(err)
	}
	if err := registry.VerifyCommit(chainID, n.State().Validators, 1, b1.ID(), c1); err != nil {
		t.Fatalf("commit of block 1: %v", err)
	}
	if n.Mempool.Len() != 0 {
		t.Fatalf("mempool holds %d after the commit", n.Mempool.Len())
	}

	// The next block links to the first and carries its commit.
	c := mustSubmit(t, n, toyTx("set c 3"))
	changed = n.Changed()
	timer <- genesisTime
	mustRecv(t, changed, "block 2")
	if s := mustStatus(t, n, c); s.Status != node.TxCommitted || s.Height != 2 {
		t.Fatalf("after block 2: %+v", s)
	}
	r.nextRound()
	b2 := mustBlock(t, n, 2)
	if b2.Header.LastBlockID != b1.ID() || b2.LastCommit == nil || b2.LastCommit.BlockID != b1.ID() {
		t.Fatal("block 2 does not link to block 1")
	}
	if err := r.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestConsensusEmptyMempoolProducesNoBlocks(t *testing.T) {
	tn := mustNet(t, registrytest.ToyMachine())
	n := mustNode(t, tn.mustChain(t), node.Options{})
	changed := n.Changed()
	r := mustStart(t, n, tn, newClock(genesisTime.Add(time.Hour)).Now)

	// The engine idles on the empty mempool; the first block it makes
	// holds the first transaction.
	h := mustSubmit(t, n, toyTx("set a 1"))
	mustRecv(t, changed, "block 1")
	r.nextRound() <- genesisTime
	if st := n.State(); st.Height != 1 {
		t.Fatalf("height %d, want 1", st.Height)
	}
	if b := mustBlock(t, n, 1); len(b.Txs) != 1 || b.Txs[0].Hash() != h {
		t.Fatalf("block 1 holds %q", payloads(b.Txs))
	}
	// Drained, it makes no more blocks.
	if err := r.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st := n.State(); st.Height != 1 {
		t.Fatalf("height %d after idling, want 1", st.Height)
	}
	if _, err := n.Block(2); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("block 2: %v, want ErrNotFound", err)
	}
}

func TestConsensusRejectsTxFailingInPropose(t *testing.T) {
	t.Run("conflict within the block", func(t *testing.T) {
		tn := mustNet(t, registrytest.ToyMachine())
		n := mustNode(t, tn.mustChain(t), node.Options{})
		// Each passes its check alone; together the second conflicts.
		first := mustSubmit(t, n, toyTx("setonce k 1"))
		second := mustSubmit(t, n, toyTx("setonce k 2"))
		changed := n.Changed()
		r := mustStart(t, n, tn, newClock(genesisTime.Add(time.Hour)).Now)
		mustRecv(t, changed, "block 1")
		r.nextRound()
		if s := mustStatus(t, n, first); s.Status != node.TxCommitted || s.Height != 1 {
			t.Fatalf("first: %+v", s)
		}
		s := mustStatus(t, n, second)
		if s.Status != node.TxRejected || !strings.Contains(s.Reason, "k exists") {
			t.Fatalf("second: %+v, want rejected with its reason", s)
		}
		if n.Mempool.Has(second) {
			t.Fatal("the rejected transaction is still pending")
		}
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("every candidate fails: no block", func(t *testing.T) {
		tn := mustNet(t, registrytest.ToyMachine())
		chain := tn.mustChain(t)
		height := chain.State().Height
		// The node checks at genesis time, the engine proposes a day later.
		n := mustNode(t, chain, node.Options{Now: newClock(genesisTime).Now})
		deadline := genesisTime.Add(time.Hour).Unix()
		h := mustSubmit(t, n, toyTx(fmt.Sprint("until ", deadline)))
		r := mustStart(t, n, tn, newClock(genesisTime.Add(24*time.Hour)).Now)
		if s, err := n.WaitStatus(t.Context(), h); err != nil || s.Status != node.TxRejected {
			t.Fatalf("status %+v, %v; want rejected", s, err)
		}
		if st := n.State(); st.Height != height {
			t.Fatalf("height %d, want %d: a block without transactions was made", st.Height, height)
		}
		s := mustStatus(t, n, h)
		if s.Status != node.TxRejected || s.Reason != "expired" || s.Height != 0 {
			t.Fatalf("status %+v, want rejected: expired", s)
		}
		if n.Mempool.Len() != 0 {
			t.Fatal("the rejected transaction is still pending")
		}
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSubmitRejects(t *testing.T) {
	tn := mustNet(t, registrytest.ToyMachine())
	n := mustNode(t, tn.mustChain(t), node.Options{MaxPendingTxs: 2})
	committed := mustSubmit(t, n, toyTx("setonce a 1"))
	changed := n.Changed()
	r := mustStart(t, n, tn, newClock(genesisTime.Add(time.Hour)).Now)
	mustRecv(t, changed, "block 1")
	r.nextRound()
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		tx       registry.Tx
		wantErr  error
		wantCode uint32
	}{
		{"replay of a committed tx", toyTx("setonce a 1"), node.ErrRejected, registry.CodeConflict},
		{"conflict with committed state", toyTx("setonce a 2"), node.ErrRejected, registry.CodeConflict},
		{"invalid", toyTx("nonsense"), node.ErrRejected, registry.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := n.Submit(tt.tx)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := registry.CodeOf(err); got != tt.wantCode {
				t.Fatalf("code %d, want %d (%v)", got, tt.wantCode, err)
			}
			if h != tt.tx.Hash() {
				t.Fatal("the error did not come with the tx hash")
			}
			if n.Mempool.Has(h) {
				t.Fatal("a rejected transaction is pending")
			}
		})
	}
	// The replayed transaction is still reported as committed once.
	if s := mustStatus(t, n, committed); s.Status != node.TxCommitted || s.Height != 1 {
		t.Fatalf("status %+v", s)
	}
	// A transaction rejected at submission is unknown to Status.
	if _, err := n.Status(toyTx("nonsense").Hash()); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("status of a tx rejected at submission: %v, want ErrNotFound", err)
	}

	t.Run("mempool full", func(t *testing.T) {
		mustSubmit(t, n, toyTx("set x 1"))
		mustSubmit(t, n, toyTx("set y 1"))
		_, err := n.Submit(toyTx("set z 1"))
		if !errors.Is(err, node.ErrMempoolFull) || errors.Is(err, node.ErrRejected) {
			t.Fatalf("err = %v, want ErrMempoolFull and not ErrRejected", err)
		}
	})
}

func TestWaitStatus(t *testing.T) {
	tn := mustNet(t, registrytest.ToyMachine())
	n := mustNode(t, tn.mustChain(t), node.Options{})
	h := mustSubmit(t, n, toyTx("set a 1"))

	t.Run("context ends while pending", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		s, err := n.WaitStatus(ctx, h)
		if err != nil || s.Status != node.TxPending {
			t.Fatalf("WaitStatus = %+v, %v; want pending", s, err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		if _, err := n.WaitStatus(t.Context(), toyTx("unknown").Hash()); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("committed", func(t *testing.T) {
		type result struct {
			s   node.TxStatus
			err error
		}
		got := make(chan result, 1)
		go func() {
			s, err := n.WaitStatus(t.Context(), h)
			got <- result{s, err}
		}()
		r := mustStart(t, n, tn, newClock(genesisTime.Add(time.Hour)).Now)
		select {
		case res := <-got:
			if res.err != nil || res.s.Status != node.TxCommitted || res.s.Height != 1 {
				t.Fatalf("WaitStatus = %+v, %v; want committed at 1", res.s, res.err)
			}
		case <-time.After(failsafe):
			t.Fatal("WaitStatus did not return after the commit")
		}
		r.nextRound()
		if err := r.stop(); err != nil {
			t.Fatal(err)
		}
	})
}

// walApp lets a test drive a consensus.Engine over a chain by hand.
type walApp struct {
	chain *registry.Chain
	addr  registry.Address
	txs   []registry.Tx
}

func (a walApp) ProposeBlock(h uint64, _ int32, last *registry.Commit) (*registry.Block, error) {
	b, _, err := a.chain.Propose(a.txs, genesisTime.Add(time.Minute), a.addr, last)
	return b, err
}
func (a walApp) ValidateBlock(b *registry.Block) error { return a.chain.Verify(b) }
func (a walApp) Validators(uint64) (*registry.ValidatorSet, error) {
	return a.chain.State().Validators, nil
}
func (a walApp) Decided(uint64) (*registry.Block, *registry.Commit, bool) { return nil, nil, false }

type edSigner struct{ k ed25519.PrivateKey }

func (s edSigner) Address() registry.Address {
	return registry.AddressOf(s.k.Public().(ed25519.PublicKey))
}
func (s edSigner) Sign(m []byte) []byte { return ed25519.Sign(s.k, m) }

// TestConsensusResumesFromWAL crashes a validator after it signed and
// logged block 1 and before it saved it: the restarted validator commits
// exactly the block it signed, with the signature it logged.
func TestConsensusResumesFromWAL(t *testing.T) {
	tests := []struct {
		name string
		// pending is submitted to the restarted node before it runs.
		pending    []string
		wantHeight uint64
	}{
		{"empty mempool", nil, 1},
		{"same transaction resubmitted", []string{"set a 1"}, 1},
		{"different transaction pending", []string{"set b 2"}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tn := mustNet(t, registrytest.ToyMachine())

			// Before the crash: the engine proposes, prevotes and
			// precommits block 1, the driver logs what it signed, and the
			// process dies before the chain saves the block.
			chain := tn.mustChain(t)
			rd := signAndLog(t, tn, chain)
			if len(rd.Decided) != 1 {
				t.Fatalf("the lone validator decided %d blocks", len(rd.Decided))
			}
			signed := rd.Decided[0]
			if st := chain.State(); st.Height != 0 {
				t.Fatalf("height %d before the restart", st.Height)
			}

			// After the restart: a new chain and node on the same store
			// and log, with other work pending.
			n := mustNode(t, tn.mustChain(t), node.Options{})
			var hs []registry.Hash
			for _, s := range tt.pending {
				hs = append(hs, mustSubmit(t, n, toyTx(s)))
			}
			changed := n.Changed()
			r := mustStart(t, n, tn, newClock(genesisTime.Add(time.Hour)).Now)
			mustRecv(t, changed, "the recovered block")
			if tt.wantHeight > 1 {
				r.nextRound() <- genesisTime
				for n.State().Height < tt.wantHeight {
					mustRecv(t, n.Changed(), "block 2")
				}
			}
			if err := r.stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}

			b1 := mustBlock(t, n, 1)
			if b1.ID() != signed.Block.ID() {
				t.Fatalf("block 1 is %s, want the signed block %s", b1.ID(), signed.Block.ID())
			}
			c1, err := n.Commit(1)
			if err != nil {
				t.Fatal(err)
			}
			if c1.BlockID != signed.Block.ID() || len(c1.Signatures) != 1 || !bytes.Equal(c1.Signatures[0].Signature, signed.Commit.Signatures[0].Signature) {
				t.Fatal("block 1's commit is not the signature made before the crash")
			}
			if st := n.State(); st.Height != tt.wantHeight {
				t.Fatalf("height %d, want %d", st.Height, tt.wantHeight)
			}
			for _, h := range hs {
				if s := mustStatus(t, n, h); s.Status != node.TxCommitted {
					t.Fatalf("pending tx after recovery: %+v", s)
				}
			}
			if n.Mempool.Len() != 0 {
				t.Fatalf("mempool holds %d", n.Mempool.Len())
			}
		})
	}
}

func TestConsensusRestartAfterSavedBlock(t *testing.T) {
	tn := mustNet(t, registrytest.ToyMachine())
	n := mustNode(t, tn.mustChain(t), node.Options{})
	mustSubmit(t, n, toyTx("set a 1"))
	changed := n.Changed()
	r := mustStart(t, n, tn, newClock(genesisTime.Add(time.Hour)).Now)
	mustRecv(t, changed, "block 1")
	r.nextRound()
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	b1 := mustBlock(t, n, 1)

	// Restart with the block both signed and saved: nothing to recover.
	n2 := mustNode(t, tn.mustChain(t), node.Options{})
	h := mustSubmit(t, n2, toyTx("set b 2"))
	changed = n2.Changed()
	r2 := mustStart(t, n2, tn, newClock(genesisTime.Add(2*time.Hour)).Now)
	mustRecv(t, changed, "block 2")
	r2.nextRound()
	if err := r2.stop(); err != nil {
		t.Fatal(err)
	}
	if got := mustBlock(t, n2, 1); got.ID() != b1.ID() {
		t.Fatal("block 1 changed across the restart")
	}
	if s := mustStatus(t, n2, h); s.Status != node.TxCommitted || s.Height != 2 {
		t.Fatalf("status %+v", s)
	}
}

func gather(tb testing.TB, g prometheus.Gatherer) map[string]float64 {
	tb.Helper()
	mfs, err := g.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				out[mf.GetName()] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[mf.GetName()] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	tn := mustNet(t, registrytest.ToyMachine())
	reg := prometheus.NewRegistry()
	chain := tn.mustChain(t)
	n := mustNode(t, chain, node.Options{Registerer: reg})

	mustSubmit(t, n, toyTx("set a 1"))
	mustSubmit(t, n, toyTx("set b 1"))
	if _, err := n.Submit(toyTx("bad")); !errors.Is(err, node.ErrRejected) {
		t.Fatal(err)
	}
	got := gather(t, reg)
	for name, want := range map[string]float64{
		"idmesh_txs_submitted_total":    2,
		"idmesh_txs_rejected_total":     1,
		"idmesh_mempool_txs":            2,
		"idmesh_blocks_committed_total": 0,
		"idmesh_chain_height":           0,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("before the block: %s = %v (present %v), want %v", name, v, ok, want)
		}
	}

	changed := n.Changed()
	r := mustStart(t, n, tn, newClock(genesisTime.Add(time.Hour)).Now)
	mustRecv(t, changed, "block 1")
	r.nextRound()
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	got = gather(t, reg)
	for name, want := range map[string]float64{
		"idmesh_blocks_committed_total": 1,
		"idmesh_txs_committed_total":    2,
		"idmesh_chain_height":           1,
		"idmesh_mempool_txs":            0,
	} {
		if v := got[name]; v != want {
			t.Errorf("after the block: %s = %v, want %v", name, v, want)
		}
	}

	// A restarted node reports the height it starts at; registering the
	// same metrics twice fails.
	reg2 := prometheus.NewRegistry()
	mustNode(t, tn.mustChain(t), node.Options{Registerer: reg2})
	if v := gather(t, reg2)["idmesh_chain_height"]; v != 1 {
		t.Fatalf("restarted height gauge %v, want 1", v)
	}
	if _, err := node.New(chain, node.Options{Registerer: reg2}); err == nil {
		t.Fatal("registered the node's metrics twice")
	}
	// Without a registerer nothing is registered and the node works.
	mustNode(t, chain, node.Options{})
}

// TestConsensusDIDOperations runs the real state machine: a did:idmesh
// create is committed and resolves, and its replay is rejected.
func TestConsensusDIDOperations(t *testing.T) {
	tn := mustNet(t, registry.NewMachineDefault())
	n := mustNode(t, tn.mustChain(t), node.Options{})

	op, k, err := registrytest.NewCreate(chainID, 1)
	if err != nil {
		t.Fatal(err)
	}
	subject, err := op.SubjectDID()
	if err != nil {
		t.Fatal(err)
	}
	tx, err := registry.DIDTx(op)
	if err != nil {
		t.Fatal(err)
	}
	// The same operation signed for another chain is refused.
	wrong := *op
	wrong.Proof = nil
	if err := wrong.Sign("other-chain", "#key-1", k); err != nil {
		t.Fatal(err)
	}
	wrongTx, err := registry.DIDTx(&wrong)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Submit(wrongTx); !errors.Is(err, node.ErrRejected) || registry.CodeOf(err) != registry.CodeUnauthorized {
		t.Fatalf("operation signed for another chain: err = %v (code %d), want an unauthorized rejection", err, registry.CodeOf(err))
	}

	h := mustSubmit(t, n, tx)
	changed := n.Changed()
	r := mustStart(t, n, tn, newClock(genesisTime.Add(time.Hour)).Now)
	mustRecv(t, changed, "block 1")
	r.nextRound()
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if st := mustStatus(t, n, h); st.Status != node.TxCommitted || st.Height != 1 {
		t.Fatalf("status %+v", st)
	}
	res, err := (&idmesh.Resolver{State: registry.ReaderOf(tn.store)}).Resolve(t.Context(), subject, did.Options{})
	if err != nil {
		t.Fatalf("resolve %s: %v", subject, err)
	}
	if res.DIDDocument == nil || res.DIDDocument.ID != subject || res.DIDDocumentMetadata.Deactivated {
		t.Fatalf("resolved %+v", res)
	}
	if _, err := n.Submit(tx); !errors.Is(err, node.ErrRejected) || registry.CodeOf(err) != registry.CodeConflict {
		t.Fatalf("replay: err = %v (code %d), want a conflict rejection", err, registry.CodeOf(err))
	}
}

// signAndLog runs a lone validator's engine at height 1 on chain, with one
// transaction pending, and appends what it signed to tn's write-ahead log
// without applying anything: the state of a crash after the log. It
// returns the engine's Ready.
func signAndLog(t *testing.T, tn *testNet, chain *registry.Chain) consensus.Ready[*registry.Block] {
	t.Helper()
	sg := edSigner{tn.key}
	e, err := consensus.New(consensus.Config[*registry.Block]{ChainID: chainID, Height: 1, Signer: sg,
		App: walApp{chain: chain, addr: sg.Address(), txs: []registry.Tx{toyTx("set a 1")}}})
	if err != nil {
		t.Fatal(err)
	}
	rd := e.Ready()
	log, _, err := wal.Open[p2p.Message](tn.walPath, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Append(rd.Persist); err != nil {
		t.Fatal(err)
	}
	log.Close()
	return rd
}

// mustOpenSigner opens the node's signer for tn with a new state file and
// returns it with the file's path.
func mustOpenSigner(t *testing.T, tn *testNet, chain *registry.Chain) (*privval.Signer, string) {
	t.Helper()
	state := filepath.Join(t.TempDir(), "privval_state.json")
	pv, err := node.OpenSigner(tn.key, state, chain, tn.walPath)
	if err != nil {
		t.Fatal(err)
	}
	return pv, state
}

package node_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// timer is one After the driver asked for: its duration and channel.
type timer struct {
	d time.Duration
	c chan time.Time
}

// TestConsensusQuietMempool: with Quiet, the next block starts before
// Interval is over once the mempool holds at least QuietMinTxs
// transactions and did not grow between two checks, Quiet apart, the
// first a fifth of Interval after the commit; while it grows, holds
// fewer, or is empty, the block waits for the interval. (One validator:
// it proposes every height. TestQuietStart has the other cases.)
func TestConsensusQuietMempool(t *testing.T) {
	const interval, quiet = time.Hour, time.Minute // labels: the test fires every timer
	tn := mustNet(t, registrytest.ToyMachine())
	n := mustNode(t, tn.mustChain(t), node.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	timers := make(chan timer)
	errc := make(chan error, 1)
	p := &node.Consensus{Chain: n.Chain, Mempool: n.Mempool, Key: tn.key, WALPath: tn.walPath, Interval: interval, Quiet: quiet,
		Ticks: make(chan time.Time), Now: newClock(genesisTime.Add(time.Hour)).Now, Committed: n.Committed,
		After: func(d time.Duration) <-chan time.Time {
			c := make(chan time.Time, 1)
			select {
			case timers <- timer{d, c}:
			case <-ctx.Done():
			}
			return c
		}}
	sent := 0
	submit := func(k int) {
		for range k {
			sent++
			mustSubmit(t, n, toyTx(fmt.Sprintf("set k%d %d", sent, sent)))
		}
	}
	submit(1)
	changed := n.Changed()
	go func() { errc <- p.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	// next returns the driver's next timer, which must last d.
	next := func(d time.Duration) chan time.Time {
		t.Helper()
		select {
		case tm := <-timers:
			if tm.d != d {
				t.Fatalf("timer of %v, want %v", tm.d, d)
			}
			return tm.c
		case err := <-errc:
			t.Fatalf("engine stopped: %v", err)
		case <-time.After(failsafe):
			t.Fatalf("no timer of %v", d)
		}
		return nil
	}
	// committed waits for block h, checks that it holds txs transactions,
	// and returns its timers: the interval's and the first quiet check's.
	committed := func(h uint64, txs int) (chan time.Time, chan time.Time) {
		t.Helper()
		mustRecv(t, changed, "a block")
		if got := n.State().Height; got != h {
			t.Fatalf("height %d, want %d", got, h)
		}
		if got := len(mustBlock(t, n, h).Txs); got != txs {
			t.Fatalf("block %d holds %d transactions, want %d", h, got, txs)
		}
		changed = n.Changed()
		return next(interval), next(interval / 5)
	}
	// waits checks that no block started: the driver, having asked for
	// its next timer, has handled the last one.
	waits := func(h uint64) {
		t.Helper()
		if got := n.State().Height; got != h {
			t.Fatalf("height %d, want %d", got, h)
		}
	}

	_, check := committed(1, 1) // the first block starts at once
	// Enough transactions; the first check sees them, the next sees no
	// more: the block starts, the interval still running.
	submit(node.QuietMinTxs)
	check <- genesisTime
	check = next(quiet)
	waits(1)
	check <- genesisTime
	_, check = committed(2, node.QuietMinTxs)

	// The mempool grows between two checks: the block waits for a check
	// that finds it unchanged, and takes them all.
	submit(node.QuietMinTxs)
	check <- genesisTime
	check = next(quiet)
	submit(1)
	check <- genesisTime
	check = next(quiet)
	waits(2)
	check <- genesisTime
	intervalTimer, check := committed(3, node.QuietMinTxs+1)

	// Fewer than node.QuietMinTxs wait for the interval, however quiet.
	submit(node.QuietMinTxs - 1)
	check <- genesisTime
	check = next(quiet)
	check <- genesisTime
	next(quiet)
	waits(3)
	intervalTimer <- genesisTime
	intervalTimer, check = committed(4, node.QuietMinTxs-1)

	// So does an empty mempool; at the interval's end the checks stop,
	// and the next transaction starts a block.
	check <- genesisTime
	check = next(quiet)
	check <- genesisTime
	next(quiet)
	waits(4)
	intervalTimer <- genesisTime
	submit(1)
	committed(5, 1)
}

// TestClusterQuietMempool: four validators whose blocks wait 5 s for
// transactions after a commit, with Quiet: a batch of QuietMinTxs
// creates given to every validator commits long before the interval is
// over, started early by the height's proposer alone; the others,
// still waiting, prevote on its proposal.
func TestClusterQuietMempool(t *testing.T) {
	const interval = 5 * time.Second
	ms, _, _ := startCluster(t, 4, func(c *node.Consensus) { c.Interval, c.Quiet = interval, time.Millisecond })
	txs, _, err := registrytest.CreateOps(0, 1+node.QuietMinTxs)
	if err != nil {
		t.Fatal(err)
	}
	commitOn(t, ms, txs[:1]) // the first block starts at once
	start := time.Now()
	commitOn(t, ms, txs[1:])
	if took := time.Since(start); took >= interval*4/5 {
		t.Fatalf("the batch committed after %v: the block waited for the %v interval", took, interval)
	} else {
		t.Logf("the batch committed after %v (interval %v)", took, interval)
	}
}

// TestClusterQuietOnlyProposer: only the height's first proposer starts
// a block early. A batch of node.QuietMinTxs creates goes to every
// validator but that one, whose mempool stays empty: the others wait
// the whole interval (2 s) before starting the height, and the block
// comes from the next round's proposer after it. Were they to start
// early too, their round 0 would time out in milliseconds and the batch
// would commit in under half a second.
func TestClusterQuietOnlyProposer(t *testing.T) {
	const interval = 2 * time.Second
	ms, vals, _ := startCluster(t, 4, func(c *node.Consensus) { c.Interval, c.Quiet = interval, time.Millisecond })
	vs, err := registry.NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	txs, _, err := registrytest.CreateOps(0, 1+node.QuietMinTxs)
	if err != nil {
		t.Fatal(err)
	}
	commitOn(t, ms, txs[:1]) // block 1, at once
	if h := ms[0].node.State().Height; h != 1 {
		t.Fatalf("height %d after the first transaction", h)
	}
	var others []*member
	for _, m := range ms {
		if registry.AddressOf(m.key.Public().(ed25519.PublicKey)) != vs.Proposer(2, 0) {
			others = append(others, m)
		}
	}
	start := time.Now()
	commitOn(t, others, txs[1:])
	took := time.Since(start)
	t.Logf("without the proposer, the batch committed after %v (interval %v)", took, interval)
	if took < interval*9/10 {
		t.Fatalf("the batch committed after %v: a validator other than the proposer started the height early", took)
	}
}

// commitOn gives txs to the members and waits until each has committed
// them all.
func commitOn(t *testing.T, ms []*member, txs []registry.Tx) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for _, m := range ms {
		for _, tx := range txs {
			if _, err := m.node.Submit(tx); err != nil && !committedSoon(m.node, tx.Hash()) {
				t.Fatalf("submit: %v", err)
			}
		}
	}
	for _, m := range ms {
		for _, tx := range txs {
			if s, err := m.node.WaitStatus(ctx, tx.Hash()); err != nil || s.Status != node.TxCommitted {
				t.Fatalf("tx %s: %+v %v", tx.Hash(), s, err)
			}
		}
	}
}

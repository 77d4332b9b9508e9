package node_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// timer is one After the driver asked for: its duration and channel.
type timer struct {
	d time.Duration
	c chan time.Time
}

// TestConsensusQuietMempool: with Quiet, the next block starts before
// Interval is over once the mempool holds transactions and did not grow
// between two checks, Quiet apart, the first a fifth of Interval after
// the commit; while it grows, or while it is empty, the block waits.
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
	mustSubmit(t, n, toyTx("set a 1"))
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
	// committed waits for block h and returns its timers: the interval's
	// and the first quiet check's.
	committed := func(h uint64) (chan time.Time, chan time.Time) {
		t.Helper()
		mustRecv(t, changed, "a block")
		if got := n.State().Height; got != h {
			t.Fatalf("height %d, want %d", got, h)
		}
		changed = n.Changed()
		return next(interval), next(interval / 5)
	}
	height := func(want uint64) {
		t.Helper()
		if got := n.State().Height; got != want {
			t.Fatalf("height %d, want %d", got, want)
		}
	}

	_, check := committed(1)
	// One transaction; the first check sees it, the next sees no more:
	// the block starts, the interval still running.
	mustSubmit(t, n, toyTx("set b 2"))
	check <- genesisTime
	check = next(quiet)
	height(1)
	check <- genesisTime
	_, check = committed(2)

	// The mempool grows between two checks: the block waits for a check
	// that finds it unchanged, and takes both.
	mustSubmit(t, n, toyTx("set c 3"))
	check <- genesisTime
	check = next(quiet)
	mustSubmit(t, n, toyTx("set d 4"))
	check <- genesisTime
	check = next(quiet)
	height(2)
	check <- genesisTime
	intervalTimer, check := committed(3)
	if got := strings.Join(payloads(mustBlock(t, n, 3).Txs), ","); got != "set c 3,set d 4" {
		t.Fatalf("block 3 holds %q", got)
	}

	// An empty mempool starts nothing, however quiet; at the interval's
	// end the checks stop, and the next transaction starts a block.
	check <- genesisTime
	check = next(quiet)
	check <- genesisTime
	next(quiet)
	height(3)
	intervalTimer <- genesisTime
	mustSubmit(t, n, toyTx("set e 5"))
	committed(4)
}

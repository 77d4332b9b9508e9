package node

import (
	"sync"
	"sync/atomic"

	"github.com/idmesh/idmesh/registry"
)

// preparer gathers the transactions that concurrent Submit calls carry
// and prepares their checks together (registry.Chain.PrepareChecks):
// their signatures are verified in ZIP-215 batches into the signature
// cache, which each call's own check then finds, instead of one by one.
// It decides nothing, so a batch only changes what a check costs.
//
// There is no goroutine of its own and no wait for company: a call that
// finds no batch running prepares its transaction at once (a batch of
// one: its signature verified alone, into the cache, which is what makes
// the time for later calls to queue); calls that arrive while a batch
// runs queue, and the first of them prepares the queue as the next batch
// (at most registry.MaxPrepareChecks transactions) when the running one
// ends. A call waits at most for the batch before its own.
type preparer struct {
	prepare func([]registry.Tx)

	// What the preparer did (PrepareStats): batches prepared, the
	// transactions in them, and the batches of one.
	batches, txs, alone atomic.Uint64

	mu    sync.Mutex
	busy  bool // a batch is being prepared
	queue []*prepCall
}

// prepCall is a Submit call waiting for its transaction's preparation;
// done receives true when the call is to prepare the next batch itself,
// false when another call prepared it.
type prepCall struct {
	tx   registry.Tx
	done chan bool
}

// do returns once t's check is prepared, by this call or another.
func (p *preparer) do(t registry.Tx) {
	c := &prepCall{tx: t, done: make(chan bool, 1)}
	p.mu.Lock()
	p.queue = append(p.queue, c)
	if p.busy {
		p.mu.Unlock()
		if lead := <-c.done; !lead {
			return
		}
		p.mu.Lock()
	}
	p.busy = true
	// c heads the queue: a call leads only when the queue was empty
	// (then c is all of it) or when handed the lead as its head.
	n := min(len(p.queue), registry.MaxPrepareChecks)
	batch := make([]*prepCall, n)
	copy(batch, p.queue)
	p.queue = append(p.queue[:0], p.queue[n:]...)
	p.mu.Unlock()

	// The calls of the batch go, and the lead passes on, even if prepare
	// panics (net/http recovers a handler's panic and serves on).
	defer p.release(batch[1:])
	p.batches.Add(1)
	p.txs.Add(uint64(n))
	if n == 1 {
		p.alone.Add(1)
	}
	txs := make([]registry.Tx, n)
	for i, b := range batch {
		txs[i] = b.tx
	}
	p.prepare(txs)
}

// release lets the calls of a prepared batch return and hands the lead
// to the head of the queue, or marks the preparer idle.
func (p *preparer) release(batch []*prepCall) {
	for _, b := range batch {
		b.done <- false
	}
	p.mu.Lock()
	if len(p.queue) == 0 {
		p.busy = false
		p.mu.Unlock()
		return
	}
	next := p.queue[0]
	p.mu.Unlock()
	next.done <- true
}

// PrepareStats counts what Submit's preparer did since the node started:
// the batches it prepared, the transactions in them, and the batches of a
// single transaction (a call that found no company).
type PrepareStats struct{ Batches, Txs, Alone uint64 }

// PrepareStats returns what Submit's preparer did since the node started.
func (n *Node) PrepareStats() PrepareStats {
	return PrepareStats{Batches: n.prep.batches.Load(), Txs: n.prep.txs.Load(), Alone: n.prep.alone.Load()}
}

package node

import (
	"crypto/ed25519"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// waitNode is a node on a one-validator toy chain whose blocks the test
// commits by hand, as another node's would be.
type waitNode struct {
	*Node
	key  ed25519.PrivateKey
	addr registry.Address
}

func newWaitNode(t testing.TB) *waitNode {
	t.Helper()
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	g := &registry.Genesis{ChainID: "c", GenesisTime: time.Unix(1_700_000_000, 0).UTC(), Validators: []registry.Validator{{PubKey: key.Public().(ed25519.PublicKey), Power: 1}}}
	chain, err := registry.OpenChain(store, g, registrytest.ToyMachine())
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(chain, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &waitNode{Node: n, key: key, addr: registry.AddressOf(key.Public().(ed25519.PublicKey))}
}

// commit commits txs as the next block, as consensus does: save, drop
// from the mempool, Committed.
func (w *waitNode) commit(t testing.TB, txs ...registry.Tx) {
	t.Helper()
	st := w.Chain.State()
	var last *registry.Commit
	if st.Height > 0 {
		var err error
		if last, err = w.Chain.Store().Commit(st.Height); err != nil {
			t.Fatal(err)
		}
	}
	blk, rej, err := w.Chain.Propose(txs, st.LastBlockTime.Add(time.Second), w.addr, last)
	if err != nil || len(rej) > 0 {
		t.Fatalf("propose: %v, %d rejected", err, len(rej))
	}
	id := blk.ID()
	c := &registry.Commit{Height: blk.Header.Height, BlockID: id, Signatures: []registry.CommitSig{{Validator: w.addr, Signature: ed25519.Sign(w.key, registry.VoteSignBytes("c", blk.Header.Height, 0, id))}}}
	res, err := w.Chain.Commit(blk, c)
	if err != nil {
		t.Fatal(err)
	}
	w.Mempool.Remove(blk.TxHashes(), nil)
	w.Committed(blk, res)
}

// BenchmarkWaitStatus measures what the clients waiting for their
// operations' commits (WaitStatus, as POST /v1/operations?wait= does)
// cost a node per committed transaction: 256 clients wait, each on its
// own pending transaction, and each block commits 16 of them (a client
// whose transaction is committed submits a new one and waits again).
// The toy transactions cost next to nothing to check and execute, so
// what is measured is the commit's fixed cost and the waiters' wake-ups.
//
//	go test -run '^$' -bench WaitStatus ./node/
func BenchmarkWaitStatus(b *testing.B) {
	const waiters, perBlock = 256, 16
	w := newWaitNode(b)
	var mu sync.Mutex
	var pending []registry.Tx
	var wg sync.WaitGroup
	next := 0
	submit := func() registry.Tx {
		mu.Lock()
		defer mu.Unlock()
		tx := registrytest.ToyTx(fmt.Sprintf("set k%d %d", next, next))
		next++
		if _, err := w.Submit(tx); err != nil {
			b.Error(err)
		}
		pending = append(pending, tx)
		return tx
	}
	ctx := b.Context()
	b.Cleanup(wg.Wait)
	for range waiters {
		tx := submit()
		wg.Go(func() {
			for {
				if _, err := w.WaitStatus(ctx, tx.Hash()); err != nil || ctx.Err() != nil {
					return
				}
				tx = submit()
			}
		})
	}
	var ru0 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for i := 0; i < b.N; i += perBlock {
		for {
			mu.Lock()
			if len(pending) >= perBlock {
				break
			}
			mu.Unlock()
			time.Sleep(50 * time.Microsecond) // waiting for clients to submit again
		}
		txs := pending[:perBlock:perBlock]
		pending = pending[perBlock:]
		mu.Unlock()
		w.commit(b, txs...)
	}
	b.StopTimer()
	var ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
}

package node

import (
	"crypto/ed25519"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// stateOnlyToy is the toy handler declared registry.StateOnly, as
// DIDHandler is (its "until" command, which reads the block's time, is
// not used with it).
type stateOnlyToy struct{ registrytest.ToyHandler }

func (stateOnlyToy) StateOnly() {}

// recheckRig is a one-validator chain with a node whose rechecks the
// test waits for.
type recheckRig struct {
	t     *testing.T
	chain *registry.Chain
	n     *Node
	key   ed25519.PrivateKey
	done  chan struct{}
	now   time.Time
}

func newRecheckRig(t *testing.T, m *registry.Machine) *recheckRig {
	t.Helper()
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	g := &registry.Genesis{ChainID: "c", GenesisTime: time.Unix(1_700_000_000, 0).UTC(), Validators: []registry.Validator{{PubKey: key.Public().(ed25519.PublicKey), Power: 1}}}
	chain, err := registry.OpenChain(store, g, m)
	if err != nil {
		t.Fatal(err)
	}
	r := &recheckRig{t: t, chain: chain, key: key, done: make(chan struct{}, 1), now: g.GenesisTime}
	n, err := New(chain, Options{Now: func() time.Time { return r.now }})
	if err != nil {
		t.Fatal(err)
	}
	n.recheckDone = func() { r.done <- struct{}{} }
	r.n = n
	return r
}

func (r *recheckRig) submit(cmds ...string) []registry.Hash {
	r.t.Helper()
	var hs []registry.Hash
	for _, c := range cmds {
		h, err := r.n.Submit(registrytest.ToyTx(c))
		if err != nil {
			r.t.Fatalf("submit %q: %v", c, err)
		}
		hs = append(hs, h)
	}
	return hs
}

// commit saves a block of cmds (built elsewhere: the node's mempool is
// not asked); with notify, the node learns of it and rechecks, as after
// any commit, and the test waits for that recheck.
func (r *recheckRig) commit(notify bool, cmds ...string) {
	r.t.Helper()
	var txs []registry.Tx
	for _, c := range cmds {
		txs = append(txs, registrytest.ToyTx(c))
	}
	st := r.chain.State()
	r.now = st.LastBlockTime.Add(time.Second)
	addr := registry.AddressOf(r.key.Public().(ed25519.PublicKey))
	blk, _, err := r.chain.Propose(txs, r.now, addr, r.lastCommit())
	if err != nil {
		r.t.Fatal(err)
	}
	id := blk.ID()
	h := blk.Header.Height
	c := &registry.Commit{Height: h, BlockID: id, Signatures: []registry.CommitSig{{Validator: addr, Signature: ed25519.Sign(r.key, registry.VoteSignBytes("c", h, 0, id))}}}
	res, err := r.chain.Commit(blk, c)
	if err != nil {
		r.t.Fatal(err)
	}
	r.n.Mempool.Remove(blk.TxHashes(), nil)
	if !notify {
		return
	}
	r.n.Committed(blk, res)
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		r.t.Fatal("recheck did not run")
	}
}

func (r *recheckRig) lastCommit() *registry.Commit {
	st := r.chain.State()
	if st.Height == 0 {
		return nil
	}
	c, err := r.chain.Store().Commit(st.Height)
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

// status is where transaction h stands.
func (r *recheckRig) status(h registry.Hash) TxState {
	r.t.Helper()
	s, err := r.n.Status(h)
	if err != nil {
		r.t.Fatal(err)
	}
	return s.Status
}

// TestRecheckOnlyWhatBlocksWrote: after a block, a pending transaction of
// a StateOnly handler is checked again only if a block since its check
// wrote a key it read; the ones a block made invalid are still dropped
// and reported rejected, including when the block landed between the
// check and the transaction's entry into the mempool, or so many blocks
// ago that the chain no longer remembers what they wrote.
func TestRecheckOnlyWhatBlocksWrote(t *testing.T) {
	r := newRecheckRig(t, registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: stateOnlyToy{}}))
	hs := r.submit("setonce k 2", "setonce j 1", "set x 1")
	r.commit(true, "setonce k 1")
	if got := []TxState{r.status(hs[0]), r.status(hs[1]), r.status(hs[2])}; got[0] != TxRejected || got[1] != TxPending || got[2] != TxPending {
		t.Fatalf("after a block writing k: %v", got)
	}
	if s := r.n.recheckSkipped.Load(); s != 2 {
		t.Fatalf("%d transactions left alone, want 2 (j and x: the block wrote neither)", s)
	}
	// A block writing j: the transaction that read j is checked again.
	r.commit(true, "set j 9")
	if r.status(hs[1]) != TxRejected || r.status(hs[2]) != TxPending {
		t.Fatalf("after a block writing j: %v %v", r.status(hs[1]), r.status(hs[2]))
	}

	// A block the node was not told of (its recheck missed it, as one
	// landing between a check and the mempool's Add would be), then one
	// it was: the recheck looks at every block since the check.
	q := r.submit("setonce q 1")[0]
	r.commit(false, "set q 0")
	r.commit(true, "set z 1")
	if r.status(q) != TxRejected {
		t.Fatalf("q after a block writing q, unnotified: %v", r.status(q))
	}

	// More blocks than the chain remembers: checked again, whatever
	// they wrote.
	m := r.submit("setonce m 1")[0]
	r.commit(false, "set m 0")
	for i := range 40 {
		r.commit(false, fmt.Sprintf("set other%d 1", i))
	}
	r.commit(true, "set other 1")
	if r.status(m) != TxRejected {
		t.Fatalf("m after a block writing m 42 blocks ago: %v", r.status(m))
	}
}

// TestRecheckTimeDependent: a handler that is not StateOnly (the toy's
// "until" reads the block's time) has every pending transaction checked
// again after every block, even one that wrote nothing it read.
func TestRecheckTimeDependent(t *testing.T) {
	r := newRecheckRig(t, registrytest.ToyMachine())
	deadline := r.now.Add(2 * time.Second).Unix()
	h := r.submit(fmt.Sprintf("until %d", deadline))[0]
	r.commit(true, "set a 1") // at genesis + 1s: still valid
	if r.status(h) != TxPending {
		t.Fatalf("before the deadline: %v", r.status(h))
	}
	r.commit(true, "set b 1") // at genesis + 2s: expired
	if r.status(h) != TxRejected {
		t.Fatalf("after the deadline: %v", r.status(h))
	}
	if s := r.n.recheckSkipped.Load(); s != 0 {
		t.Fatalf("%d transactions of a time-dependent handler left alone", s)
	}
}

// gateToy is stateOnlyToy whose "wait" command reads 17 keys (so its
// reads are never known and it is checked on every recheck) and, while
// armed, blocks its check until released.
type gateToy struct {
	stateOnlyToy
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (g *gateToy) DeliverTx(ctx registry.TxContext, st *registry.Overlay, p []byte) error {
	if string(p) != "wait" {
		return g.stateOnlyToy.DeliverTx(ctx, st, p)
	}
	for i := range 17 {
		_, _ = st.Get(fmt.Appendf(nil, "w%d", i))
	}
	if g.armed.CompareAndSwap(true, false) {
		g.entered <- struct{}{}
		<-g.release
	}
	st.Set([]byte("waited"), []byte("1"))
	return nil
}

// TestRecheckDuringRecheck (security review R2): a block committed while
// the previous block's recheck runs, and that invalidates a transaction
// that recheck already passed, gets a recheck pass of its own: the
// transaction is rejected at once, not left pending until a later block
// (on a quiet chain, indefinitely). On the old code the second Recheck
// returned because one was running.
func TestRecheckDuringRecheck(t *testing.T) {
	g := &gateToy{entered: make(chan struct{}), release: make(chan struct{})}
	r := newRecheckRig(t, registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: g}))
	addr := registry.AddressOf(r.key.Public().(ed25519.PublicKey))
	commit := func(cmd string) (*registry.Block, []registry.Result) {
		st := r.chain.State()
		blk, _, err := r.chain.Propose([]registry.Tx{registrytest.ToyTx(cmd)}, st.LastBlockTime.Add(time.Second), addr, r.lastCommit())
		if err != nil {
			t.Fatal(err)
		}
		id := blk.ID()
		c := &registry.Commit{Height: blk.Header.Height, BlockID: id, Signatures: []registry.CommitSig{{Validator: addr, Signature: ed25519.Sign(r.key, registry.VoteSignBytes("c", blk.Header.Height, 0, id))}}}
		res, err := r.chain.Commit(blk, c)
		if err != nil {
			t.Fatal(err)
		}
		r.n.Mempool.Remove(blk.TxHashes(), nil)
		return blk, res
	}
	wait := func(what string) {
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not run", what)
		}
	}
	tx := r.submit("setonce k 1", "wait")[0] // T reads k; the slow one after it
	g.armed.Store(true)
	b1, res1 := commit("set a 1")
	r.n.Committed(b1, res1) // pass 1: T skipped (a is not k), then held in "wait"
	<-g.entered
	b2, res2 := commit("set k 0") // makes T invalid
	r.n.Committed(b2, res2)
	close(g.release)
	wait("pass 1")
	wait("the pass for the block committed during pass 1")
	if s := r.status(tx); s != TxRejected {
		t.Fatalf("T, invalid since block %d, is %v", b2.Header.Height, s)
	}
}

// TestRecheckSkipsCommitted: in the consensus driver's order (Committed,
// whose recheck sees the block's transactions still pending, then the
// mempool's Remove), the block's own transactions, which wrote the keys
// they read, are not checked again nor reported rejected; a pending one
// the block made invalid still is.
func TestRecheckSkipsCommitted(t *testing.T) {
	r := newRecheckRig(t, registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: stateOnlyToy{}}))
	hs := r.submit("setonce k 1", "setonce k 2")
	st := r.chain.State()
	r.now = st.LastBlockTime.Add(time.Second)
	addr := registry.AddressOf(r.key.Public().(ed25519.PublicKey))
	blk, _, err := r.chain.Propose([]registry.Tx{registrytest.ToyTx("setonce k 1")}, r.now, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := blk.ID()
	c := &registry.Commit{Height: 1, BlockID: id, Signatures: []registry.CommitSig{{Validator: addr, Signature: ed25519.Sign(r.key, registry.VoteSignBytes("c", 1, 0, id))}}}
	res, err := r.chain.Commit(blk, c)
	if err != nil {
		t.Fatal(err)
	}
	r.n.Committed(blk, res)
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatal("recheck did not run")
	}
	if err, ok := r.n.Mempool.Rejected(hs[0]); ok {
		t.Fatalf("the committed transaction was judged again: %v", err)
	}
	if err, ok := r.n.Mempool.Rejected(hs[1]); !ok || registry.CodeOf(err) != registry.CodeConflict {
		t.Fatalf("the one the block made invalid: %v %v", err, ok)
	}
	r.n.Mempool.Remove(blk.TxHashes(), nil)
	if s := r.status(hs[0]); s != TxCommitted {
		t.Fatalf("committed transaction: %v", s)
	}
}

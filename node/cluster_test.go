package node_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// hub is an in-memory Transport between the validators of one process.
type hub struct {
	mu    sync.Mutex
	boxes map[registry.Address]chan p2p.Message
	down  map[registry.Address]bool
}

type port struct {
	h    *hub
	self registry.Address
}

func (h *hub) port(a registry.Address) *port {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.boxes[a] = make(chan p2p.Message, 100_000)
	return &port{h: h, self: a}
}

func (p *port) Send(m p2p.Message) {
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	if p.h.down[p.self] {
		return
	}
	for a, box := range p.h.boxes {
		if a == p.self || p.h.down[a] || (!m.Broadcast() && m.To != a) {
			continue
		}
		select {
		case box <- m:
		default: // a full box loses the message, as a network may
		}
	}
}

func (p *port) Receive() <-chan p2p.Message {
	p.h.mu.Lock()
	defer p.h.mu.Unlock()
	return p.h.boxes[p.self]
}

type member struct {
	key    ed25519.PrivateKey
	node   *node.Node
	cancel context.CancelFunc
	done   chan error
}

// startCluster starts n validators of equal power with real chains and
// the real driver over an in-memory transport; adjust, if set, changes
// each driver's configuration before it runs. It returns the members
// (stopped at cleanup), the validators and the hub.
func startCluster(t *testing.T, n int, adjust func(*node.Consensus)) ([]*member, []registry.Validator, *hub) {
	t.Helper()
	const chainID = registrytest.ChainID
	var vals []registry.Validator
	var keys []ed25519.PrivateKey
	for i := range n {
		k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(10 + i)}, 32))
		keys = append(keys, k)
		vals = append(vals, registry.Validator{PubKey: k.Public().(ed25519.PublicKey), Power: 10})
	}
	g := &registry.Genesis{ChainID: chainID, GenesisTime: time.Unix(1_750_000_000, 0).UTC(), Validators: vals}
	h := &hub{boxes: map[registry.Address]chan p2p.Message{}, down: map[registry.Address]bool{}}
	var ms []*member
	for i, k := range keys {
		store, err := leveldb.OpenMemory()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close() })
		chain, err := registry.OpenChain(store, g, registry.NewMachineDefault())
		if err != nil {
			t.Fatal(err)
		}
		nd, err := node.New(chain, node.Options{})
		if err != nil {
			t.Fatal(err)
		}
		addr := registry.AddressOf(k.Public().(ed25519.PublicKey))
		c := &node.Consensus{Chain: chain, Mempool: nd.Mempool, Key: k, WALPath: filepath.Join(t.TempDir(), fmt.Sprint("wal", i)),
			Transport: h.port(addr), Tick: 2 * time.Millisecond, Interval: time.Millisecond, Committed: nd.Committed}
		if adjust != nil {
			adjust(c)
		}
		ctx, cancel := context.WithCancel(context.Background())
		m := &member{key: k, node: nd, cancel: cancel, done: make(chan error, 1)}
		go func() { m.done <- c.Run(ctx) }()
		t.Cleanup(func() { m.stop(t) })
		ms = append(ms, m)
	}
	return ms, vals, h
}

// TestClusterOfFour runs four validators with real chains and the real
// driver over an in-memory transport: they commit the same blocks, keep
// going with one of them stopped, and switch validator sets at H+2.
func TestClusterOfFour(t *testing.T) {
	const chainID = registrytest.ChainID
	ms, vals, h := startCluster(t, 4, nil)
	keys := make([]ed25519.PrivateKey, len(ms))
	for i, m := range ms {
		keys[i] = m.key
	}

	// submit gives a transaction to every running member, as transaction
	// gossip will, and returns its hash.
	submit := func(tx registry.Tx) registry.Hash {
		for _, m := range ms {
			if m.cancel == nil {
				continue
			}
			if _, err := m.node.Submit(tx); err != nil && !committedSoon(m.node, tx.Hash()) {
				// A block carrying it from the members given it first
				// can land here between two submissions; anything else
				// is a failure.
				t.Fatalf("submit: %v", err)
			}
		}
		return tx.Hash()
	}
	committedEverywhere := func(hs []registry.Hash) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		for _, m := range ms {
			if m.cancel == nil {
				continue
			}
			for _, hsh := range hs {
				s, err := m.node.WaitStatus(ctx, hsh)
				if err != nil || s.Status != node.TxCommitted {
					t.Fatalf("tx %s on a member: %+v %v", hsh, s, err)
				}
			}
		}
	}

	txs, _, err := registrytest.CreateOps(0, 30)
	if err != nil {
		t.Fatal(err)
	}
	var hs []registry.Hash
	for _, tx := range txs[:20] {
		hs = append(hs, submit(tx))
	}
	committedEverywhere(hs)
	sameChains(t, ms)

	// One validator stops: three of four still hold more than 2/3.
	ms[3].stop(t)
	h.mu.Lock()
	h.down[registry.AddressOf(ms[3].key.Public().(ed25519.PublicKey))] = true
	h.mu.Unlock()
	hs = hs[:0]
	for _, tx := range txs[20:] {
		hs = append(hs, submit(tx))
	}
	committedEverywhere(hs)
	sameChains(t, ms)

	// Governance: the three running validators give the first of them
	// more power; the change decides heights from H+2 on.
	next := append([]registry.Validator(nil), vals...)
	next[0].Power = 40
	change := &registry.ValidatorSetChange{ChainID: chainID, Validators: next}
	for _, k := range keys[:3] {
		if err := change.Sign(k); err != nil {
			t.Fatal(err)
		}
	}
	ctx, err := change.Tx()
	if err != nil {
		t.Fatal(err)
	}
	committedEverywhere([]registry.Hash{submit(ctx)})
	rec, err := ms[0].node.Chain.Store().Tx(ctx.Hash())
	if err != nil {
		t.Fatal(err)
	}
	more, _, err := registrytest.CreateOps(100, 6)
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range more {
		committedEverywhere([]registry.Hash{submit(tx)})
	}
	want, _ := registry.NewValidatorSet(next)
	for _, m := range ms[:3] {
		st := m.node.State()
		if st.Height < rec.Height+2 {
			t.Fatalf("chain at %d, want past %d", st.Height, rec.Height+2)
		}
		b, err := m.node.Block(rec.Height + 2)
		if err != nil || b.Header.ValidatorsHash != want.Hash() {
			t.Fatalf("block %d not decided by the new set: %v", rec.Height+2, err)
		}
		if b1, _ := m.node.Block(rec.Height + 1); b1.Header.ValidatorsHash == want.Hash() {
			t.Fatal("the new set decided H+1")
		}
	}
	sameChains(t, ms)
}

func (m *member) stop(t *testing.T) {
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.cancel = nil
	if err := <-m.done; err != nil {
		t.Errorf("consensus: %v", err)
	}
}

// sameChains checks that running members hold identical blocks up to
// the lowest height among them.
func sameChains(t *testing.T, ms []*member) {
	t.Helper()
	low := ^uint64(0)
	for _, m := range ms {
		if m.cancel != nil {
			low = min(low, m.node.State().Height)
		}
	}
	for hgt := uint64(1); hgt <= low; hgt++ {
		var id registry.Hash
		for i, m := range ms {
			if m.cancel == nil {
				continue
			}
			b, err := m.node.Block(hgt)
			if err != nil {
				t.Fatalf("member %d block %d: %v", i, hgt, err)
			}
			if id.IsZero() {
				id = b.ID()
			} else if b.ID() != id {
				t.Fatalf("fork at height %d", hgt)
			}
		}
	}
}

// committedSoon reports whether n has transaction h committed, waiting
// up to 10 s for a commit in progress to show in its index.
func committedSoon(n *node.Node, h registry.Hash) bool {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if s, err := n.Status(h); err == nil && s.Status == node.TxCommitted {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-n.Changed():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

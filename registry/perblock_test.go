package registry_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
	"github.com/idmesh/idmesh/registry/smt"
)

// layered is a StateReader: the writes and tree nodes of the
// transactions applied so far over a committed store.
type layered struct {
	base   registry.StateReader
	writes map[string][]byte // nil value: deleted
	nodes  map[smt.Hash][]byte
}

func (l *layered) Get(key []byte) ([]byte, error) {
	if v, ok := l.writes[string(key)]; ok {
		if v == nil {
			return nil, fmt.Errorf("key: %w", registry.ErrNotFound)
		}
		return v, nil
	}
	return l.base.Get(key)
}

func (l *layered) Node(h smt.Hash) ([]byte, error) {
	if b, ok := l.nodes[h]; ok {
		return b, nil
	}
	return l.base.Node(h)
}

// TestTreeOncePerBlockSameRoots: updating the state tree once per block
// (the block's writes, sorted, in one pass) gives the root, and every
// transaction the result, that updating it after each transaction gives
// (each transaction executed alone on the state and tree the ones before
// it left). Random blocks of creates, updates and deactivates of DIDs
// committed before and made in the same block, replays, forged
// signatures and garbage, from fixed seeds.
func TestTreeOncePerBlockSameRoots(t *testing.T) {
	c, err := registrytest.Open("")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const committed = 12
	if _, err := c.Fill(0, committed, committed, nil); err != nil {
		t.Fatal(err)
	}
	st := c.State()
	ctx := registry.TxContext{ChainID: st.ChainID, Height: st.Height + 1, Time: st.LastBlockTime.Add(time.Second), Validators: st.Validators}
	newMachine := func() *registry.Machine {
		return registry.NewMachine(map[registry.TxType]registry.Handler{registry.TxDIDOperation: registry.DIDHandler{}})
	}
	for seed := range uint64(6) {
		rng := rand.New(rand.NewChaCha8([32]byte{byte(seed)}))
		txs := randomBlock(t, rng, committed, 100+seed*100)
		block, err := newMachine().Execute(c.Store, st.StateRoot, ctx, txs)
		if err != nil {
			t.Fatal(err)
		}
		l := &layered{base: c.Store, writes: map[string][]byte{}, nodes: map[smt.Hash][]byte{}}
		root, ok := st.StateRoot, 0
		for i, tx := range txs {
			one, err := newMachine().Execute(l, root, ctx, []registry.Tx{tx})
			if err != nil {
				t.Fatal(err)
			}
			if one.Results[0] != block.Results[i] {
				t.Fatalf("seed %d, tx %d: alone %+v, in the block %+v", seed, i, one.Results[0], block.Results[i])
			}
			if one.Results[0].OK() {
				ok++
			}
			for _, w := range one.Writes {
				l.writes[string(w.Key)] = w.Value
			}
			for _, n := range one.Nodes {
				l.nodes[n.Hash] = n.Encoding
			}
			root = one.StateRoot
		}
		if root != block.StateRoot {
			t.Fatalf("seed %d: tree updated per transaction %x, per block %x", seed, root, block.StateRoot)
		}
		if ok < len(txs)/3 || ok == len(txs) {
			t.Fatalf("seed %d: %d of %d transactions succeed: the block tests too little", seed, ok, len(txs))
		}
	}
}

// randomBlock returns 40 to 80 transactions: new creates (numbered from
// first), updates and deactivates of the committed DIDs and of DIDs the
// block creates, replays, forged signatures and payloads that do not
// decode.
func randomBlock(t *testing.T, rng *rand.Rand, committed, first uint64) []registry.Tx {
	t.Helper()
	type known struct {
		op   *idmesh.Operation
		prev string // current versionId
		seq  uint64
	}
	var dids []*known
	for i := range committed {
		op, _, err := registrytest.NewCreate(registrytest.ChainID, i)
		if err != nil {
			t.Fatal(err)
		}
		v, _ := op.VersionID()
		dids = append(dids, &known{op: op, prev: v, seq: i})
	}
	var txs []registry.Tx
	next := first
	for range 40 + rng.IntN(41) {
		switch r := rng.IntN(10); {
		case r < 4 || len(txs) == 0:
			op, _, err := registrytest.NewCreate(registrytest.ChainID, next)
			if err != nil {
				t.Fatal(err)
			}
			v, _ := op.VersionID()
			dids = append(dids, &known{op: op, prev: v, seq: next})
			next++
			txs = append(txs, mustDIDTx(t, op))
		case r < 7:
			d := dids[rng.IntN(len(dids))]
			_, k, err := registrytest.NewCreate(registrytest.ChainID, d.seq)
			if err != nil {
				t.Fatal(err)
			}
			subject, _ := d.op.SubjectDID()
			op := &idmesh.Operation{Type: idmesh.Update, DID: subject, Previous: d.prev, Document: d.op.Document.Clone()}
			op.Document.AlsoKnownAs = []string{fmt.Sprintf("https://example.com/%d", rng.IntN(1000))}
			if r == 6 {
				op = &idmesh.Operation{Type: idmesh.Deactivate, DID: subject, Previous: d.prev}
			}
			if err := op.Sign(registrytest.ChainID, "#key-1", k); err != nil {
				t.Fatal(err)
			}
			d.prev, _ = op.VersionID()
			txs = append(txs, mustDIDTx(t, op))
		case r < 8:
			txs = append(txs, txs[rng.IntN(len(txs))]) // a replay
		case r < 9:
			if tx := txs[rng.IntN(len(txs))]; bytes.Contains(tx.Payload, []byte(`"signature":"`)) {
				txs = append(txs, forge(t, tx))
			}
		default:
			txs = append(txs, registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(`{"type":"create"}`)})
		}
	}
	return txs
}

func mustDIDTx(t *testing.T, op *idmesh.Operation) registry.Tx {
	t.Helper()
	tx, err := registry.DIDTx(op)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

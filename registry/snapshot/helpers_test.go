package snapshot_test

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
	"github.com/idmesh/idmesh/registry/smt"
	"github.com/idmesh/idmesh/registry/snapshot"
)

// testNet is a chain decided by test validators whose keys it holds,
// recording each header with its commit as a syncing node would get it.
type testNet struct {
	g       *registry.Genesis
	keys    map[registry.Address]ed25519.PrivateKey
	chain   *registry.Chain
	store   *leveldb.Store
	headers []snapshot.SignedHeader
	blocks  []*registry.Block
	lastVS  registry.Hash
	gov     uint64
}

func validatorKey(i int) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{byte(i + 1)}, ed25519.SeedSize))
}

func validators(keys ...ed25519.PrivateKey) []registry.Validator {
	var vs []registry.Validator
	for _, k := range keys {
		vs = append(vs, registry.Validator{PubKey: k.Public().(ed25519.PublicKey), Power: 10})
	}
	return vs
}

func machine() *registry.Machine {
	return registry.NewMachine(map[registry.TxType]registry.Handler{
		registry.TxDIDOperation: registrytest.ToyHandler{},
		registry.TxValidatorSet: registry.ValidatorSetHandler{},
	})
}

// newTestNet starts a chain of three validators (keys 0, 1, 2).
func newTestNet(t testing.TB) *testNet {
	t.Helper()
	n := &testNet{keys: map[registry.Address]ed25519.PrivateKey{}}
	var ks []ed25519.PrivateKey
	for i := range 4 {
		k := validatorKey(i)
		n.keys[registry.AddressOf(k.Public().(ed25519.PublicKey))] = k
		if i < 3 {
			ks = append(ks, k)
		}
	}
	n.g = &registry.Genesis{ChainID: "snap", GenesisTime: time.Unix(1_700_000_000, 0).UTC(), Validators: validators(ks...)}
	s, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	n.store = s
	if n.chain, err = registry.OpenChain(s, n.g, machine()); err != nil {
		t.Fatal(err)
	}
	vs, _ := n.g.ValidatorSet()
	n.lastVS = vs.Hash()
	return n
}

// sign returns the commit of b by every validator of vs.
func (n *testNet) sign(vs *registry.ValidatorSet, b *registry.Block) *registry.Commit {
	id := b.ID()
	c := &registry.Commit{Height: b.Header.Height, BlockID: id}
	for _, v := range vs.Validators {
		c.Signatures = append(c.Signatures, registry.CommitSig{Validator: v.Address(), Signature: ed25519.Sign(n.keys[v.Address()], registry.VoteSignBytes(n.g.ChainID, b.Header.Height, 0, id))})
	}
	return c
}

// next builds, signs and commits the next block of txs.
func (n *testNet) next(t testing.TB, txs ...registry.Tx) *registry.Block {
	t.Helper()
	st := n.chain.State()
	var last *registry.Commit
	if st.Height > 0 {
		last = n.headers[st.Height-1].Commit
	}
	b, rej, err := n.chain.Propose(txs, st.LastBlockTime.Add(time.Second), st.Validators.Validators[0].Address(), last)
	if err != nil || len(rej) > 0 {
		t.Fatalf("propose: %v %v", err, rej)
	}
	c := n.sign(st.Validators, b)
	if _, err := n.chain.Commit(b, c); err != nil {
		t.Fatal(err)
	}
	sh := snapshot.SignedHeader{Header: b.Header, Commit: c}
	if h := st.Validators.Hash(); h != n.lastVS {
		sh.Validators = st.Validators
		n.lastVS = h
	}
	n.headers = append(n.headers, sh)
	n.blocks = append(n.blocks, b)
	return b
}

// sets returns toy transactions setting keys prefix0..prefix(count-1).
func sets(prefix string, from, count int) []registry.Tx {
	var txs []registry.Tx
	for i := from; i < from+count; i++ {
		txs = append(txs, registrytest.ToyTx(fmt.Sprintf("set %s%05d value-%d-%s", prefix, i, i, bytes.Repeat([]byte{'x'}, i%50))))
	}
	return txs
}

// changeSet is a governance transaction replacing the validators with
// those of keys, signed by the current set.
func (n *testNet) changeSet(t testing.TB, keys ...ed25519.PrivateKey) registry.Tx {
	t.Helper()
	c := &registry.ValidatorSetChange{ChainID: n.g.ChainID, Sequence: n.gov, Validators: validators(keys...)}
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
	return tx
}

// build returns the chunks of the tip's state.
func (n *testNet) build(t testing.TB, target int) [][]byte {
	t.Helper()
	st := n.chain.State()
	var chunks [][]byte
	if _, err := snapshot.Build(n.store, st.Height, smt.Hash(st.StateRoot), target, func(c []byte) error {
		chunks = append(chunks, c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return chunks
}

// grown returns a chain of a few hundred keys over several blocks, with a
// validator set change (keys 0, 1, 2 to 1, 2, 3) in the middle.
func grown(t testing.TB) *testNet {
	t.Helper()
	n := newTestNet(t)
	n.next(t, sets("did:a:", 0, 150)...)
	n.next(t, sets("did:b:", 0, 100)...)
	n.next(t, n.changeSet(t, validatorKey(1), validatorKey(2), validatorKey(3)))
	n.next(t, sets("did:a:", 50, 100)...) // overwrites and new keys
	n.next(t, sets("did:c:", 0, 120)...)
	n.next(t)
	return n
}

func openMemory(t testing.TB) *leveldb.Store {
	t.Helper()
	s, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func registryOpen(s *leveldb.Store, n *testNet) (*registry.Chain, error) {
	return registry.OpenChain(s, n.g, machine())
}

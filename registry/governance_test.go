package registry_test

import (
	"crypto/ed25519"
	"encoding/json"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
)

// govChain is a 4-validator chain whose blocks the test commits with
// signatures from all validators.
type govChain struct {
	*registry.Chain
	store *leveldb.Store
	keys  map[registry.Address]ed25519.PrivateKey
	now   time.Time
}

func newGovChain(t *testing.T) (*govChain, []ed25519.PrivateKey) {
	vs, keys := testValidators(t, 4)
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	g := &registry.Genesis{ChainID: "gov", GenesisTime: time.Unix(1_700_000_000, 0).UTC(), Validators: vs.Validators}
	c, err := registry.OpenChain(store, g, registry.NewMachineDefault())
	if err != nil {
		t.Fatal(err)
	}
	gc := &govChain{Chain: c, store: store, keys: map[registry.Address]ed25519.PrivateKey{}, now: g.GenesisTime}
	for _, k := range keys {
		gc.keys[registry.AddressOf(k.Public().(ed25519.PublicKey))] = k
	}
	return gc, keys
}

// commit proposes txs and commits the block with every current
// validator's precommit; it returns the results.
func (c *govChain) commit(t *testing.T, txs ...registry.Tx) []registry.Result {
	t.Helper()
	st := c.State()
	var last *registry.Commit
	if st.Height > 0 {
		var err error
		if last, err = c.store.Commit(st.Height); err != nil {
			t.Fatal(err)
		}
	}
	c.now = c.now.Add(time.Second)
	b, _, err := c.Propose(txs, c.now, st.Validators.Validators[0].Address(), last)
	if err != nil {
		t.Fatal(err)
	}
	id := b.ID()
	cm := &registry.Commit{Height: b.Header.Height, BlockID: id}
	for _, v := range st.Validators.Validators {
		k, ok := c.keys[v.Address()]
		if !ok {
			t.Fatalf("no key for validator %s", v.Address())
		}
		cm.Signatures = append(cm.Signatures, registry.CommitSig{Validator: v.Address(), Signature: ed25519.Sign(k, registry.VoteSignBytes("gov", b.Header.Height, 0, id))})
	}
	res, err := c.Commit(b, cm)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestValidatorSetChange(t *testing.T) {
	c, keys := newGovChain(t)
	old := c.State().Validators
	newKey := ed25519.NewKeyFromSeed(make([]byte, 32))
	c.keys[registry.AddressOf(newKey.Public().(ed25519.PublicKey))] = newKey
	next := append([]registry.Validator(nil), old.Validators[:3]...)
	next = append(next, registry.Validator{PubKey: newKey.Public().(ed25519.PublicKey), Power: 30})

	change := func(seq uint64, signers ...ed25519.PrivateKey) registry.Tx {
		ch := &registry.ValidatorSetChange{ChainID: "gov", Sequence: seq, Validators: next}
		for _, k := range signers {
			if err := ch.Sign(k); err != nil {
				t.Fatal(err)
			}
		}
		tx, err := ch.Tx()
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	// Two of four is not more than two thirds: refused at the check.
	if err := c.CheckTx(change(0, keys[0], keys[1]), c.now); registry.CodeOf(err) != registry.CodeUnauthorized {
		t.Fatalf("two signatures: %v", err)
	}
	if err := c.CheckTx(change(1, keys[0], keys[1], keys[2]), c.now); registry.CodeOf(err) != registry.CodeConflict {
		t.Fatalf("wrong sequence: %v", err)
	}
	tx := change(0, keys[0], keys[1], keys[2])
	if res := c.commit(t, tx); len(res) != 1 || !res[0].OK() {
		t.Fatalf("change refused: %+v", res)
	}
	h := c.State().Height // the change is in block h
	// Height h+1 is still decided by the old set; h+2 by the new one.
	if c.State().Validators.Hash() != old.Hash() {
		t.Fatal("the set changed at h+1")
	}
	newSet, _ := registry.NewValidatorSet(next)
	if c.State().NextValidators.Hash() != newSet.Hash() {
		t.Fatal("the change is not scheduled for h+2")
	}
	c.commit(t) // h+1
	if c.State().Validators.Hash() != newSet.Hash() || c.State().Height != h+1 {
		t.Fatal("the new set does not decide h+2")
	}
	b, _ := c.store.Block(h + 1)
	if b.Header.NextValidatorsHash != newSet.Hash() {
		t.Fatal("header h+1 does not announce the next set")
	}
	c.commit(t) // h+2, signed by the new set
	// A replay of the same change is refused.
	if err := c.CheckTx(tx, c.now); registry.CodeOf(err) != registry.CodeConflict {
		t.Fatalf("replayed change: %v", err)
	}
}

func TestEvidence(t *testing.T) {
	c, keys := newGovChain(t)
	vs := c.State().Validators
	k := keys[0]
	addr := registry.AddressOf(k.Public().(ed25519.PublicKey))
	vote := func(id registry.Hash) registry.SignedVote {
		return registry.SignedVote{Type: 1, Height: 7, Round: 2, BlockID: id, Validator: addr, Signature: ed25519.Sign(k, registry.PrevoteSignBytes("gov", 7, 2, id))}
	}
	ev := registry.DuplicateVoteEvidence{ValidatorsHash: vs.Hash(), A: vote(registry.Sum([]byte("x"))), B: vote(registry.Sum([]byte("y")))}
	b, _ := json.Marshal(ev)
	tx := registry.Tx{Type: registry.TxEvidence, Payload: b}
	if res := c.commit(t, tx); !res[0].OK() {
		t.Fatalf("evidence refused: %+v", res)
	}
	if _, err := c.store.Get(registry.EvidenceKey(addr, 7, 2, 1)); err != nil {
		t.Fatalf("evidence not recorded: %v", err)
	}
	same := ev
	same.B = ev.A
	b, _ = json.Marshal(same)
	if err := c.CheckTx(registry.Tx{Type: registry.TxEvidence, Payload: b}, c.now); err == nil {
		t.Fatal("two identical votes accepted as evidence")
	}
	forged := ev
	forged.B.Signature = append([]byte(nil), ev.B.Signature...)
	forged.B.Signature[0] ^= 1
	forged.B.Round = 2
	b, _ = json.Marshal(forged)
	if err := c.CheckTx(registry.Tx{Type: registry.TxEvidence, Payload: b}, c.now); err == nil {
		t.Fatal("forged evidence accepted")
	}
}

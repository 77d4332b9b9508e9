package registry_test

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
)

// newChainOf is newGovChain with n validators.
func newChainOf(t *testing.T, n int) (*govChain, []ed25519.PrivateKey) {
	t.Helper()
	vs, keys := testValidators(t, n)
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

// equivocation returns evidence that k signed two votes of type typ at
// (height, round), for blocks named by a and b, against vs.
func equivocation(t *testing.T, k ed25519.PrivateKey, vs *registry.ValidatorSet, typ uint8, height uint64, round uint32, a, b string) registry.Tx {
	t.Helper()
	addr := registry.AddressOf(k.Public().(ed25519.PublicKey))
	vote := func(name string) registry.SignedVote {
		v := registry.SignedVote{Type: typ, Height: height, Round: round, BlockID: registry.Sum([]byte(name)), Validator: addr}
		v.Signature = ed25519.Sign(k, v.SignBytes("gov"))
		return v
	}
	p, err := json.Marshal(registry.DuplicateVoteEvidence{ValidatorsHash: vs.Hash(), A: vote(a), B: vote(b)})
	if err != nil {
		t.Fatal(err)
	}
	return registry.Tx{Type: registry.TxEvidence, Payload: p}
}

func jailRecord(t *testing.T, c *govChain, v registry.Address) (registry.JailRecord, bool) {
	t.Helper()
	b, err := c.store.Get(registry.JailKey(v))
	if errors.Is(err, registry.ErrNotFound) {
		return registry.JailRecord{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var r registry.JailRecord
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r, true
}

func addrOf(k ed25519.PrivateKey) registry.Address {
	return registry.AddressOf(k.Public().(ed25519.PublicKey))
}

// TestEvidenceJailsAtHPlus2: evidence committed at H removes the
// validator from the set of H+2, not H+1, and the state says so.
func TestEvidenceJailsAtHPlus2(t *testing.T) {
	c, keys := newChainOf(t, 4)
	vs := c.State().Validators
	bad := addrOf(keys[1])
	if res := c.commit(t, equivocation(t, keys[1], vs, 1, 1, 0, "x", "y")); !res[0].OK() {
		t.Fatalf("evidence refused: %+v", res)
	}
	h := c.State().Height
	if _, ok := c.State().Validators.ByAddress(bad); !ok {
		t.Fatal("removed from the set of H+1, which was already fixed")
	}
	if _, ok := c.State().NextValidators.ByAddress(bad); ok {
		t.Fatal("not removed from the set of H+2")
	}
	if n := len(c.State().NextValidators.Validators); n != 3 {
		t.Fatalf("set of H+2 has %d validators, want 3", n)
	}
	rec, ok := jailRecord(t, c, bad)
	if !ok || rec.Height != h || rec.RemovedFrom != h+2 || rec.Skipped != "" {
		t.Fatalf("jail record %+v (found %v), want height %d removed from %d", rec, ok, h, h+2)
	}
	c.commit(t) // H+1, still signed by four
	c.commit(t) // H+2, signed by three
	if _, ok := c.State().LastValidators.ByAddress(bad); ok {
		t.Fatal("the jailed validator decided H+2")
	}
}

// TestEvidenceOneOffence: two different pairs of conflicting votes for
// one (validator, height, round, type) are one offence; the second is
// refused in the same block and in a later one, while another round is
// another offence.
func TestEvidenceOneOffence(t *testing.T) {
	c, keys := newChainOf(t, 4)
	vs := c.State().Validators
	first := equivocation(t, keys[0], vs, 2, 1, 0, "a", "b")
	second := equivocation(t, keys[0], vs, 2, 1, 0, "c", "d")
	if first.Hash() == second.Hash() {
		t.Fatal("test needs two different transactions")
	}
	k1, ok1 := registry.EvidenceOffence(first)
	k2, ok2 := registry.EvidenceOffence(second)
	if !ok1 || !ok2 || string(k1) != string(k2) {
		t.Fatal("EvidenceOffence does not name one offence")
	}
	if _, ok := registry.EvidenceOffence(registry.Tx{Type: registry.TxDIDOperation, Payload: first.Payload}); ok {
		t.Fatal("EvidenceOffence of a DID operation")
	}
	st := c.State()
	var last *registry.Commit
	b, rejected, err := c.Propose([]registry.Tx{first, second}, c.now.Add(time.Second), st.Validators.Validators[0].Address(), last)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Txs) != 1 || len(rejected) != 1 || !errors.Is(rejected[0].Err, registry.ErrEvidenceRecorded) {
		t.Fatalf("one block kept %d evidence transactions, rejected %+v", len(b.Txs), rejected)
	}
	if res := c.commit(t, first); !res[0].OK() {
		t.Fatalf("evidence refused: %+v", res)
	}
	err = c.CheckTx(second, c.now)
	if !errors.Is(err, registry.ErrEvidenceRecorded) || registry.CodeOf(err) != registry.CodeConflict {
		t.Fatalf("second evidence of one offence: %v", err)
	}
	// Another round is another offence: recorded, but the validator is
	// already out of the set of H+2, so nothing more changes.
	next := c.State().NextValidators.Hash()
	other := equivocation(t, keys[0], c.State().Validators, 2, 1, 1, "a", "b")
	if res := c.commit(t, other); !res[0].OK() {
		t.Fatalf("evidence of another round refused: %+v", res)
	}
	if c.State().Validators.Hash() != next {
		t.Fatal("the set changed again")
	}
}

// TestEvidenceTooOld: votes more than MaxEvidenceAge heights below the
// block are refused; at exactly MaxEvidenceAge they are accepted.
func TestEvidenceTooOld(t *testing.T) {
	c, keys := newChainOf(t, 4)
	vs := c.State().Validators
	for c.State().Height < registry.MaxEvidenceAge+1 {
		c.commit(t)
	}
	// The next block is MaxEvidenceAge+2: votes of height 1 are too old.
	err := c.CheckTx(equivocation(t, keys[2], vs, 1, 1, 0, "x", "y"), c.now)
	if !errors.Is(err, registry.ErrEvidenceTooOld) || registry.CodeOf(err) != registry.CodeInvalid {
		t.Fatalf("old evidence: %v", err)
	}
	if err := c.CheckTx(equivocation(t, keys[2], vs, 1, 2, 0, "x", "y"), c.now); err != nil {
		t.Fatalf("evidence exactly MaxEvidenceAge old: %v", err)
	}
}

// TestJailNeverEmptiesTheSet: the only validator's equivocation is
// recorded, but it stays, and the state says why.
func TestJailNeverEmptiesTheSet(t *testing.T) {
	c, keys := newChainOf(t, 1)
	vs := c.State().Validators
	if res := c.commit(t, equivocation(t, keys[0], vs, 1, 1, 0, "x", "y")); !res[0].OK() {
		t.Fatalf("evidence refused: %+v", res)
	}
	if c.State().NextValidators.Hash() != vs.Hash() {
		t.Fatal("the only validator was removed")
	}
	rec, ok := jailRecord(t, c, addrOf(keys[0]))
	if !ok || rec.RemovedFrom != 0 || rec.Skipped == "" {
		t.Fatalf("jail record %+v (found %v), want a skipped removal", rec, ok)
	}
	c.commit(t)
	c.commit(t)
}

// TestUnjailByGovernance: a jailed validator comes back only through a
// validator-set change signed by more than 2/3 of the current power, and
// a change signed before the jailing (at the old sequence) cannot do it.
func TestUnjailByGovernance(t *testing.T) {
	c, keys := newChainOf(t, 4)
	vs := c.State().Validators
	bad := addrOf(keys[3])
	change := func(seq uint64, vals []registry.Validator, signers ...ed25519.PrivateKey) registry.Tx {
		ch := &registry.ValidatorSetChange{ChainID: "gov", Sequence: seq, Validators: vals}
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
	stale := change(0, vs.Validators, keys[0], keys[1], keys[2])
	c.commit(t, equivocation(t, keys[3], vs, 1, 1, 0, "x", "y"))
	c.commit(t)
	c.commit(t)
	if _, ok := c.State().Validators.ByAddress(bad); ok {
		t.Fatal("not jailed")
	}
	if err := c.CheckTx(stale, c.now); registry.CodeOf(err) != registry.CodeConflict {
		t.Fatalf("a change signed before the jailing: %v", err)
	}
	// The current set is three validators of power 10: two signatures
	// are not more than two thirds.
	if err := c.CheckTx(change(1, vs.Validators, keys[0], keys[1]), c.now); registry.CodeOf(err) != registry.CodeUnauthorized {
		t.Fatalf("unjail by two of three: %v", err)
	}
	// The jailed validator's own signature does not count.
	if err := c.CheckTx(change(1, vs.Validators, keys[0], keys[1], keys[3]), c.now); registry.CodeOf(err) != registry.CodeUnauthorized {
		t.Fatalf("unjail signed by the jailed validator: %v", err)
	}
	if res := c.commit(t, change(1, vs.Validators, keys[0], keys[1], keys[2])); !res[0].OK() {
		t.Fatalf("unjail refused: %+v", res)
	}
	if _, ok := jailRecord(t, c, bad); ok {
		t.Fatal("jail record kept after the unjail")
	}
	c.commit(t)
	if c.State().Validators.Hash() != vs.Hash() {
		t.Fatal("the validator is not back")
	}
}

// TestPardonAfterUnjail: governance readmits a jailed validator; evidence
// of another offence it committed before that (the same height, the other
// vote type) is refused, so it cannot be jailed again for the past; an
// offence after the readmission jails it again.
func TestPardonAfterUnjail(t *testing.T) {
	c, keys := newChainOf(t, 4)
	vs := c.State().Validators
	bad := addrOf(keys[3])
	c.commit(t, equivocation(t, keys[3], vs, 1, 1, 0, "x", "y"))
	c.commit(t)
	c.commit(t)
	ch := &registry.ValidatorSetChange{ChainID: "gov", Sequence: 1, Validators: vs.Validators}
	for _, k := range keys[:3] {
		if err := ch.Sign(k); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := ch.Tx()
	if err != nil {
		t.Fatal(err)
	}
	if res := c.commit(t, tx); !res[0].OK() {
		t.Fatalf("readmission refused: %+v", res)
	}
	readmitted := c.State().Height
	c.commit(t)
	if _, ok := c.State().Validators.ByAddress(bad); !ok {
		t.Fatal("the validator is not back")
	}
	old := equivocation(t, keys[3], c.State().Validators, 2, 1, 0, "x", "y")
	if err := c.CheckTx(old, c.now); !errors.Is(err, registry.ErrEvidencePardoned) || registry.CodeOf(err) != registry.CodeConflict {
		t.Fatalf("evidence of an offence before the readmission: %v", err)
	}
	fresh := equivocation(t, keys[3], c.State().Validators, 1, readmitted+1, 0, "x", "y")
	if res := c.commit(t, fresh); !res[0].OK() {
		t.Fatalf("evidence of an offence after the readmission: %+v", res)
	}
	if _, ok := jailRecord(t, c, bad); !ok {
		t.Fatal("not jailed for the new offence")
	}
}

// TestSecondEquivocatorAfterJailing: two validators equivocate at one
// height; the first one's evidence is committed and its jailing changes
// the set. The second one's evidence, made against the set of the votes'
// height, still jails it once the set has changed.
func TestSecondEquivocatorAfterJailing(t *testing.T) {
	c, keys := newChainOf(t, 5)
	vs := c.State().Validators
	h := c.State().Height + 1
	if res := c.commit(t, equivocation(t, keys[0], vs, 1, h, 0, "x", "y")); !res[0].OK() {
		t.Fatalf("first evidence refused: %+v", res)
	}
	c.commit(t)
	c.commit(t)
	if c.State().Validators.Hash() == vs.Hash() {
		t.Fatal("the first jailing did not change the set")
	}
	second := equivocation(t, keys[1], vs, 1, h, 0, "x", "y")
	if err := c.CheckTx(second, c.now); err != nil {
		t.Fatalf("second equivocator's evidence refused after the set changed: %v", err)
	}
	if res := c.commit(t, second); !res[0].OK() {
		t.Fatalf("second evidence refused: %+v", res)
	}
	if rec, ok := jailRecord(t, c, addrOf(keys[1])); !ok || rec.Skipped != "" {
		t.Fatalf("second equivocator not jailed: %+v, %v", rec, ok)
	}
	if _, ok := c.State().NextValidators.ByAddress(addrOf(keys[1])); ok {
		t.Fatal("second equivocator still in the set of H+2")
	}
	// Evidence against a validator who is out of the set is refused.
	c.commit(t)
	c.commit(t)
	late := equivocation(t, keys[0], vs, 2, h, 0, "x", "y")
	if err := c.CheckTx(late, c.now); err == nil {
		t.Fatal("evidence against a validator already out of the set accepted")
	}
}

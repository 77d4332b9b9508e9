package consensus

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"testing"
)

// fblock is a test block of a given size.
type fblock struct {
	height uint64
	id     Hash
	size   int
}

func (b *fblock) ID() Hash       { return b.id }
func (b *fblock) Height() uint64 { return b.height }
func (b *fblock) Size() int      { return b.size }

// futureApp knows the validator sets of the heights in sets only.
type futureApp struct{ sets map[uint64]*ValidatorSet }

func (a futureApp) ProposeBlock(h uint64, r int32, _ *Commit) (*fblock, error) {
	return &fblock{height: h, id: Sum(fmt.Appendf(nil, "%d/%d", h, r))}, nil
}
func (a futureApp) ValidateBlock(*fblock) error { return nil }
func (a futureApp) Validators(h uint64) (*ValidatorSet, error) {
	if vs, ok := a.sets[h]; ok {
		return vs, nil
	}
	return nil, fmt.Errorf("validators of %d unknown", h)
}
func (a futureApp) Decided(uint64) (*fblock, *Commit, bool) { return nil, nil, false }

const futureChain = "future-test"

func futureKey(i byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = i
	return ed25519.NewKeyFromSeed(seed)
}

func futureSet(t *testing.T, keys ...ed25519.PrivateKey) *ValidatorSet {
	t.Helper()
	var vals []Validator
	for _, k := range keys {
		vals = append(vals, Validator{PubKey: k.Public().(ed25519.PublicKey), Power: 1})
	}
	vs, err := NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func futureVote(k ed25519.PrivateKey, h uint64, r int32) Message[*fblock] {
	v := &Vote{Type: Prevote, Height: h, Round: r, BlockID: Sum([]byte("b")), Validator: AddressOf(k.Public().(ed25519.PublicKey))}
	v.Signature = ed25519.Sign(k, v.SignBytes(futureChain))
	return Message[*fblock]{From: v.Validator, Vote: v}
}

func futureProposal(k ed25519.PrivateKey, h uint64, r int32, size int) Message[*fblock] {
	p := &Proposal[*fblock]{Height: h, Round: r, POLRound: NilRound, Block: &fblock{height: h, id: Sum(fmt.Appendf(nil, "p%d/%d", h, r)), size: size}, Proposer: AddressOf(k.Public().(ed25519.PublicKey))}
	p.Signature = ed25519.Sign(k, p.SignBytes(futureChain))
	return Message[*fblock]{From: p.Proposer, Proposal: p}
}

// The validators of height 1 are keys 1-4; those of height 2 are keys
// 2-5 (key 1 leaves, key 5 joins); height 3's set is unknown.
var (
	oldKey             = futureKey(1)
	keepKeys           = []ed25519.PrivateKey{futureKey(2), futureKey(3), futureKey(4)}
	newKey             = futureKey(5)
	futureH1, futureH2 = append([]ed25519.PrivateKey{oldKey}, keepKeys...), append(append([]ed25519.PrivateKey{}, keepKeys...), newKey)
)

// proposerRounds returns the first n rounds of height h in which k is
// the proposer under the validator set of keys.
func proposerRounds(t *testing.T, h uint64, k ed25519.PrivateKey, n int, keys ...ed25519.PrivateKey) []int32 {
	t.Helper()
	s, a := newSchedule(futureSet(t, keys...)), AddressOf(k.Public().(ed25519.PublicKey))
	var rs []int32
	for r := int32(0); len(rs) < n; r++ {
		if s.proposer(h, r) == a {
			rs = append(rs, r)
		}
	}
	return rs
}

// newFutureEngine returns a follower at height 1 with the given
// per-validator bounds.
func newFutureEngine(t *testing.T, perVal, bytesPerVal int) *Engine[*fblock] {
	t.Helper()
	app := futureApp{sets: map[uint64]*ValidatorSet{1: futureSet(t, futureH1...), 2: futureSet(t, futureH2...)}}
	e, err := New(Config[*fblock]{ChainID: futureChain, Height: 1, App: app, ID: Address{0xee},
		MaxFuturePerValidator: perVal, MaxFutureBytesPerValidator: bytesPerVal})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// futureOf counts the buffered messages signed by k.
func futureOf(e *Engine[*fblock], k ed25519.PrivateKey) int {
	a := AddressOf(k.Public().(ed25519.PublicKey))
	n := 0
	for _, fm := range e.future.msgs {
		if fm.owner == a {
			n++
		}
	}
	return n
}

// TestFutureBoundedPerValidator: the buffer keeps at most N entries and B
// bytes per validator; one validator filling its share leaves the others'
// untouched.
func TestFutureBoundedPerValidator(t *testing.T) {
	const perVal = 4
	e := newFutureEngine(t, perVal, 10_000)
	flooder, other := newKey, keepKeys[0]
	for r := range int32(20) {
		if err := e.Step(futureVote(flooder, 2, r)); err != nil {
			t.Fatal(err)
		}
	}
	if n := futureOf(e, flooder); n != perVal {
		t.Fatalf("flooder has %d buffered messages, want %d", n, perVal)
	}
	for r := range int32(perVal) {
		if err := e.Step(futureVote(other, 2, r)); err != nil {
			t.Fatal(err)
		}
	}
	if n := futureOf(e, other); n != perVal {
		t.Fatalf("another validator has %d buffered messages after the flood, want %d", n, perVal)
	}

	// Bytes: proposals of 1,000-byte blocks against a 2,500-byte share
	// (each is charged its block plus a fixed part): two fit.
	e = newFutureEngine(t, 100, 2_500)
	for _, r := range proposerRounds(t, 2, flooder, 5, futureH2...) {
		if err := e.Step(futureProposal(flooder, 2, r, 1_000)); err != nil {
			t.Fatal(err)
		}
	}
	if n, b := futureOf(e, flooder), e.future.bytes[AddressOf(flooder.Public().(ed25519.PublicKey))]; n != 2 || b > 2_500 {
		t.Fatalf("%d proposals, %d bytes buffered, want 2 within 2,500 bytes", n, b)
	}
	// Small votes still fit the same share.
	if err := e.Step(futureVote(flooder, 2, 0)); err != nil || futureOf(e, flooder) != 3 {
		t.Fatalf("vote after proposals: %v, %d buffered", err, futureOf(e, flooder))
	}
}

// TestFutureDeduplicated: the same signed message is kept once however
// often it arrives.
func TestFutureDeduplicated(t *testing.T) {
	e := newFutureEngine(t, 100, 1<<20)
	v, p := futureVote(newKey, 2, 0), futureProposal(newKey, 2, proposerRounds(t, 2, newKey, 1, futureH2...)[0], 100)
	for range 5 {
		for _, m := range []Message[*fblock]{v, p} {
			if err := e.Step(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := e.future.len(); n != 2 {
		t.Fatalf("%d messages buffered, want the vote and the proposal once each", n)
	}
}

// TestFutureVerified: only messages whose signatures verify against the
// validator set of their height are kept: a bad signature and a signer
// who is not a validator of that height (though one of the current) are
// refused with an error, and a message for a height whose set is unknown
// is dropped.
func TestFutureVerified(t *testing.T) {
	e := newFutureEngine(t, 100, 1<<20)
	bad := futureVote(newKey, 2, 0)
	bad.Vote.Signature = append([]byte(nil), bad.Vote.Signature...)
	bad.Vote.Signature[0] ^= 1
	blk2 := &fblock{height: 2, id: Sum([]byte("two"))}
	oldOnly := &Commit{Height: 2, BlockID: blk2.ID(), Signatures: []CommitSig{{Validator: AddressOf(oldKey.Public().(ed25519.PublicKey)), Signature: ed25519.Sign(oldKey, VoteSignBytes(futureChain, 2, 0, blk2.ID()))}}}
	rs := proposerRounds(t, 2, newKey, 2, futureH2...)
	badProp := futureProposal(newKey, 2, rs[0], 10)
	badProp.Proposal.Round = rs[1] // signed for another of its rounds
	notProposer := futureProposal(newKey, 2, rs[0]+1, 10)
	for _, tc := range []struct {
		name string
		m    Message[*fblock]
		want error
	}{
		{"bad vote signature", bad, ErrBadSignature},
		{"bad proposal signature", badProp, ErrBadSignature},
		{"proposal by a validator not scheduled to propose", notProposer, ErrInvalidMessage},
		{"validator of height 1 only", futureVote(oldKey, 2, 0), ErrNotValidator},
		{"decided by a validator of height 1 only", Message[*fblock]{Decided: &Decided[*fblock]{Block: blk2, Commit: oldOnly}}, ErrInvalidMessage},
		{"unknown validator set", futureVote(newKey, 3, 0), nil},
	} {
		if err := e.Step(tc.m); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if n := e.future.len(); n != 0 {
		t.Fatalf("%d unverified messages buffered", n)
	}
	// The joining validator's good vote is kept, and replayed once the
	// engine reaches height 2.
	if err := e.Step(futureVote(newKey, 2, 0)); err != nil || e.future.len() != 1 {
		t.Fatalf("good vote: %v, %d buffered", err, e.future.len())
	}
	blk := &fblock{height: 1, id: Sum([]byte("one"))}
	c := &Commit{Height: 1, BlockID: blk.ID()}
	for _, k := range futureH1 {
		c.Signatures = append(c.Signatures, CommitSig{Validator: AddressOf(k.Public().(ed25519.PublicKey)), Signature: ed25519.Sign(k, VoteSignBytes(futureChain, 1, 0, blk.ID()))})
	}
	if err := e.Step(Message[*fblock]{Decided: &Decided[*fblock]{Block: blk, Commit: c}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Advance(); err != nil {
		t.Fatal(err)
	}
	if e.Height() != 2 || e.future.len() != 0 || e.prevotes[0] == nil || len(e.prevotes[0].votes[AddressOf(newKey.Public().(ed25519.PublicKey))]) != 1 {
		t.Fatalf("at height %d the buffered vote was not replayed", e.Height())
	}
}

// TestFutureFairShare: in a set of 120 validators, the 39 Byzantine ones
// (f) flooding 256 messages each cannot fill the 10,000-message buffer:
// each signer's share is MaxFuture/120 = 83, and an honest validator's
// vote is still kept.
func TestFutureFairShare(t *testing.T) {
	var keys []ed25519.PrivateKey
	for i := range 120 {
		keys = append(keys, futureKey(byte(i+1)))
	}
	vs := futureSet(t, keys...)
	e, err := New(Config[*fblock]{ChainID: futureChain, Height: 5, LastCommit: &Commit{Height: 4}, ID: Address{0xee},
		App: futureApp{sets: map[uint64]*ValidatorSet{5: vs, 6: vs}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 39 {
		for r := range int32(256) {
			_ = e.Step(futureVote(keys[i], 6, r))
		}
	}
	if got, want := futureOf(e, keys[0]), 10_000/120; got != want {
		t.Fatalf("a flooding validator holds %d messages, want its share %d", got, want)
	}
	_ = e.Step(futureVote(keys[100], 6, 0))
	if futureOf(e, keys[100]) != 1 {
		t.Fatalf("the honest vote was dropped (buffer %d)", e.future.len())
	}
}

// TestFutureProposerScheduled: a validator of the next height may buffer
// proposals only for the rounds it is scheduled to propose, and a
// proposal for any other round is refused before its signature is
// checked; the next height's schedule is computed once, however many
// proposals arrive.
func TestFutureProposerScheduled(t *testing.T) {
	verifies := 0
	app := futureApp{sets: map[uint64]*ValidatorSet{1: futureSet(t, futureH1...), 2: futureSet(t, futureH2...)}}
	e, err := New(Config[*fblock]{ChainID: futureChain, Height: 1, App: app, ID: Address{0xee},
		Verify: func(pub ed25519.PublicKey, msg, sig []byte) bool { verifies++; return ed25519.Verify(pub, msg, sig) }})
	if err != nil {
		t.Fatal(err)
	}
	mine := map[int32]bool{}
	for _, r := range proposerRounds(t, 2, newKey, 10, futureH2...) {
		mine[r] = true
	}
	kept, refused := 0, 0
	for r := range int32(40) {
		err := e.Step(futureProposal(newKey, 2, r, 10))
		switch {
		case mine[r] && err == nil:
			kept++
		case !mine[r] && errors.Is(err, ErrInvalidMessage):
			refused++
		default:
			t.Fatalf("round %d (scheduled %v): %v", r, mine[r], err)
		}
	}
	if kept != 10 || refused != 30 || futureOf(e, newKey) != 10 {
		t.Fatalf("kept %d, refused %d, buffered %d; want 10, 30, 10", kept, refused, futureOf(e, newKey))
	}
	if verifies != kept {
		t.Fatalf("%d signature checks for %d scheduled proposals: unscheduled ones must cost none", verifies, kept)
	}
	first := e.future.sched
	_ = e.Step(futureProposal(newKey, 2, 1, 10))
	if &e.future.sched[0] != &first[0] {
		t.Fatal("the next height's schedule was computed again")
	}
}

// TestDecidedVerifiesAgainstNextSet: between a decision and Advance the
// engine is at the next height, not started; a vote for it is checked
// against that height's validator set, not the decided one's: the
// validator who joins at height 2 has its vote kept (it was refused as
// not a validator), the one who left has its vote refused, and the kept
// vote counts once the height starts.
func TestDecidedVerifiesAgainstNextSet(t *testing.T) {
	app := futureApp{sets: map[uint64]*ValidatorSet{1: futureSet(t, futureH1...), 2: futureSet(t, futureH2...)}}
	e, err := New(Config[*fblock]{ChainID: futureChain, Height: 1, App: app, ID: Address{0xee}})
	if err != nil {
		t.Fatal(err)
	}
	blk := &fblock{height: 1, id: Sum([]byte("one"))}
	c := &Commit{Height: 1, BlockID: blk.ID()}
	for _, k := range futureH1 {
		c.Signatures = append(c.Signatures, CommitSig{Validator: AddressOf(k.Public().(ed25519.PublicKey)), Signature: ed25519.Sign(k, VoteSignBytes(futureChain, 1, 0, blk.ID()))})
	}
	if err := e.Step(Message[*fblock]{Decided: &Decided[*fblock]{Block: blk, Commit: c}}); err != nil {
		t.Fatal(err)
	}
	if e.step != StepDecided || e.Height() != 2 {
		t.Fatalf("step %v at height %d, want decided and at 2", e.step, e.Height())
	}
	if err := e.Step(futureVote(newKey, 2, 0)); err != nil {
		t.Fatalf("vote of the joining validator: %v", err)
	}
	if err := e.Step(futureVote(oldKey, 2, 0)); !errors.Is(err, ErrNotValidator) {
		t.Fatalf("vote of the leaving validator: %v, want ErrNotValidator", err)
	}
	if err := e.Advance(); err != nil {
		t.Fatal(err)
	}
	if e.prevotes[0] == nil || len(e.prevotes[0].votes[AddressOf(newKey.Public().(ed25519.PublicKey))]) != 1 {
		t.Fatal("the joining validator's vote was not counted at height 2")
	}
}

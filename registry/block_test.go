package registry_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
)

func testValidators(t testing.TB, n int) (*registry.ValidatorSet, []ed25519.PrivateKey) {
	t.Helper()
	var vals []registry.Validator
	privs := map[registry.Address]ed25519.PrivateKey{}
	for i := range n {
		seed := bytes.Repeat([]byte{byte(i + 1)}, ed25519.SeedSize)
		k := ed25519.NewKeyFromSeed(seed)
		pub := k.Public().(ed25519.PublicKey)
		vals = append(vals, registry.Validator{PubKey: pub, Power: 10})
		privs[registry.AddressOf(pub)] = k
	}
	vs, err := registry.NewValidatorSet(vals)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]ed25519.PrivateKey, n)
	for i, v := range vs.Validators {
		keys[i] = privs[v.Address()]
	}
	return vs, keys
}

func sampleBlock() *registry.Block {
	txs := []registry.Tx{{Type: registry.TxDIDOperation, Payload: []byte(`{"a":1}`)}, {Type: registry.TxDIDOperation, Payload: []byte(`{"b":2}`)}}
	last := &registry.Commit{Height: 4, Round: 1, BlockID: registry.Sum([]byte("prev")), Signatures: []registry.CommitSig{{Validator: registry.Address{1}, Signature: bytes.Repeat([]byte{7}, 64)}}}
	b := &registry.Block{
		Header: registry.Header{
			ChainID: "test-chain", Height: 5, Time: time.Unix(1700000000, 123456789).UTC(),
			LastBlockID: last.BlockID, LastCommitHash: last.Hash(), StateRoot: registry.Sum([]byte("state")),
			ValidatorsHash: registry.Sum([]byte("v")), NextValidatorsHash: registry.Sum([]byte("nv")), Proposer: registry.Address{9},
		},
		Txs:        txs,
		LastCommit: last,
	}
	b.Header.TxRoot = registry.MerkleRoot(b.TxHashes())
	return b
}

func TestBlockRoundTrip(t *testing.T) {
	b := sampleBlock()
	enc := b.Encode()
	got, err := registry.DecodeBlock(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Encode(), enc) {
		t.Fatal("re-encoding differs")
	}
	if got.ID() != b.ID() {
		t.Fatal("block id changed in round trip")
	}
	if !got.Header.Time.Equal(b.Header.Time) {
		t.Fatalf("time %v, want %v", got.Header.Time, b.Header.Time)
	}
}

func TestHeaderIDCoversEveryField(t *testing.T) {
	base := sampleBlock().Header
	id := base.ID()
	mutations := map[string]func(h *registry.Header){
		"chain":      func(h *registry.Header) { h.ChainID = "other" },
		"height":     func(h *registry.Header) { h.Height++ },
		"time":       func(h *registry.Header) { h.Time = h.Time.Add(time.Nanosecond) },
		"last block": func(h *registry.Header) { h.LastBlockID[0] ^= 1 },
		"last commit": func(h *registry.Header) {
			h.LastCommitHash[0] ^= 1
		},
		"tx root":         func(h *registry.Header) { h.TxRoot[0] ^= 1 },
		"state root":      func(h *registry.Header) { h.StateRoot[0] ^= 1 },
		"validators":      func(h *registry.Header) { h.ValidatorsHash[0] ^= 1 },
		"next validators": func(h *registry.Header) { h.NextValidatorsHash[0] ^= 1 },
		"proposer":        func(h *registry.Header) { h.Proposer[0] ^= 1 },
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			h := base
			mutate(&h)
			if h.ID() == id {
				t.Fatal("block id does not cover the field")
			}
		})
	}
}

func TestDecodeBlockRejects(t *testing.T) {
	good := sampleBlock()
	tests := map[string]func() []byte{
		"trailing byte": func() []byte { return append(good.Encode(), 0) },
		"truncated":     func() []byte { e := good.Encode(); return e[:len(e)-3] },
		"tx root mismatch": func() []byte {
			b := sampleBlock()
			b.Txs = b.Txs[:1]
			return b.Encode()
		},
		"last commit mismatch": func() []byte {
			b := sampleBlock()
			b.LastCommit.Round++
			return b.Encode()
		},
		"height zero": func() []byte {
			b := sampleBlock()
			b.Header.Height = 0
			return b.Encode()
		},
		"unknown tx type": func() []byte {
			b := sampleBlock()
			b.Txs[0].Type = 99
			b.Header.TxRoot = registry.MerkleRoot(b.TxHashes())
			return b.Encode()
		},
	}
	for name, enc := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := registry.DecodeBlock(enc()); err == nil {
				t.Fatal("decoded a bad block")
			}
		})
	}
}

func TestTxHashIgnoresNothing(t *testing.T) {
	a := registry.Tx{Type: registry.TxDIDOperation, Payload: []byte("x")}
	b := registry.Tx{Type: registry.TxDIDOperation, Payload: []byte("y")}
	if a.Hash() == b.Hash() {
		t.Fatal("different payloads, same hash")
	}
	got, err := registry.DecodeTx(a.Encode())
	if err != nil || got.Hash() != a.Hash() {
		t.Fatalf("round trip: %v", err)
	}
}

func TestMerkleRoot(t *testing.T) {
	if !registry.MerkleRoot(nil).IsZero() {
		t.Fatal("empty root must be zero")
	}
	leaves := []registry.Hash{registry.Sum([]byte("a")), registry.Sum([]byte("b")), registry.Sum([]byte("c"))}
	r3 := registry.MerkleRoot(leaves)
	if r3 == registry.MerkleRoot(leaves[:2]) || r3 == registry.MerkleRoot([]registry.Hash{leaves[1], leaves[0], leaves[2]}) {
		t.Fatal("root must depend on every leaf and their order")
	}
	// A single leaf is hashed with the leaf prefix, not returned as is.
	if registry.MerkleRoot(leaves[:1]) == leaves[0] {
		t.Fatal("leaf not domain-separated")
	}
}

func TestVerifyCommit(t *testing.T) {
	vs, keys := testValidators(t, 4)
	const chain = "c"
	id := registry.Sum([]byte("block"))
	sign := func(i int, round uint32, blockID registry.Hash) registry.CommitSig {
		return registry.CommitSig{Validator: vs.Validators[i].Address(), Signature: ed25519.Sign(keys[i], registry.VoteSignBytes(chain, 3, round, blockID))}
	}
	commit := func(sigs ...registry.CommitSig) *registry.Commit {
		return &registry.Commit{Height: 3, Round: 0, BlockID: id, Signatures: sigs}
	}
	other := registry.Sum([]byte("other"))
	tests := []struct {
		name string
		c    *registry.Commit
		err  error
	}{
		{"three of four", commit(sign(0, 0, id), sign(1, 0, id), sign(2, 0, id)), nil},
		{"all four", commit(sign(0, 0, id), sign(1, 0, id), sign(2, 0, id), sign(3, 0, id)), nil},
		{"two of four is not more than 2/3", commit(sign(0, 0, id), sign(1, 0, id)), registry.ErrInsufficientPower},
		{"duplicate signer", commit(sign(0, 0, id), sign(0, 0, id), sign(1, 0, id)), registry.ErrInvalidBlock},
		{"signature for another block", commit(sign(0, 0, id), sign(1, 0, id), sign(2, 0, other)), registry.ErrInvalidBlock},
		{"signature for another round", commit(sign(0, 0, id), sign(1, 0, id), sign(2, 1, id)), registry.ErrInvalidBlock},
		{"unknown signer", commit(sign(0, 0, id), sign(1, 0, id), registry.CommitSig{Validator: registry.Address{1}, Signature: make([]byte, 64)}), registry.ErrInvalidBlock},
		{"missing", nil, registry.ErrInvalidBlock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := registry.VerifyCommit(chain, vs, 3, id, tt.c)
			if tt.err == nil && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
		})
	}
	if err := registry.VerifyCommit("other-chain", vs, 3, id, commit(sign(0, 0, id), sign(1, 0, id), sign(2, 0, id))); err == nil {
		t.Fatal("a commit signed for another chain verified")
	}
}

func TestValidatorSetCanonical(t *testing.T) {
	vs, _ := testValidators(t, 3)
	rev := []registry.Validator{vs.Validators[2], vs.Validators[0], vs.Validators[1]}
	vs2, err := registry.NewValidatorSet(rev)
	if err != nil {
		t.Fatal(err)
	}
	if vs.Hash() != vs2.Hash() {
		t.Fatal("hash depends on listing order")
	}
	if _, err := registry.NewValidatorSet([]registry.Validator{vs.Validators[0], vs.Validators[0]}); err == nil {
		t.Fatal("duplicate validator accepted")
	}
	if _, err := registry.NewValidatorSet([]registry.Validator{{PubKey: vs.Validators[0].PubKey, Power: 0}}); err == nil {
		t.Fatal("zero power accepted")
	}
}

func FuzzDecodeBlock(f *testing.F) {
	f.Add(sampleBlock().Encode())
	b := sampleBlock()
	b.LastCommit = nil
	b.Header.Height = 1
	b.Header.LastBlockID = registry.Hash{}
	b.Header.LastCommitHash = registry.Hash{}
	f.Add(b.Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		blk, err := registry.DecodeBlock(data)
		if err != nil {
			return
		}
		if !bytes.Equal(blk.Encode(), data) {
			t.Fatal("a decoded block re-encodes differently: two encodings for one block")
		}
		if !bytes.Equal(blk.Encoding(), data) {
			t.Fatal("a decoded block's Encoding is not the bytes it came from")
		}
		defer registry.SetVerifyTxMemo(false)()
		for i, tx := range blk.Txs {
			if tx.Hash() != registry.Sum(tx.Encode()) {
				t.Fatalf("tx %d: the hash a decoded block remembers is not its encoding's", i)
			}
		}
	})
}

// FuzzDecodeBlockHeader: the header DecodeBlockHeader reads from a
// block's bytes is the one DecodeBlock decodes, for every block
// DecodeBlock accepts.
func FuzzDecodeBlockHeader(f *testing.F) {
	f.Add(sampleBlock().Encode())
	f.Add(sampleBlock().Header.Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		hd, herr := registry.DecodeBlockHeader(data)
		blk, err := registry.DecodeBlock(data)
		if err != nil {
			return
		}
		if herr != nil {
			t.Fatalf("a block decodes but its header does not: %v", herr)
		}
		if !bytes.Equal(hd.Encode(), blk.Header.Encode()) {
			t.Fatal("DecodeBlockHeader read another header than DecodeBlock")
		}
	})
}

func FuzzDecodeTx(f *testing.F) {
	f.Add(registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(`{}`)}.Encode())
	f.Add([]byte{1, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		tx, err := registry.DecodeTx(data)
		if err != nil {
			return
		}
		if !bytes.Equal(tx.Encode(), data) {
			t.Fatal("a decoded tx re-encodes differently")
		}
		defer registry.SetVerifyTxMemo(false)()
		if tx.Hash() != registry.Sum(data) {
			t.Fatal("the hash a decoded tx remembers is not its encoding's")
		}
	})
}

func FuzzDecodeCommit(f *testing.F) {
	f.Add(sampleBlock().LastCommit.Encode())
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := registry.DecodeCommit(data)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Encode(), data) {
			t.Fatal("a decoded commit re-encodes differently")
		}
	})
}

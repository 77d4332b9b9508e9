package registry_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// TestBlockSizeIsEncodedSize checks the sizes computed without encoding
// (the one measure of the block limit) against the encodings, at the
// varint boundaries and on random blocks.
func TestBlockSizeIsEncodedSize(t *testing.T) {
	commit := func(sigs int, sigLen int) *registry.Commit {
		c := &registry.Commit{Height: 1, Round: 3}
		for i := range sigs {
			c.Signatures = append(c.Signatures, registry.CommitSig{Validator: registry.Address{byte(i)}, Signature: bytes.Repeat([]byte{1}, sigLen)})
		}
		return c
	}
	payload := func(n int) registry.Tx {
		return registry.Tx{Type: registry.TxDIDOperation, Payload: bytes.Repeat([]byte{'x'}, n)}
	}
	tests := []struct {
		name string
		b    registry.Block
	}{
		{"empty", registry.Block{Header: registry.Header{ChainID: "c", Height: 1}}},
		{"long chain id", registry.Block{Header: registry.Header{ChainID: strings.Repeat("c", registry.MaxChainIDBytes), Height: 1}}},
		{"payload 1", registry.Block{Header: registry.Header{ChainID: "c"}, Txs: []registry.Tx{payload(1)}}},
		{"payload 125 (tx 127)", registry.Block{Header: registry.Header{ChainID: "c"}, Txs: []registry.Tx{payload(125)}}},
		{"payload 126 (tx 128)", registry.Block{Header: registry.Header{ChainID: "c"}, Txs: []registry.Tx{payload(126)}}},
		{"payload 127", registry.Block{Header: registry.Header{ChainID: "c"}, Txs: []registry.Tx{payload(127)}}},
		{"payload 128", registry.Block{Header: registry.Header{ChainID: "c"}, Txs: []registry.Tx{payload(128)}}},
		{"payload 16381", registry.Block{Header: registry.Header{ChainID: "c"}, Txs: []registry.Tx{payload(16381)}}},
		{"payload 16384", registry.Block{Header: registry.Header{ChainID: "c"}, Txs: []registry.Tx{payload(16384)}}},
		{"max payload", registry.Block{Header: registry.Header{ChainID: "c"}, Txs: []registry.Tx{payload(registry.MaxTxBytes - 16)}}},
		{"commit", registry.Block{Header: registry.Header{ChainID: "c", Height: 2}, LastCommit: commit(4, 64)}},
		{"big commit", registry.Block{Header: registry.Header{ChainID: "c", Height: 2}, Txs: []registry.Tx{payload(10), payload(200)}, LastCommit: commit(300, 128)}},
	}
	r := rand.New(rand.NewPCG(7, 8))
	for i := range 20 {
		b := registry.Block{Header: registry.Header{ChainID: strings.Repeat("c", 1+r.IntN(registry.MaxChainIDBytes))}}
		for range r.IntN(20) {
			b.Txs = append(b.Txs, payload(1+r.IntN(40_000)))
		}
		if r.IntN(2) == 0 {
			b.LastCommit = commit(r.IntN(50), 1+r.IntN(128))
		}
		tests = append(tests, struct {
			name string
			b    registry.Block
		}{"random " + string(rune('a'+i)), b})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			if got, want := b.Size(), len(b.Encode()); got != want {
				t.Fatalf("Size %d, encoding %d", got, want)
			}
			if got, want := registry.ProposalBytes(&b), len(b.Encode())+registry.ProposalOverhead; got != want {
				t.Fatalf("ProposalBytes %d, want %d", got, want)
			}
			for _, tx := range b.Txs {
				if tx.Size() != len(tx.Encode()) {
					t.Fatalf("tx Size %d, encoding %d", tx.Size(), len(tx.Encode()))
				}
			}
			if c := b.LastCommit; c != nil && c.Size() != len(c.Encode()) {
				t.Fatalf("commit Size %d, encoding %d", c.Size(), len(c.Encode()))
			}
			room := registry.EmptyProposalBytes(b.Header.ChainID, b.LastCommit)
			for _, tx := range b.Txs {
				room += registry.TxBlockBytes(tx)
			}
			if room != registry.ProposalBytes(&b) {
				t.Fatalf("empty block plus transactions: %d, ProposalBytes %d", room, registry.ProposalBytes(&b))
			}
		})
	}
}

// TestBlockOverheadBounds checks the worst-case constants against the
// largest header and commit the decoders accept.
func TestBlockOverheadBounds(t *testing.T) {
	h := registry.Header{ChainID: strings.Repeat("c", registry.MaxChainIDBytes)}
	if n := len(h.Encode()); n != registry.MaxHeaderBytes {
		t.Fatalf("largest header %d bytes, MaxHeaderBytes %d", n, registry.MaxHeaderBytes)
	}
	c := registry.Commit{}
	for i := range registry.MaxCommitSigs {
		c.Signatures = append(c.Signatures, registry.CommitSig{Validator: registry.Address{byte(i), byte(i >> 8)}, Signature: make([]byte, 128)})
	}
	if _, err := registry.DecodeCommit(c.Encode()); err != nil {
		t.Fatal(err)
	}
	if n := len(c.Encode()); n != registry.MaxCommitBytes {
		t.Fatalf("largest commit %d bytes, MaxCommitBytes %d", n, registry.MaxCommitBytes)
	}
	b := registry.Block{Header: h, LastCommit: &c}
	if n := registry.ProposalBytes(&b); n != registry.MaxBlockOverhead {
		t.Fatalf("largest empty block %d proposal bytes, MaxBlockOverhead %d", n, registry.MaxBlockOverhead)
	}
	if registry.MinBlockBytes < registry.MaxBlockOverhead+registry.MaxTxBytes/2 {
		t.Fatal("MinBlockBytes leaves too little room for transactions")
	}
	// A transaction of MaxTxBytesFor fits with the largest commit; one
	// byte more does not.
	for _, limit := range []int{registry.MinBlockBytes, registry.DefaultMaxBlockBytes} {
		n := registry.MaxTxBytesFor(limit)
		tx := registry.Tx{Type: registry.TxDIDOperation, Payload: make([]byte, n-2-3)}
		if tx.Size() > n {
			tx.Payload = tx.Payload[:len(tx.Payload)-(tx.Size()-n)]
		}
		big := b
		big.Txs = []registry.Tx{tx}
		if registry.ProposalBytes(&big) > limit {
			t.Fatalf("limit %d: a transaction of MaxTxBytesFor (%d) does not fit", limit, n)
		}
	}
}

func TestGenesisMaxBlockBytes(t *testing.T) {
	vs, _ := testValidators(t, 1)
	tests := []struct {
		name    string
		max     int
		want    int
		wantErr bool
	}{
		{"absent", 0, registry.DefaultMaxBlockBytes, false},
		{"minimum", registry.MinBlockBytes, registry.MinBlockBytes, false},
		{"ceiling", registry.MaxBlockBytesCeiling, registry.MaxBlockBytesCeiling, false},
		{"one MiB", 1 << 20, 1 << 20, false},
		{"negative", -1, 0, true},
		{"below minimum", registry.MinBlockBytes - 1, 0, true},
		{"p2p limit", 8 << 20, 0, true},
		{"above ceiling", registry.MaxBlockBytesCeiling + 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := registry.Genesis{ChainID: "test", GenesisTime: time.Unix(1_700_000_000, 0).UTC(), Validators: vs.Validators, MaxBlockBytes: tt.max}
			err := g.Validate()
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "max_block_bytes") {
					t.Fatalf("Validate = %v, want a max_block_bytes error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g.BlockBytes() != tt.want {
				t.Fatalf("BlockBytes %d, want %d", g.BlockBytes(), tt.want)
			}
			// Through a file, as nodes load it.
			raw, err := json.Marshal(&g)
			if err != nil {
				t.Fatal(err)
			}
			if tt.max == 0 && bytes.Contains(raw, []byte("max_block_bytes")) {
				t.Fatalf("an absent limit is written: %s", raw)
			}
			path := filepath.Join(t.TempDir(), "genesis.json")
			if err := os.WriteFile(path, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			lg, err := registry.LoadGenesis(path)
			if err != nil {
				t.Fatal(err)
			}
			if lg.BlockBytes() != tt.want {
				t.Fatalf("loaded BlockBytes %d, want %d", lg.BlockBytes(), tt.want)
			}
		})
	}
	// A genesis file over the limit is refused at load.
	path := filepath.Join(t.TempDir(), "genesis.json")
	raw := []byte(`{"chain_id":"test","genesis_time":"2024-01-01T00:00:00Z","validators":[],"max_block_bytes":16777216}`)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := registry.LoadGenesis(path); err == nil || !strings.Contains(err.Error(), "max_block_bytes") {
		t.Fatalf("LoadGenesis of 16 MiB blocks = %v", err)
	}
}

// newLimitedChain opens a toy chain with the block limit maxBytes.
func newLimitedChain(t *testing.T, maxBytes int) *testChain {
	t.Helper()
	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	vs, keys := testValidators(t, 1)
	g := &registry.Genesis{ChainID: "test", GenesisTime: time.Unix(1_700_000_000, 0).UTC(), Validators: vs.Validators, MaxBlockBytes: maxBytes}
	c, err := registry.OpenChain(store, g, registrytest.ToyMachine())
	if err != nil {
		t.Fatal(err)
	}
	return &testChain{Chain: c, store: store, key: keys[0], addr: vs.Validators[0].Address(), now: g.GenesisTime}
}

func bigToy(key string, n int) string { return "set " + key + " " + strings.Repeat("v", n) }

// TestProposeWithinBlockBytes: the proposer fills a block up to the
// limit, skips (without rejecting) what does not fit, takes smaller
// transactions after it, and rejects what can never fit.
func TestProposeWithinBlockBytes(t *testing.T) {
	c := newLimitedChain(t, registry.MinBlockBytes)
	if got, want := c.MaxBlockBytes(), registry.MinBlockBytes; got != want {
		t.Fatalf("MaxBlockBytes %d, want %d", got, want)
	}
	never := bigToy("huge", registry.MaxTxBytesFor(registry.MinBlockBytes))
	if err := c.CheckTx(toyTx(never), c.now); !errors.Is(err, registry.ErrTxTooLargeForBlock) || registry.CodeOf(err) != registry.CodeInvalid {
		t.Fatalf("CheckTx of a transaction that never fits = %v", err)
	}
	if err := c.CheckTx(toyTx(bigToy("ok", 60_000)), c.now); err != nil {
		t.Fatalf("CheckTx of 60 KB: %v", err)
	}
	var cand []string
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		cand = append(cand, bigToy(k, 60_000))
	}
	cand = append(cand, never, "set small 1")
	b, rej := c.propose(t, cand...)
	if got := registry.ProposalBytes(b); got > registry.MinBlockBytes {
		t.Fatalf("block of %d proposal bytes over the limit %d", got, registry.MinBlockBytes)
	}
	if len(b.Txs) != 5 || string(b.Txs[4].Payload) != "set small 1" {
		t.Fatalf("block holds %d transactions, want four of 60 KB and the small one", len(b.Txs))
	}
	if len(rej) != 1 || !errors.Is(rej[0].Err, registry.ErrTxTooLargeForBlock) {
		t.Fatalf("rejected %v, want only the one that never fits", rej)
	}
	if _, err := c.Commit(b, c.commitOf(b)); err != nil {
		t.Fatal(err)
	}
	// The skipped one goes into the next block.
	b2, _ := c.propose(t, bigToy("e", 60_000))
	if len(b2.Txs) != 1 {
		t.Fatalf("next block holds %d transactions", len(b2.Txs))
	}
}

// TestVerifyRefusesOversizedBlock: a block over the limit, built by a
// proposer with a larger one, is invalid (the engine prevotes nil).
func TestVerifyRefusesOversizedBlock(t *testing.T) {
	big := newLimitedChain(t, 0)
	small := newLimitedChain(t, registry.MinBlockBytes)
	var cand []string
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		cand = append(cand, bigToy(k, 60_000))
	}
	b, _ := big.propose(t, cand...)
	if len(b.Txs) != 5 {
		t.Fatalf("the 4 MiB chain kept %d transactions", len(b.Txs))
	}
	if err := big.Verify(b); err != nil {
		t.Fatalf("the proposer's own chain refuses its block: %v", err)
	}
	err := small.Verify(b)
	if !errors.Is(err, registry.ErrBlockTooLarge) || !errors.Is(err, registry.ErrInvalidBlock) {
		t.Fatalf("Verify of a %d-byte block under a %d limit = %v", registry.ProposalBytes(b), registry.MinBlockBytes, err)
	}
	if _, err := small.Commit(b, small.commitOf(b)); !errors.Is(err, registry.ErrBlockTooLarge) {
		t.Fatalf("Commit of an oversized block = %v", err)
	}
	// One transaction less fits.
	b.Txs = b.Txs[:4]
	b.Header.TxRoot = registry.MerkleRoot(b.TxHashes())
	if err := small.Verify(b); errors.Is(err, registry.ErrBlockTooLarge) {
		t.Fatalf("Verify of a block within the limit: %v", err)
	}
}

package registry_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
)

// TestBlockEncodingRemembered: a decoded block's Encoding is the bytes it
// came from, not a new encoding, while its header is the one they hold;
// a block whose header changed (or that was never decoded) is encoded
// again.
func TestBlockEncodingRemembered(t *testing.T) {
	raw := sampleBlock().Encode()
	for _, tc := range []struct {
		name   string
		change func(*registry.Block) *registry.Block
		reuse  bool // Encoding returns raw itself
	}{
		{"decoded", func(b *registry.Block) *registry.Block { return b }, true},
		{"a copy", func(b *registry.Block) *registry.Block { c := *b; return &c }, true},
		{"height changed", func(b *registry.Block) *registry.Block { b.Header.Height++; return b }, false},
		{"state root changed", func(b *registry.Block) *registry.Block { b.Header.StateRoot[0] ^= 1; return b }, false},
		{"a copy with another time", func(b *registry.Block) *registry.Block {
			c := *b
			c.Header.Time = c.Header.Time.Add(1)
			return &c
		}, false},
		{"header and transactions replaced", func(b *registry.Block) *registry.Block {
			b.Txs = b.Txs[:1]
			b.Header.TxRoot = registry.MerkleRoot(b.TxHashes())
			return b
		}, false},
		{"built, not decoded", func(*registry.Block) *registry.Block { return sampleBlock() }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := registry.DecodeBlock(raw)
			if err != nil {
				t.Fatal(err)
			}
			b = tc.change(b)
			got := b.Encoding()
			if !bytes.Equal(got, b.Encode()) {
				t.Fatal("Encoding is not Encode's bytes")
			}
			if same := &got[0] == &raw[0]; same != tc.reuse {
				t.Fatalf("Encoding returned the decoded bytes: %v, want %v", same, tc.reuse)
			}
		})
	}
}

// TestBlockBytesChecksEncoded: in test binaries BlockUpdate.BlockBytes,
// what a store saves, refuses an Encoded that is not the block's
// encoding, and SaveBlock with it fails and saves nothing.
func TestBlockBytesChecksEncoded(t *testing.T) {
	b := sampleBlock()
	enc := b.Encode()
	bad := bytes.Clone(enc)
	bad[len(bad)-1] ^= 1
	for _, tc := range []struct {
		name    string
		encoded []byte
		wantErr bool
	}{
		{"none", nil, false},
		{"the encoding", enc, false},
		{"other bytes", bad, true},
		{"a prefix", enc[:len(enc)-1], true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := (&registry.BlockUpdate{Block: b, Encoded: tc.encoded}).BlockBytes()
			if tc.wantErr {
				if !errors.Is(err, registry.ErrInvalidBlock) {
					t.Fatalf("err %v, want ErrInvalidBlock", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, enc) {
				t.Fatalf("BlockBytes: %v, %v bytes; want the encoding", err, len(got))
			}
		})
	}

	store, err := leveldb.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	c := newTestChain(t, store)
	pb, _ := c.propose(t, "a=1")
	wrong := bytes.Clone(pb.Encoding())
	wrong[len(wrong)-1] ^= 1
	st := c.State()
	st.Height = 1
	if err := store.SaveBlock(&registry.BlockUpdate{Block: pb, Encoded: wrong, Results: make([]registry.Result, len(pb.Txs)), State: st}); !errors.Is(err, registry.ErrInvalidBlock) {
		t.Fatalf("SaveBlock with a wrong Encoded: %v, want ErrInvalidBlock", err)
	}
	if _, err := store.Block(1); err == nil {
		t.Fatal("a refused SaveBlock saved the block")
	}
}

// TestCommitStoresTheEncoding: the bytes saved for a block, the
// proposer's (Propose remembers its encoding) or a block decoded from a
// peer's bytes, are the block's encoding.
func TestCommitStoresTheEncoding(t *testing.T) {
	for _, decoded := range []bool{false, true} {
		store, err := leveldb.OpenMemory()
		if err != nil {
			t.Fatal(err)
		}
		c := newTestChain(t, store)
		for i := range 3 {
			b, _ := c.propose(t, "a=1", "b=2")
			want := b.Encode()
			if !bytes.Equal(b.Encoding(), want) {
				t.Fatal("a proposed block's Encoding is not its encoding")
			}
			if decoded {
				if b, err = registry.DecodeBlock(bytes.Clone(want)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.Commit(b, c.commitOf(b)); err != nil {
				t.Fatal(err)
			}
			got, err := store.Block(uint64(i + 1))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Encoding(), want) || !bytes.Equal(got.Encode(), want) {
				t.Fatalf("decoded %v, height %d: the saved bytes are not the block's encoding", decoded, i+1)
			}
		}
		store.Close()
	}
}

// BenchmarkBlockEncode: encoding and decoding a block of 2,000
// transactions of 700 bytes (about a did:idmesh create), and what
// Encoding costs for a block decoded from its bytes (the header's ID, no
// encoding).
func BenchmarkBlockEncode(b *testing.B) {
	blk := sampleBlock()
	blk.Txs = nil
	for i := range 2000 {
		p := bytes.Repeat([]byte{byte(i)}, 700)
		blk.Txs = append(blk.Txs, registry.Tx{Type: registry.TxDIDOperation, Payload: p})
	}
	blk.Header.TxRoot = registry.MerkleRoot(blk.TxHashes())
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			blk.Encode()
		}
	})
	raw := blk.Encode()
	b.Run("Decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := registry.DecodeBlock(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	dec, err := registry.DecodeBlock(raw)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Encoding", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			dec.Encoding()
		}
	})
}

// TestDecodedPayloadsAreCopies: the payloads of decoded transactions
// (DecodeTx, DecodeBlock) are their own memory, not parts of the bytes
// decoded (DecodeBlock no longer copies each transaction's encoding
// first): a transaction kept (the mempool, an execution) pins no block's
// bytes, and the caller's buffer stays the caller's.
func TestDecodedPayloadsAreCopies(t *testing.T) {
	raw := sampleBlock().Encode()
	inRaw := func(p []byte) bool {
		for i := range raw {
			if &raw[i] == &p[0] {
				return true
			}
		}
		return false
	}
	b, err := registry.DecodeBlock(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i, tx := range b.Txs {
		if inRaw(tx.Payload) {
			t.Fatalf("tx %d: the payload is a part of the block's bytes", i)
		}
	}
	enc := b.Txs[0].Encode()
	tx, err := registry.DecodeTx(enc)
	if err != nil {
		t.Fatal(err)
	}
	raw = enc
	if inRaw(tx.Payload) {
		t.Fatal("DecodeTx: the payload is a part of the bytes decoded")
	}
}

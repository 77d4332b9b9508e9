package p2p

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry"
)

// FullBlock returns a structurally valid block at height on chainID,
// following last (nil at height 1) with a last commit of sigs signatures
// of sigLen bytes (not valid signatures), filled with transactions so
// that its registry.ProposalBytes is exactly proposalBytes. Tests of size
// bounds use it.
func FullBlock(tb testing.TB, chainID string, height uint64, last *registry.Block, sigs, sigLen, proposalBytes int) *registry.Block {
	tb.Helper()
	b := &registry.Block{Header: registry.Header{ChainID: chainID, Height: height, Time: time.Unix(1_750_000_000+int64(height), 0).UTC()}}
	if last != nil {
		c := &registry.Commit{Height: last.Header.Height, BlockID: last.ID()}
		for i := range sigs {
			c.Signatures = append(c.Signatures, registry.CommitSig{Validator: registry.Address{byte(i), byte(i >> 8), 1}, Signature: bytes.Repeat([]byte{byte(i)}, sigLen)})
		}
		b.LastCommit = c
		b.Header.LastBlockID = last.ID()
		b.Header.LastCommitHash = c.Hash()
	}
	room := proposalBytes - registry.ProposalBytes(b)
	for i := 0; room > 0; i++ {
		// A transaction of payload p takes p+2+2*varint bytes: pick
		// payloads so that the last one fills the room exactly.
		p := min(100_000, room-8)
		if room < 200 {
			tb.Fatalf("cannot fill the last %d bytes exactly", room)
		}
		if rest := room - (p + 8); rest > 0 && rest < 200 {
			p -= 200
		}
		tx := registry.Tx{Type: registry.TxDIDOperation, Payload: []byte(strings.Repeat("x", p))}
		tx.Payload[0] = byte(i)
		tx.Payload[1] = byte(i >> 8)
		for registry.TxBlockBytes(tx) > room {
			tx.Payload = tx.Payload[:len(tx.Payload)-1]
		}
		for registry.TxBlockBytes(tx) < room && room-registry.TxBlockBytes(tx) < 8 {
			tx.Payload = append(tx.Payload, 'y')
		}
		b.Txs = append(b.Txs, tx)
		room -= registry.TxBlockBytes(tx)
	}
	b.Header.TxRoot = registry.MerkleRoot(b.TxHashes())
	if got := registry.ProposalBytes(b); got != proposalBytes {
		tb.Fatalf("built a block of %d proposal bytes, want %d", got, proposalBytes)
	}
	if err := b.ValidateBasic(); err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestMaximalBlockFitsMessage: a block at the largest limit a genesis may
// set (registry.MaxBlockBytesCeiling), with the longest chain ID and the
// largest last commit, travels as a proposal and as a decided block with
// the largest commit within DefaultMaxMessageBytes, and its proposal's
// framing is within registry.ProposalOverhead: a proposer can never make
// a proposal that cannot be sent.
func TestMaximalBlockFitsMessage(t *testing.T) {
	chainID := strings.Repeat("c", registry.MaxChainIDBytes)
	for _, limit := range []int{registry.MinBlockBytes, registry.DefaultMaxBlockBytes, registry.MaxBlockBytesCeiling} {
		prev := FullBlock(t, chainID, 1, nil, 0, 0, registry.MinBlockBytes)
		b := FullBlock(t, chainID, 2, prev, registry.MaxCommitSigs, 128, limit)
		origin := bytes.Repeat([]byte{'p'}, maxPeerIDBytes)
		prop := &Proposal{Height: 2, Round: 1 << 30, POLRound: 1 << 29, Block: b, Proposer: registry.Address{9}, Signature: bytes.Repeat([]byte{1}, ed25519.SignatureSize)}
		raw, err := EncodeMessage(Message{From: registry.Address{9}, To: registry.Address{8}, Proposal: prop})
		if err != nil {
			t.Fatal(err)
		}
		env := encodeEnvelope(1<<60, origin, raw)
		if framing := len(env) - len(b.Encode()); framing > registry.ProposalOverhead {
			t.Fatalf("a proposal adds %d bytes to its block, ProposalOverhead is %d", framing, registry.ProposalOverhead)
		}
		if len(raw) > DefaultMaxMessageBytes || len(env) > DefaultMaxMessageBytes {
			t.Fatalf("limit %d: a proposal of %d bytes (envelope %d) exceeds the message limit %d", limit, len(raw), len(env), DefaultMaxMessageBytes)
		}
		if len(env) > limit {
			t.Fatalf("limit %d: the proposal as sent is %d bytes", limit, len(env))
		}
		if _, err := decodeEnvelope(env); err != nil {
			t.Fatalf("limit %d: the proposal does not decode: %v", limit, err)
		}
		// The decided block travels with its own commit.
		commit := &registry.Commit{Height: 2, BlockID: b.ID()}
		for i := range registry.MaxCommitSigs {
			commit.Signatures = append(commit.Signatures, registry.CommitSig{Validator: registry.Address{byte(i), byte(i >> 8), 2}, Signature: bytes.Repeat([]byte{2}, maxSigBytes)})
		}
		raw, err = EncodeMessage(Message{From: registry.Address{9}, Decided: &Decided{Block: b, Commit: commit}})
		if err != nil {
			t.Fatal(err)
		}
		env = encodeEnvelope(1<<60, origin, raw)
		if len(raw) > DefaultMaxMessageBytes {
			t.Fatalf("limit %d: a decided block of %d bytes exceeds the message limit %d", limit, len(raw), DefaultMaxMessageBytes)
		}
		if limit == registry.MaxBlockBytesCeiling {
			t.Logf("largest decided-block message: %d bytes, %d under the %d limit", len(env), DefaultMaxMessageBytes-len(env), DefaultMaxMessageBytes)
		}
		if _, err := decodeEnvelope(env); err != nil {
			t.Fatalf("limit %d: the decided block does not decode: %v", limit, err)
		}
	}
}

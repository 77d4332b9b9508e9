package node_test

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"testing"

	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
)

// evidenceTx is evidence that k signed two prevotes at (height, round)
// for the blocks named a and b.
func evidenceTx(t *testing.T, k ed25519.PrivateKey, height uint64, round uint32, a, b string) registry.Tx {
	t.Helper()
	return evidenceFor(t, "c", registry.Hash{}, k, height, round, a, b)
}

// evidenceFor is evidenceTx signed for chain chainID and the validator
// set whose hash is vs.
func evidenceFor(t *testing.T, chainID string, vs registry.Hash, k ed25519.PrivateKey, height uint64, round uint32, a, b string) registry.Tx {
	t.Helper()
	addr := registry.AddressOf(k.Public().(ed25519.PublicKey))
	vote := func(name string) registry.SignedVote {
		v := registry.SignedVote{Type: 1, Height: height, Round: round, BlockID: registry.Sum([]byte(name)), Validator: addr}
		v.Signature = ed25519.Sign(k, v.SignBytes(chainID))
		return v
	}
	p, err := json.Marshal(registry.DuplicateVoteEvidence{ValidatorsHash: vs, A: vote(a), B: vote(b)})
	if err != nil {
		t.Fatal(err)
	}
	return registry.Tx{Type: registry.TxEvidence, Payload: p}
}

// TestMempoolOneEvidencePerOffence: a second, different piece of
// evidence of one offence is refused while the first is pending (with
// CodeConflict), evidence of another offence is not, and once the first
// leaves the mempool the offence is free again.
func TestMempoolOneEvidencePerOffence(t *testing.T) {
	k := ed25519.NewKeyFromSeed(make([]byte, 32))
	m := node.NewMempool(10, 1<<20)
	first := mustAdd(t, m, evidenceTx(t, k, 5, 0, "a", "b"))
	err := m.Add(evidenceTx(t, k, 5, 0, "c", "d").Hash(), evidenceTx(t, k, 5, 0, "c", "d"))
	if !errors.Is(err, node.ErrDuplicateEvidence) || !errors.Is(err, registry.ErrEvidenceRecorded) || registry.CodeOf(err) != registry.CodeConflict {
		t.Fatalf("second evidence of one offence: %v", err)
	}
	mustAdd(t, m, evidenceTx(t, k, 5, 1, "a", "b")) // another round
	mustAdd(t, m, evidenceTx(t, k, 6, 0, "a", "b")) // another height
	if m.Len() != 3 {
		t.Fatalf("%d pending, want 3", m.Len())
	}
	m.Remove([]registry.Hash{first}, nil)
	mustAdd(t, m, evidenceTx(t, k, 5, 0, "c", "d"))
}

// TestSubmitOneEvidencePerOffence: through a node, a second, different
// piece of evidence of a pending offence is rejected (ErrRejected, code
// CodeConflict), not silently dropped as a duplicate transaction.
func TestSubmitOneEvidencePerOffence(t *testing.T) {
	tn := mustNet(t, registry.NewMachineDefault())
	chain := tn.mustChain(t)
	n := mustNode(t, chain, node.Options{})
	vs := chain.State().Validators.Hash()
	if _, err := n.Submit(evidenceFor(t, chainID, vs, tn.key, 1, 0, "a", "b")); err != nil {
		t.Fatalf("first evidence: %v", err)
	}
	_, err := n.Submit(evidenceFor(t, chainID, vs, tn.key, 1, 0, "c", "d"))
	if !errors.Is(err, node.ErrRejected) || !errors.Is(err, registry.ErrEvidenceRecorded) || registry.CodeOf(err) != registry.CodeConflict {
		t.Fatalf("second evidence of one offence: %v", err)
	}
	if n.Mempool.Len() != 1 {
		t.Fatalf("%d pending, want 1", n.Mempool.Len())
	}
}

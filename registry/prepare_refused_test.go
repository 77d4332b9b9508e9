package registry_test

// Security review R5, finding 1: Chain.PrepareChecks must not
// batch-verify the signatures of gossiped operations that the check
// refuses before it verifies any signature.
//
//	go test -count=1 -run 'TestPrepareChecks' ./registry/
//	go test -run '^$' -bench 'AdmissionRefused|AdmissionPoisoned' -benchtime 200x ./registry/

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// coefBytes counts the coefficient bytes batches draw: 16 per signature
// that went into a multi-scalar multiplication.
type coefBytes struct {
	r io.Reader
	n atomic.Int64
}

func (c *coefBytes) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// refusedUpdate returns an update of a DID that does not exist (the
// check refuses it at its first read, ErrNotFound, before authorize),
// whose new document holds n Ed25519 keys, each with a valid proof of
// possession: n signatures ExpectedSignatures hands to the batch.
func refusedUpdate(t testing.TB, seed uint64, n int) registry.Tx {
	return refusedOp(t, seed, n, false)
}

// refusedOp is refusedUpdate, or with create a create whose document
// names a controller DID that does not exist (prepareDocument refuses it
// before authorize).
func refusedOp(t testing.TB, seed uint64, n int, create bool) registry.Tx {
	t.Helper()
	ghost, _, err := registrytest.NewCreate(registrytest.ChainID, 1<<40+seed) // never committed
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := ghost.SubjectDID()
	doc := &did.Document{Context: []any{did.ContextV1, did.ContextMultikey}}
	var ks []keys.PrivateKey
	for i := range n {
		var s [32]byte
		s[0], s[1], s[2] = byte(i), byte(seed), byte(seed>>8)
		k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8(s))
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
		doc.VerificationMethod = append(doc.VerificationMethod, did.NewMultikey(fmt.Sprintf("#k%d", i), "", k.Public()))
	}
	doc.CapabilityInvocation = []did.Relationship{did.Ref("#k0")}
	op := &idmesh.Operation{Type: idmesh.Update, DID: subject, Previous: strings.Repeat("ab", 32), Document: doc}
	if create {
		doc.Controller = did.StringSet{subject}
		op = &idmesh.Operation{Type: idmesh.Create, Document: doc}
	}
	for i, k := range ks {
		if err := op.Sign(registrytest.ChainID, fmt.Sprintf("#k%d", i), k); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := registry.DIDTx(op)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// TestPrepareChecksSkipsOperationsRefusedWithoutVerification: authorize
// runs every check that needs no signature first "so that an operation
// bound to be refused costs no verification, however many proofs it
// carries". PrepareChecks must keep that: a burst of operations that the
// check refuses before any signature (here: updates of a DID that does
// not exist, creates naming a controller that does not exist) must cost
// no batch verification, and must not fill the
// signature cache. Before the fix (review R5) the batch verified all 64
// signatures of each (16 coefficient bytes each) and cached them.
func TestPrepareChecksSkipsOperationsRefusedWithoutVerification(t *testing.T) {
	rnd := &coefBytes{r: rand.NewChaCha8([32]byte{5})}
	h := registry.DIDHandler{Sigs: idmesh.NewSigCache(1000), Ops: idmesh.NewOpCache(1000), Rand: rnd}
	c := openDIDChain(t, h)
	var burst []registry.Tx
	for i := range 4 {
		burst = append(burst, refusedOp(t, uint64(i), did.MaxVerificationMethods, i%2 == 1))
	}
	now := registrytest.Genesis().GenesisTime
	// Without PrepareChecks the check refuses each, verifying nothing.
	for i, tx := range burst {
		if err := c.CheckTx(tx, now); err == nil {
			t.Fatalf("tx %d (%d bytes) passed the check", i, tx.Size())
		} else if i < 2 {
			t.Logf("check of a %d-byte tx: %v", tx.Size(), err)
		}
	}
	c.PrepareChecks(burst)
	if n := rnd.n.Load(); n != 0 {
		t.Fatalf("PrepareChecks batch-verified %d signatures of %d operations the check refuses without verifying any", n/16, len(burst))
	}
}

// BenchmarkAdmissionRefusedUpdate: CPU a node spends on one gossiped update of a
// missing DID with 64 proofs (about 13 KB), with PrepareChecks (as
// receiveTxs does) and without. Each iteration uses a
// fresh transaction so that no cache answers.
func BenchmarkAdmissionRefusedUpdate(b *testing.B) {
	for _, prepare := range []bool{false, true} {
		b.Run(fmt.Sprintf("prepare=%v", prepare), func(b *testing.B) {
			h := registry.DIDHandler{Sigs: idmesh.NewSigCache(100_000), Ops: idmesh.NewOpCache(20_000)}
			c := openDIDChain(b, h)
			txs := make([]registry.Tx, b.N)
			for i := range txs {
				txs[i] = refusedUpdate(b, uint64(i), did.MaxVerificationMethods)
			}
			now := registrytest.Genesis().GenesisTime
			b.ResetTimer()
			cpu0 := cpuTime() // registry/cputime_unix_test.go
			for i := range b.N {
				if prepare {
					c.PrepareChecks(txs[i : i+1 : i+1])
				}
				if c.CheckTx(txs[i], now) == nil {
					b.Fatal("passed")
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
		})
	}
}

// BenchmarkAdmissionPoisonedBurst: CPU per transaction of the admission of a
// burst of 64 gossiped creates (one signature each), checked one by one
// (as without PrepareChecks), with PrepareChecks, and with PrepareChecks when
// one of the 64 carries a bad signature (a flipped bit: well formed, so
// the chunk's multi-scalar multiplication runs and fails, and the 63
// honest signatures are verified again alone).
func BenchmarkAdmissionPoisonedBurst(b *testing.B) {
	for _, mode := range []string{"single", "prepare", "prepare-poisoned"} {
		b.Run(mode, func(b *testing.B) {
			bursts := make([][]registry.Tx, b.N)
			for i := range bursts {
				txs, _, err := registrytest.CreateOps(uint64(i)*64, 64)
				if err != nil {
					b.Fatal(err)
				}
				if mode == "prepare-poisoned" {
					op, _, err := registrytest.NewCreate(registrytest.ChainID, 1<<40+uint64(i))
					if err != nil {
						b.Fatal(err)
					}
					s := []byte(op.Proof[0].Signature)
					s[50] ^= 2
					op.Proof[0].Signature = string(s)
					if txs[17], err = registry.DIDTx(op); err != nil {
						b.Fatal(err)
					}
				}
				bursts[i] = txs
			}
			h := registry.DIDHandler{Sigs: idmesh.NewSigCache(100_000), Ops: idmesh.NewOpCache(20_000)}
			c := openDIDChain(b, h)
			now := registrytest.Genesis().GenesisTime
			b.ResetTimer()
			cpu0 := cpuTime()
			for _, burst := range bursts {
				if mode != "single" {
					c.PrepareChecks(burst)
				}
				for _, tx := range burst {
					_ = c.CheckTx(tx, now)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(64*b.N), "cpu-us/tx")
		})
	}
}

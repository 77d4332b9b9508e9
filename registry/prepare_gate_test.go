package registry_test

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// gateFixture is a chain state for the tests of PrepareChecks's gate:
// DIDs 0 to 3 created (their keys in keys, their versions in vids), and
// DID 3 deactivated (its latest version in vids[3]).
type gateFixture struct {
	committed [][]registry.Tx // block by block
	dids      []string
	vids      []string
	keys      []keys.PrivateKey
}

func newGateFixture(t *testing.T) *gateFixture {
	t.Helper()
	f := &gateFixture{}
	var creates []registry.Tx
	for i := range 4 {
		op, k, err := registrytest.NewCreate(registrytest.ChainID, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		subject, _ := op.SubjectDID()
		vid, _ := op.VersionID()
		f.dids, f.vids, f.keys = append(f.dids, subject), append(f.vids, vid), append(f.keys, k)
		creates = append(creates, gateTx(t, op))
	}
	deact := &idmesh.Operation{Type: idmesh.Deactivate, DID: f.dids[3], Previous: f.vids[3]}
	if err := deact.Sign(registrytest.ChainID, "#key-1", f.keys[3]); err != nil {
		t.Fatal(err)
	}
	f.vids[3], _ = deact.VersionID()
	f.committed = [][]registry.Tx{creates, {gateTx(t, deact)}}
	return f
}

// chain opens a chain with handler h and commits the fixture's blocks.
func (f *gateFixture) chain(t *testing.T, h registry.DIDHandler) *registry.Chain {
	t.Helper()
	c := openDIDChain(t, h)
	for _, blk := range f.committed {
		commitTxs(t, c, blk...)
	}
	return c
}

// update returns an update of DID i at version previous, signed by its
// key, that adds a service named by tag.
func (f *gateFixture) update(t *testing.T, i int, previous, tag string) registry.Tx {
	t.Helper()
	op, _, err := registrytest.NewCreate(registrytest.ChainID, uint64(i))
	if err != nil {
		t.Fatal(err)
	}
	doc := op.Document.Clone()
	doc.Service = []did.Service{{ID: "#" + tag, Type: did.StringSet{"LinkedDomains"}, ServiceEndpoint: []byte(`"https://example.com/"`)}}
	up := &idmesh.Operation{Type: idmesh.Update, DID: f.dids[i], Previous: previous, Document: doc}
	if err := up.Sign(registrytest.ChainID, "#key-1", f.keys[i]); err != nil {
		t.Fatal(err)
	}
	return gateTx(t, up)
}

func gateTx(t *testing.T, op *idmesh.Operation) registry.Tx {
	t.Helper()
	tx, err := registry.DIDTx(op)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// ghostUpdate returns an update, by its own key, of a DID nobody created.
func ghostUpdate(t *testing.T, seed uint64) registry.Tx {
	t.Helper()
	op, k, err := registrytest.NewCreate(registrytest.ChainID, 1<<41+seed)
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := op.SubjectDID()
	vid, _ := op.VersionID()
	up := &idmesh.Operation{Type: idmesh.Update, DID: subject, Previous: vid, Document: op.Document.Clone()}
	if err := up.Sign(registrytest.ChainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	return gateTx(t, up)
}

// createWithController returns create seed, its document naming
// controller besides itself.
func createWithController(t *testing.T, seed uint64, controller string) registry.Tx {
	t.Helper()
	op, k, err := registrytest.NewCreate(registrytest.ChainID, seed)
	if err != nil {
		t.Fatal(err)
	}
	op.Document.Controller = did.StringSet{controller}
	op.Proof = nil
	if err := op.Sign(registrytest.ChainID, "#key-1", k); err != nil {
		t.Fatal(err)
	}
	return gateTx(t, op)
}

// multiKeyCreate returns a valid create whose document holds n Ed25519
// keys, the first for changes: n proofs (one authorizes, every key is
// added and needs its proof of possession).
func multiKeyCreate(t *testing.T, seed uint64, n int) registry.Tx {
	t.Helper()
	doc := &did.Document{Context: []any{did.ContextV1, did.ContextMultikey}}
	var ks []keys.PrivateKey
	for i := range n {
		var s [32]byte
		s[0], s[1], s[2] = byte(i), byte(seed), 0xfe
		k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8(s))
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
		doc.VerificationMethod = append(doc.VerificationMethod, did.NewMultikey(fmt.Sprintf("#k%d", i), "", k.Public()))
	}
	doc.CapabilityInvocation = []did.Relationship{did.Ref("#k0")}
	op := &idmesh.Operation{Type: idmesh.Create, Document: doc}
	for i, k := range ks {
		if err := op.Sign(registrytest.ChainID, fmt.Sprintf("#k%d", i), k); err != nil {
			t.Fatal(err)
		}
	}
	return gateTx(t, op)
}

// badCreate returns create seed (registrytest.NewCreate) with its
// signature replaced by mutate's result on the decoded bytes.
func badCreate(t *testing.T, seed uint64, mutate func(sig []byte) []byte) registry.Tx {
	t.Helper()
	op, _, err := registrytest.NewCreate(registrytest.ChainID, seed)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(op.Proof[0].Signature)
	if err != nil {
		t.Fatal(err)
	}
	op.Proof[0].Signature = base64.RawURLEncoding.EncodeToString(mutate(sig))
	return gateTx(t, op)
}

// flipS flips a bit of S (well formed still: S < L, R a point), so that
// the signature reaches the batch's multiplication and fails it.
func flipS(sig []byte) []byte { sig[40] ^= 1; return sig }

// prepared runs PrepareChecks on burst over a fresh chain of f and
// returns the coefficient bytes its batches drew (16 per signature in a
// multi-scalar multiplication), then checks that every transaction of
// burst gets the verdict, code and read set it gets on a chain without
// PrepareChecks.
func (f *gateFixture) prepared(t *testing.T, burst []registry.Tx) int64 {
	t.Helper()
	rnd := &coefBytes{r: rand.NewChaCha8([32]byte{24})}
	batched := f.chain(t, registry.DIDHandler{Sigs: idmesh.NewSigCache(10_000), Ops: idmesh.NewOpCache(10_000), Rand: rnd})
	single := f.chain(t, registry.DIDHandler{Sigs: idmesh.NewSigCache(10_000), Ops: idmesh.NewOpCache(10_000)})
	batched.PrepareChecks(burst)
	drawn := rnd.n.Load()
	now := registrytest.Genesis().GenesisTime
	for i, tx := range burst {
		var got [2]string
		for j, c := range []*registry.Chain{batched, single} {
			rs, ok, err := c.CheckTxReads(tx, now)
			got[j] = fmt.Sprintf("%v code %d ok %v reads %d; CheckTx %v", err, registry.CodeOf(err), ok, rs.Len(), c.CheckTx(tx, now))
		}
		if got[0] != got[1] {
			t.Fatalf("tx %d: after PrepareChecks %s, without %s", i, got[0], got[1])
		}
	}
	return drawn
}

// TestPrepareChecksGate: PrepareChecks batches no signature of an
// operation the check refuses for the state before it verifies any (an
// update of a DID nobody created, of a deactivated DID, or of a version
// that is not the latest; a create naming a controller that does not
// exist or is deactivated), each with one ordinary proof, so such a
// burst costs no verification ahead of the checks; it batches the
// signatures of good creates and updates; and the verdicts are those of
// the checks without PrepareChecks.
func TestPrepareChecksGate(t *testing.T) {
	f := newGateFixture(t)
	stale := strings.Repeat("ab", 32)
	good, _, err := registrytest.CreateOps(100, 2)
	if err != nil {
		t.Fatal(err)
	}
	ghost, _, err := registrytest.CreateOps(1<<42, 1)
	if err != nil {
		t.Fatal(err)
	}
	ghostOp, _ := idmesh.Decode(ghost[0].Payload)
	ghostDID, _ := ghostOp.SubjectDID()
	for _, tc := range []struct {
		name    string
		burst   []registry.Tx
		batched int // signatures
	}{
		{"update of a DID nobody created", []registry.Tx{ghostUpdate(t, 1), ghostUpdate(t, 2)}, 0},
		{"update of a deactivated DID", []registry.Tx{f.update(t, 3, f.vids[3], "a"), f.update(t, 3, f.vids[3], "b")}, 0},
		{"update of a version not the latest", []registry.Tx{f.update(t, 0, stale, "a"), f.update(t, 1, stale, "a")}, 0},
		{"create naming a controller nobody created", []registry.Tx{createWithController(t, 200, ghostDID), createWithController(t, 201, ghostDID)}, 0},
		{"create naming a deactivated controller", []registry.Tx{createWithController(t, 202, f.dids[3]), createWithController(t, 203, f.dids[3])}, 0},
		{"good creates", good, 2},
		{"good updates", []registry.Tx{f.update(t, 0, f.vids[0], "a"), f.update(t, 1, f.vids[1], "a")}, 2},
		{"create naming a live controller, and a good create", []registry.Tx{createWithController(t, 204, f.dids[2]), good[0]}, 2},
		{"refused and good mixed", []registry.Tx{ghostUpdate(t, 3), good[0], f.update(t, 3, f.vids[3], "c"), good[1]}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := f.prepared(t, tc.burst); got != int64(16*tc.batched) {
				t.Fatalf("%d signatures batched, want %d", got/16, tc.batched)
			}
		})
	}
}

// TestPrepareChecksProofCap: the signatures of an operation with more
// than idmesh.MaxAdmissionProofs proofs are left to its check, even when
// it is valid (a create adding three keys); those of operations with
// two proofs are batched; and a burst of such operations batches no more
// than MaxPrepareSignatures signatures.
func TestPrepareChecksProofCap(t *testing.T) {
	f := newGateFixture(t)
	var three, two []registry.Tx
	for i := range 4 {
		three = append(three, multiKeyCreate(t, uint64(i), 3))
	}
	for i := range registry.MaxPrepareSignatures/2 + 8 {
		two = append(two, multiKeyCreate(t, uint64(100+i), 2))
	}
	if got := f.prepared(t, three); got != 0 {
		t.Errorf("creates with 3 proofs: %d signatures batched, want 0", got/16)
	}
	if got := f.prepared(t, two[:3]); got != 16*6 {
		t.Errorf("3 creates with 2 proofs: %d signatures batched, want 6", got/16)
	}
	if got := f.prepared(t, two); got != 16*registry.MaxPrepareSignatures {
		t.Errorf("%d creates with 2 proofs: %d signatures batched, want %d", len(two), got/16, registry.MaxPrepareSignatures)
	}
}

// TestPrepareChecksEncodingFilter: a gossiped create whose signature
// cannot verify for its encoding alone (too short, too long, S >= L)
// spoils no chunk: the 63 good creates of its burst are batched in one
// multiplication and cached; the verdicts are unchanged.
func TestPrepareChecksEncodingFilter(t *testing.T) {
	f := newGateFixture(t)
	good, _, err := registrytest.CreateOps(300, 63)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(sig []byte) []byte
	}{
		{"1 byte", func([]byte) []byte { return []byte{1} }},
		{"65 bytes", func(s []byte) []byte { return append(s, 0) }},
		{"S >= L", func(s []byte) []byte { s[63] = 0xff; return s }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			burst := append([]registry.Tx{badCreate(t, 400, tc.mutate)}, good...)
			if got := f.prepared(t, burst); got != 16*63 {
				t.Fatalf("%d signatures batched, want the 63 good ones", got/16)
			}
		})
	}
}

// TestPrepareChecksBreaker: a burst of four chunks of 64 gossiped
// creates, one in each with a well-formed bad signature (a flipped bit of
// S), costs one failed multiplication: after the first chunk fails,
// nothing more of the burst is batched, and every check still gives its
// verdict.
func TestPrepareChecksBreaker(t *testing.T) {
	f := newGateFixture(t)
	burst, _, err := registrytest.CreateOps(500, 4*64)
	if err != nil {
		t.Fatal(err)
	}
	for i := 17; i < len(burst); i += 64 {
		burst[i] = badCreate(t, 500+uint64(i), flipS)
	}
	if got := f.prepared(t, burst); got != 16*64 {
		t.Fatalf("%d signatures went into multiplications, want the 64 of the first chunk only", got/16)
	}
	// One bad signature in the last chunk: the three before it are
	// batched and cached.
	clean, _, err := registrytest.CreateOps(500, 4*64)
	if err != nil {
		t.Fatal(err)
	}
	clean[3*64+5] = badCreate(t, 500+3*64+5, flipS)
	if got := f.prepared(t, clean); got != 16*4*64 {
		t.Fatalf("%d signatures went into multiplications, want 256", got/16)
	}
}

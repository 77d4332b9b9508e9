package idmesh_test

import (
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
)

// readLog is a KV over a mapKV that logs every key read, in order, and
// writes into its own map.
type readLog struct {
	base, writes mapKV
	reads        []string
}

func (r *readLog) Get(k []byte) ([]byte, bool, error) {
	r.reads = append(r.reads, string(k))
	if v, ok := r.writes[string(k)]; ok {
		return v, true, nil
	}
	return r.base.Get(k)
}

func (r *readLog) Set(k, v []byte) { r.writes[string(k)] = v }

// checkWorld is a random walk over did:idmesh operations: a few keys, the
// DIDs made so far and their versions, and the state.
type checkWorld struct {
	t     testing.TB
	rng   *rand.Rand
	keys  []keys.PrivateKey
	kv    mapKV
	dids  []string
	owner map[string]keys.PrivateKey // the key that signs each DID's changes
	ids   map[string]string          // its method id
	vid   map[string]string          // the current versionId, as the walk believes
	h     uint64
	now   time.Time
	ok    map[idmesh.Type]int // operations Apply accepted, by type
	bad   map[string]bool     // the errors seen
}

func newCheckWorld(t testing.TB, seed uint64) *checkWorld {
	w := &checkWorld{t: t, rng: rand.New(rand.NewPCG(seed, 7)), kv: mapKV{},
		ok: map[idmesh.Type]int{}, bad: map[string]bool{}, owner: map[string]keys.PrivateKey{}, ids: map[string]string{}, vid: map[string]string{},
		now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i := range 6 {
		typ := keys.Ed25519
		if i == 5 {
			typ = keys.P256
		}
		w.keys = append(w.keys, genKey(t, typ, uint64(20+i)))
	}
	return w
}

func (w *checkWorld) key() (int, keys.PrivateKey) {
	i := w.rng.IntN(len(w.keys))
	return i, w.keys[i]
}

func (w *checkWorld) did() string {
	if len(w.dids) == 0 || w.rng.IntN(8) == 0 {
		return "did:idmesh:z" + fmt.Sprint(w.rng.IntN(3)) // one that does not exist (or is malformed)
	}
	return w.dids[w.rng.IntN(len(w.dids))]
}

// doc returns a document holding keys ks under "#key-<index>", signing
// with the first, and sometimes naming another DID as a controller.
func (w *checkWorld) doc(ks ...int) *did.Document {
	d := &did.Document{Context: []any{did.ContextV1, did.ContextMultikey}}
	for _, i := range ks {
		id := "#key-" + fmt.Sprint(i)
		d.VerificationMethod = append(d.VerificationMethod, did.NewMultikey(id, "", w.keys[i].Public()))
	}
	if len(ks) > 0 {
		ref := []did.Relationship{did.Ref(d.VerificationMethod[0].ID)}
		d.Authentication, d.CapabilityInvocation = ref, ref
		if w.rng.IntN(3) == 0 {
			d.AssertionMethod = ref
		}
	}
	if w.rng.IntN(6) == 0 {
		d.Controller = did.StringSet{w.did()}
	}
	return d
}

// op returns a random operation, mostly well formed, often wrong.
func (w *checkWorld) op() *idmesh.Operation {
	var op *idmesh.Operation
	var signers []idmesh.Signer
	switch r := w.rng.IntN(10); {
	case r < 4 || len(w.dids) == 0:
		i, _ := w.key()
		ks := []int{i}
		if w.rng.IntN(3) == 0 {
			j, _ := w.key()
			if j != i {
				ks = append(ks, j)
			}
		}
		op = &idmesh.Operation{Type: idmesh.Create, Document: w.doc(ks...)}
		for _, j := range ks {
			signers = append(signers, idmesh.Signer{VM: "#key-" + fmt.Sprint(j), Key: w.keys[j]})
		}
		if w.rng.IntN(6) == 0 {
			_, signers[0].Key = w.key() // sometimes the wrong key for the first id
		}
	default:
		d := w.did()
		prev := w.vid[d]
		if w.rng.IntN(6) == 0 {
			prev = "z" + fmt.Sprint(w.rng.IntN(1000)) // stale or made up
		}
		signer, owned := w.owner[d]
		signerID := w.ids[d]
		if !owned || w.rng.IntN(8) == 0 {
			i, k := w.key()
			signer, signerID = k, "#key-"+fmt.Sprint(i)
		}
		signers = append(signers, idmesh.Signer{VM: signerID, Key: signer})
		if r < 9 {
			i, _ := w.key()
			ks := []int{i}
			if w.rng.IntN(2) == 0 {
				if j, _ := w.key(); j != i {
					ks = append(ks, j)
				}
			}
			op = &idmesh.Operation{Type: idmesh.Update, DID: d, Previous: prev, Document: w.doc(ks...)}
			for _, j := range ks {
				id := "#key-" + fmt.Sprint(j)
				if id != signerID || w.rng.IntN(4) == 0 {
					signers = append(signers, idmesh.Signer{VM: id, Key: w.keys[j]})
				}
			}
			if w.rng.IntN(4) == 0 {
				op.Compromised = []string{w.ids[d]}
				if w.rng.IntN(2) == 0 {
					op.Compromised = []string{"#key-" + fmt.Sprint(w.rng.IntN(len(w.keys)))}
				}
			}
		} else {
			op = &idmesh.Operation{Type: idmesh.Deactivate, DID: d, Previous: prev}
		}
	}
	// Drop repeated signers (SignAll refuses two proofs by one id).
	seen := map[string]bool{}
	signers = slices.DeleteFunc(signers, func(s idmesh.Signer) bool {
		if seen[s.VM] {
			return true
		}
		seen[s.VM] = true
		return false
	})
	if err := op.SignAll(chainID, signers...); err != nil {
		return nil
	}
	if w.rng.IntN(12) == 0 && len(op.Proof) > 0 {
		p := []byte(op.Proof[0].Signature)
		p[len(p)/2] ^= 0x01 // a forged signature (or one that no longer parses)
		op.Proof[0].Signature = string(p)
	}
	return op
}

// step makes one random operation, compares Check's verdict and reads
// with Apply's on the same state, then keeps Apply's writes.
func (w *checkWorld) step() {
	w.t.Helper()
	if w.rng.IntN(40) == 0 && len(w.kv) > 0 {
		// A damaged state value: both must fail on it alike.
		ks := slices.Sorted(maps.Keys(w.kv))
		w.kv[ks[w.rng.IntN(len(ks))]] = []byte("{")
	}
	op := w.op()
	if op == nil {
		return
	}
	b, err := op.Encode()
	if err != nil {
		return
	}
	dec, err := idmesh.Decode(b)
	if err != nil {
		return
	}
	w.h++
	w.now = w.now.Add(time.Duration(1+w.rng.IntN(100000)) * time.Millisecond)
	env := idmesh.Env{ChainID: chainID, Height: w.h, Time: w.now}
	if w.rng.IntN(2) == 0 {
		env.Sigs = idmesh.NewSigCache(16)
	}
	checked := &readLog{base: w.kv, writes: mapKV{}}
	checkErr := idmesh.Check(checked, env, dec)
	if len(checked.writes) != 0 {
		w.t.Fatalf("Check wrote %d keys", len(checked.writes))
	}
	applied := &readLog{base: w.kv, writes: mapKV{}}
	applyErr := idmesh.Apply(applied, env, dec)
	if fmt.Sprint(checkErr) != fmt.Sprint(applyErr) {
		w.t.Fatalf("step %d, %s operation: Check says %v, Apply %v", w.h, dec.Type, checkErr, applyErr)
	}
	if !slices.Equal(checked.reads, applied.reads) {
		w.t.Fatalf("step %d: Check read %q, Apply %q", w.h, checked.reads, applied.reads)
	}
	if applyErr != nil {
		w.bad[applyErr.Error()[:min(len(applyErr.Error()), 40)]] = true
		return
	}
	w.ok[dec.Type]++
	maps.Copy(w.kv, applied.writes)
	subject, _ := dec.SubjectDID()
	vid, _ := dec.VersionID()
	w.vid[subject] = vid
	if dec.Type == idmesh.Create {
		w.dids = append(w.dids, subject)
	}
	if dec.Document != nil && len(dec.Document.CapabilityInvocation) > 0 {
		id := dec.Document.CapabilityInvocation[0].Reference
		for i := range w.keys {
			if id == "#key-"+fmt.Sprint(i) {
				w.owner[subject], w.ids[subject] = w.keys[i], id
			}
		}
	}
}

// TestCheckAgreesWithApply is the property behind the mempool's check
// (registry.DIDHandler.CheckOnly): over random walks of creates, updates
// (rotations, compromised marks, controllers) and deactivations, valid
// and not (stale versions, unknown DIDs, wrong and forged signatures,
// damaged state), Check gives Apply's error, reads the keys Apply reads
// in Apply's order, and writes nothing.
func TestCheckAgreesWithApply(t *testing.T) {
	accepted := map[idmesh.Type]int{}
	refused := map[string]bool{}
	for seed := range uint64(8) {
		w := newCheckWorld(t, seed)
		for range 150 {
			w.step()
		}
		for typ, n := range w.ok {
			accepted[typ] += n
		}
		maps.Copy(refused, w.bad)
	}
	t.Logf("accepted %v; %d kinds of refusal", accepted, len(refused))
	if accepted[idmesh.Create] < 50 || accepted[idmesh.Update] < 50 || accepted[idmesh.Deactivate] < 5 || len(refused) < 8 {
		t.Fatalf("accepted %v, %d kinds of refusal: the walk tests too little", accepted, len(refused))
	}
}

// FuzzCheckAgreesWithApply is TestCheckAgreesWithApply driven by the
// fuzzer's seeds.
func FuzzCheckAgreesWithApply(f *testing.F) {
	for _, s := range []uint64{1, 42, 1 << 40} {
		f.Add(binary.BigEndian.AppendUint64(nil, s), uint8(40))
	}
	f.Fuzz(func(t *testing.T, seed []byte, steps uint8) {
		var s [8]byte
		copy(s[:], seed)
		w := newCheckWorld(t, binary.BigEndian.Uint64(s[:]))
		for range int(steps%64) + 1 {
			w.step()
		}
	})
}

package idmesh

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/zip215"
)

// SignatureCheck is one signature check an operation's proof asks for:
// Sig is Pub's signature of Msg (the operation's signing input). Msg may
// be shared with the operation's memos: read it, never modify it.
type SignatureCheck struct {
	Pub      keys.PublicKey
	Msg, Sig []byte
}

// ExpectedSignatures returns the signature checks that Apply would make
// for op on the state r, as far as they can be told before the block's
// earlier operations are applied: the key each proof names, found in op's
// new document or in the subject's current document in r. A proof whose
// key cannot be told (a controller's key, a reference that the two
// documents give different keys, a key that does not parse) is left out;
// Apply verifies it when it runs. The result decides nothing: it is what
// a block's batch verification checks ahead of Apply (SigCache.VerifyBatch),
// and Apply still checks that each proof's key is the one it allows.
func ExpectedSignatures(r Reader, chainID string, op *Operation) []SignatureCheck {
	if op == nil || len(op.Proof) == 0 {
		return nil
	}
	subject, err := op.SubjectDID()
	if err != nil {
		return nil
	}
	var cur *did.Document
	if op.Type != Create {
		if _, v, _, err := loadLatest(r, subject); err == nil {
			cur = v.Document
		}
	}
	return expectedSignatures(chainID, op, subject, cur)
}

// MaxAdmissionProofs is the number of proofs above which
// AdmissionSignatures batches none of an operation's signatures: an
// ordinary operation carries one proof, or two when it adds a key.
const MaxAdmissionProofs = 2

// AdmissionSignatures returns the signature checks worth verifying in a
// batch ahead of Check for op, an operation a peer gossiped, on the state
// r: ExpectedSignatures's, but none (nil) unless op passes the rules Check
// applies before it verifies a signature that need no more than a few
// reads, and carries at most MaxAdmissionProofs proofs. The rules: op is
// well formed (Operation.ValidateBasic); for a create, the DID has no
// record yet; for an update or a deactivate, the record exists, is not
// deactivated and is at version op.Previous; every did:idmesh controller
// a new document names exists and is not deactivated (as prepareDocument
// requires). So an operation Check refuses for its state costs no
// verification here either, as Check verifies signatures last for that
// reason (authorize), and one it refuses for a later rule costs at most
// MaxAdmissionProofs batched signatures, what an accepted operation of
// its size costs; an operation with more proofs is left to Check, which
// verifies none of them unless all its other rules hold.
func AdmissionSignatures(r Reader, chainID string, op *Operation) []SignatureCheck {
	if op == nil || len(op.Proof) == 0 || len(op.Proof) > MaxAdmissionProofs || op.ValidateBasic() != nil {
		return nil
	}
	subject, err := op.SubjectDID()
	if err != nil {
		return nil
	}
	var cur *did.Document
	if op.Type == Create {
		if _, exists, err := loadRecord(r, subject); err != nil || exists {
			return nil
		}
	} else {
		rec, v, _, err := loadLatest(r, subject)
		if err != nil || rec.Deactivated || op.Previous != rec.VersionID {
			return nil
		}
		cur = v.Document
	}
	if op.Document != nil {
		for _, c := range op.Document.Controller {
			if c == subject {
				continue
			}
			if checkControllerMethod(c) != nil {
				return nil
			}
			if _, err := controllerDocument(r, c); err != nil {
				return nil
			}
		}
	}
	return expectedSignatures(chainID, op, subject, cur)
}

// expectedSignatures is ExpectedSignatures for op of DID subject, whose
// current document (nil for a create, or when unknown) is cur.
func expectedSignatures(chainID string, op *Operation, subject string, cur *did.Document) []SignatureCheck {
	input, err := op.signingInput(chainID)
	if err != nil {
		return nil
	}
	var docs []*did.Document
	if op.Document != nil {
		docs = append(docs, op.Document)
	}
	if cur != nil {
		docs = append(docs, cur)
	}
	out := make([]SignatureCheck, 0, len(op.Proof))
	for _, p := range op.Proof {
		ref := did.AbsoluteRef(subject, p.VerificationMethod)
		var pub keys.PublicKey
		clash := false
		for _, d := range docs {
			for _, vm := range d.AllMethods() {
				if did.AbsoluteRef(subject, vm.ID) != ref {
					continue
				}
				k, err := vm.PublicKey()
				if err != nil || (!pub.IsZero() && !pub.Equal(k)) {
					clash = true
					continue
				}
				pub = k
			}
		}
		if clash || pub.IsZero() {
			continue
		}
		sig, err := sigEncoding.DecodeString(p.Signature)
		if err != nil {
			continue
		}
		out = append(out, SignatureCheck{Pub: pub, Msg: input, Sig: sig})
	}
	return out
}

// batchChunk is the number of signatures VerifyBatch checks together: a
// bad signature costs the batch work of its chunk (about half a single
// verification a signature) on top of the single checks Apply then makes.
const batchChunk = 64

// VerifyBatch verifies the Ed25519 checks among checks that c does not
// hold yet in ZIP-215 batches (did/zip215: one multi-scalar
// multiplication per chunk of 64) and remembers every check of a chunk
// that verifies, so that Apply finds them in c. A chunk that fails is
// not remembered: Apply checks each of its signatures alone, with the
// cheap checks first, as without the batch; P-256 checks are left to
// Apply too. rand supplies the batch coefficients and must be
// unpredictable to whoever signed the checks (a batch is sound only for
// coefficients its signers cannot foresee); nil means crypto/rand. A
// batch accepts what VerifySignature accepts one by one, so the cache
// never changes a result; c must not be nil. It suits checks a proposer
// chose (a block's); for checks anybody may choose, see
// VerifyBatchUntrusted.
func (c *SigCache) VerifyBatch(checks []SignatureCheck, rand io.Reader) {
	c.verifyBatch(checks, rand, 1, false)
}

// VerifyBatchParallel is VerifyBatch with the chunks verified by up to
// workers goroutines (the machine's cores): each chunk is verified and
// remembered as VerifyBatch does, so the cache holds the same checks
// whatever the number of workers. rand is read under a lock.
func (c *SigCache) VerifyBatchParallel(checks []SignatureCheck, rand io.Reader, workers int) {
	c.verifyBatch(checks, rand, workers, false)
}

// VerifyBatchUntrusted is VerifyBatch for checks whoever sent them
// composed (operations peers gossip), so that one bad signature wastes
// little: checks not in the cache whose encodings cannot verify (a
// signature that is not 64 bytes, S >= L, R not a point of the curve:
// zip215.ParseSignature, whose parsed R the batch then reuses) are left
// out before the chunks are made, so that such a signature spoils no
// chunk, and after a chunk fails no further chunk of the call is
// verified (a breaker). Apply (or Check) verifies what was left out
// alone, as without the batch, so a call wastes at most one chunk's
// multi-scalar multiplication, about half a verification for each of its
// signatures.
func (c *SigCache) VerifyBatchUntrusted(checks []SignatureCheck, rand io.Reader) {
	c.verifyBatch(checks, rand, 1, true)
}

// verifyBatch is VerifyBatchParallel, and VerifyBatchUntrusted when
// untrusted (then with workers 1, so that the breaker stops every chunk
// after the first that fails).
func (c *SigCache) verifyBatch(checks []SignatureCheck, rand io.Reader, workers int, untrusted bool) {
	// A chunk's checks, their cache keys and, when untrusted, their
	// signatures parsed by the encoding filter, which the batch then
	// need not decompress again.
	type chunk struct {
		checks []SignatureCheck
		sums   [][32]byte
		sigs   []*zip215.Signature
	}
	var chunks []chunk
	var cur chunk
	for _, ch := range checks {
		if ch.Pub.Type() != keys.Ed25519 {
			continue
		}
		k := sigKey(ch.Pub, ch.Msg, ch.Sig)
		if _, hit := c.ok.Get(k); hit {
			continue
		}
		if untrusted {
			s, err := zip215.ParseSignature(ch.Sig)
			if err != nil {
				continue
			}
			cur.sigs = append(cur.sigs, s)
		}
		cur.checks, cur.sums = append(cur.checks, ch), append(cur.sums, k)
		if len(cur.checks) == batchChunk {
			chunks, cur = append(chunks, cur), chunk{}
		}
	}
	if len(cur.checks) > 0 {
		chunks = append(chunks, cur)
	}
	if rand != nil && workers > 1 {
		rand = &lockedReader{r: rand}
	}
	var failed atomic.Bool
	verify := func(i int) {
		if untrusted && failed.Load() {
			return
		}
		b := zip215.Batch{Rand: rand}
		ck := chunks[i]
		for j, ch := range ck.checks {
			k, ok := ch.Pub.ZIP215Key() // checked when it was parsed
			switch {
			case ck.sigs != nil:
				var pub []byte
				if !ok {
					pub = ch.Pub.Bytes()
				}
				b.AddParsed(k, pub, ch.Msg, ck.sigs[j])
			case ok:
				b.AddKey(k, ch.Msg, ch.Sig)
			default:
				b.Add(ch.Pub.Bytes(), ch.Msg, ch.Sig)
			}
		}
		if !b.Verify() {
			failed.Store(true)
			return
		}
		for _, k := range ck.sums {
			c.ok.Put(k, struct{}{}, 0)
		}
	}
	parallel(len(chunks), workers, verify)
}

// parallel calls f(0) ... f(n-1) on up to workers goroutines and returns
// when all have returned.
func parallel(n, workers int, f func(i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// lockedReader serializes reads of r for goroutines that share it.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

// DecodeAll decodes payloads (through c: nil decodes every time) on up to
// workers goroutines and returns each one's operation, nil where it does
// not decode: Decode's result for each, whatever the number of workers.
// keys, if not nil, holds each payload's key (DecodeKeyed).
func (c *OpCache) DecodeAll(keys [][32]byte, payloads [][]byte, workers int) []*Operation {
	if keys != nil && len(keys) != len(payloads) {
		panic(fmt.Sprintf("idmesh: DecodeAll of %d payloads with %d keys", len(payloads), len(keys)))
	}
	ops := make([]*Operation, len(payloads))
	const per = 32 // payloads a worker takes at a time
	parallel((len(payloads)+per-1)/per, workers, func(i int) {
		for j := i * per; j < min((i+1)*per, len(payloads)); j++ {
			var op *Operation
			var err error
			if keys != nil {
				op, err = c.DecodeKeyed(keys[j], payloads[j])
			} else {
				op, err = c.Decode(payloads[j])
			}
			if err == nil {
				ops[j] = op
			}
		}
	})
	return ops
}

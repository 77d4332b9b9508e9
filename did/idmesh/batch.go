package idmesh

import (
	"io"
	"sync"
	"sync/atomic"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/zip215"
)

// SignatureCheck is one signature check an operation's proof asks for:
// Sig is Pub's signature of Msg (the operation's signing input).
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
	input, err := op.SigningInput(chainID)
	if err != nil {
		return nil
	}
	var docs []*did.Document
	if op.Document != nil {
		docs = append(docs, op.Document)
	}
	if op.Type != Create {
		if rec, err := LoadRecord(r, subject); err == nil {
			if v, err := LoadVersion(r, subject, rec.Versions); err == nil && v.Document != nil {
				docs = append(docs, v.Document)
			}
		}
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
// Apply too. rand supplies the batch coefficients; nil means
// crypto/rand. A batch accepts what VerifySignature accepts one by one,
// so the cache never changes a result; c must not be nil.
func (c *SigCache) VerifyBatch(checks []SignatureCheck, rand io.Reader) {
	c.VerifyBatchParallel(checks, rand, 1)
}

// VerifyBatchParallel is VerifyBatch with the chunks verified by up to
// workers goroutines (the machine's cores): each chunk is verified and
// remembered as VerifyBatch does, so the cache holds the same checks
// whatever the number of workers. rand is read under a lock.
func (c *SigCache) VerifyBatchParallel(checks []SignatureCheck, rand io.Reader, workers int) {
	var chunks [][]SignatureCheck
	var sums [][][32]byte
	var cur []SignatureCheck
	var curKeys [][32]byte
	for _, ch := range checks {
		if ch.Pub.Type() != keys.Ed25519 {
			continue
		}
		k := sigKey(ch.Pub, ch.Msg, ch.Sig)
		if _, hit := c.ok.get(k); hit {
			continue
		}
		cur, curKeys = append(cur, ch), append(curKeys, k)
		if len(cur) == batchChunk {
			chunks, sums = append(chunks, cur), append(sums, curKeys)
			cur, curKeys = nil, nil
		}
	}
	if len(cur) > 0 {
		chunks, sums = append(chunks, cur), append(sums, curKeys)
	}
	if rand != nil && workers > 1 {
		rand = &lockedReader{r: rand}
	}
	verify := func(i int) {
		b := zip215.Batch{Rand: rand}
		for _, ch := range chunks[i] {
			b.Add(ch.Pub.Bytes(), ch.Msg, ch.Sig)
		}
		if b.Verify() {
			for _, k := range sums[i] {
				c.ok.put(k, struct{}{}, 0)
			}
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
func (c *OpCache) DecodeAll(payloads [][]byte, workers int) []*Operation {
	ops := make([]*Operation, len(payloads))
	const per = 32 // payloads a worker takes at a time
	parallel((len(payloads)+per-1)/per, workers, func(i int) {
		for j := i * per; j < min((i+1)*per, len(payloads)); j++ {
			if op, err := c.Decode(payloads[j]); err == nil {
				ops[j] = op
			}
		}
	})
	return ops
}

package idmesh

import (
	"io"

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
	b := zip215.Batch{Rand: rand}
	pending := make([][32]byte, 0, batchChunk)
	flush := func() {
		if b.Len() > 0 && b.Verify() {
			for _, k := range pending {
				c.ok.put(k, struct{}{})
			}
		}
		b.Reset()
		pending = pending[:0]
	}
	for _, ch := range checks {
		if ch.Pub.Type() != keys.Ed25519 {
			continue
		}
		k := sigKey(ch.Pub, ch.Msg, ch.Sig)
		if _, hit := c.ok.get(k); hit {
			continue
		}
		pending = append(pending, k)
		b.Add(ch.Pub.Bytes(), ch.Msg, ch.Sig)
		if b.Len() == batchChunk {
			flush()
		}
	}
	flush()
}

package registry

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// TxType says what a transaction's payload is. The set is append-only:
// a type's number never changes meaning.
type TxType uint8

// Transaction types.
const (
	// TxDIDOperation carries a signed did:idmesh operation (create,
	// update or deactivate) in canonical JSON.
	TxDIDOperation TxType = 1
)

func (t TxType) String() string {
	switch t {
	case TxDIDOperation:
		return "did-operation"
	case TxValidatorSet:
		return "validator-set"
	case TxEvidence:
		return "evidence"
	case TxStatusList:
		return "status-list"
	case TxSchema:
		return "schema"
	case TxTrust:
		return "trust"
	case TxTokenStatusList:
		return "token-status-list"
	}
	return fmt.Sprintf("tx-type-%d", uint8(t))
}

// MaxTxBytes bounds an encoded transaction.
const MaxTxBytes = 128 << 10

// txVersion is the first byte of every encoded transaction.
const txVersion = 1

// ErrUnknownTxType reports a transaction type this node does not know.
var ErrUnknownTxType = errors.New("unknown transaction type")

// Tx is a transaction: a typed, canonical payload. Its signatures live
// inside the payload, whose format the type defines.
//
// A Tx's payload bytes are never changed once it is built (like a
// string's): a Tx that DecodeTx or WithHash returned remembers its hash,
// and Hash returns it as long as Type and Payload are still the ones it
// was computed for (the same type, the same bytes in memory, the same
// length); a Tx given another type or payload hashes again. In test
// binaries Hash checks a remembered hash against the payload, so a test
// or a path that writes into a payload fails loudly.
type Tx struct {
	Type    TxType
	Payload []byte

	memo txMemo
}

// txMemo is a Tx's hash as computed for a type and payload: data is the
// payload's first byte and n its length (nil: no hash remembered).
type txMemo struct {
	hash Hash
	data *byte
	n    int
	typ  TxType
}

// verifyTxMemo makes Hash recompute a remembered hash and panic on a
// mismatch: on in test binaries, off in the node.
var verifyTxMemo = testing.Testing()

// memoFor returns the hash t remembers, if it is still t's.
func (t *Tx) memoFor() (Hash, bool) {
	m := &t.memo
	if m.data == nil || len(t.Payload) == 0 || m.data != &t.Payload[0] || m.n != len(t.Payload) || m.typ != t.Type {
		return Hash{}, false
	}
	return m.hash, true
}

// WithHash returns t remembering its hash, so that hashing it (and its
// copies) again costs nothing. Call it where the payload is final: the
// caller must not change the payload's bytes afterwards.
func (t Tx) WithHash() Tx {
	if _, ok := t.memoFor(); ok || len(t.Payload) == 0 {
		return t
	}
	t.memo = txMemo{hash: t.hashPayload(), data: &t.Payload[0], n: len(t.Payload), typ: t.Type}
	return t
}

// Encode returns the deterministic encoding: version, type, payload.
func (t Tx) Encode() []byte {
	e := encoder{b: make([]byte, 0, t.Size())}
	t.encode(&e)
	return e.b
}

// encode appends the encoding (Size bytes) to e.
func (t *Tx) encode(e *encoder) {
	e.u8(txVersion)
	e.u8(uint8(t.Type))
	e.bytes(t.Payload)
}

// Hash returns SHA-256 of the encoding; it names the transaction. A Tx
// from DecodeTx or WithHash returns the hash it remembers.
func (t Tx) Hash() Hash {
	if h, ok := t.memoFor(); ok {
		if verifyTxMemo && h != t.hashPayload() {
			panic(fmt.Sprintf("registry: transaction %s: payload changed after it was hashed", h))
		}
		return h
	}
	return t.hashPayload()
}

// hashPayload computes Hash. It hashes the encoding's parts in turn
// rather than a copy of it, so hashing a block's transactions copies
// none of them.
func (t Tx) hashPayload() Hash {
	var head [2 + binary.MaxVarintLen64]byte
	head[0], head[1] = txVersion, uint8(t.Type)
	n := 2 + binary.PutUvarint(head[2:], uint64(len(t.Payload)))
	d := sha256.New()
	d.Write(head[:n])
	d.Write(t.Payload)
	var h Hash
	d.Sum(h[:0])
	return h
}

// DecodeTx decodes an encoded transaction and checks it structurally. The
// payload is a copy (b stays the caller's) and the Tx remembers its hash
// (WithHash).
func DecodeTx(b []byte) (Tx, error) {
	if len(b) > MaxTxBytes {
		return Tx{}, fmt.Errorf("decode tx: %w: %d bytes exceeds %d", ErrMalformed, len(b), MaxTxBytes)
	}
	d := decoder{b: b}
	v := d.u8("version")
	t := Tx{Type: TxType(d.u8("type")), Payload: d.bytes("payload", MaxTxBytes)}
	if err := d.finish("tx"); err != nil {
		return Tx{}, err
	}
	if v != txVersion {
		return Tx{}, fmt.Errorf("decode tx: %w: version %d", ErrMalformed, v)
	}
	if err := t.ValidateBasic(); err != nil {
		return Tx{}, err
	}
	return t.WithHash(), nil
}

// ValidateBasic checks what needs no state: a known type and a bounded,
// non-empty payload.
func (t Tx) ValidateBasic() error {
	switch t.Type {
	case TxDIDOperation, TxValidatorSet, TxEvidence, TxStatusList, TxSchema, TxTrust, TxTokenStatusList:
	default:
		return fmt.Errorf("validate tx: %w: %d", ErrUnknownTxType, t.Type)
	}
	if len(t.Payload) == 0 {
		return fmt.Errorf("validate tx: %w: empty payload", ErrMalformed)
	}
	if len(t.Payload) > MaxTxBytes-16 {
		return fmt.Errorf("validate tx: %w: payload too large", ErrMalformed)
	}
	return nil
}

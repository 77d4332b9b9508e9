package smt

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Proof proves that a key maps to a value, or that it is absent, in the
// tree with a given root. Obtain one with Prove and check it with Verify.
type Proof struct {
	// Siblings are the sibling hashes along the key's path, from the top
	// down: Siblings[i] is the child of the node at depth i that is not on
	// the path. Empty siblings are Empty. At most 256.
	Siblings []Hash
	// Leaf is the leaf that ends the path when it belongs to another key,
	// which proves the key absent. It is nil in an inclusion proof and in
	// a non-inclusion proof whose path ends at an empty subtree.
	Leaf *ProofLeaf
}

// ProofLeaf is a leaf of a different key found where the proven key's path
// ends.
type ProofLeaf struct {
	// Key is the leaf's key; it shares the path's prefix with the proven key.
	Key Hash
	// Value is the leaf's value hash.
	Value Hash
}

// Prove returns a proof for key in the tree with the given root: of
// inclusion if key is present, of non-inclusion otherwise. It reads one node
// per level of the key's path.
func Prove(r NodeReader, root, key Hash) (Proof, error) {
	var p Proof
	h := root
	for depth := 0; ; depth++ {
		if h == Empty {
			return p, nil
		}
		n, err := readNode(r, h, depth)
		if err != nil {
			return Proof{}, fmt.Errorf("prove %s: %w", key, err)
		}
		if n.kind == kindLeaf {
			if n.a != key {
				p.Leaf = &ProofLeaf{Key: n.a, Value: n.b}
			}
			return p, nil
		}
		sib := n.b
		if bit(&key, depth) == 1 {
			h, sib = n.b, n.a
		} else {
			h = n.a
		}
		p.Siblings = append(p.Siblings, sib)
	}
}

// Verify checks the proof against root. With a non-nil value it checks that
// key maps to *value; with a nil value it checks that key is absent. It
// returns nil if the statement holds and an error wrapping ErrInvalidProof
// otherwise. Verify accepts only the canonical proof, the one Prove returns.
func (p Proof) Verify(root, key Hash, value *Hash) error {
	depth := len(p.Siblings)
	if depth > maxDepth {
		return fmt.Errorf("verify %s: %d siblings: %w", key, depth, ErrInvalidProof)
	}
	var h Hash
	switch {
	case value != nil:
		if p.Leaf != nil {
			return fmt.Errorf("verify %s: path ends at leaf of key %s: %w", key, p.Leaf.Key, ErrInvalidProof)
		}
		if *value == Empty {
			return fmt.Errorf("verify %s: zero value: %w", key, ErrInvalidProof)
		}
		h = LeafHash(key, *value)
	case p.Leaf != nil:
		if p.Leaf.Key == key {
			return fmt.Errorf("verify absence of %s: path ends at its own leaf: %w", key, ErrInvalidProof)
		}
		if p.Leaf.Value == Empty {
			return fmt.Errorf("verify absence of %s: leaf has zero value: %w", key, ErrInvalidProof)
		}
		if !samePrefix(&p.Leaf.Key, &key, depth) {
			return fmt.Errorf("verify absence of %s: leaf %s is off the path: %w", key, p.Leaf.Key, ErrInvalidProof)
		}
		h = LeafHash(p.Leaf.Key, p.Leaf.Value)
	}
	// The path ends at a leaf or an empty subtree; in a canonical tree its
	// sibling is not empty (a lone leaf is lifted, an empty pair collapsed).
	if depth > 0 && p.Siblings[depth-1] == Empty {
		return fmt.Errorf("verify %s: empty sibling at the end of the path: %w", key, ErrInvalidProof)
	}
	for i := depth - 1; i >= 0; i-- {
		if bit(&key, i) == 0 {
			h = InnerHash(h, p.Siblings[i])
		} else {
			h = InnerHash(p.Siblings[i], h)
		}
	}
	if h != root {
		return fmt.Errorf("verify %s: computed root %s, want %s: %w", key, h, root, ErrInvalidProof)
	}
	return nil
}

// Binary proof encoding:
//
//	header   1 byte: 0 = no leaf, 1 = a ProofLeaf follows the siblings
//	depth    2 bytes, big-endian: len(Siblings), at most 256
//	bitmap   ceil(depth/8) bytes: bit i (most significant first) is set iff
//	         Siblings[i] is not Empty; padding bits are zero
//	siblings 32 bytes for each set bit, in order
//	leaf     32-byte key and 32-byte value, if the header is 1
const (
	headerNoLeaf = 0
	headerLeaf   = 1
)

// Encode returns the compact binary encoding of p. Empty siblings cost one
// bit. Encode panics if p has more than 256 siblings, which Prove never
// returns.
func (p Proof) Encode() []byte {
	depth := len(p.Siblings)
	if depth > maxDepth {
		panic(fmt.Sprintf("smt: encode proof with %d siblings", depth))
	}
	nonEmpty := 0
	for _, s := range p.Siblings {
		if s != Empty {
			nonEmpty++
		}
	}
	size := 3 + (depth+7)/8 + 32*nonEmpty
	if p.Leaf != nil {
		size += 64
	}
	b := make([]byte, 3, size)
	if p.Leaf != nil {
		b[0] = headerLeaf
	}
	binary.BigEndian.PutUint16(b[1:3], uint16(depth))
	b = b[:3+(depth+7)/8]
	for i, s := range p.Siblings {
		if s != Empty {
			b[3+i/8] |= 0x80 >> uint(i%8)
		}
	}
	for _, s := range p.Siblings {
		if s != Empty {
			b = append(b, s[:]...)
		}
	}
	if p.Leaf != nil {
		b = append(b, p.Leaf.Key[:]...)
		b = append(b, p.Leaf.Value[:]...)
	}
	return b
}

// DecodeProof decodes a proof encoded by Proof.Encode. It accepts only the
// canonical encoding and rejects trailing bytes; errors wrap ErrMalformed.
// A decoded proof still has to be checked with Verify.
func DecodeProof(b []byte) (Proof, error) {
	if len(b) < 3 {
		return Proof{}, fmt.Errorf("decode proof: %d bytes: %w", len(b), ErrMalformed)
	}
	header := b[0]
	if header != headerNoLeaf && header != headerLeaf {
		return Proof{}, fmt.Errorf("decode proof: header %#x: %w", header, ErrMalformed)
	}
	depth := int(binary.BigEndian.Uint16(b[1:3]))
	if depth > maxDepth {
		return Proof{}, fmt.Errorf("decode proof: depth %d: %w", depth, ErrMalformed)
	}
	rest := b[3:]
	n := (depth + 7) / 8
	if len(rest) < n {
		return Proof{}, fmt.Errorf("decode proof: truncated bitmap: %w", ErrMalformed)
	}
	bitmap, rest := rest[:n], rest[n:]
	if depth%8 != 0 && bitmap[n-1]&(0xff>>uint(depth%8)) != 0 {
		return Proof{}, fmt.Errorf("decode proof: bitmap padding set: %w", ErrMalformed)
	}
	var p Proof
	if depth > 0 {
		p.Siblings = make([]Hash, depth)
	}
	for i := range p.Siblings {
		if bitmap[i/8]&(0x80>>uint(i%8)) == 0 {
			continue
		}
		if len(rest) < 32 {
			return Proof{}, fmt.Errorf("decode proof: truncated sibling %d: %w", i, ErrMalformed)
		}
		p.Siblings[i] = Hash(rest[:32])
		rest = rest[32:]
		if p.Siblings[i] == Empty {
			return Proof{}, fmt.Errorf("decode proof: sibling %d marked non-empty is zero: %w", i, ErrMalformed)
		}
	}
	if header == headerLeaf {
		if len(rest) < 64 {
			return Proof{}, fmt.Errorf("decode proof: truncated leaf: %w", ErrMalformed)
		}
		p.Leaf = &ProofLeaf{Key: Hash(rest[:32]), Value: Hash(rest[32:64])}
		rest = rest[64:]
	}
	if len(rest) != 0 {
		return Proof{}, fmt.Errorf("decode proof: %d trailing bytes: %w", len(rest), ErrMalformed)
	}
	return p, nil
}

// proofJSON is the JSON form of a Proof.
type proofJSON struct {
	Siblings []string  `json:"siblings"`
	Leaf     *leafJSON `json:"leaf,omitempty"`
}

type leafJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// MarshalJSON encodes p as
//
//	{"siblings": ["<64 hex digits>" or "" for Empty, ...],
//	 "leaf": {"key": "<hex>", "value": "<hex>"}}
//
// with "leaf" omitted when p.Leaf is nil.
func (p Proof) MarshalJSON() ([]byte, error) {
	if len(p.Siblings) > maxDepth {
		return nil, fmt.Errorf("marshal proof: %d siblings: %w", len(p.Siblings), ErrMalformed)
	}
	j := proofJSON{Siblings: make([]string, len(p.Siblings))}
	for i, s := range p.Siblings {
		if s != Empty {
			j.Siblings[i] = s.String()
		}
	}
	if p.Leaf != nil {
		j.Leaf = &leafJSON{Key: p.Leaf.Key.String(), Value: p.Leaf.Value.String()}
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes the form written by MarshalJSON. Hashes are exactly
// 64 hex digits; unknown fields and more than 256 siblings are rejected.
// Errors wrap ErrMalformed.
func (p *Proof) UnmarshalJSON(b []byte) error {
	var j proofJSON
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&j); err != nil {
		return fmt.Errorf("unmarshal proof: %w: %w", ErrMalformed, err)
	}
	if d.More() {
		return fmt.Errorf("unmarshal proof: trailing data: %w", ErrMalformed)
	}
	if len(j.Siblings) > maxDepth {
		return fmt.Errorf("unmarshal proof: %d siblings: %w", len(j.Siblings), ErrMalformed)
	}
	var out Proof
	if len(j.Siblings) > 0 {
		out.Siblings = make([]Hash, len(j.Siblings))
	}
	for i, s := range j.Siblings {
		if s == "" {
			continue
		}
		h, err := parseHex(s)
		if err != nil {
			return fmt.Errorf("unmarshal proof: sibling %d: %w", i, err)
		}
		out.Siblings[i] = h
	}
	if j.Leaf != nil {
		k, err := parseHex(j.Leaf.Key)
		if err != nil {
			return fmt.Errorf("unmarshal proof: leaf key: %w", err)
		}
		v, err := parseHex(j.Leaf.Value)
		if err != nil {
			return fmt.Errorf("unmarshal proof: leaf value: %w", err)
		}
		out.Leaf = &ProofLeaf{Key: k, Value: v}
	}
	*p = out
	return nil
}

// parseHex parses exactly 64 hex digits.
func parseHex(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return Empty, fmt.Errorf("hash of %d hex digits: %w", len(s), ErrMalformed)
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Empty, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return h, nil
}

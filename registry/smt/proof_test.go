package smt_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/registry/smt"
)

func TestProofEncoding(t *testing.T) {
	h1, h2 := hashOf("1"), hashOf("2")
	tests := []struct {
		name string
		p    smt.Proof
		want []byte
	}{
		{"empty", smt.Proof{}, []byte{0, 0, 0}},
		{"one sibling", smt.Proof{Siblings: []smt.Hash{h1}},
			cat([]byte{0, 0, 1, 0x80}, h1[:])},
		{"empty siblings cost a bit", smt.Proof{Siblings: []smt.Hash{smt.Empty, h1, smt.Empty, smt.Empty, smt.Empty, smt.Empty, smt.Empty, smt.Empty, h2}},
			cat([]byte{0, 0, 9, 0x40, 0x80}, h1[:], h2[:])},
		{"leaf", smt.Proof{Leaf: &smt.ProofLeaf{Key: h1, Value: h2}},
			cat([]byte{1, 0, 0}, h1[:], h2[:])},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.p.Encode()
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("Encode = %x, want %x", got, tt.want)
			}
			back, err := smt.DecodeProof(got)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, tt.p) {
				t.Fatalf("DecodeProof = %+v, want %+v", back, tt.p)
			}
		})
	}
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestDecodeProofErrors(t *testing.T) {
	h := hashOf("h")
	tests := []struct {
		name string
		b    []byte
	}{
		{"nil", nil},
		{"short header", []byte{0, 0}},
		{"bad header", []byte{2, 0, 0}},
		{"depth over 256", cat([]byte{0, 1, 1}, make([]byte, 33))},
		{"truncated bitmap", []byte{0, 0, 9, 0}},
		{"padding bit set", cat([]byte{0, 0, 1, 0x81}, h[:])},
		{"truncated sibling", cat([]byte{0, 0, 1, 0x80}, h[:31])},
		{"zero sibling marked present", cat([]byte{0, 0, 1, 0x80}, make([]byte, 32))},
		{"truncated leaf", cat([]byte{1, 0, 0}, h[:], h[:31])},
		{"trailing byte", []byte{0, 0, 0, 0}},
		{"trailing after sibling", cat([]byte{0, 0, 1, 0x80}, h[:], []byte{0})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := smt.DecodeProof(tt.b); !errors.Is(err, smt.ErrMalformed) {
				t.Fatalf("DecodeProof(%x) = %v, want ErrMalformed", tt.b, err)
			}
		})
	}
}

func TestProofJSON(t *testing.T) {
	h1, h2 := hashOf("1"), hashOf("2")
	p := smt.Proof{Siblings: []smt.Hash{h1, smt.Empty}, Leaf: &smt.ProofLeaf{Key: h1, Value: h2}}
	got, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"siblings":["` + h1.String() + `",""],"leaf":{"key":"` + h1.String() + `","value":"` + h2.String() + `"}}`
	if string(got) != want {
		t.Fatalf("Marshal = %s, want %s", got, want)
	}
	var back smt.Proof
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, p) {
		t.Fatalf("round trip = %+v, want %+v", back, p)
	}
	if got, _ := json.Marshal(smt.Proof{}); string(got) != `{"siblings":[]}` {
		t.Fatalf("empty proof = %s", got)
	}
}

func TestProofJSONErrors(t *testing.T) {
	h := hashOf("h").String()
	tests := []struct {
		name string
		js   string
	}{
		{"not an object", `[]`},
		{"unknown field", `{"siblings":[],"extra":1}`},
		{"short hash", `{"siblings":["abcd"]}`},
		{"not hex", `{"siblings":["` + strings.Repeat("zz", 32) + `"]}`},
		{"bad leaf key", `{"siblings":[],"leaf":{"key":"00","value":"` + h + `"}}`},
		{"bad leaf value", `{"siblings":[],"leaf":{"key":"` + h + `","value":""}}`},
		{"too many siblings", `{"siblings":[` + strings.Repeat(`"",`, 256) + `""]}`},
		{"trailing data", `{"siblings":[]} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p smt.Proof
			if err := p.UnmarshalJSON([]byte(tt.js)); !errors.Is(err, smt.ErrMalformed) {
				t.Fatalf("UnmarshalJSON(%s) = %v, want ErrMalformed", tt.js, err)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	v := hashOf("v")
	k := hashOf("k")
	tests := []struct {
		name  string
		p     smt.Proof
		root  smt.Hash
		value *smt.Hash
	}{
		{"zero value", smt.Proof{}, smt.LeafHash(k, smt.Empty), &smt.Empty},
		{"too many siblings", smt.Proof{Siblings: make([]smt.Hash, 257)}, smt.Empty, nil},
		{"empty sibling at path end", smt.Proof{Siblings: []smt.Hash{smt.Empty}}, smt.InnerHash(smt.LeafHash(k, v), smt.Empty), &v},
		{"absence in non-empty tree by empty proof", smt.Proof{}, smt.LeafHash(k, v), nil},
		{"leaf with zero value", smt.Proof{Leaf: &smt.ProofLeaf{Key: hashOf("o")}}, smt.LeafHash(hashOf("o"), smt.Empty), nil},
		// The root is what folding the proof along k's path gives, so only
		// the prefix check can reject it.
		{"leaf off the path", smt.Proof{Siblings: []smt.Hash{v}, Leaf: &smt.ProofLeaf{Key: flipBit(k, 0), Value: v}},
			foldOne(k, smt.LeafHash(flipBit(k, 0), v), v), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustReject(t, tt.p, tt.root, k, tt.value, tt.name)
		})
	}
}

// foldOne returns the parent of h and sibling on key's path at depth 0.
func foldOne(key, h, sibling smt.Hash) smt.Hash {
	if bitOf(key, 0) == 0 {
		return smt.InnerHash(h, sibling)
	}
	return smt.InnerHash(sibling, h)
}

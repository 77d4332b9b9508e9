package smt_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/idmesh/idmesh/registry/smt"
)

// fuzzTree is a small fixed tree with both kinds of non-inclusion and keys
// sharing long prefixes.
func fuzzTree(tb tb) (*smt.MemStore, smt.Hash, map[smt.Hash]smt.Hash, []smt.Hash) {
	model := make(map[smt.Hash]smt.Hash)
	for i := range 12 {
		model[hashN("fk", uint64(i))] = hashN("fv", uint64(i))
	}
	model[flipBit(hashN("fk", 0), 255)] = hashN("fv", 100)
	model[flipBit(hashN("fk", 1), 128)] = hashN("fv", 101)
	store, root := MustBuild(tb, model)
	return store, root, model, sortedKeys(model)
}

func FuzzDecodeProof(f *testing.F) {
	store, root, _, keys := fuzzTree(f)
	for i, k := range keys {
		p, err := smt.Prove(store, root, k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p.Encode())
		p, err = smt.Prove(store, root, flipBit(k, i%256))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p.Encode())
	}
	f.Add([]byte{})
	f.Add([]byte{0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := smt.DecodeProof(b)
		if err != nil {
			return
		}
		if got := p.Encode(); !bytes.Equal(got, b) {
			t.Fatalf("Encode(DecodeProof(%x)) = %x", b, got)
		}
		js, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		var q smt.Proof
		if err := json.Unmarshal(js, &q); err != nil {
			t.Fatalf("Unmarshal(%s): %v", js, err)
		}
		if !bytes.Equal(q.Encode(), b) {
			t.Fatalf("JSON round trip changed %x", b)
		}
	})
}

func FuzzProofUnmarshalJSON(f *testing.F) {
	store, root, _, keys := fuzzTree(f)
	for _, k := range keys[:4] {
		p, err := smt.Prove(store, root, flipBit(k, 200))
		if err != nil {
			f.Fatal(err)
		}
		js, _ := json.Marshal(p)
		f.Add(js)
	}
	f.Add([]byte(`{"siblings":[]}`))
	f.Add([]byte(`{"siblings":[""],"leaf":null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p smt.Proof
		if err := p.UnmarshalJSON(b); err != nil {
			return
		}
		q, err := smt.DecodeProof(p.Encode())
		if err != nil {
			t.Fatalf("DecodeProof(Encode(%s)): %v", b, err)
		}
		js1, _ := json.Marshal(p)
		js2, _ := json.Marshal(q)
		if !bytes.Equal(js1, js2) {
			t.Fatalf("binary round trip changed %s to %s", js1, js2)
		}
	})
}

// FuzzVerify checks that Verify never accepts a false statement about a
// fixed tree, whatever the proof bytes.
func FuzzVerify(f *testing.F) {
	store, root, model, keys := fuzzTree(f)
	for i, k := range keys {
		p, err := smt.Prove(store, root, k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p.Encode(), uint8(i), []byte(nil), uint8(1), []byte(nil))
		f.Add(p.Encode(), uint8(i), []byte(nil), uint8(0), []byte(nil))
		absent := flipBit(k, 250)
		p, err = smt.Prove(store, root, absent)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p.Encode(), uint8(64), absent[:], uint8(0), []byte(nil))
		f.Add(p.Encode(), uint8(64), absent[:], uint8(2), []byte("v"))
	}
	f.Fuzz(func(t *testing.T, proof []byte, keySel uint8, keyBytes []byte, valSel uint8, valBytes []byte) {
		p, err := smt.DecodeProof(proof)
		if err != nil {
			return
		}
		var key smt.Hash
		if int(keySel) < len(keys) {
			key = keys[keySel]
		} else {
			copy(key[:], keyBytes)
		}
		var value *smt.Hash
		switch valSel % 4 {
		case 1:
			v := model[key]
			value = &v
		case 2:
			var v smt.Hash
			copy(v[:], valBytes)
			value = &v
		case 3:
			v := model[keys[int(valSel/4)%len(keys)]]
			value = &v
		}
		if err := p.Verify(root, key, value); err != nil {
			return
		}
		got, present := model[key]
		switch {
		case value == nil && present:
			t.Fatalf("accepted absence of present key %s", key)
		case value != nil && (!present || got != *value):
			t.Fatalf("accepted %s -> %s; model has %s (present %v)", key, *value, got, present)
		}
	})
}

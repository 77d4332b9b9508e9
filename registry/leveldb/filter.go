package leveldb

import (
	"github.com/syndtr/goleveldb/leveldb/filter"
)

// keyFilter is the tables' filter: a Bloom filter of the keys that reads
// look for while absent (state values: every create reads its DID's
// record; the transaction index: every transaction's replay check), and
// nothing for the rest. Tree nodes, the most numerous keys, are only read
// when a root reaches them, and blocks, headers and journals by a height
// that exists, so a filter of theirs would cost store bytes for nothing.
type keyFilter struct{ bloom filter.Filter }

// filtered reports whether k's kind is in the filter.
func filtered(k []byte) bool { return len(k) > 0 && (k[0] == pState || k[0] == pTx) }

func newKeyFilter(bitsPerKey int) filter.Filter {
	return keyFilter{bloom: filter.NewBloomFilter(bitsPerKey)}
}

// Name changes whenever which keys are filtered or how does: a table
// written with another filter is read without one.
func (keyFilter) Name() string { return "idmesh.StateTxBloom1" }

func (f keyFilter) NewGenerator() filter.FilterGenerator {
	return &keyFilterGenerator{bloom: f.bloom.NewGenerator()}
}

// Contains is true for every key of a kind not filtered, and for a
// filtered one that the table's part may hold.
func (f keyFilter) Contains(b, k []byte) bool {
	if !filtered(k) {
		return true
	}
	return len(b) > len(noFiltered) && f.bloom.Contains(b, k)
}

// noFiltered is the filter of a table's part that holds keys but none of
// a filtered kind, where a Bloom filter would take 9 bytes. It must not be
// empty: the table reader takes an empty filter for a part without keys
// and answers "absent" for every key, unfiltered ones too.
var noFiltered = []byte{0}

type keyFilterGenerator struct {
	bloom filter.FilterGenerator
	n     int // filtered keys since the last Generate
}

func (g *keyFilterGenerator) Add(k []byte) {
	if filtered(k) {
		g.bloom.Add(k)
		g.n++
	}
}

func (g *keyFilterGenerator) Generate(b filter.Buffer) {
	if g.n == 0 {
		b.Write(noFiltered)
		return
	}
	g.bloom.Generate(b)
	g.n = 0
}

package statuslist_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/idmesh/idmesh/credential/statuslist"
)

// randomList returns a list of length bits with round(density*length)
// distinct bits set, chosen uniformly with a fixed seed.
func randomList(tb testing.TB, length int, density float64, seed uint64) *statuslist.Bitstring {
	tb.Helper()
	b := mustList(tb, length)
	r := rand.New(rand.NewPCG(seed, 1))
	k := int(density*float64(length) + 0.5)
	for _, i := range r.Perm(length)[:k] {
		b.Set(i, true)
	}
	return b
}

func BenchmarkEncode(b *testing.B) {
	list := randomList(b, statuslist.MinLength, 0.01, 1)
	var n int
	for b.Loop() {
		s, err := list.Encode()
		if err != nil {
			b.Fatal(err)
		}
		n = len(s)
	}
	b.ReportMetric(float64(n), "encoded-B")
}

func BenchmarkDecode(b *testing.B) {
	s, err := randomList(b, statuslist.MinLength, 0.01, 1).Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(statuslist.MinLength / 8)
	for b.Loop() {
		if _, err := statuslist.Decode(s, statuslist.MinLength); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(s)), "encoded-B")
}

// BenchmarkEncodedSize reports the size of encodedList strings (base64url
// characters, 'u' included: what a list credential carries) at 0.1%, 1%
// and 10% of entries set, for one 131,072-entry list (B/list) and per
// million entries (B/Mentry) measured two ways: one list of 1,048,576
// entries, and 8 lists of 131,072 (the sum of their sizes).
func BenchmarkEncodedSize(b *testing.B) {
	for _, density := range []float64{0.001, 0.01, 0.1} {
		for _, shape := range []struct {
			name        string
			lists, bits int
		}{
			{"1x131072", 1, statuslist.MinLength},
			{"1x1048576", 1, 1 << 20},
			{"8x131072", 8, statuslist.MinLength},
		} {
			b.Run(fmt.Sprintf("set=%g%%/%s", density*100, shape.name), func(b *testing.B) {
				lists := make([]*statuslist.Bitstring, shape.lists)
				for i := range lists {
					lists[i] = randomList(b, shape.bits, density, uint64(i+1))
				}
				total := 0
				for b.Loop() {
					total = 0
					for _, l := range lists {
						s, err := l.Encode()
						if err != nil {
							b.Fatal(err)
						}
						total += len(s)
					}
				}
				entries := shape.lists * shape.bits
				b.ReportMetric(float64(total)/float64(shape.lists), "B/list")
				b.ReportMetric(float64(total)*1e6/float64(entries), "B/Mentry")
			})
		}
	}
}

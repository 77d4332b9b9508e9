//go:build linux && (amd64 || arm64 || ppc64le || s390x || riscv64 || loong64)

package hugepage

import (
	"syscall"
	"testing"
)

// BenchmarkPageFault measures what the first touch of fresh anonymous
// memory costs, per 4 KiB page: 64 MiB mapped, one byte written every
// 4 KiB, unmapped, on 4 KiB pages and marked MADV_HUGEPAGE. The ratio of
// the two is what marking the heap saves per page it touches first
// (docs/operations.md, "Memory: huge pages"):
//
//	go test -run '^$' -bench PageFault ./node/hugepage/
func BenchmarkPageFault(b *testing.B) {
	const size = 64 << 20
	for _, c := range []struct {
		name string
		mark bool
	}{{"4KiB", false}, {"marked", true}} {
		b.Run(c.name, func(b *testing.B) {
			if c.mark {
				requireTHP(b)
			}
			for b.Loop() {
				m, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
				if err != nil {
					b.Fatal(err)
				}
				if c.mark {
					if err := syscall.Madvise(m, madvHugepage); err != nil {
						b.Fatal(err)
					}
				}
				for i := 0; i < size; i += 4096 {
					m[i] = 1
				}
				if err := syscall.Munmap(m); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(size/4096)/1000, "µs/4KiB")
		})
	}
}

package leveldb_test

import (
	"os"
	"strconv"
	"strings"
	"testing"

	goleveldb "github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/idmesh/idmesh/registry/leveldb"
)

// BenchmarkTableWrites writes 300,000 state keys of 200 bytes in blocks
// of 5,000 and compacts them, as a node's store does, with table files
// written unbuffered (goleveldb's way) and through bufferedTables; it
// reports the write system calls (from /proc/self/io, where there is one)
// and the CPU time per MB of keys.
//
//	go test -run '^$' -bench TableWrites -benchtime 3x ./registry/leveldb/
func BenchmarkTableWrites(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"unbuffered", 0}, {"buffered", leveldb.TableWriteBuffer}} {
		b.Run(c.name, func(b *testing.B) {
			const n, perBlock = 300_000, 5_000
			keys := make([][]byte, n) // made once, outside the measured work
			for i := range keys {
				keys[i] = leveldb.BenchStateKey(uint64(i))
			}
			value := make([]byte, 200)
			var writes int64
			cpu := cpuTime()
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				b.StartTimer()
				s, err := leveldb.OpenBufferedForTest(dir, c.size)
				if err != nil {
					b.Fatal(err)
				}
				w0 := writeSyscalls()
				for i := 0; i < n; i += perBlock {
					batch := new(goleveldb.Batch)
					for _, k := range keys[i : i+perBlock] {
						batch.Put(k, value)
					}
					if err := s.DBForTest().Write(batch, nil); err != nil {
						b.Fatal(err)
					}
				}
				if err := s.DBForTest().CompactRange(util.Range{}); err != nil {
					b.Fatal(err)
				}
				writes += writeSyscalls() - w0
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
			mb := float64(b.N) * n * 250 / 1e6
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/mb, "cpu-µs/MB")
			if writes > 0 {
				b.ReportMetric(float64(writes)/mb, "writes/MB")
			}
		})
	}
}

// writeSyscalls returns the write system calls this process has made
// (syscw in /proc/self/io), 0 where there is no such file.
func writeSyscalls() int64 {
	raw, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(line, "syscw: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

package leveldb

import goleveldb "github.com/syndtr/goleveldb/leveldb"

// OpenBufferedForTest is openBuffered, for the external benchmarks.
func OpenBufferedForTest(dir string, tableBuffer int) (*Store, error) {
	return openBuffered(dir, tableBuffer)
}

// DBForTest returns the store's LevelDB database.
func (s *Store) DBForTest() *goleveldb.DB { return s.db }

// TableWriteBuffer is tableWriteBuffer.
const TableWriteBuffer = tableWriteBuffer

// BenchStateKey is benchStateKey.
var BenchStateKey = benchStateKey

// SetAbsentForTest sets the absence filter's smallest capacity and the
// hook each build calls once its snapshot is taken, until the test ends.
func SetAbsentForTest(t interface{ Cleanup(func()) }, minKeys int, hook func()) {
	oldMin, oldHook := absentMinKeys, buildHook
	absentMinKeys, buildHook = minKeys, hook
	t.Cleanup(func() { absentMinKeys, buildHook = oldMin, oldHook })
}

// AbsentStats returns the absence filter's completed builds, the reads it
// answered and its capacity (0 before the first build).
func (s *Store) AbsentStats() (builds, hits uint64, capacity int) {
	if b := s.absent.cur.Load(); b != nil {
		capacity = b.keys
	}
	return s.absent.built.Load(), s.absent.hits.Load(), capacity
}

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

package leveldb

import (
	"bufio"
	"errors"

	"github.com/syndtr/goleveldb/leveldb/storage"
)

// tableWriteBuffer is how much of a table file is gathered before it is
// written. goleveldb writes each block of a table it builds (8 KiB here,
// BlockSize) with a write system call of its own: a compaction of 100 MB
// makes about 12,800 of them. Gathered in 256 KiB, it makes 400.
// BenchmarkTableWrites measures it.
const tableWriteBuffer = 256 << 10

// bufferedTables is a LevelDB storage whose table files are written
// through a buffer of size bytes (0: unbuffered). Every other file (the
// journal, the manifest) is written as before, each write reaching the
// operating system when LevelDB makes it.
//
// It changes no durability: LevelDB syncs a table it built before it
// names it in the manifest (unless NoSync, which the store never sets),
// Sync flushes the buffer first, and Close flushes it too; a table left
// unfinished by a crash is one the manifest never named, which LevelDB
// removes when it opens. A failed write is reported once, to the write,
// Sync or Close that met it: a Close after a failed write or Sync only
// closes the file, and a Close after a Close does nothing, so that
// LevelDB can drop the table and build it again.
type bufferedTables struct {
	storage.Storage
	size int
}

// Create opens a new file; a table file's writer buffers.
func (s bufferedTables) Create(fd storage.FileDesc) (storage.Writer, error) {
	w, err := s.Storage.Create(fd)
	if err != nil || fd.Type != storage.TypeTable || s.size <= 0 {
		return w, err
	}
	return &bufferedWriter{Writer: w, buf: bufio.NewWriterSize(w, s.size)}, nil
}

// bufferedWriter writes through buf to the file's Writer, which Sync and
// Close flush to first.
type bufferedWriter struct {
	storage.Writer
	buf *bufio.Writer
	// failed is set once a write or a flush failed and the caller was
	// told: the table is lost, and Close then only closes the file.
	// goleveldb drops a table it failed to build by closing it and, only
	// if that succeeds, removing it and starting a fresh one; a bufio
	// Writer keeps its error, so a Close that flushed again would fail
	// every time and leave compactions stuck (review R15).
	failed bool
	// closed is set by the first Close, which closed the file and
	// reported any error; a later Close (goleveldb's drop, after a Close
	// that failed) answers nil, for the same reason (review R16).
	closed bool
}

func (w *bufferedWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, storage.ErrClosed
	}
	n, err := w.buf.Write(p)
	if err != nil {
		w.failed = true
	}
	return n, err
}

// Sync flushes the buffer and syncs the file.
func (w *bufferedWriter) Sync() error {
	if w.closed {
		return storage.ErrClosed
	}
	if err := w.buf.Flush(); err != nil {
		w.failed = true
		return err
	}
	return w.Writer.Sync()
}

// Close flushes the buffer, unless a write already failed, and closes the
// file, which it closes even if the flush failed. Only the first Close
// does anything.
func (w *bufferedWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	var ferr error
	if !w.failed {
		ferr = w.buf.Flush()
	}
	return errors.Join(ferr, w.Writer.Close())
}

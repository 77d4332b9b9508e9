package leveldb

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/storage"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// recordingWriter is a storage.Writer that records what reaches it.
type recordingWriter struct {
	got              bytes.Buffer
	writes, syncs    int
	closed           bool
	writeErr, cloErr error
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.writeErr != nil {
		return 0, w.writeErr
	}
	w.writes++
	return w.got.Write(p)
}
func (w *recordingWriter) Sync() error  { w.syncs++; return nil }
func (w *recordingWriter) Close() error { w.closed = true; return w.cloErr }

// TestBufferedWriter: writes reach the file only when the buffer fills,
// on Sync (before the file's own sync) and on Close, in order and whole;
// a failed flush is reported once, by the Sync, Write or Close that met
// it: the Close after a failed Sync or Write only closes the file, and a
// second Close does nothing (reviews R15 and R16: goleveldb drops a
// failed table only after a Close without error).
func TestBufferedWriter(t *testing.T) {
	rec := &recordingWriter{}
	w := &bufferedWriter{Writer: rec, buf: bufio.NewWriterSize(rec, 64)}
	var want bytes.Buffer
	for i := range 10 {
		p := bytes.Repeat([]byte{byte('a' + i)}, 10)
		if n, err := w.Write(p); n != len(p) || err != nil {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
		want.Write(p)
		if i == 4 && rec.writes != 0 {
			t.Fatalf("50 bytes in a 64-byte buffer: %d writes reached the file", rec.writes)
		}
	}
	if rec.writes != 1 || rec.got.Len() != 64 {
		t.Fatalf("after 100 bytes: %d writes, %d bytes reached the file; want 1 and 64", rec.writes, rec.got.Len())
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if rec.syncs != 1 || !bytes.Equal(rec.got.Bytes(), want.Bytes()) {
		t.Fatalf("after Sync: %d syncs, file %q; want 1 and %q", rec.syncs, rec.got.Bytes(), want.Bytes())
	}
	w.Write([]byte("tail"))
	want.WriteString("tail")
	if err := w.Close(); err != nil || !rec.closed || !bytes.Equal(rec.got.Bytes(), want.Bytes()) {
		t.Fatalf("after Close: err %v, closed %v, file %q", err, rec.closed, rec.got.Bytes())
	}

	boom := errors.New("disk full")
	bad := &recordingWriter{}
	w = &bufferedWriter{Writer: bad, buf: bufio.NewWriterSize(bad, 64)}
	w.Write([]byte("lost"))
	bad.writeErr = boom
	if err := w.Sync(); !errors.Is(err, boom) || bad.syncs != 0 {
		t.Fatalf("Sync with a failing file: %v, %d syncs; want %v and no sync", err, bad.syncs, boom)
	}
	if err := w.Close(); err != nil || !bad.closed {
		t.Fatalf("Close after a failed Sync: %v, closed %v; want no error and closed", err, bad.closed)
	}

	// A write that fills the buffer and fails to flush it.
	bad = &recordingWriter{writeErr: boom}
	w = &bufferedWriter{Writer: bad, buf: bufio.NewWriterSize(bad, 64)}
	if _, err := w.Write(make([]byte, 100)); !errors.Is(err, boom) {
		t.Fatalf("write past the buffer to a failing file: %v, want %v", err, boom)
	}
	if err := w.Close(); err != nil || !bad.closed {
		t.Fatalf("Close after a failed Write: %v, closed %v; want no error and closed", err, bad.closed)
	}

	// A flush that fails first in Close is reported there.
	bad = &recordingWriter{}
	w = &bufferedWriter{Writer: bad, buf: bufio.NewWriterSize(bad, 64)}
	w.Write([]byte("short"))
	bad.writeErr = boom
	if err := w.Close(); !errors.Is(err, boom) || !bad.closed {
		t.Fatalf("Close whose flush fails: %v, closed %v; want %v and closed", err, bad.closed, boom)
	}
	// The Close after it (goleveldb's drop) does nothing and answers nil
	// (review R16), and the writer takes nothing more.
	bad.closed = false
	if err := w.Close(); err != nil || bad.closed {
		t.Fatalf("second Close: %v, closed the file again %v; want nil and no close", err, bad.closed)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Write after Close: %v, want %v", err, storage.ErrClosed)
	}
	if err := w.Sync(); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Sync after Close: %v, want %v", err, storage.ErrClosed)
	}
}

// TestBufferedTablesOnlyTables: only table files are buffered.
func TestBufferedTablesOnlyTables(t *testing.T) {
	s := bufferedTables{Storage: storage.NewMemStorage(), size: 1 << 10}
	for _, c := range []struct {
		typ  storage.FileType
		want bool
	}{{storage.TypeTable, true}, {storage.TypeJournal, false}, {storage.TypeManifest, false}, {storage.TypeTemp, false}} {
		w, err := s.Create(storage.FileDesc{Type: c.typ, Num: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, got := w.(*bufferedWriter); got != c.want {
			t.Errorf("%s: buffered %v, want %v", c.typ, got, c.want)
		}
		w.Close()
	}
	s.size = 0
	w, err := s.Create(storage.FileDesc{Type: storage.TypeTable, Num: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, ok := w.(*bufferedWriter); ok {
		t.Error("size 0: a table is buffered")
	}
}

// TestStoreBufferedTablesRoundTrip writes 20,000 keys through a store on
// disk with a buffer of several blocks and smaller than a table, compacts them into tables,
// reopens the store and reads every key back; and a second Open while the
// store is open is refused (Close releases the directory's lock).
func TestStoreBufferedTablesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := openBuffered(dir, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil {
		t.Fatal("a second Open of an open store succeeded")
	}
	keyOf := func(i int) []byte {
		sum := sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(i)))
		return key(pState, sum[:])
	}
	valueOf := func(i int) []byte { return bytes.Repeat([]byte(strconv.Itoa(i)), 20) }
	const n = 20_000
	for i := 0; i < n; i += 1000 {
		b := new(leveldb.Batch)
		for j := i; j < i+1000; j++ {
			b.Put(keyOf(j), valueOf(j))
		}
		if err := s.db.Write(b, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.CompactRange(util.Range{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	tables := 0
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".ldb") {
			tables++
		}
	}
	if tables == 0 {
		t.Fatal("no table file written")
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range n {
		v, err := s.db.Get(keyOf(i), nil)
		if err != nil || !bytes.Equal(v, valueOf(i)) {
			t.Fatalf("key %d after reopening: %q, %v", i, v, err)
		}
	}
}

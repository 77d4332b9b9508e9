package wal_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/node/wal"
)

// threeRecords writes a log of three height-5 votes and returns its path
// and the byte offset at which each record starts, and the file's length.
func threeRecords(t *testing.T) (string, [4]int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "consensus.wal")
	l, _, err := wal.Open[message](path, 5)
	if err != nil {
		t.Fatal(err)
	}
	var at [4]int
	for i := range 3 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		at[i] = int(fi.Size())
		if err := l.Append([]message{vote(5, int32(i))}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	fi, _ := os.Stat(path)
	at[3] = int(fi.Size())
	return path, at
}

func rewrite(t *testing.T, path string, f func(b []byte) []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, f(b), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestMidFileCorruptionRefused: a bad record followed by more bytes is
// never dropped quietly: Open fails with ErrCorrupt, naming the file and
// the bad record's offset, and leaves the file as it was.
func TestMidFileCorruptionRefused(t *testing.T) {
	tests := []struct {
		name   string
		record int // the bad record
		damage func(b []byte, at [4]int) []byte
	}{
		{"byte flipped in the first record's body", 0, func(b []byte, at [4]int) []byte {
			b[at[0]+8+10] ^= 0x01
			return b
		}},
		{"checksum flipped in the first record", 0, func(b []byte, at [4]int) []byte {
			b[at[0]+5] ^= 0x80
			return b
		}},
		{"middle record's length field truncated", 1, func(b []byte, at [4]int) []byte {
			n := binary.BigEndian.Uint32(b[at[1]:])
			binary.BigEndian.PutUint32(b[at[1]:], n-1)
			return b
		}},
		{"middle record's length field cut short by a byte", 1, func(b []byte, at [4]int) []byte {
			// The header loses its last length byte: everything after
			// shifts by one.
			return append(b[:at[1]+3:at[1]+3], b[at[1]+4:]...)
		}},
		{"middle record's length runs past the end of the file", 1, func(b []byte, at [4]int) []byte {
			binary.BigEndian.PutUint32(b[at[1]:], uint32(len(b)))
			return b
		}},
		{"middle record's length over the bound", 1, func(b []byte, at [4]int) []byte {
			binary.BigEndian.PutUint32(b[at[1]:], 1<<30)
			return b
		}},
		{"middle record is not JSON (valid checksum)", 1, func(b []byte, at [4]int) []byte {
			body := bytes.Repeat([]byte("x"), at[2]-at[1]-8)
			var hdr [8]byte
			binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
			binary.BigEndian.PutUint32(hdr[4:], crc32.ChecksumIEEE(body))
			copy(b[at[1]:], hdr[:])
			copy(b[at[1]+8:], body)
			return b
		}},
		{"zeros in the middle", 1, func(b []byte, at [4]int) []byte {
			clear(b[at[1]:at[2]])
			return b
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, at := threeRecords(t)
			rewrite(t, path, func(b []byte) []byte { return tt.damage(b, at) })
			before, _ := os.ReadFile(path)
			_, got, err := wal.Open[message](path, 5)
			if !errors.Is(err, wal.ErrCorrupt) {
				t.Fatalf("Open = %d messages, %v; want ErrCorrupt", len(got), err)
			}
			msg := err.Error()
			if want := fmt.Sprintf("at byte %d:", at[tt.record]); !strings.Contains(msg, path) || !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
				t.Fatalf("error %q does not name %s and %q on one line", msg, path, want)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Fatal("Open changed a corrupt log")
			}
		})
	}
}

// TestTornTailDropped: a final record cut at any point (a crash
// mid-append), a final record whose checksum fails and that ends at the
// end of the file, or a tail of zeros, is dropped; the records before it
// are returned and new ones follow them.
func TestTornTailDropped(t *testing.T) {
	path, at := threeRecords(t)
	whole, _ := os.ReadFile(path)
	check := func(t *testing.T, name string) {
		t.Helper()
		l, got, err := wal.Open[message](path, 5)
		if err != nil || len(got) != 2 || got[0].Vote.Round != 0 || got[1].Vote.Round != 1 {
			t.Fatalf("%s: %d messages, %v", name, len(got), err)
		}
		if fi, _ := os.Stat(path); fi.Size() != int64(at[2]) {
			t.Fatalf("%s: size %d after open, want %d", name, fi.Size(), at[2])
		}
		if err := l.Append([]message{vote(5, 7)}); err != nil {
			t.Fatal(err)
		}
		l.Close()
		l, got, err = wal.Open[message](path, 5)
		if err != nil || len(got) != 3 || got[2].Vote.Round != 7 {
			t.Fatalf("%s: append after the torn tail: %d messages, %v", name, len(got), err)
		}
		l.Close()
	}
	for cut := at[2] + 1; cut < at[3]; cut++ {
		if err := os.WriteFile(path, whole[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		check(t, fmt.Sprintf("cut at %d", cut))
	}
	for i := at[2]; i < at[3]; i++ {
		b := bytes.Clone(whole)
		b[i] ^= 0x01
		if i < at[2]+4 {
			continue // a length change is not a checksum mismatch at the end
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		check(t, fmt.Sprintf("byte %d flipped in the last record", i))
	}
	for _, zeros := range []int{1, 7, 8, 100} {
		b := append(bytes.Clone(whole[:at[2]]), make([]byte, zeros)...)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		check(t, fmt.Sprintf("%d zero bytes at the end", zeros))
	}
}

// TestOpenCreatesFile: Open on a path that does not exist creates the
// directories and the file (mode 0600), syncing the directory, and a
// second Open finds it.
func TestOpenCreatesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "consensus.wal")
	l, got, err := wal.Open[message](path, 1)
	if err != nil || len(got) != 0 {
		t.Fatalf("open new: %d %v", len(got), err)
	}
	if err := l.Append([]message{vote(1, 0)}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("created file: %v %v", fi, err)
	}
	l, got, err = wal.Open[message](path, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("reopen: %d %v", len(got), err)
	}
	l.Close()
	// A directory where the file should be is an error, not a new log.
	if _, _, err := wal.Open[message](filepath.Dir(path), 1); err == nil {
		t.Fatal("opened a directory as a log")
	}
}

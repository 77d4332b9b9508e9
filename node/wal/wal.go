// Package wal is a validator's write-ahead log of the consensus messages
// it signed. Each record is synced before the message it holds is sent,
// so a validator that crashes at any point and restarts knows everything
// it signed at the height it is deciding, and signs nothing conflicting.
//
// The file holds records for the current height only: Reset truncates it
// once a height is committed. Each record is a 4-byte big-endian body
// length, the body's 4-byte big-endian CRC-32 (IEEE), and the body (JSON).
//
// A log never forgets: Open drops only a torn final record (a crash
// mid-append, never sent), that is a short header or body at the very end
// of the file, a checksum mismatch on a record that ends exactly at the end
// of the file, or a tail of zero bytes (a file system that extended the
// file but had not written its data). Any other bad record (bad checksum,
// bad JSON, a length over the bound, or a torn-looking record followed by a
// valid one) is corruption: Open fails with an error wrapping ErrCorrupt
// that names the file and the byte offset of the bad record, and the
// validator refuses to start rather than forget what it signed.
package wal

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
)

// maxRecord bounds one record (a proposal carries a block).
const maxRecord = 64 << 20

// headerSize is the length and checksum before each record's body.
const headerSize = 8

// ErrCorrupt reports a log with a bad record that is not a torn final one.
var ErrCorrupt = errors.New("wal: corrupt write-ahead log")

// Message is what the log holds: a value that encodes as JSON and says
// which height it belongs to (a consensus message).
type Message interface{ Height() uint64 }

// Log is an open write-ahead log of messages of type M.
type Log[M Message] struct {
	f *os.File
}

type record[M Message] struct {
	Height  uint64 `json:"height"`
	Message M      `json:"message"`
}

// Open opens or creates the log at path and returns the messages it holds
// for height (earlier heights are ignored: they are committed). A torn
// final record is dropped (the file is truncated after the last whole
// record); any other bad record is an error wrapping ErrCorrupt.
func Open[M Message](path string, height uint64) (*Log[M], []M, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, nil, fmt.Errorf("open wal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	created := err == nil
	if errors.Is(err, os.ErrExist) {
		f, err = os.OpenFile(path, os.O_RDWR, 0o600)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open wal: %w", err)
	}
	if created {
		// A new file's name lives in its directory, which fsync of the
		// file does not make durable: without syncing the directory, a
		// crash could lose the whole file, with every record synced into
		// it, and the validator would restart with no memory of what it
		// signed.
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("open wal: %w", err)
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("open wal: %w", err)
	}
	msgs, good, err := read[M](data, height)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("open wal: %w: %s %w", ErrCorrupt, path, err)
	}
	if good < int64(len(data)) {
		// Drop a torn tail so new records follow the last whole one.
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("open wal: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("open wal: %w", err)
		}
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("open wal: %w", err)
	}
	return &Log[M]{f: f}, msgs, nil
}

// syncDir fsyncs a directory, making the names in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// badRecord says why the record at Offset is bad.
type badRecord struct {
	Offset int64
	Why    string
}

func (b *badRecord) Error() string { return fmt.Sprintf("at byte %d: %s", b.Offset, b.Why) }

// parse decodes the record at the start of b and returns it with its
// whole length. torn reports a bad record that a cut-off final append
// could have left: a short header or body, or a checksum mismatch on a
// record that reaches exactly the end of b.
func parse[M Message](b []byte) (rec record[M], n int, torn bool, why string) {
	if len(b) < headerSize {
		return rec, 0, true, fmt.Sprintf("short header (%d bytes)", len(b))
	}
	size := binary.BigEndian.Uint32(b[:4])
	sum := binary.BigEndian.Uint32(b[4:headerSize])
	if size > maxRecord {
		return rec, 0, false, fmt.Sprintf("record length %d over the bound %d", size, maxRecord)
	}
	end := headerSize + int(size)
	if end > len(b) {
		return rec, 0, true, fmt.Sprintf("short body (%d of %d bytes)", len(b)-headerSize, size)
	}
	body := b[headerSize:end]
	if crc32.ChecksumIEEE(body) != sum {
		return rec, 0, end == len(b), "checksum mismatch"
	}
	if err := json.Unmarshal(body, &rec); err != nil {
		return rec, 0, false, fmt.Sprintf("bad record: %v", err)
	}
	return rec, end, false, ""
}

// read returns the messages of height and the length of the whole
// records, or a *badRecord if a bad record is not a torn final one.
func read[M Message](data []byte, height uint64) ([]M, int64, error) {
	var msgs []M
	off := 0
	for off < len(data) {
		rec, n, torn, why := parse[M](data[off:])
		if why == "" {
			off += n
			if rec.Height == height {
				msgs = append(msgs, rec.Message)
			}
			continue
		}
		rest := data[off:]
		if allZero(rest) {
			return msgs, int64(off), nil
		}
		if !torn {
			return nil, 0, &badRecord{Offset: int64(off), Why: fmt.Sprintf("%s, with %d bytes from there to the end of the file", why, len(rest))}
		}
		// A torn append leaves no whole record after it. A valid one
		// means this record's header was damaged (its length made it run
		// past the records that follow).
		for i := 1; i+headerSize < len(rest); i++ {
			if _, _, _, w := parse[M](rest[i:]); w == "" {
				return nil, 0, &badRecord{Offset: int64(off), Why: fmt.Sprintf("%s, yet a valid record follows at byte %d", why, off+i)}
			}
		}
		return msgs, int64(off), nil
	}
	return msgs, int64(off), nil
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Append writes signed messages, each under its own height, and syncs
// the file.
func (l *Log[M]) Append(msgs []M) error {
	if len(msgs) == 0 {
		return nil
	}
	var buf []byte
	for _, m := range msgs {
		body, err := json.Marshal(record[M]{Height: m.Height(), Message: m})
		if err != nil {
			return fmt.Errorf("wal append: %w", err)
		}
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(body)))
		buf = binary.BigEndian.AppendUint32(buf, crc32.ChecksumIEEE(body))
		buf = append(buf, body...)
	}
	if _, err := l.f.Write(buf); err != nil {
		return fmt.Errorf("wal append: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("wal sync: %w", err)
	}
	return nil
}

// Reset empties the log once its height is committed.
func (l *Log[M]) Reset() error {
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("wal reset: %w", err)
	}
	if _, err := l.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("wal reset: %w", err)
	}
	return l.f.Sync()
}

// Close closes the file.
func (l *Log[M]) Close() error {
	if l == nil || l.f == nil {
		return errors.New("wal: not open")
	}
	return l.f.Close()
}

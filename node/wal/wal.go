// Package wal is a validator's write-ahead log of the consensus messages
// it signed. Each record is synced before the message it holds is sent,
// so a validator that crashes at any point and restarts knows everything
// it signed at the height it is deciding, and signs nothing conflicting.
//
// The file holds records for the current height only: Reset truncates it
// once a height is committed. A torn last record (a crash mid-append) is
// dropped when the log is opened; it was never sent.
package wal

import (
	"bufio"
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
// for height (earlier heights are ignored: they are committed).
func Open[M Message](path string, height uint64) (*Log[M], []M, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("open wal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open wal: %w", err)
	}
	msgs, good, err := read[M](f, height)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	// Drop a torn tail so new records follow the last whole one.
	if err := f.Truncate(good); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("open wal: %w", err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("open wal: %w", err)
	}
	return &Log[M]{f: f}, msgs, nil
}

// read returns the messages of height and the length of the whole records.
func read[M Message](f *os.File, height uint64) ([]M, int64, error) {
	r := bufio.NewReader(f)
	var msgs []M
	var good int64
	for {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return msgs, good, nil // EOF or a torn header
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		sum := binary.BigEndian.Uint32(hdr[4:])
		if n > maxRecord {
			return msgs, good, nil
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil || crc32.ChecksumIEEE(body) != sum {
			return msgs, good, nil // torn or corrupt tail
		}
		var rec record[M]
		if err := json.Unmarshal(body, &rec); err != nil {
			return nil, 0, fmt.Errorf("read wal: record at %d: %w", good, err)
		}
		good += int64(len(hdr)) + int64(n)
		if rec.Height == height {
			msgs = append(msgs, rec.Message)
		}
	}
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

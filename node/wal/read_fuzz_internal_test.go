package wal

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"testing"
)

// fmsg is a small message for fuzzing the reader.
type fmsg struct {
	H uint64 `json:"h"`
	S string `json:"s"`
}

func (m fmsg) Height() uint64 { return m.H }

func encode(ms ...fmsg) []byte {
	var b []byte
	for _, m := range ms {
		body, _ := json.Marshal(record[fmsg]{Height: m.H, Message: m})
		b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(body))
		b = append(b, body...)
	}
	return b
}

// FuzzRead: the reader never panics, and whatever it accepts, it accepts
// only whole valid records followed by a tail in which no valid record
// starts: a corrupt record before a valid one is never dropped quietly.
func FuzzRead(f *testing.F) {
	three := encode(fmsg{1, "a"}, fmsg{1, "bb"}, fmsg{2, "ccc"})
	f.Add(three)
	f.Add(three[:len(three)-3])
	f.Add(append(append([]byte{}, three...), 0, 0, 0))
	damaged := append([]byte{}, three...)
	damaged[12] ^= 1
	f.Add(damaged)
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 2, 0, 0, 0, 0, '{', '}'})
	f.Fuzz(func(t *testing.T, data []byte) {
		msgs, good, err := read[fmsg](data, 1)
		if err != nil {
			return
		}
		if good < 0 || good > int64(len(data)) {
			t.Fatalf("good %d outside [0, %d]", good, len(data))
		}
		// The accepted prefix is whole records, those of height 1
		// returned in order.
		var want int
		for off := 0; off < int(good); {
			rec, n, _, why := parse[fmsg](data[off:int(good)])
			if why != "" {
				t.Fatalf("accepted a bad record at %d: %s", off, why)
			}
			if rec.Height == 1 {
				if want >= len(msgs) || msgs[want] != rec.Message {
					t.Fatalf("message %d differs", want)
				}
				want++
			}
			off += n
		}
		if want != len(msgs) {
			t.Fatalf("%d messages returned, %d in the accepted records", len(msgs), want)
		}
		// No valid record starts anywhere in the dropped tail.
		for i := int(good); i < len(data); i++ {
			if _, _, _, why := parse[fmsg](data[i:]); why == "" {
				t.Fatalf("dropped a tail [%d:] holding a valid record at %d", good, i)
			}
		}
	})
}

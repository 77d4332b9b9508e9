package leveldb

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/registry"
)

// TestTxRecordEncoding: the transaction index entry round-trips at the
// extremes of height, index and code, is 3 bytes for an accepted
// transaction low in the chain, and a truncated or overlong entry is
// malformed, never misread.
func TestTxRecordEncoding(t *testing.T) {
	h := registry.Hash{1}
	for _, tc := range []struct {
		height     uint64
		index      uint32
		code       uint32
		log        string
		wantLength int
	}{
		{1, 0, 0, "", 3},
		{200, 4999, 0, "", 5},
		{math.MaxUint64, math.MaxUint32, math.MaxUint32, "", 10 + 5 + 5},
		{7, 1, 3, "conflict: version exists", 3 + 24},
		{7, 1, 3, strings.Repeat("\xff", 1000), 3 + 1000},
	} {
		v := encodeTxRecord(tc.height, tc.index, registry.Result{Code: tc.code, Log: tc.log})
		if len(v) != tc.wantLength {
			t.Fatalf("%+v: %d bytes, want %d", tc, len(v), tc.wantLength)
		}
		r, err := decodeTxRecord(h, v)
		if err != nil || r.Hash != h || r.Height != tc.height || r.Index != tc.index || r.Result.Code != tc.code || r.Result.Log != tc.log {
			t.Fatalf("%+v: %+v %v", tc, r, err)
		}
	}
	for _, bad := range [][]byte{nil, {1}, {1, 2}, {0x80}, {1, 0x80, 0x80, 0x80, 0x80, 0x10, 0}, {1, 0, 0xff, 0xff, 0xff, 0xff, 0x10}, bytes.Repeat([]byte{0xff}, 11)} {
		if r, err := decodeTxRecord(h, bad); !errors.Is(err, registry.ErrMalformed) {
			t.Fatalf("%x: %+v %v", bad, r, err)
		}
	}
}

// FuzzDecodeTxRecord: any bytes decode or fail as malformed, without a
// panic, and what decodes encodes back to the same bytes when its
// varints are minimal.
func FuzzDecodeTxRecord(f *testing.F) {
	f.Add(encodeTxRecord(1, 0, registry.Result{}))
	f.Add(encodeTxRecord(math.MaxUint64, math.MaxUint32, registry.Result{Code: 3, Log: "x"}))
	f.Add([]byte{0x80, 0x80})
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeTxRecord(registry.Hash{}, v)
		if err != nil {
			if !errors.Is(err, registry.ErrMalformed) {
				t.Fatal(err)
			}
			return
		}
		back := encodeTxRecord(r.Height, r.Index, r.Result)
		if len(back) > len(v) || !bytes.HasSuffix(v, []byte(r.Result.Log)) {
			t.Fatalf("%x decoded to %+v, encodes to %x", v, r, back)
		}
	})
}

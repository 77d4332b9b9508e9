package statuslist_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"runtime"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/statuslist"
)

func wantCode(tb testing.TB, err error, code credential.Code) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("err = nil, want %s", code)
	}
	if got := credential.CodeOf(err, ""); got != code {
		tb.Fatalf("err = %v, want code %s", err, code)
	}
}

func gzipped(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func u(b []byte) string { return "u" + base64.RawURLEncoding.EncodeToString(b) }

func TestDecodeErrors(t *testing.T) {
	valid := gzipped(t, make([]byte, 16384))
	truncated := valid[:len(valid)-4]
	corrupt := bytes.Clone(valid)
	corrupt[len(corrupt)-8] ^= 0xff // CRC-32
	tests := []struct {
		name    string
		enc     string
		maxBits int
		code    credential.Code
	}{
		{"empty", "", 0, credential.MalformedValueError},
		{"base58btc multibase", "z3mJ", 0, credential.MalformedValueError},
		{"base64 with padding", "u" + base64.URLEncoding.EncodeToString(valid), 0, credential.MalformedValueError},
		{"standard base64 alphabet", "u" + base64.RawStdEncoding.EncodeToString(append(valid, 0xfb, 0xff)), 0, credential.MalformedValueError},
		{"line break", u(valid)[:20] + "\n" + u(valid)[20:], 0, credential.MalformedValueError},
		{"not gzip", u([]byte("plain bits, not compressed")), 0, credential.MalformedValueError},
		{"zlib instead of gzip", u([]byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}), 0, credential.MalformedValueError},
		{"truncated gzip", u(truncated), 0, credential.MalformedValueError},
		{"bad checksum", u(corrupt), 0, credential.MalformedValueError},
		{"trailing garbage", u(append(bytes.Clone(valid), "junk"...)), 0, credential.MalformedValueError},
		{"empty list", u(gzipped(t, nil)), 0, credential.StatusListLengthError},
		{"over the bound", u(valid), 16384*8 - 8, credential.RangeError},
		{"compressed form over the bound", "u" + string(bytes.Repeat([]byte("A"), 4096)), 8 * 1024, credential.RangeError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := statuslist.Decode(tt.enc, tt.maxBits)
			if b != nil {
				t.Fatalf("Decode returned a list of %d bits", b.Len())
			}
			wantCode(t, err, tt.code)
			if tt.code == credential.RangeError && !errors.Is(err, statuslist.ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
		})
	}
	// The bound is inclusive.
	if _, err := statuslist.Decode(u(valid), 16384*8); err != nil {
		t.Fatalf("list at the bound: %v", err)
	}
}

// TestDecodeZipBomb decodes gzips of 100 MB of zeros: each must fail with
// ErrTooLarge, quickly, having allocated about the bound and not the
// 100 MB. The bombs: one member (skipped with -short: compressing 100 MB
// takes seconds under -race); 100 members of 1 MiB; and those plus an
// empty member, so that the final trailer says 0 bytes and only the
// bounded read can stop it.
func TestDecodeZipBomb(t *testing.T) {
	var one bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&one, gzip.BestCompression)
	chunk := make([]byte, 1<<20)
	zw.Write(chunk)
	zw.Close()
	members := bytes.Repeat(one.Bytes(), 100)
	lying := append(bytes.Clone(members), gzipped(t, nil)...)

	type bomb struct {
		name    string
		gz      []byte
		maxBits int
	}
	bombs := []bomb{
		{"100 members/default bound", members, 0},
		{"100 members/1 Mbit", members, 1 << 20},
		{"lying trailer/default bound", lying, 0},
		{"lying trailer/1 Mbit", lying, 1 << 20},
	}
	if !testing.Short() {
		var single bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&single, gzip.BestSpeed)
		for range 100 {
			zw.Write(chunk)
		}
		zw.Close()
		bombs = append(bombs, bomb{"one member/default bound", single.Bytes(), 0})
	}
	for _, tt := range bombs {
		t.Run(tt.name, func(t *testing.T) {
			enc := u(tt.gz)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := statuslist.Decode(enc, tt.maxBits)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, statuslist.ErrTooLarge) {
				t.Fatalf("err = %v, want ErrTooLarge", err)
			}
			wantCode(t, err, credential.RangeError)
			bound := tt.maxBits / 8
			if tt.maxBits == 0 {
				bound = statuslist.DefaultMaxBits / 8
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			// The output buffer (grown by doubling up to the bound), the
			// base64-decoded input and the inflater's state.
			if limit := uint64(2*bound + len(enc) + 1<<20); alloc > limit {
				t.Errorf("allocated %d bytes, over %d", alloc, limit)
			}
			if elapsed > 2*time.Second {
				t.Errorf("took %v", elapsed)
			}
			t.Logf("%d bytes of gzip: failed after %v, %d bytes allocated (bound %d)", len(tt.gz), elapsed, alloc, bound)
		})
	}
}

// TestDecodeAllocatesOnce checks that a list with an honest trailer is
// decoded into one buffer of its size.
func TestDecodeAllocatesOnce(t *testing.T) {
	b, _ := statuslist.New(1 << 20)
	enc, _ := b.Encode()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := statuslist.Decode(enc, 0); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > (1<<20)/8+64<<10 {
		t.Errorf("decoding a 128 KiB list allocated %d bytes", alloc)
	}
}

func TestNew(t *testing.T) {
	for _, n := range []int{0, -8, 7, 131071} {
		if _, err := statuslist.New(n); err == nil {
			t.Errorf("New(%d) succeeded", n)
		}
	}
	b, err := statuslist.New(8)
	if err != nil || b.Len() != 8 {
		t.Fatalf("New(8) = %v, %v", b, err)
	}
}

func TestBitOrder(t *testing.T) {
	b, _ := statuslist.New(16)
	b.Set(0, true)
	b.Set(9, true)
	b.Set(15, true)
	if got := b.Bytes(); !bytes.Equal(got, []byte{0x80, 0x41}) {
		t.Fatalf("bytes = %x, want 8041", got)
	}
	// Multi-bit entries: entry 1 of size 4 is bits 4..7, most significant first.
	if err := b.SetValue(1, 4, 0xa); err != nil {
		t.Fatal(err)
	}
	if got := b.Bytes(); !bytes.Equal(got, []byte{0x8a, 0x41}) {
		t.Fatalf("bytes = %x, want 8a41", got)
	}
	if v, _ := b.Value(3, 4); v != 1 {
		t.Fatalf("Value(3, 4) = %d, want 1", v)
	}
}

func TestRangeErrors(t *testing.T) {
	b, _ := statuslist.New(16)
	for _, f := range []func() error{
		func() error { _, err := b.Get(-1); return err },
		func() error { _, err := b.Get(16); return err },
		func() error { return b.Set(16, true) },
		func() error { _, err := b.Value(4, 4); return err },
		func() error { _, err := b.Value(0, 0); return err },
		func() error { _, err := b.Value(0, statuslist.MaxStatusSize+1); return err },
		func() error { return b.SetValue(0, 2, 4) },
		func() error { return b.SetValue(0, 2, -1) },
	} {
		wantCode(t, f(), credential.RangeError)
	}
}

func TestClone(t *testing.T) {
	a, _ := statuslist.New(8)
	c := a.Clone()
	c.Set(3, true)
	if v, _ := a.Get(3); v {
		t.Fatal("Clone shares bits")
	}
}

func TestEncodeDeterministic(t *testing.T) {
	b, _ := statuslist.New(statuslist.MinLength)
	b.Set(94567, true)
	x, _ := b.Encode()
	y, _ := b.Clone().Encode()
	if x != y {
		t.Fatal("Encode is not deterministic")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(x[1:])
	// gzip header: magic, CM=8, FLG=0 (no name), MTIME=0.
	if !bytes.Equal(raw[:8], []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}) {
		t.Fatalf("gzip header = %x", raw[:10])
	}
}

// TestBitstringModel checks Set, Get, SetValue and Count against a []bool
// model, and that Encode/Decode round-trips every state.
func TestBitstringModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := 8 * rapid.IntRange(1, 512).Draw(t, "bytes")
		b, err := statuslist.New(n)
		if err != nil {
			t.Fatal(err)
		}
		model := make([]bool, n)
		for range rapid.IntRange(0, 200).Draw(t, "ops") {
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0:
				i, v := rapid.IntRange(0, n-1).Draw(t, "i"), rapid.Bool().Draw(t, "v")
				if err := b.Set(i, v); err != nil {
					t.Fatal(err)
				}
				model[i] = v
			case 1:
				size := rapid.IntRange(1, 8).Draw(t, "size")
				if n/size == 0 {
					continue
				}
				i := rapid.IntRange(0, n/size-1).Draw(t, "entry")
				v := rapid.IntRange(0, 1<<size-1).Draw(t, "value")
				if err := b.SetValue(i, size, v); err != nil {
					t.Fatal(err)
				}
				for k := range size {
					model[i*size+k] = v>>(size-1-k)&1 == 1
				}
				if got, _ := b.Value(i, size); got != v {
					t.Fatalf("Value(%d, %d) = %d, want %d", i, size, got, v)
				}
			case 2:
				i := rapid.IntRange(0, n-1).Draw(t, "get")
				if got, _ := b.Get(i); got != model[i] {
					t.Fatalf("Get(%d) = %v, want %v", i, got, model[i])
				}
			}
		}
		count := 0
		for i, v := range model {
			if got, _ := b.Get(i); got != v {
				t.Fatalf("bit %d = %v, want %v", i, got, v)
			}
			if v {
				count++
			}
		}
		if b.Count() != count {
			t.Fatalf("Count = %d, want %d", b.Count(), count)
		}
		enc, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := statuslist.Decode(enc, n)
		if err != nil {
			t.Fatal(err)
		}
		if !back.Equal(b) {
			t.Fatal("Decode(Encode(b)) != b")
		}
		if _, err := statuslist.Decode(enc, n-8); n > 8 && !errors.Is(err, statuslist.ErrTooLarge) {
			t.Fatalf("Decode with a bound one byte short: %v", err)
		}
	})
}

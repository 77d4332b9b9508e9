package tokenstatus_test

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/tokenstatus"
)

// specVector is one of the specification's example Status Lists
// (draft-ietf-oauth-status-list, section 4.1 and the test vectors
// appendix): every entry not named is 0.
type specVector struct {
	Name   string           `json:"name"`
	Bits   int              `json:"bits"`
	Size   int              `json:"size"`
	Lst    string           `json:"lst"`
	Status map[string]uint8 `json:"status"`
	Bytes  string           `json:"bytes"`
}

func readVectors(tb testing.TB) []specVector {
	tb.Helper()
	b, err := os.ReadFile("testdata/spec-vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var vs []specVector
	if err := json.Unmarshal(b, &vs); err != nil {
		tb.Fatal(err)
	}
	return vs
}

// TestSpecVectors decodes each of the specification's lst values and
// finds exactly the statuses it lists, and builds the same byte array
// from those statuses.
func TestSpecVectors(t *testing.T) {
	for _, v := range readVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			l, err := tokenstatus.Decode(v.Lst, v.Bits, 0)
			if err != nil {
				t.Fatal(err)
			}
			if l.Len() != v.Size {
				t.Fatalf("Len = %d, want %d", l.Len(), v.Size)
			}
			if v.Bytes != "" && hex.EncodeToString(l.Bytes()) != v.Bytes {
				t.Fatalf("bytes %x, want %s", l.Bytes(), v.Bytes)
			}
			want, err := tokenstatus.New(v.Size, v.Bits)
			if err != nil {
				t.Fatal(err)
			}
			for k, s := range v.Status {
				i, _ := strconv.Atoi(k)
				if err := want.Set(i, s); err != nil {
					t.Fatal(err)
				}
			}
			for i := range l.Len() {
				got, _ := l.Get(i)
				exp, _ := want.Get(i)
				if got != exp {
					t.Fatalf("status[%d] = %d, want %d", i, got, exp)
				}
			}
			// Our encoding round-trips to the same list.
			lst, err := want.Encode()
			if err != nil {
				t.Fatal(err)
			}
			back, err := tokenstatus.Decode(lst, v.Bits, 0)
			if err != nil || !back.Equal(l) {
				t.Fatalf("re-encoded list differs (%v)", err)
			}
		})
	}
}

func TestListSetGet(t *testing.T) {
	l, err := tokenstatus.New(tokenstatus.MinLength, tokenstatus.Bits)
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != tokenstatus.MinLength || len(l.Bytes()) != tokenstatus.MinLength/4 {
		t.Fatalf("Len %d, %d bytes", l.Len(), len(l.Bytes()))
	}
	for i, v := range map[int]uint8{0: tokenstatus.Invalid, 1: tokenstatus.Suspended, 2: 3, 131071: tokenstatus.Invalid} {
		if err := l.Set(i, v); err != nil {
			t.Fatal(err)
		}
	}
	// Neighbours in a byte stay as they are.
	if err := l.Set(1, tokenstatus.Valid); err != nil {
		t.Fatal(err)
	}
	for i, want := range map[int]uint8{0: 1, 1: 0, 2: 3, 3: 0, 131070: 0, 131071: 1} {
		if got, err := l.Get(i); err != nil || got != want {
			t.Errorf("Get(%d) = %d, %v; want %d", i, got, err, want)
		}
	}
	if b := l.Bytes(); b[0] != 0b00110001 || b[len(b)-1] != 0b01000000 {
		t.Errorf("bytes %08b … %08b: entries are packed from the least significant bit", b[0], b[len(b)-1])
	}
	for _, c := range []struct {
		i int
		v uint8
	}{{-1, 0}, {tokenstatus.MinLength, 0}, {5, 4}} {
		if err := l.Set(c.i, c.v); !errors.Is(err, tokenstatus.ErrRange) {
			t.Errorf("Set(%d, %d) = %v, want ErrRange", c.i, c.v, err)
		}
	}
	if _, err := l.Get(tokenstatus.MinLength); !errors.Is(err, tokenstatus.ErrRange) {
		t.Errorf("Get past the end = %v", err)
	}
	for _, c := range []struct{ n, bits int }{{0, 2}, {3, 2}, {8, 3}, {8, 0}, {-8, 1}} {
		if _, err := tokenstatus.New(c.n, c.bits); err == nil {
			t.Errorf("New(%d, %d) accepted", c.n, c.bits)
		}
	}
}

func zlibOf(tb testing.TB, b []byte, dict []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw, err := zlib.NewWriterLevelDict(&buf, zlib.BestCompression, dict)
	if err != nil {
		tb.Fatal(err)
	}
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestDecodeRefuses feeds Decode what an attacker would: a zip bomb, a
// long lst, trailing data, a bad checksum, a preset dictionary, padding,
// GZIP instead of ZLIB, an empty list, bad bits.
func TestDecodeRefuses(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	bomb := zlibOf(t, make([]byte, 64<<20), nil) // 64 MiB of zeros in ~64 KiB
	good := zlibOf(t, make([]byte, 16), nil)
	badSum := bytes.Clone(good)
	badSum[len(badSum)-1] ^= 1
	for _, c := range []struct {
		name string
		lst  string
		bits int
		max  int
		code credential.Code
	}{
		{"zip bomb", enc(bomb), 2, 0, credential.LimitExceededError},
		{"one byte over the bound", enc(zlibOf(t, make([]byte, 1025), nil)), 2, 1024, credential.LimitExceededError},
		{"lst longer than any list within the bound", enc(make([]byte, 4096)), 2, 1024, credential.LimitExceededError},
		{"lst longer than any list within the default bound", strings.Repeat("A", 4<<20), 2, 0, credential.LimitExceededError},
		{"trailing data", enc(append(bytes.Clone(good), 0)), 2, 0, credential.MalformedValueError},
		{"bad checksum", enc(badSum), 2, 0, credential.MalformedValueError},
		{"truncated", enc(good[:len(good)-3]), 2, 0, credential.MalformedValueError},
		{"preset dictionary", enc(zlibOf(t, make([]byte, 16), []byte("dict"))), 2, 0, credential.MalformedValueError},
		{"padding", base64.URLEncoding.EncodeToString(good[:len(good)-1]) + "=", 2, 0, credential.MalformedValueError},
		{"standard base64", "eNrbuRgAAhcBXQ+/", 1, 0, credential.MalformedValueError},
		{"empty list", enc(zlibOf(t, nil, nil)), 2, 0, credential.MalformedValueError},
		{"empty lst", "", 2, 0, credential.MalformedValueError},
		{"not zlib", enc([]byte("hello, world")), 2, 0, credential.MalformedValueError},
		{"bits 3", enc(good), 3, 0, credential.MalformedValueError},
		{"bits 16", enc(good), 16, 0, credential.MalformedValueError},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := tokenstatus.Decode(c.lst, c.bits, c.max)
			if err == nil {
				t.Fatal("accepted")
			}
			if got := credential.CodeOf(err, ""); got != c.code {
				t.Fatalf("code %s, want %s (%v)", got, c.code, err)
			}
		})
	}
	// Incompressible data at the bound is fine: the lst length check
	// leaves room for ZLIB's stored blocks.
	noise := make([]byte, 1<<20)
	rng := uint64(1)
	for i := range noise {
		rng ^= rng << 13
		rng ^= rng >> 7
		rng ^= rng << 17
		noise[i] = byte(rng)
	}
	if l, err := tokenstatus.Decode(enc(zlibOf(t, noise, nil)), 8, 1<<20); err != nil || l.Len() != 1<<20 {
		t.Fatalf("incompressible list at the bound: %v", err)
	}
	// Exactly at the bound is fine.
	if l, err := tokenstatus.Decode(enc(zlibOf(t, make([]byte, 1024), nil)), 2, 1024); err != nil || l.Len() != 4096 {
		t.Fatalf("list at the bound: %v", err)
	}
}

func BenchmarkDecodeMinLength(b *testing.B) {
	l, _ := tokenstatus.New(tokenstatus.MinLength, 2)
	for i := 0; i < tokenstatus.MinLength; i += 97 {
		l.Set(i, 1)
	}
	lst, _ := l.Encode()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokenstatus.Decode(lst, 2, 0); err != nil {
			b.Fatal(err)
		}
	}
}

package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAllBounded: a body is read whole whatever its declared length
// says (shorter, longer, absent, beyond the bound), and read errors come
// through; the bound itself is the MaxBytesReader's.
func TestReadAllBounded(t *testing.T) {
	body := strings.Repeat("x", 1000)
	boom := errors.New("boom")
	tests := []struct {
		name     string
		r        io.Reader
		declared int64
		want     string
		err      error
	}{
		{"exact", strings.NewReader(body), 1000, body, nil},
		{"declared more", strings.NewReader(body), 5000, body, nil},
		{"declared less", strings.NewReader(body), 10, body, nil},
		{"undeclared", strings.NewReader(body), -1, body, nil},
		{"declared beyond the bound", strings.NewReader(body), 1 << 40, body, nil},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader(body)), 1000, body, nil},
		{"empty", strings.NewReader(""), 0, "", nil},
		{"error", io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(boom)), 10, "ab", boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAllBounded(tt.r, tt.declared, 4096)
			if !errors.Is(err, tt.err) || string(got) != tt.want {
				t.Fatalf("got %d bytes, %v; want %d bytes, %v", len(got), err, len(tt.want), tt.err)
			}
		})
	}
}

// TestReadBodyBeyondBound: a body over MaxBodyBytes is refused with 413
// whether it declares its length (truthfully or not) or not.
func TestReadBodyBeyondBound(t *testing.T) {
	s := &Server{cfg: Config{MaxBodyBytes: 100}}
	for _, declared := range []int64{-1, 50, 101, 1 << 30} {
		r := httptest.NewRequest(http.MethodPost, "/credentials/verify", bytes.NewReader(bytes.Repeat([]byte{'x'}, 200)))
		r.ContentLength = declared
		w := httptest.NewRecorder()
		if body, ok := s.readBody(w, r); ok || w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("declared %d: read %d bytes (ok %v), status %d", declared, len(body), ok, w.Code)
		}
	}
	// Read once by limitVerify: handed over without another read.
	rb := &readBody{Reader: bytes.NewReader([]byte(`{}`)), body: []byte(`{}`)}
	r := httptest.NewRequest(http.MethodPost, "/credentials/verify", nil)
	r.Body = rb
	if body, ok := s.readBody(httptest.NewRecorder(), r); !ok || string(body) != `{}` || rb.Len() != 0 {
		t.Fatalf("readBody = %q, %v (left %d)", body, ok, rb.Len())
	}
}

// firstReadProbe records the size of the buffer its first Read is given
// and then fails, as a client that sent its headers only.
type firstReadProbe struct{ offered int }

func (p *firstReadProbe) Read(b []byte) (int, error) {
	if p.offered == 0 {
		p.offered = len(b)
	}
	return 0, io.ErrUnexpectedEOF
}

// TestReadAllBoundedNoBufferBeforeBytes (security review R1): a request
// that declares a body of the bound and sends none is given at most
// firstBodyBuffer bytes, not the declared length; a body of that length
// that does arrive is still read whole.
func TestReadAllBoundedNoBufferBeforeBytes(t *testing.T) {
	const max = 256 << 10
	p := &firstReadProbe{}
	if _, err := readAllBounded(p, max, max); err == nil {
		t.Fatal("a failed read gave no error")
	}
	if p.offered > firstBodyBuffer {
		t.Fatalf("before any body byte arrived, the first read was given %d bytes (declared %d)", p.offered, max)
	}
	body := bytes.Repeat([]byte("y"), max)
	got, err := readAllBounded(iotest.HalfReader(bytes.NewReader(body)), max, max)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("a %d-byte body read as %d bytes, %v", max, len(got), err)
	}
}

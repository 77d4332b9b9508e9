package keystore_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/did/keystore"
)

var pass = []byte("correct horse battery staple")

// MustCreate creates a keystore in a fresh temporary directory.
func MustCreate(tb testing.TB, opts ...keystore.Option) *keystore.Store {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "keys.json")
	s, err := keystore.Create(path, pass, keystore.TestParams, opts...)
	if err != nil {
		tb.Fatalf("Create: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// MustOpen opens path with pass.
func MustOpen(tb testing.TB, path string, opts ...keystore.Option) *keystore.Store {
	tb.Helper()
	s, err := keystore.Open(path, pass, opts...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// MustPut puts e into s.
func MustPut(tb testing.TB, s *keystore.Store, e keystore.Entry) {
	tb.Helper()
	if err := s.Put(e); err != nil {
		tb.Fatalf("Put(%q): %v", e.ID, err)
	}
}

var created = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))

func entry(id string) keystore.Entry {
	return keystore.Entry{
		ID:      id,
		Type:    "Ed25519",
		Public:  "z6Mk" + id,
		Secret:  []byte("secret of " + id),
		Created: created,
		Labels:  map[string]string{"did": strings.Split(id, "#")[0], "status": "active"},
	}
}

func assertEntry(t *testing.T, got, want keystore.Entry) {
	t.Helper()
	if got.ID != want.ID || got.Type != want.Type || got.Public != want.Public ||
		!bytes.Equal(got.Secret, want.Secret) || !got.Created.Equal(want.Created) ||
		fmt.Sprint(got.Labels) != fmt.Sprint(want.Labels) {
		t.Errorf("entry mismatch:\n got %+v\nwant %+v", got, want)
	}
}

func TestRoundTrip(t *testing.T) {
	s := MustCreate(t)
	a, b := entry("did:idmesh:b#key-1"), entry("did:idmesh:a#key-1")
	b.Type, b.Labels = "P-256", nil
	MustPut(t, s, a)
	MustPut(t, s, b)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := MustOpen(t, s.Path())
	for _, want := range []keystore.Entry{a, b} {
		got, err := s2.Get(want.ID)
		if err != nil {
			t.Fatalf("Get(%q): %v", want.ID, err)
		}
		assertEntry(t, got, want)
		if got.Created.Location() != time.UTC {
			t.Errorf("Created location = %v, want UTC", got.Created.Location())
		}
	}
	if _, err := s2.Get("did:idmesh:zzz#key-1"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}
}

func TestSecretNotInFile(t *testing.T) {
	s := MustCreate(t)
	e := entry("did:idmesh:abc#key-1")
	MustPut(t, s, e)
	data, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, e.Secret) || bytes.Contains(data, pass) {
		t.Error("file contains the plaintext secret or passphrase")
	}
	if !bytes.Contains(data, []byte(e.Public)) {
		t.Error("file does not contain the public key in clear")
	}
}

func TestListHidesSecrets(t *testing.T) {
	s := MustCreate(t)
	ids := []string{"did:idmesh:c#k", "did:idmesh:a#k", "did:idmesh:b#k"}
	for _, id := range ids {
		MustPut(t, s, entry(id))
	}
	list := s.List()
	var got []string
	for _, e := range list {
		got = append(got, e.ID)
		if e.Secret != nil {
			t.Errorf("List entry %q has Secret %q", e.ID, e.Secret)
		}
		if e.Public == "" || e.Labels["status"] != "active" {
			t.Errorf("List entry %q lost clear fields: %+v", e.ID, e)
		}
	}
	slices.Sort(ids)
	if !slices.Equal(got, ids) {
		t.Errorf("List IDs = %q, want sorted %q", got, ids)
	}
}

func TestGetReturnsCopy(t *testing.T) {
	s := MustCreate(t)
	e := entry("did:idmesh:abc#key-1")
	MustPut(t, s, e)
	got, _ := s.Get(e.ID)
	got.Secret[0] ^= 0xff
	got.Labels["status"] = "tampered"
	e.Secret[1] ^= 0xff // the caller's slice passed to Put
	again, err := s.Get(e.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertEntry(t, again, entry("did:idmesh:abc#key-1"))
	list := s.List()
	list[0].Labels["status"] = "tampered"
	if l := s.List(); l[0].Labels["status"] != "active" {
		t.Errorf("List labels aliased store state: %v", l[0].Labels)
	}
}

func TestWrongPassphrase(t *testing.T) {
	s := MustCreate(t)
	MustPut(t, s, entry("did:idmesh:abc#key-1"))
	for _, p := range [][]byte{nil, []byte("wrong"), append(slices.Clone(pass), 'x')} {
		_, err := keystore.Open(s.Path(), p)
		if !errors.Is(err, keystore.ErrWrongPassphrase) {
			t.Errorf("Open(%q) = %v, want ErrWrongPassphrase", p, err)
		}
	}
}

// editJSON decodes the keystore file at path, lets fn change it and
// writes it back.
func editJSON(t *testing.T, path string, fn func(doc map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	fn(doc)
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func entriesOf(doc map[string]any) []map[string]any {
	var out []map[string]any
	for _, e := range doc["entries"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out
}

// flipB64 flips one bit of the base64-encoded field at m[key].
func flipB64(t *testing.T, m map[string]any, key string) {
	var b []byte
	if err := json.Unmarshal([]byte(`"`+m[key].(string)+`"`), &b); err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	s, _ := json.Marshal(b)
	m[key] = strings.Trim(string(s), `"`)
}

func TestTamper(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, doc map[string]any)
		raw  func(data []byte) []byte
		want error
	}{
		{name: "flip ciphertext byte", want: keystore.ErrCorrupt, edit: func(t *testing.T, doc map[string]any) {
			flipB64(t, entriesOf(doc)[0], "ciphertext")
		}},
		{name: "flip nonce byte", want: keystore.ErrCorrupt, edit: func(t *testing.T, doc map[string]any) {
			flipB64(t, entriesOf(doc)[1], "nonce")
		}},
		{name: "swap ciphertexts", want: keystore.ErrCorrupt, edit: func(t *testing.T, doc map[string]any) {
			es := entriesOf(doc)
			for _, k := range []string{"nonce", "ciphertext"} {
				es[0][k], es[1][k] = es[1][k], es[0][k]
			}
		}},
		{name: "swap ids", want: keystore.ErrCorrupt, edit: func(t *testing.T, doc map[string]any) {
			es := entriesOf(doc)
			es[0]["id"], es[1]["id"] = es[1]["id"], es[0]["id"]
		}},
		{name: "change label", want: keystore.ErrCorrupt, edit: func(t *testing.T, doc map[string]any) {
			entriesOf(doc)[0]["labels"].(map[string]any)["status"] = "retired"
		}},
		{name: "change public key", want: keystore.ErrCorrupt, edit: func(t *testing.T, doc map[string]any) {
			entriesOf(doc)[0]["public"] = "z6MkAttacker"
		}},
		{name: "change type", want: keystore.ErrCorrupt, edit: func(t *testing.T, doc map[string]any) {
			entriesOf(doc)[0]["type"] = "P-256"
		}},
		{name: "drop entry", want: keystore.ErrCorrupt, edit: func(t *testing.T, doc map[string]any) {
			doc["entries"] = doc["entries"].([]any)[1:]
		}},
		{name: "duplicate entry", want: keystore.ErrCorrupt, edit: func(t *testing.T, doc map[string]any) {
			doc["entries"] = append(doc["entries"].([]any), doc["entries"].([]any)[0])
		}},
		{name: "flip mac", want: keystore.ErrCorrupt, edit: func(t *testing.T, doc map[string]any) {
			flipB64(t, doc, "mac")
		}},
		{name: "flip check", want: keystore.ErrWrongPassphrase, edit: func(t *testing.T, doc map[string]any) {
			flipB64(t, doc, "check")
		}},
		{name: "flip salt", want: keystore.ErrWrongPassphrase, edit: func(t *testing.T, doc map[string]any) {
			flipB64(t, doc["kdf"].(map[string]any), "salt")
		}},
		{name: "future version", want: keystore.ErrCorrupt, edit: func(t *testing.T, doc map[string]any) {
			doc["version"] = 2
		}},
		{name: "huge scrypt N", want: keystore.ErrCorrupt, edit: func(t *testing.T, doc map[string]any) {
			doc["kdf"].(map[string]any)["n"] = 1 << 30
		}},
		{name: "truncated", want: keystore.ErrCorrupt, raw: func(data []byte) []byte { return data[:len(data)/2] }},
		{name: "empty", want: keystore.ErrCorrupt, raw: func([]byte) []byte { return nil }},
		{name: "oversized", want: keystore.ErrCorrupt, raw: func(data []byte) []byte {
			return append(data, bytes.Repeat([]byte(" "), keystore.MaxFileSize)...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustCreate(t)
			MustPut(t, s, entry("did:idmesh:a#key-1"))
			MustPut(t, s, entry("did:idmesh:b#key-1"))
			if tt.edit != nil {
				editJSON(t, s.Path(), func(doc map[string]any) { tt.edit(t, doc) })
			}
			if tt.raw != nil {
				data, _ := os.ReadFile(s.Path())
				if err := os.WriteFile(s.Path(), tt.raw(data), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := keystore.Open(s.Path(), pass)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
			// A write through the already-open Store must not paper over it.
			if err := s.Put(entry("did:idmesh:c#key-1")); !errors.Is(err, tt.want) {
				t.Errorf("Put on tampered file = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestUntouchedReencodingStillOpens(t *testing.T) {
	// Re-encoding the JSON without changing values (the control for
	// TestTamper) must keep the file valid.
	s := MustCreate(t)
	MustPut(t, s, entry("did:idmesh:a#key-1"))
	editJSON(t, s.Path(), func(map[string]any) {})
	s2 := MustOpen(t, s.Path())
	if _, err := s2.Get("did:idmesh:a#key-1"); err != nil {
		t.Fatal(err)
	}
}

func TestFileModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "keys.json")
	s, err := keystore.Create(path, pass, keystore.TestParams)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	MustPut(t, s, entry("did:idmesh:a#key-1"))
	check := func(p string, want fs.FileMode) {
		t.Helper()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %v, want %v", p, got, want)
		}
	}
	check(path, 0o600)
	check(path+".lock", 0o600)
	check(dir, 0o700)
	check(filepath.Dir(dir), 0o700)
}

func TestCreateExisting(t *testing.T) {
	s := MustCreate(t)
	MustPut(t, s, entry("did:idmesh:a#key-1"))
	before, _ := os.ReadFile(s.Path())
	if _, err := keystore.Create(s.Path(), []byte("other"), keystore.TestParams); !errors.Is(err, keystore.ErrExists) {
		t.Fatalf("Create over existing file = %v, want ErrExists", err)
	}
	after, _ := os.ReadFile(s.Path())
	if !bytes.Equal(before, after) {
		t.Error("Create modified the existing file")
	}
}

func TestOpenOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.json")
	if _, err := keystore.Open(path, pass); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open(missing) = %v, want fs.ErrNotExist", err)
	}
	s, err := keystore.OpenOrCreate(path, pass, keystore.TestParams)
	if err != nil {
		t.Fatal(err)
	}
	MustPut(t, s, entry("did:idmesh:a#key-1"))
	s.Close()
	s, err = keystore.OpenOrCreate(path, pass, keystore.TestParams)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(s.List()) != 1 {
		t.Errorf("reopened store has %d entries, want 1", len(s.List()))
	}
	if _, err := keystore.OpenOrCreate(path, []byte("wrong"), keystore.TestParams); !errors.Is(err, keystore.ErrWrongPassphrase) {
		t.Errorf("OpenOrCreate(wrong passphrase) = %v, want ErrWrongPassphrase", err)
	}
}

func TestInvalidParams(t *testing.T) {
	for _, p := range []keystore.Params{
		{}, {N: 1000, R: 8, P: 1}, {N: 1, R: 8, P: 1}, {N: 1 << 10, R: 0, P: 1},
		{N: 1 << 10, R: 8, P: 0}, {N: 1 << 10, R: 8, P: 17}, {N: 1 << 21, R: 1, P: 1},
		{N: 1 << 20, R: 8, P: 1},
	} {
		path := filepath.Join(t.TempDir(), "keys.json")
		if _, err := keystore.Create(path, pass, p); err == nil {
			t.Errorf("Create with %+v succeeded", p)
		}
		if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Create with %+v left a file behind", p)
		}
	}
}

func TestPutUpdateDelete(t *testing.T) {
	s := MustCreate(t)
	e := entry("did:idmesh:a#key-1")
	MustPut(t, s, e)
	if err := s.Put(e); !errors.Is(err, keystore.ErrExists) {
		t.Errorf("Put duplicate = %v, want ErrExists", err)
	}
	if err := s.Update(entry("did:idmesh:missing#key-1")); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Update missing = %v, want ErrNotFound", err)
	}
	if err := s.Delete("did:idmesh:missing#key-1"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Delete missing = %v, want ErrNotFound", err)
	}

	// Rotation: edit an entry from List (Secret nil keeps the secret).
	retired := s.List()[0]
	retired.Labels["status"] = "retired"
	if err := s.Update(retired); err != nil {
		t.Fatal(err)
	}
	want := entry("did:idmesh:a#key-1")
	want.Labels["status"] = "retired"
	got, err := MustOpen(t, s.Path()).Get(e.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertEntry(t, got, want)

	// Replacing the secret and type.
	want.Secret, want.Type = []byte("new secret"), "P-256"
	if err := s.Update(want); err != nil {
		t.Fatal(err)
	}
	if got, _ = MustOpen(t, s.Path()).Get(e.ID); !bytes.Equal(got.Secret, want.Secret) || got.Type != "P-256" {
		t.Errorf("after Update got %+v, want %+v", got, want)
	}

	if err := s.Delete(e.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := MustOpen(t, s.Path()).Get(e.ID); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Get after Delete = %v, want ErrNotFound", err)
	}
}

func TestEmptySecret(t *testing.T) {
	s := MustCreate(t)
	e := entry("did:idmesh:a#key-1")
	e.Secret = nil
	MustPut(t, s, e)
	got, err := s.Get(e.ID)
	if err != nil || got.Secret == nil || len(got.Secret) != 0 {
		t.Errorf("Get = %q, %v; want empty non-nil secret", got.Secret, err)
	}
}

func TestInvalidEntry(t *testing.T) {
	tests := []struct {
		name string
		mod  func(e *keystore.Entry)
	}{
		{"empty ID", func(e *keystore.Entry) { e.ID = "" }},
		{"long ID", func(e *keystore.Entry) { e.ID = strings.Repeat("x", keystore.MaxIDLen+1) }},
		{"NUL in ID", func(e *keystore.Entry) { e.ID = "did:a\x00b" }},
		{"NUL in type", func(e *keystore.Entry) { e.Type = "Ed\x0025519" }},
		{"long type", func(e *keystore.Entry) { e.Type = strings.Repeat("t", keystore.MaxTypeLen+1) }},
		{"bad UTF-8 ID", func(e *keystore.Entry) { e.ID = "did:\xff" }},
		{"bad UTF-8 public", func(e *keystore.Entry) { e.Public = "\xfe" }},
		{"bad UTF-8 label", func(e *keystore.Entry) { e.Labels = map[string]string{"k": "\xff"} }},
		{"year 10000", func(e *keystore.Entry) { e.Created = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	s := MustCreate(t)
	MustPut(t, s, entry("did:idmesh:a#key-1"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := entry("did:idmesh:b#key-1")
			tt.mod(&e)
			if err := s.Put(e); !errors.Is(err, keystore.ErrInvalidEntry) {
				t.Errorf("Put = %v, want ErrInvalidEntry", err)
			}
			u := entry("did:idmesh:a#key-1")
			tt.mod(&u)
			if err := s.Update(u); !errors.Is(err, keystore.ErrInvalidEntry) {
				t.Errorf("Update = %v, want ErrInvalidEntry", err)
			}
		})
	}
	if n := len(MustOpen(t, s.Path()).List()); n != 1 {
		t.Errorf("store has %d entries after invalid writes, want 1", n)
	}
	long := entry(strings.Repeat("x", keystore.MaxIDLen))
	MustPut(t, s, long)
}

func TestLeftoverTempFile(t *testing.T) {
	s := MustCreate(t)
	a := entry("did:idmesh:a#key-1")
	MustPut(t, s, a)
	good, _ := os.ReadFile(s.Path())

	// Simulate crashes mid-write: a half-written and an empty temp file.
	dir := filepath.Dir(s.Path())
	half := filepath.Join(dir, filepath.Base(s.Path())+".tmp-123456")
	empty := filepath.Join(dir, filepath.Base(s.Path())+".tmp-999")
	if err := os.WriteFile(half, good[:len(good)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	s2 := MustOpen(t, s.Path())
	got, err := s2.Get(a.ID)
	if err != nil {
		t.Fatalf("Get after crash: %v", err)
	}
	assertEntry(t, got, a)

	MustPut(t, s2, entry("did:idmesh:b#key-1"))
	for _, p := range []string{half, empty} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stale temp file %s not removed: %v", p, err)
		}
	}
	if n := len(MustOpen(t, s.Path()).List()); n != 2 {
		t.Errorf("got %d entries, want 2", n)
	}
}

func TestTwoStoresMerge(t *testing.T) {
	s1 := MustCreate(t)
	s2 := MustOpen(t, s1.Path())
	MustPut(t, s1, entry("did:idmesh:a#key-1"))
	MustPut(t, s2, entry("did:idmesh:b#key-1")) // s2 never saw a
	if err := s2.Put(entry("did:idmesh:a#key-1")); !errors.Is(err, keystore.ErrExists) {
		t.Errorf("s2.Put(a) = %v, want ErrExists (a was written by s1)", err)
	}
	if _, err := s2.Get("did:idmesh:a#key-1"); err != nil {
		t.Errorf("s2 did not pick up a while writing: %v", err)
	}
	if _, err := s1.Get("did:idmesh:b#key-1"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("s1.Get(b) before Reload = %v, want ErrNotFound", err)
	}
	if err := s1.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, err := s1.Get("did:idmesh:b#key-1"); err != nil {
		t.Errorf("s1.Get(b) after Reload: %v", err)
	}
	// A delete by one store is not undone by the other's next write.
	if err := s1.Delete("did:idmesh:b#key-1"); err != nil {
		t.Fatal(err)
	}
	MustPut(t, s2, entry("did:idmesh:c#key-1"))
	var ids []string
	for _, e := range MustOpen(t, s1.Path()).List() {
		ids = append(ids, e.ID)
	}
	if want := []string{"did:idmesh:a#key-1", "did:idmesh:c#key-1"}; !slices.Equal(ids, want) {
		t.Errorf("IDs = %q, want %q", ids, want)
	}
}

func TestConcurrentStores(t *testing.T) {
	s1 := MustCreate(t)
	stores := []*keystore.Store{s1, MustOpen(t, s1.Path()), MustOpen(t, s1.Path())}
	const perStore = 8
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*perStore*2)
	for i, s := range stores {
		for j := range perStore {
			wg.Go(func() {
				errs <- s.Put(entry(fmt.Sprintf("did:idmesh:s%d#key-%d", i, j)))
				_ = s.List()
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(MustOpen(t, s1.Path()).List()); n != len(stores)*perStore {
		t.Errorf("got %d entries, want %d", n, len(stores)*perStore)
	}
}

func TestClose(t *testing.T) {
	s := MustCreate(t)
	MustPut(t, s, entry("did:idmesh:a#key-1"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Get("did:idmesh:a#key-1"); !errors.Is(err, keystore.ErrClosed) {
		t.Errorf("Get after Close = %v", err)
	}
	if err := s.Put(entry("did:idmesh:b#key-1")); !errors.Is(err, keystore.ErrClosed) {
		t.Errorf("Put after Close = %v", err)
	}
	if err := s.Reload(); !errors.Is(err, keystore.ErrClosed) {
		t.Errorf("Reload after Close = %v", err)
	}
	if l := s.List(); l != nil {
		t.Errorf("List after Close = %v", l)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

func TestRandFailureLeavesFileUnchanged(t *testing.T) {
	s := MustCreate(t)
	MustPut(t, s, entry("did:idmesh:a#key-1"))
	before, _ := os.ReadFile(s.Path())
	s2 := MustOpen(t, s.Path(), keystore.WithRand(failingReader{}))
	if err := s2.Put(entry("did:idmesh:b#key-1")); err == nil {
		t.Fatal("Put with failing randomness succeeded")
	}
	if _, err := s2.Get("did:idmesh:b#key-1"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("failed Put is visible: %v", err)
	}
	after, _ := os.ReadFile(s.Path())
	if !bytes.Equal(before, after) {
		t.Error("failed Put changed the file")
	}
	if _, err := keystore.Create(filepath.Join(t.TempDir(), "k"), pass, keystore.TestParams, keystore.WithRand(failingReader{})); err == nil {
		t.Error("Create with failing randomness succeeded")
	}
}

// countingReader is a deterministic byte stream.
type countingReader struct{ n byte }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.n
		r.n++
	}
	return len(p), nil
}

func TestDeterministicWithInjectedRand(t *testing.T) {
	var files [][]byte
	for range 2 {
		s := MustCreate(t, keystore.WithRand(&countingReader{}))
		MustPut(t, s, entry("did:idmesh:a#key-1"))
		data, err := os.ReadFile(s.Path())
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, data)
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("same randomness and inputs produced different files")
	}
}

func TestOpenOrCreateDanglingSymlink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.json")
	if err := os.Symlink(filepath.Join(dir, "missing"), path); err != nil {
		t.Skip(err)
	}
	if _, err := keystore.OpenOrCreate(path, pass, keystore.TestParams); err == nil {
		t.Fatal("OpenOrCreate on a dangling symlink succeeded")
	}
}

package statuslist_test

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/statuslist"
)

//go:embed testdata
var testdata embed.FS

type vector struct {
	Name                string `json:"name"`
	LengthBits          int    `json:"lengthBits"`
	SetIndices          []int  `json:"setIndices"`
	StatusList2021      string `json:"statusList2021_encodedList"`
	BitstringStatusList string `json:"bitstringStatusList_encodedList"`
	UncompressedHex     string `json:"uncompressedHexPrefix"`
	UncompressedBytes   int    `json:"uncompressedBytes"`
	UncompressedSHA256  string `json:"uncompressedSha256"`
}

func mustVectors(tb testing.TB) []vector {
	tb.Helper()
	b, err := testdata.ReadFile("testdata/status-list-bitstrings.json")
	if err != nil {
		tb.Fatal(err)
	}
	var f struct{ Vectors []vector }
	if err := json.Unmarshal(b, &f); err != nil {
		tb.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		tb.Fatal("no vectors")
	}
	return f.Vectors
}

// mustJSON reads a testdata file as the credential package would see it
// (numbers as json.Number).
func mustJSON(tb testing.TB, name string) map[string]any {
	tb.Helper()
	b, err := testdata.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return mustDecode(tb, b)
}

func mustDecode(tb testing.TB, b []byte) map[string]any {
	tb.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		tb.Fatal(err)
	}
	return m
}

func setBits(b *statuslist.Bitstring) []int {
	var out []int
	for i := range b.Len() {
		if v, _ := b.Get(i); v {
			out = append(out, i)
		}
	}
	return out
}

// TestVectors decodes each generated list in both encodings and compares
// the set bits and the uncompressed bytes; it re-encodes and decodes again
// (gzip output differs between implementations, so strings are not
// compared).
func TestVectors(t *testing.T) {
	for _, v := range mustVectors(t) {
		for _, enc := range []struct{ name, s string }{
			{"StatusList2021", v.StatusList2021},
			{"BitstringStatusList", v.BitstringStatusList},
		} {
			t.Run(v.Name+"/"+enc.name, func(t *testing.T) {
				b, err := statuslist.Decode(enc.s, v.LengthBits)
				if err != nil {
					t.Fatal(err)
				}
				if b.Len() != v.LengthBits || len(b.Bytes()) != v.UncompressedBytes {
					t.Fatalf("Len = %d, want %d", b.Len(), v.LengthBits)
				}
				if got := setBits(b); !slices.Equal(got, v.SetIndices) && (len(got) != 0 || len(v.SetIndices) != 0) {
					t.Fatalf("set bits = %v, want %v", got, v.SetIndices)
				}
				if got := hex.EncodeToString(b.Bytes()[:4]); got != v.UncompressedHex {
					t.Errorf("first bytes = %s, want %s", got, v.UncompressedHex)
				}
				if sum := sha256.Sum256(b.Bytes()); hex.EncodeToString(sum[:]) != v.UncompressedSHA256 {
					t.Errorf("uncompressed sha256 differs")
				}
				re, err := b.Encode()
				if err != nil {
					t.Fatal(err)
				}
				if re[0] != 'u' {
					t.Fatalf("Encode = %q, want the 'u' multibase prefix", re[:8])
				}
				back, err := statuslist.Decode(re, v.LengthBits)
				if err != nil {
					t.Fatal(err)
				}
				if !back.Equal(b) {
					t.Fatal("re-encoded list decodes to other bits")
				}
			})
		}
	}
}

// TestVectorsBuilt sets each vector's indices with Set and checks that
// the result decodes like the reference encoding.
func TestVectorsBuilt(t *testing.T) {
	for _, v := range mustVectors(t) {
		b, err := statuslist.New(v.LengthBits)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range v.SetIndices {
			if err := b.Set(i, true); err != nil {
				t.Fatal(err)
			}
		}
		ref, err := statuslist.Decode(v.BitstringStatusList, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !b.Equal(ref) {
			t.Errorf("%s: built list differs from the reference", v.Name)
		}
	}
}

// TestSpecListCredentials parses the spec's BitstringStatusListCredential
// examples (3 and 5): an empty 131,072-entry revocation list.
func TestSpecListCredentials(t *testing.T) {
	for _, name := range []string{
		"example-3-example-bitstringstatuslistcredential.json",
		"example-5-a-status-list-verifiable-credential.json",
	} {
		t.Run(name, func(t *testing.T) {
			l, err := statuslist.ParseListCredential(mustJSON(t, name), 0)
			if err != nil {
				t.Fatal(err)
			}
			want := statuslist.List{
				ID:        "https://example.com/credentials/status/3",
				SubjectID: "https://example.com/status/3#list",
				Issuer:    "did:example:12345",
				Purposes:  []string{statuslist.PurposeRevocation},
				ValidFrom: time.Date(2021, 4, 5, 14, 27, 40, 0, time.UTC),
			}
			if l.ID != want.ID || l.SubjectID != want.SubjectID || l.Issuer != want.Issuer ||
				!slices.Equal(l.Purposes, want.Purposes) || !l.ValidFrom.Equal(want.ValidFrom) {
				t.Fatalf("list = %+v", l)
			}
			if l.Bits.Len() != statuslist.MinLength || l.Bits.Count() != 0 {
				t.Fatalf("list of %d bits with %d set", l.Bits.Len(), l.Bits.Count())
			}
			// Example 4 is a credential whose entry points into this list.
			vc := mustJSON(t, "example-4-a-revocable-verifiable-credential.json")
			e, err := statuslist.ParseEntry(vc["credentialStatus"].(map[string]any))
			if err != nil {
				t.Fatal(err)
			}
			st, err := statuslist.Check(e, l)
			if err != nil {
				t.Fatal(err)
			}
			if st != (statuslist.Status{Purpose: "revocation", Value: 0, Set: false, Message: "unset"}) {
				t.Fatalf("status = %+v", st)
			}
		})
	}
}

// TestSpecEntries parses the credentialStatus entries of the spec's
// credential examples.
func TestSpecEntries(t *testing.T) {
	tests := []struct {
		file string
		want []statuslist.Entry
	}{
		{"example-1-example-statuslistcredential-using-simple-entries.json", []statuslist.Entry{
			{ID: "https://example.com/credentials/status/3#94567", Purpose: "revocation", Index: 94567, ListCredential: "https://example.com/credentials/status/3"},
			{ID: "https://example.com/credentials/status/4#23452", Purpose: "suspension", Index: 23452, ListCredential: "https://example.com/credentials/status/4"},
		}},
		{"example-4-a-revocable-verifiable-credential.json", []statuslist.Entry{
			{ID: "https://example.com/credentials/status/3#94567", Purpose: "revocation", Index: 94567, ListCredential: "https://example.com/credentials/status/3"},
		}},
		{"example-6-associating-multiple-status-lists-with-a-single-verifiable-c.json", []statuslist.Entry{
			{ID: "https://example.com/credentials/status/3#94567", Purpose: "revocation", Index: 94567, ListCredential: "https://example.com/credentials/status/3"},
			{ID: "https://example.com/credentials/status/4#12345", Purpose: "suspension", Index: 12345, ListCredential: "https://example.com/credentials/status/4"},
		}},
		{"example-7-associating-multiple-status-entries-in-a-single-status-list.json", []statuslist.Entry{
			{ID: "https://example.com/credentials/status/5#94567", Purpose: "revocation", Index: 94567, ListCredential: "https://example.com/credentials/status/5"},
			{ID: "https://example.com/credentials/status/5#12345", Purpose: "suspension", Index: 12345, ListCredential: "https://example.com/credentials/status/5"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := mustJSON(t, tt.file)["credentialStatus"]
			objs, ok := raw.([]any)
			if !ok {
				objs = []any{raw}
			}
			if len(objs) != len(tt.want) {
				t.Fatalf("%d entries, want %d", len(objs), len(tt.want))
			}
			for i, o := range objs {
				e, err := statuslist.ParseEntry(o.(map[string]any))
				if err != nil {
					t.Fatal(err)
				}
				w := tt.want[i]
				w.Type, w.Size = statuslist.TypeEntry, 1
				if !entryEqual(e, w) {
					t.Errorf("entry %d = %+v, want %+v", i, e, w)
				}
			}
		})
	}
}

func entryEqual(a, b statuslist.Entry) bool {
	return a.ID == b.ID && a.Type == b.Type && a.Purpose == b.Purpose && a.ListCredential == b.ListCredential &&
		a.Index == b.Index && a.Size == b.Size && slices.Equal(a.Messages, b.Messages) && slices.Equal(a.References, b.References)
}

// TestSpecMessageEntry parses example 2 (a message entry with statusSize
// 2). The spec elides statusMessage elements with "..."; with them
// stripped the entry has 3 messages where statusSize 2 requires 4, which
// is malformed; with the fourth added it parses.
func TestSpecMessageEntry(t *testing.T) {
	b, err := testdata.ReadFile("testdata/example-2-example-statuslistcredential-using-more-complex-entries.txt")
	if err != nil {
		t.Fatal(err)
	}
	b = regexp.MustCompile(`,\s*\.\.\.`).ReplaceAll(b, nil)
	vc := mustDecode(t, b)
	status := vc["credentialStatus"].(map[string]any)
	_, err = statuslist.ParseEntry(status)
	if code := credential.CodeOf(err, ""); code != credential.MalformedValueError {
		t.Fatalf("3 messages for statusSize 2: err = %v, want %s", err, credential.MalformedValueError)
	}
	status["statusMessage"] = append(status["statusMessage"].([]any), map[string]any{"status": "0x3", "message": "undefined"})
	e, err := statuslist.ParseEntry(status)
	if err != nil {
		t.Fatal(err)
	}
	want := statuslist.Entry{
		ID: "https://example.com/credentials/status/8#492847", Type: statuslist.TypeEntry,
		Purpose: statuslist.PurposeMessage, Index: 492847, Size: 2,
		ListCredential: "https://example.com/credentials/status/8",
		Messages:       []statuslist.Message{{0, "pending_review"}, {1, "accepted"}, {2, "rejected"}, {3, "undefined"}},
		References:     []string{"https://example.org/status-dictionary/"},
	}
	if !entryEqual(e, want) {
		t.Fatalf("entry = %+v", e)
	}
	// Index 492847 of size 2 needs a list of at least 985,696 bits.
	bits, _ := statuslist.New(1 << 20)
	if err := bits.SetValue(e.Index, 2, 2); err != nil {
		t.Fatal(err)
	}
	l := &statuslist.List{ID: e.ListCredential, Purposes: []string{"message"}, Bits: bits}
	st, err := statuslist.Check(e, l)
	if err != nil {
		t.Fatal(err)
	}
	if st != (statuslist.Status{Purpose: "message", Value: 2, Set: true, Message: "rejected"}) {
		t.Fatalf("status = %+v", st)
	}
}

package statuslist_test

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/statuslist"
)

func validEntry() map[string]any {
	return map[string]any{
		"id":                   "https://example.com/credentials/status/3#94567",
		"type":                 "BitstringStatusListEntry",
		"statusPurpose":        "revocation",
		"statusListIndex":      "94567",
		"statusListCredential": "https://example.com/credentials/status/3",
	}
}

func messages(n int) []any {
	out := make([]any, n)
	for i := range n {
		out[i] = map[string]any{"status": "0x" + string("0123456789abcdef"[i%16]), "message": "m"}
	}
	return out
}

func TestParseEntryErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(m map[string]any)
		code credential.Code
	}{
		{"no type", func(m map[string]any) { delete(m, "type") }, credential.MalformedValueError},
		{"StatusList2021Entry type", func(m map[string]any) { m["type"] = "StatusList2021Entry" }, credential.MalformedValueError},
		{"id not a URL", func(m map[string]any) { m["id"] = "status 3" }, credential.MalformedValueError},
		{"id is the list URL", func(m map[string]any) { m["id"] = m["statusListCredential"] }, credential.MalformedValueError},
		{"no purpose", func(m map[string]any) { delete(m, "statusPurpose") }, credential.MalformedValueError},
		{"empty purpose", func(m map[string]any) { m["statusPurpose"] = "" }, credential.MalformedValueError},
		{"purpose array", func(m map[string]any) { m["statusPurpose"] = []any{"revocation"} }, credential.MalformedValueError},
		{"no index", func(m map[string]any) { delete(m, "statusListIndex") }, credential.MalformedValueError},
		{"index as JSON number", func(m map[string]any) { m["statusListIndex"] = json.Number("94567") }, credential.MalformedValueError},
		{"index as float64", func(m map[string]any) { m["statusListIndex"] = 94567.0 }, credential.MalformedValueError},
		{"negative index", func(m map[string]any) { m["statusListIndex"] = "-1" }, credential.MalformedValueError},
		{"index with plus sign", func(m map[string]any) { m["statusListIndex"] = "+1" }, credential.MalformedValueError},
		{"empty index", func(m map[string]any) { m["statusListIndex"] = "" }, credential.MalformedValueError},
		{"hexadecimal index", func(m map[string]any) { m["statusListIndex"] = "0x10" }, credential.MalformedValueError},
		{"index with space", func(m map[string]any) { m["statusListIndex"] = " 1" }, credential.MalformedValueError},
		{"index with fraction", func(m map[string]any) { m["statusListIndex"] = "1.0" }, credential.MalformedValueError},
		{"index beyond int", func(m map[string]any) { m["statusListIndex"] = "99999999999999999999999" }, credential.RangeError},
		{"no list URL", func(m map[string]any) { delete(m, "statusListCredential") }, credential.MalformedValueError},
		{"list URL relative", func(m map[string]any) { m["statusListCredential"] = "/status/3" }, credential.MalformedValueError},
		{"statusSize 0", func(m map[string]any) { m["statusSize"] = json.Number("0") }, credential.MalformedValueError},
		{"statusSize negative", func(m map[string]any) { m["statusSize"] = json.Number("-1") }, credential.MalformedValueError},
		{"statusSize fraction", func(m map[string]any) { m["statusSize"] = json.Number("1.5") }, credential.MalformedValueError},
		{"statusSize string", func(m map[string]any) { m["statusSize"] = "2" }, credential.MalformedValueError},
		{"statusSize too large", func(m map[string]any) { m["statusSize"] = json.Number("17") }, credential.RangeError},
		{"statusSize 2 without statusMessage", func(m map[string]any) { m["statusSize"] = json.Number("2") }, credential.MalformedValueError},
		{"statusMessage too short", func(m map[string]any) { m["statusSize"] = json.Number("2"); m["statusMessage"] = messages(3) }, credential.MalformedValueError},
		{"statusMessage too long for size 1", func(m map[string]any) { m["statusMessage"] = messages(4) }, credential.MalformedValueError},
		{"statusMessage not an array", func(m map[string]any) { m["statusMessage"] = map[string]any{} }, credential.MalformedValueError},
		{"statusMessage element not an object", func(m map[string]any) { m["statusMessage"] = []any{"a", "b"} }, credential.MalformedValueError},
		{"statusMessage status without 0x", func(m map[string]any) {
			m["statusMessage"] = []any{map[string]any{"status": "0", "message": "a"}, map[string]any{"status": "0x1", "message": "b"}}
		}, credential.MalformedValueError},
		{"statusMessage status out of range", func(m map[string]any) {
			m["statusMessage"] = []any{map[string]any{"status": "0x0", "message": "a"}, map[string]any{"status": "0x2", "message": "b"}}
		}, credential.MalformedValueError},
		{"statusMessage status repeated", func(m map[string]any) {
			m["statusMessage"] = []any{map[string]any{"status": "0x1", "message": "a"}, map[string]any{"status": "0x1", "message": "b"}}
		}, credential.MalformedValueError},
		{"statusMessage without message", func(m map[string]any) {
			m["statusMessage"] = []any{map[string]any{"status": "0x0"}, map[string]any{"status": "0x1", "message": "b"}}
		}, credential.MalformedValueError},
		{"statusReference not a URL", func(m map[string]any) { m["statusReference"] = "dictionary" }, credential.MalformedValueError},
		{"statusReference empty array", func(m map[string]any) { m["statusReference"] = []any{} }, credential.MalformedValueError},
		{"statusReference null", func(m map[string]any) { m["statusReference"] = nil }, credential.MalformedValueError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validEntry()
			tt.edit(m)
			_, err := statuslist.ParseEntry(m)
			wantCode(t, err, tt.code)
		})
	}
}

func TestParseEntryAccepts(t *testing.T) {
	tests := []struct {
		name string
		edit func(m map[string]any)
		want func(e *statuslist.Entry)
	}{
		{"as given", func(map[string]any) {}, func(*statuslist.Entry) {}},
		{"no id", func(m map[string]any) { delete(m, "id") }, func(e *statuslist.Entry) { e.ID = "" }},
		{"type array", func(m map[string]any) { m["type"] = []any{"BitstringStatusListEntry"} }, func(*statuslist.Entry) {}},
		{"index 0", func(m map[string]any) { m["statusListIndex"] = "0" }, func(e *statuslist.Entry) { e.Index = 0 }},
		{"index with leading zeros", func(m map[string]any) { m["statusListIndex"] = "0042" }, func(e *statuslist.Entry) { e.Index = 42 }},
		{"statusSize 1 as float64", func(m map[string]any) { m["statusSize"] = 1.0 }, func(*statuslist.Entry) {}},
		{"statusSize 1 with messages", func(m map[string]any) {
			m["statusMessage"] = []any{map[string]any{"status": "0x1", "message": "revoked", "extra": true}, map[string]any{"status": "0x0", "message": "valid"}}
		}, func(e *statuslist.Entry) { e.Messages = []statuslist.Message{{0, "valid"}, {1, "revoked"}} }},
		{"custom purpose", func(m map[string]any) { m["statusPurpose"] = "audit" }, func(e *statuslist.Entry) { e.Purpose = "audit" }},
		{"references", func(m map[string]any) { m["statusReference"] = []any{"https://a.example/", "https://b.example/"} },
			func(e *statuslist.Entry) { e.References = []string{"https://a.example/", "https://b.example/"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validEntry()
			tt.edit(m)
			e, err := statuslist.ParseEntry(m)
			if err != nil {
				t.Fatal(err)
			}
			want := statuslist.Entry{
				ID: "https://example.com/credentials/status/3#94567", Type: statuslist.TypeEntry,
				Purpose: "revocation", Index: 94567, Size: 1,
				ListCredential: "https://example.com/credentials/status/3",
			}
			tt.want(&want)
			if !entryEqual(e, want) {
				t.Fatalf("entry = %+v, want %+v", e, want)
			}
			// Object gives back an entry that parses to the same.
			back, err := statuslist.ParseEntry(e.Object())
			if err != nil {
				t.Fatal(err)
			}
			if !entryEqual(back, e) {
				t.Fatalf("ParseEntry(Object()) = %+v, want %+v", back, e)
			}
		})
	}
}

func TestEntryObject(t *testing.T) {
	e := statuslist.Entry{Purpose: "suspension", Index: 7, ListCredential: "https://example.com/status/4"}
	want := map[string]any{
		"type": "BitstringStatusListEntry", "statusPurpose": "suspension",
		"statusListIndex": "7", "statusListCredential": "https://example.com/status/4",
	}
	if got := e.Object(); !maps.Equal(got, want) {
		t.Fatalf("Object = %v, want %v", got, want)
	}
}

package issuer_test

import (
	"context"
	"testing"

	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/issuer"
)

// TestListRollover: when the issuer's list for a purpose has no free
// index left, the next credential starts a new list (published first);
// a restarted service sees the full list and does the same.
func TestListRollover(t *testing.T) {
	e := MustEnv(t)
	listOf := func(entries []any) (string, int) {
		en, err := statuslist.ParseEntry(entries[0].(map[string]any))
		if err != nil {
			t.Fatal(err)
		}
		return listID(en), en.Index
	}
	purposes := []string{statuslist.PurposeRevocation}
	entries := func(id string) []any {
		t.Helper()
		out, err := e.svc.Entries(context.Background(), e.iss, id, purposes)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	list1, idx := listOf(entries("urn:uuid:00000000-0000-4000-8000-000000000001"))
	// Fill the list but one index, as 131,070 more credentials would.
	const last = 4242
	if err := issuer.FillList(e.svc, list1, idx, last); err != nil {
		t.Fatal(err)
	}
	e.MustOpen(t, 4) // a restart: allocations are loaded from the records
	if l, i := listOf(entries("urn:uuid:00000000-0000-4000-8000-000000000002")); l != list1 || i != last {
		t.Fatalf("the last free index: got %s #%d, want %s #%d", l, i, list1, last)
	}
	list2, _ := listOf(entries("urn:uuid:00000000-0000-4000-8000-000000000003"))
	if list2 == list1 {
		t.Fatal("a full list was not followed by a new one")
	}
	if _, err := e.chain.StatusList(list2); err != nil {
		t.Fatalf("the new list was not published before its first entry left: %v", err)
	}
	e.MustOpen(t, 5) // after another restart the new list is the current one
	if l, _ := listOf(entries("urn:uuid:00000000-0000-4000-8000-000000000004")); l != list2 {
		t.Fatalf("after a restart: list %s, want %s", l, list2)
	}
}

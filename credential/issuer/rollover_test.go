package issuer_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/idmesh/idmesh/credential/issuer"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
	"github.com/idmesh/idmesh/registry"
)

// TestListRollover: when the issuer's list for a purpose has no free
// index left, the next credential starts a new list (published first);
// a restarted service sees the full list and does the same.
func TestListRollover(t *testing.T) {
	dir := t.TempDir()
	db, err := leveldb.OpenFile(filepath.Join(dir, "state"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ks, err := keystore.Create(filepath.Join(dir, "ks.json"), []byte("pw"), keystore.TestParams)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	reg := issuer.NewRegistry(ks)
	iss, _, err := reg.Create("uni", keys.Ed25519, "test", rand.NewChaCha8([32]byte{1}), time.Unix(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	chain := &memChain{lists: map[string][]byte{}}
	newService := func(seed byte) *issuer.StatusService {
		return &issuer.StatusService{DB: db, Chain: chain, Registry: reg, BaseURL: "https://node.example", Rand: rand.NewChaCha8([32]byte{seed})}
	}
	listOf := func(entries []any) (string, int) {
		e, err := statuslist.ParseEntry(entries[0].(map[string]any))
		if err != nil {
			t.Fatal(err)
		}
		id, _ := registry.StatusListID(e.ListCredential)
		return id, e.Index
	}
	purposes := []string{statuslist.PurposeRevocation}
	ctx := context.Background()

	first, err := newService(2).Entries(ctx, iss, "urn:uuid:00000000-0000-4000-8000-000000000001", purposes)
	if err != nil {
		t.Fatal(err)
	}
	list1, idx := listOf(first)
	// Fill the list but one index, as 131,070 more credentials would.
	const last = 4242
	if err := issuer.FillList(newService(3), list1, idx, last); err != nil {
		t.Fatal(err)
	}
	svc := newService(4) // a restart: allocations are loaded from the records
	e, err := svc.Entries(ctx, iss, "urn:uuid:00000000-0000-4000-8000-000000000002", purposes)
	if err != nil {
		t.Fatal(err)
	}
	if l, i := listOf(e); l != list1 || i != last {
		t.Fatalf("the last free index: got %s #%d, want %s #%d", l, i, list1, last)
	}
	e, err = svc.Entries(ctx, iss, "urn:uuid:00000000-0000-4000-8000-000000000003", purposes)
	if err != nil {
		t.Fatal(err)
	}
	list2, _ := listOf(e)
	if list2 == list1 {
		t.Fatal("a full list was not followed by a new one")
	}
	if _, ok := chain.lists[list2]; !ok {
		t.Fatal("the new list was not published before its first entry left")
	}
	// After another restart the new list is the current one.
	e, err = newService(5).Entries(ctx, iss, "urn:uuid:00000000-0000-4000-8000-000000000004", purposes)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := listOf(e); l != list2 {
		t.Fatalf("after a restart: list %s, want %s", l, list2)
	}
}

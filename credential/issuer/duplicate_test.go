package issuer_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/idmesh/idmesh/credential/issuer"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
)

// TestEntriesDuplicateID: two issuances racing with one credential id
// record one set of entries; the other fails, so that no credential's
// entries are overwritten (it could no longer be revoked).
func TestEntriesDuplicateID(t *testing.T) {
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
	svc := &issuer.StatusService{DB: db, Chain: &memChain{lists: map[string][]byte{}}, Registry: reg, BaseURL: "https://node.example", Rand: rand.NewChaCha8([32]byte{2})}
	const racers = 8
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() {
			_, errs[i] = svc.Entries(context.Background(), iss, "urn:uuid:00000000-0000-4000-8000-000000000001", issuer.Purposes)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, issuer.ErrDuplicateID):
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d issuances recorded the same id, want 1", ok)
	}
}

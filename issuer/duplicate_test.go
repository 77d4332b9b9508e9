package issuer_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/idmesh/idmesh/issuer"
)

// TestEntriesDuplicateID: two issuances racing with one credential id
// record one set of entries; the other fails, so that no credential's
// entries are overwritten (it could no longer be revoked).
func TestEntriesDuplicateID(t *testing.T) {
	e := MustEnv(t)
	const racers = 8
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() {
			_, errs[i] = e.svc.Entries(context.Background(), e.iss, "urn:uuid:00000000-0000-4000-8000-000000000001", issuer.Purposes)
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

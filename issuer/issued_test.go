package issuer_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/syndtr/goleveldb/leveldb"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/issuer"
)

// TestIssuedPages: Issued lists one issuer's credentials with status
// entries, in id order, a page at a time with a cursor that ends empty;
// another issuer's credentials never appear; each entry says its state
// on the latest list (revoked after SetStatus); the limit is clamped to
// 1..MaxIssuedPage.
func TestIssuedPages(t *testing.T) {
	e := MustEnv(t)
	other := MustCreate(t, e.reg, "other", 2)
	signer, err := e.reg.Signer(other)
	if err != nil {
		t.Fatal(err)
	}
	e.chain.keys.Add(credential.VerificationKey{ID: other.KeyID, Controller: other.DID, Public: signer.Public()}, credential.PurposeAssertion)
	e.MustEntries(t, 0, 5, statuslist.PurposeRevocation, statuslist.PurposeSuspension)
	for i := range 3 {
		if _, err := e.svc.Entries(t.Context(), other, fmt.Sprintf("urn:uuid:cred-%d-other", i), []string{statuslist.PurposeRevocation}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.SetStatus(t.Context(), "urn:uuid:cred-3", statuslist.PurposeRevocation, true); err != nil {
		t.Fatal(err)
	}
	var ids []string
	after, pages := "", 0
	for {
		page, next, err := e.svc.Issued(e.iss.DID, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if pages++; pages > 5 || len(page) > 2 {
			t.Fatalf("page %d has %d credentials (next %q)", pages, len(page), next)
		}
		for _, c := range page {
			ids = append(ids, c.ID)
			if len(c.Entries) != 2 || c.Entries[0].Purpose != statuslist.PurposeRevocation || c.Entries[1].Purpose != statuslist.PurposeSuspension {
				t.Fatalf("%s: entries %+v", c.ID, c.Entries)
			}
			for _, en := range c.Entries {
				if en.Set == nil {
					t.Fatalf("%s: no state for %+v", c.ID, en)
				}
				want := c.ID == "urn:uuid:cred-3" && en.Purpose == statuslist.PurposeRevocation
				if *en.Set != want {
					t.Fatalf("%s %s: set %v, want %v", c.ID, en.Purpose, *en.Set, want)
				}
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	want := []string{"urn:uuid:cred-0", "urn:uuid:cred-1", "urn:uuid:cred-2", "urn:uuid:cred-3", "urn:uuid:cred-4"}
	if !slices.Equal(ids, want) {
		t.Fatalf("listed %v, want %v", ids, want)
	}
	for _, tc := range []struct{ limit, want int }{{0, 1}, {-5, 1}, {1, 1}, {issuer.MaxIssuedPage + 50, 5}} {
		page, _, err := e.svc.Issued(e.iss.DID, "", tc.limit)
		if err != nil || len(page) != tc.want {
			t.Fatalf("limit %d: %d credentials (%v), want %d", tc.limit, len(page), err, tc.want)
		}
	}
	if page, next, err := e.svc.Issued("did:idmesh:nobody", "", 10); err != nil || len(page) != 0 || next != "" {
		t.Fatalf("unknown issuer: %v %q %v", page, next, err)
	}
}

// TestIssuedScanBound: a request reads at most MaxIssuedScan records:
// behind more of another issuer's records than that, a page comes back
// empty with a cursor, and following it finds the issuer's credential.
func TestIssuedScanBound(t *testing.T) {
	e := MustEnv(t)
	refs, err := json.Marshal([]issuer.EntryRef{{Issuer: "did:idmesh:someone-else", Purpose: statuslist.PurposeRevocation, ListID: "x", Index: 1}})
	if err != nil {
		t.Fatal(err)
	}
	b := new(leveldb.Batch)
	for i := range issuer.MaxIssuedScan + 10 {
		b.Put(fmt.Appendf(nil, "m/urn:a:%06d", i), refs)
	}
	if err := e.db.Write(b, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Entries(t.Context(), e.iss, "urn:z:mine", []string{statuslist.PurposeRevocation}); err != nil {
		t.Fatal(err)
	}
	page, next, err := e.svc.Issued(e.iss.DID, "", 10)
	if err != nil || len(page) != 0 || next != fmt.Sprintf("urn:a:%06d", issuer.MaxIssuedScan-1) {
		t.Fatalf("first page: %d credentials, next %q, %v", len(page), next, err)
	}
	page, next, err = e.svc.Issued(e.iss.DID, next, 10)
	if err != nil || len(page) != 1 || page[0].ID != "urn:z:mine" || next != "" {
		t.Fatalf("second page: %+v, next %q, %v", page, next, err)
	}
}

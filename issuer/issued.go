package issuer

import (
	"encoding/json"
	"fmt"

	"github.com/syndtr/goleveldb/leveldb/util"

	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/credential/tokenstatus"
)

// Bounds of Issued.
const (
	// MaxIssuedPage is the most credentials one call of Issued returns.
	MaxIssuedPage = 100
	// MaxIssuedScan is the most records one call of Issued reads, of
	// every issuer of the node, before it stops and hands back a cursor.
	MaxIssuedScan = 10_000
)

// IssuedEntry is one status entry of an issued credential and its
// current committed state.
type IssuedEntry struct {
	Purpose string `json:"purpose"`
	ListID  string `json:"list"`
	Index   int    `json:"index"`
	// Set says whether the entry is set on the latest committed list
	// (revoked, suspended); nil when the list could not be read. For a
	// token status list entry (Purpose TokenPurpose), Value is the
	// entry's value (0 valid, 1 revoked, 2 suspended).
	Set   *bool  `json:"set,omitempty"`
	Value *uint8 `json:"value,omitempty"`
}

// Issued is a credential this node issued with status entries.
type Issued struct {
	ID      string        `json:"id"`
	Entries []IssuedEntry `json:"entries"`
}

// Issued lists the credentials issuerDID issued here with status
// entries (the ones whose status can be changed), in the order of their
// ids, starting after the id after. It returns at most limit of them
// (1 to MaxIssuedPage) and reads at most MaxIssuedScan records; next is
// the id to continue after, or empty when the listing is complete.
func (s *StatusService) Issued(issuerDID, after string, limit int) (out []Issued, next string, err error) {
	limit = max(1, min(limit, MaxIssuedPage))
	rng := util.BytesPrefix([]byte("m/"))
	if after != "" {
		rng.Start = append(keyCredential(after), 0)
	}
	it := s.DB.NewIterator(rng, nil)
	defer it.Release()
	// A page's credentials mostly share a few lists: each is read and
	// decoded once per page, not once per entry.
	lists := issuedLists{bits: map[string]*statuslist.List{}, tokens: map[string]*tokenstatus.Token{}}
	last := ""
	for scanned := 0; it.Next(); scanned++ {
		id := string(it.Key()[len("m/"):])
		if scanned == MaxIssuedScan {
			return out, last, nil // a long run of other issuers' records
		}
		var refs []EntryRef
		if err := json.Unmarshal(it.Value(), &refs); err != nil {
			return nil, "", fmt.Errorf("read issued credential %s: %w", id, err)
		}
		if len(refs) > 0 && refs[0].Issuer == issuerDID {
			if len(out) == limit {
				return out, last, nil
			}
			c := Issued{ID: id}
			for _, r := range refs {
				c.Entries = append(c.Entries, s.entryState(r, lists))
			}
			out = append(out, c)
		}
		last = id
	}
	if err := it.Error(); err != nil {
		return nil, "", fmt.Errorf("list issued credentials: %w", err)
	}
	return out, "", nil
}

// issuedLists are the lists one page of Issued read, by list ID (nil:
// not readable).
type issuedLists struct {
	bits   map[string]*statuslist.List
	tokens map[string]*tokenstatus.Token
}

// entryState reads an entry's state from the latest committed list.
func (s *StatusService) entryState(r EntryRef, lists issuedLists) IssuedEntry {
	e := IssuedEntry{Purpose: r.Purpose, ListID: r.ListID, Index: r.Index}
	if r.Purpose == TokenPurpose {
		t, seen := lists.tokens[r.ListID]
		if !seen {
			var err error
			if t, err = s.currentToken(r.ListID); err != nil {
				t = nil
			}
			lists.tokens[r.ListID] = t
		}
		if t != nil && t.List != nil {
			if v, err := t.List.Get(r.Index); err == nil {
				e.Value = &v
			}
		}
		return e
	}
	l, seen := lists.bits[r.ListID]
	if !seen {
		var err error
		if l, err = s.Chain.StatusList(r.ListID); err != nil {
			l = nil
		}
		lists.bits[r.ListID] = l
	}
	if l == nil || l.Bits == nil {
		return e
	}
	if v, err := l.Bits.Get(r.Index); err == nil {
		e.Set = &v
	}
	return e
}

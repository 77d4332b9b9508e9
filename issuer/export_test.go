package issuer

import "github.com/syndtr/goleveldb/leveldb"

// PendingChanges returns the number of status changes of a list waiting
// for the next round.
func PendingChanges(s *StatusService, listID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if lb := s.lists[listID]; lb != nil {
		return len(lb.pending)
	}
	return 0
}

// FillList records every index of a list but the ones in keep as taken,
// as if that many credentials had been issued, in one batch.
func FillList(s *StatusService, listID string, keep ...int) error {
	b := new(leveldb.Batch)
	free := map[int]bool{}
	for _, k := range keep {
		free[k] = true
	}
	for i := range s.length() {
		if !free[i] {
			b.Put(keyAlloc(listID, i), []byte("urn:test:filled"))
		}
	}
	return s.DB.Write(b, nil)
}

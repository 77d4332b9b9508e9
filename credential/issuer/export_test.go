package issuer

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

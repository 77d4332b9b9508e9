package api

// SetVerifyHeld makes f run, with a verification slot held, before each
// verification handler (nil: nothing), so that tests hold slots without
// sleeping.
func SetVerifyHeld(s *Server, f func()) {
	if f == nil {
		s.limits.held.Store(nil)
		return
	}
	s.limits.held.Store(&f)
}

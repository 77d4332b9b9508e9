package api

// SetVerifyHeld makes f run, with a verification slot held, before each
// verification handler (nil: nothing), so that tests hold slots without
// sleeping. Set it before serving.
func SetVerifyHeld(s *Server, f func()) { s.limits.held = f }

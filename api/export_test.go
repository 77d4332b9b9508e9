package api

import "github.com/gorilla/mux"

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

// RouteMethods lists every route the server's router has, as "METHOD
// /path/template", in the router's order.
func RouteMethods(s *Server) ([]string, error) {
	var out []string
	err := s.router.Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := r.GetPathTemplate()
		if err != nil {
			return err
		}
		ms, err := r.GetMethods()
		if err != nil {
			return err
		}
		for _, m := range ms {
			out = append(out, m+" "+tpl)
		}
		return nil
	})
	return out, err
}

// WithRequestID is withRequestID, for tests.
var WithRequestID = withRequestID

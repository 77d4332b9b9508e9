package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/idmesh/idmesh/did"
)

// maxIdentifierBytes bounds the path segment of /1.0/identifiers/ that
// dereferencing decodes: a DID URL of did.MaxLength bytes with every
// character pct-encoded.
const maxIdentifierBytes = 3 * did.MaxLength

// derefResult is the representation of a whole dereferencing result.
var derefResult = representation{did.MediaTypeDIDURLDereferencing, true}

// didURLOf returns the DID URL that a /1.0/identifiers/ path segment names
// and whether it is one (it has a query or a fragment) rather than a DID.
// raw is the segment after unescapeDID: a DID URL encoded as a whole
// (did%3A...) is decoded already; one written as is has its '#'
// pct-encoded ("%23"), since a client never sends a fragment, and keeps
// its other pct-encoding.
func didURLOf(raw string) (string, bool) {
	if strings.ContainsAny(raw, "#?") {
		return raw, true
	}
	if i := strings.Index(strings.ToLower(raw), "%23"); i >= 0 {
		return raw[:i] + "#" + raw[i+3:], true
	}
	return raw, false
}

// selectsService reports whether a request's query names a DID parameter
// that selects a service (service, serviceType, relativeRef), without
// decoding the rest: a plain DID with one of these is a DID URL.
func selectsService(rawQuery string) bool {
	for pair := range strings.SplitSeq(rawQuery, "&") {
		name, _, _ := strings.Cut(pair, "=")
		if n, err := url.PathUnescape(name); err == nil {
			name = n
		}
		switch name {
		case did.ParamService, did.ParamServiceType, did.ParamRelativeRef:
			return true
		}
	}
	return false
}

// queryTooLarge reports whether a request's query exceeds the bounds of
// DID parameters (did.MaxQueryBytes, did.MaxQueryParameters).
func queryTooLarge(rawQuery string) bool {
	return len(rawQuery) > did.MaxQueryBytes || strings.Count(rawQuery, "&") >= did.MaxQueryParameters
}

// handleDereference serves GET /1.0/identifiers/{did-url}: the DID URL
// dereferencing function of DID Resolution over its HTTPS binding, for a
// DID URL with a fragment, a query, or service parameters in the
// request's query (the DID URL's query written unencoded). The request's
// query holds DID parameters and options, read with those of the DID URL
// itself (a parameter may be given once in all).
func (s *Server) handleDereference(w http.ResponseWriter, r *http.Request, raw string) {
	fail := func(err error) {
		s.writeDereferencing(r.Context(), w, did.ProblemFor(err).HTTPStatus(), derefResult, did.DereferencingError(err))
	}
	if len(raw) > maxIdentifierBytes {
		fail(fmt.Errorf("%w: longer than %d bytes", did.ErrInvalidDIDURL, maxIdentifierBytes))
		return
	}
	u, err := did.ParseURL(raw)
	if err != nil {
		fail(err)
		return
	}
	p, err := did.ParseParameters(u.Query, r.URL.RawQuery)
	if err != nil {
		fail(err)
		return
	}
	accept := r.Header.Get("Accept")
	rep, redirect := derefResult, false
	if p.IsService() {
		// A service URL is a redirect, whatever the client accepts, unless
		// it asks for the dereferencing result.
		redirect = !wantsDereferencingResult(accept)
	} else {
		var ok bool
		if rep, ok = negotiateFrom(accept, derefOffers); !ok {
			fail(errorf(did.ErrRepresentationNotSupported, "cannot produce any of %q", accept))
			return
		}
	}
	height := s.ledger.State().Height
	key := derefKey(u, p, rep.contentType, redirect)
	if c, hit := s.cache.get(height, key); hit {
		writeCached(w, c)
		return
	}
	res, err := did.Dereference(r.Context(), s.resolver, u, p)
	if err != nil {
		fail(err)
		return
	}
	if res.ContentMetadata.Deactivated {
		// 410, and the body is the whole result: a deactivated DID's
		// services are not redirected to.
		s.writeDereferencing(r.Context(), w, http.StatusGone, derefResult, res)
		return
	}
	if loc, _ := res.ContentStream.(string); redirect && webURL(loc) {
		c := cachedResponse{status: http.StatusSeeOther, location: loc}
		writeCached(w, c)
		s.cache.put(height, key, c)
		return
	} else if redirect {
		// The node redirects only to web pages: an endpoint of another
		// scheme (javascript:, data:, file:, a custom one) is named in
		// the dereferencing result instead, for the client to judge.
		rep = derefResult
	}
	if c, ok := s.writeDereferencing(r.Context(), w, http.StatusOK, rep, res); ok {
		s.cache.put(height, key, c)
	}
}

// webURL reports whether u is an http or https URL, the only
// endpoints a service dereference redirects to.
func webURL(u string) bool {
	scheme, _, ok := strings.Cut(u, ":")
	return ok && (strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "http"))
}

// writeCached writes a response kept in the cache.
func writeCached(w http.ResponseWriter, c cachedResponse) {
	if c.contentType != "" {
		w.Header().Set("Content-Type", c.contentType)
	}
	if c.location != "" {
		w.Header().Set("Location", c.location)
	}
	w.WriteHeader(c.status)
	_, _ = w.Write(c.body)
}

// writeDereferencing writes a dereferencing result, or its bare content:
// a verification method or service with the document's @context in the
// JSON-LD types (application/did+ld+json, application/ld+json) and
// without it in the JSON ones, or the document. It returns the response
// it wrote.
func (s *Server) writeDereferencing(ctx context.Context, w http.ResponseWriter, status int, rep representation, res *did.DereferencingResult) (cachedResponse, bool) {
	v := any(res)
	if !rep.result {
		v = res.ContentStream
		if n, ok := v.(did.Resource); ok && rep.contentType != did.MediaTypeDIDLDJSON && rep.contentType != mediaLDJSON {
			v = n.WithoutContext()
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.log.ErrorContext(ctx, "encode dereferencing result", "err", err)
		writeProblem(w, nil, http.StatusInternalServerError, ProblemInternal, "encode dereferencing result")
		return cachedResponse{}, false
	}
	c := cachedResponse{status: status, contentType: rep.contentType, body: append(b, '\n')}
	writeCached(w, c)
	return c, true
}

// derefKey is the cache key of a dereferencing: like resolveKey, the
// parsed inputs that change the answer, length-prefixed, after a marker
// field that no resolution key starts with.
func derefKey(u did.URL, p did.Parameters, contentType string, redirect bool) string {
	vt := ""
	if !p.VersionTime.IsZero() {
		vt = p.VersionTime.UTC().Format(time.RFC3339Nano)
	}
	var b strings.Builder
	for _, f := range []string{"\x00deref", u.DID.String(), u.Fragment, p.Service, p.RelativeRef, p.VersionID, vt, contentType, strconv.FormatBool(redirect)} {
		b.WriteString(strconv.Itoa(len(f)))
		b.WriteByte(':')
		b.WriteString(f)
	}
	return b.String()
}

package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/registry"
)

// unescapeDID decodes a DID that a client percent-encoded as a whole
// ("did%3Aweb%3A..."); a DID written as is keeps its own pct-encoded
// characters.
func unescapeDID(raw string) string {
	if strings.HasPrefix(strings.ToLower(raw), "did%3a") {
		if u, err := url.PathUnescape(raw); err == nil {
			return u
		}
	}
	return raw
}

// handleResolve serves GET /1.0/identifiers/{did}: the DIF Universal
// Resolver driver interface and the DID Resolution HTTPS binding. DID
// URLs go to handleDereference.
func (s *Server) handleResolve(w http.ResponseWriter, r *http.Request) {
	raw := unescapeDID(mux.Vars(r)["did"])
	// A DID URL encoded as a whole (did%3A...%2Fstatus-lists%2F{id})
	// dereferences to the DID's status list, as its plain form does.
	if d, id, ok := strings.Cut(raw, registry.StatusListPathSegment); ok {
		s.serveStatusList(w, r, d, id)
		return
	}
	const encodedSegment = "%2fstatus-lists%2f" // a DID has no '/': this is a path
	if i := strings.Index(strings.ToLower(raw), encodedSegment); i > 0 {
		s.serveStatusList(w, r, raw[:i], raw[i+len(encodedSegment):])
		return
	}
	// A DID URL with a fragment or a query, or a DID with service
	// parameters in the request's query, is dereferenced.
	u, isURL := didURLOf(raw)
	if isURL || selectsService(r.URL.RawQuery) {
		s.handleDereference(w, r, u)
		return
	}
	if queryTooLarge(r.URL.RawQuery) {
		s.writeResolution(r.Context(), w, http.StatusBadRequest, representation{did.MediaTypeDIDResolution, true},
			did.ErrorResult(errorf(did.ErrInvalidDIDURL, "the query exceeds %d bytes or %d parameters", did.MaxQueryBytes, did.MaxQueryParameters)))
		return
	}
	rep, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		// A client that accepts only the dereferencing result gets the
		// DID URL dereferencing of the DID (its document).
		if d, ok := negotiateFrom(r.Header.Get("Accept"), derefOffers); ok && d.result {
			s.handleDereference(w, r, raw)
			return
		}
		s.writeResolution(r.Context(), w, http.StatusNotAcceptable, representation{did.MediaTypeDIDResolution, true},
			did.ErrorResult(errorf(did.ErrRepresentationNotSupported, "cannot produce any of %q", r.Header.Get("Accept"))))
		return
	}
	// The resolver is asked for the document representation; whether the
	// whole result is sent is this binding's business.
	opts := did.Options{Accept: did.MediaTypeDIDLDJSON}
	if !rep.result {
		opts.Accept = rep.contentType
	}
	// versionId and versionTime are the resolution options this binding
	// knows; other query parameters are ignored (as resolvers ignore
	// options they do not support), and so are not part of the cache key.
	q := r.URL.Query()
	opts.VersionID = q.Get("versionId")
	if vt := q.Get("versionTime"); vt != "" {
		t, err := time.Parse(time.RFC3339, vt)
		if err != nil {
			s.writeResolution(r.Context(), w, http.StatusBadRequest, representation{did.MediaTypeDIDResolution, true},
				did.ErrorResult(errorf(did.ErrInvalidOptions, "versionTime %q is not an XML datetime", vt)))
			return
		}
		opts.VersionTime = t
	}
	// Take the height before resolving: a response cached under it is at
	// least as new as that height.
	height := s.ledger.State().Height
	key := resolveKey(raw, opts.VersionID, opts.VersionTime, rep.contentType)
	if c, hit := s.cache.get(height, key); hit {
		w.Header().Set("Content-Type", c.contentType)
		w.WriteHeader(c.status)
		_, _ = w.Write(c.body)
		return
	}
	res, err := s.resolver.Resolve(r.Context(), raw, opts)
	if err != nil {
		s.writeResolution(r.Context(), w, resolutionStatus(err), representation{did.MediaTypeDIDResolution, true}, did.ErrorResult(err))
		return
	}
	// contentType is the media type of the document the result carries.
	res.DIDResolutionMetadata.ContentType = did.MediaTypeDIDLDJSON
	if !rep.result {
		res.DIDResolutionMetadata.ContentType = rep.contentType
	}
	status := http.StatusOK
	if res.DIDDocumentMetadata.Deactivated {
		// 410, and the body is still the whole result.
		status, rep = http.StatusGone, representation{did.MediaTypeDIDResolution, true}
	}
	if c, ok := s.writeResolution(r.Context(), w, status, rep, res); ok {
		s.cache.put(height, key, c)
	}
}

// writeResolution writes a result, or the bare document, and returns the
// response it wrote.
func (s *Server) writeResolution(ctx context.Context, w http.ResponseWriter, status int, rep representation, res *did.ResolutionResult) (cachedResponse, bool) {
	var v any = res.DIDDocument
	if rep.result {
		if res.Context == nil {
			res.Context = did.ContextResolution
		}
		v = res
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.log.ErrorContext(ctx, "encode resolution result", "err", err)
		writeProblem(w, nil, http.StatusInternalServerError, ProblemInternal, "encode resolution result")
		return cachedResponse{}, false
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", rep.contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return cachedResponse{status: status, contentType: rep.contentType, body: b}, true
}

// resolutionStatus maps a resolution error to the HTTPS binding's status,
// from the one table in package did.
func resolutionStatus(err error) int { return did.ProblemFor(err).HTTPStatus() }

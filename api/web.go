package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/mux"
	"rsc.io/qr"

	"github.com/idmesh/idmesh/api/ui"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/schemas"
)

// MaxQRBytes bounds the text GET /v1/qr encodes.
const MaxQRBytes = 1024

// webRoutes are the web UI's pages and assets and the small endpoints
// only the UI needs: QR codes, the bundled schemas, an issuer's issued
// credentials.
func (s *Server) webRoutes() []route {
	return []route{
		{http.MethodGet, "/", "ui_index", s.handleUI},
		{http.MethodGet, "/ui/{asset}", "ui_asset", s.handleUI},
		{http.MethodGet, "/v1/qr", "qr", s.limitRate(s.handleQR)},
		{http.MethodGet, "/schemas", "schema_bundled_list", s.handleBundledSchemas},
		{http.MethodGet, "/schemas/{name}", "schema_bundled", s.handleBundledSchema},
		{http.MethodGet, "/v1/issuers/{name}/credentials", "issuer_credentials", s.private(s.handleIssued)},
	}
}

// uiHeaders sets the security headers of every UI response.
func uiHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ui.CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
}

// handleUI serves the explorer page at / and the UI's assets at /ui/.
func (s *Server) handleUI(w http.ResponseWriter, r *http.Request) {
	name, ok := mux.Vars(r)["asset"]
	if !ok {
		name = ui.IndexName
	}
	uiHeaders(w.Header())
	b, ct, found := ui.Asset(name)
	if !found {
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "no such UI asset")
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// handleQR answers the QR code of ?data= as SVG (error correction M).
func (s *Server) handleQR(w http.ResponseWriter, r *http.Request) {
	data := r.URL.Query().Get("data")
	switch {
	case data == "":
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "data is required: the text to encode")
		return
	case len(data) > MaxQRBytes:
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, fmt.Sprintf("data is %d bytes, over the %d a QR code here holds", len(data), MaxQRBytes))
		return
	case !utf8.ValidString(data):
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "data is not UTF-8")
		return
	}
	code, err := qr.Encode(data, qr.M)
	if err != nil {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "data cannot be encoded: "+err.Error())
		return
	}
	uiHeaders(w.Header())
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(qrSVG(code))
}

// qrSVG draws a code as SVG: one path of unit squares, a 4-module quiet
// zone around it.
func qrSVG(c *qr.Code) []byte {
	const quiet = 4
	n := c.Size + 2*quiet
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y := range c.Size {
		for x := range c.Size {
			if c.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return []byte(b.String())
}

// BundledSchema is an entry of GET /schemas.
type BundledSchema struct {
	Name        string `json:"name"`
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// handleBundledSchemas lists the JSON Schemas bundled with the node
// (schemas/).
func (s *Server) handleBundledSchemas(w http.ResponseWriter, _ *http.Request) {
	out := []BundledSchema{}
	for _, name := range schemas.Names() {
		raw, _ := schemas.Get(name)
		var m struct {
			ID          string `json:"$id"`
			Title       string `json:"title"`
			Description string `json:"description"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			continue // the bundled schemas are tested
		}
		out = append(out, BundledSchema{Name: name, ID: m.ID, Title: m.Title, Description: m.Description})
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, map[string]any{"schemas": out})
}

// handleBundledSchema serves one bundled JSON Schema by name.
func (s *Server) handleBundledSchema(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	raw, ok := schemas.Get(name)
	if !ok {
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, fmt.Sprintf("no bundled schema %.64q: the schemas are %s", name, strings.Join(schemas.Names(), ", ")))
		return
	}
	w.Header().Set("Content-Type", "application/schema+json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(raw)
}

// IssuedList is the answer of GET /v1/issuers/{name}/credentials.
type IssuedList struct {
	Issuer      string          `json:"issuer"`
	Credentials []issuer.Issued `json:"credentials"`
	// Next, when set, is the after= of the next page.
	Next string `json:"next,omitempty"`
}

// handleIssued lists the credentials an issuer issued here with status
// entries, a page at a time (?limit=, ?after=).
func (s *Server) handleIssued(w http.ResponseWriter, r *http.Request) {
	if s.issuers == nil || s.cfg.Status == nil {
		writeProblem(w, r, http.StatusNotImplemented, ProblemNotConfigured, "this node keeps no issuers")
		return
	}
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > issuer.MaxIssuedPage {
			writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, fmt.Sprintf("limit must be 1 to %d", issuer.MaxIssuedPage))
			return
		}
		limit = n
	}
	after := q.Get("after")
	if len(after) > 2048 {
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidParameter, "after is longer than 2048 bytes")
		return
	}
	iss, err := s.issuers.Find(mux.Vars(r)["name"])
	if err != nil {
		writeProblem(w, r, http.StatusNotFound, ProblemUnknownIssuer, fmt.Sprintf("%.64q is not an issuer on this node", mux.Vars(r)["name"]))
		return
	}
	list, next, err := s.cfg.Status.Issued(iss.DID, after, limit)
	if err != nil {
		s.log.ErrorContext(r.Context(), "list issued credentials", "issuer", iss.Name, "err", err)
		writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
		return
	}
	if list == nil {
		list = []issuer.Issued{}
	}
	writeJSON(w, http.StatusOK, IssuedList{Issuer: iss.DID, Credentials: list, Next: next})
}

package api

import (
	"fmt"

	"github.com/idmesh/idmesh/credential/dcql"
)

// This file is the verifier's seam to credential/dcql.

// vpCandidate is a verified presentation as the DCQL check sees it.
type vpCandidate struct {
	format string
	vct    string
	claims map[string]any // the SD-JWT VC's presented claims, or the W3C credential
	bound  bool           // holder binding was verified
}

// vpCredentialQuery is what the verifier needs of one credential query.
type vpCredentialQuery struct {
	format   string
	binding  bool // require_cryptographic_holder_binding
	multiple bool // more than one presentation may answer it
}

// dcqlQuery is a parsed DCQL query.
type dcqlQuery struct{ q *dcql.Query }

// parseVPQuery parses a relying party's DCQL query (errors wrap
// dcql.ErrInvalidQuery, dcql.ErrLimit or dcql.ErrUnsupported).
func parseVPQuery(b []byte) (*dcqlQuery, error) {
	q, err := dcql.Parse(b)
	if err != nil {
		return nil, err
	}
	return &dcqlQuery{q: q}, nil
}

// credentialQuery returns the credential query of id.
func (q *dcqlQuery) credentialQuery(id string) (vpCredentialQuery, bool) {
	cq := q.q.Credential(id)
	if cq == nil {
		return vpCredentialQuery{}, false
	}
	return vpCredentialQuery{format: cq.Format, binding: cq.RequireHolderBinding, multiple: cq.Multiple}, true
}

// check decides whether the verified presentations satisfy the query
// (errors wrap dcql.ErrNotSatisfied or dcql.ErrLimit).
func (q *dcqlQuery) check(presented map[string][]vpCandidate) error {
	in := make(map[string][]dcql.Candidate, len(presented))
	for id, cs := range presented {
		for _, c := range cs {
			if c.format == dcql.FormatSDJWT {
				in[id] = append(in[id], dcql.Candidate{Format: c.format, VCT: c.vct, HolderBinding: c.bound, Claims: c.claims})
				continue
			}
			// W3C types as written and as their contexts expand them.
			cand, err := dcql.W3CCandidate(c.format, c.claims, c.bound)
			if err != nil {
				return fmt.Errorf("%w: credential %q: %w", dcql.ErrNotSatisfied, id, err)
			}
			in[id] = append(in[id], cand)
		}
	}
	return q.q.Check(in)
}

package api

import (
	"slices"

	"github.com/idmesh/idmesh/credential/dcql"
)

// This file is the verifier's seam to credential/dcql.

// vcTypeIRI is the expanded IRI of the VerifiableCredential type (both
// data model contexts define it so), which a type_values alternative may
// name instead of the short name.
const vcTypeIRI = "https://www.w3.org/2018/credentials#VerifiableCredential"

// vpCandidate is a verified presentation as the DCQL check sees it.
type vpCandidate struct {
	format string
	vct    string
	types  []string
	claims map[string]any // the SD-JWT VC's presented claims, or the W3C credential
	bound  bool           // holder binding was verified
}

// vpCredentialQuery is what the verifier needs of one credential query.
type vpCredentialQuery struct {
	format  string
	binding bool // require_cryptographic_holder_binding
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
	return vpCredentialQuery{format: cq.Format, binding: cq.RequireHolderBinding}, true
}

// check decides whether the verified presentations satisfy the query
// (errors wrap dcql.ErrNotSatisfied or dcql.ErrLimit).
func (q *dcqlQuery) check(presented map[string][]vpCandidate) error {
	in := make(map[string][]dcql.Candidate, len(presented))
	for id, cs := range presented {
		for _, c := range cs {
			types := c.types
			if slices.Contains(types, "VerifiableCredential") {
				types = append(slices.Clone(types), vcTypeIRI)
			}
			in[id] = append(in[id], dcql.Candidate{Format: c.format, VCT: c.vct, Types: types, HolderBinding: c.bound, Claims: c.claims})
		}
	}
	return q.q.Check(in)
}

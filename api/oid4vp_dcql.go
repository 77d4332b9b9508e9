package api

import (
	"encoding/json"
	"errors"
	"fmt"
)

// This file is the seam to credential/dcql. TEMPORARY: a minimal reading
// until the package is merged.

// vpCandidate is a presented credential as the DCQL check sees it.
type vpCandidate struct {
	format string
	vct    string
	types  []string
	claims map[string]any
	bound  bool
}

// vpCredentialQuery is what the verifier needs of one credential query.
type vpCredentialQuery struct {
	format  string
	binding bool
}

// dcqlQuery is a parsed DCQL query.
type dcqlQuery struct {
	byID map[string]vpCredentialQuery
}

func parseVPQuery(b []byte) (*dcqlQuery, error) {
	var q struct {
		Credentials []struct {
			ID     string `json:"id"`
			Format string `json:"format"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal(b, &q); err != nil || len(q.Credentials) == 0 {
		return nil, errors.New("invalid DCQL query")
	}
	out := &dcqlQuery{byID: map[string]vpCredentialQuery{}}
	for _, c := range q.Credentials {
		out.byID[c.ID] = vpCredentialQuery{format: c.Format, binding: true}
	}
	return out, nil
}

func (q *dcqlQuery) credentialQuery(id string) (vpCredentialQuery, bool) {
	c, ok := q.byID[id]
	return c, ok
}

func (q *dcqlQuery) check(presented map[string][]vpCandidate) error {
	for id := range q.byID {
		if len(presented[id]) == 0 {
			return fmt.Errorf("credential query %s not answered", id)
		}
	}
	return nil
}

package api

import (
	"mime"
	"sort"
	"strconv"
	"strings"

	"github.com/idmesh/idmesh/did"
)

// Representations the resolver endpoint can produce.
const (
	// profileResolution is the older way to ask for a resolution result.
	profileResolution = "https://w3id.org/did-resolution"
	mediaLDJSON       = "application/ld+json"
)

// representation is what a request's Accept header selects.
type representation struct {
	contentType string // the Content-Type to answer with
	result      bool   // the whole resolution result, not the bare document
}

// offers in order of preference when the client's preferences tie.
var offers = []struct {
	typ, profile string
	rep          representation
}{
	{did.MediaTypeDIDResolution, "", representation{did.MediaTypeDIDResolution, true}},
	{mediaLDJSON, profileResolution, representation{mediaLDJSON + `;profile="` + profileResolution + `"`, true}},
	{did.MediaTypeDIDLDJSON, "", representation{did.MediaTypeDIDLDJSON, false}},
	{did.MediaTypeDIDJSON, "", representation{did.MediaTypeDIDJSON, false}},
	{did.MediaTypeDID, "", representation{did.MediaTypeDID, false}},
}

type mediaRange struct {
	typ, sub, profile string
	q                 float64
	order             int
}

// negotiate picks the representation for an Accept header. No header,
// or */*, selects the resolution result. ok is false when nothing the
// client accepts can be produced.
func negotiate(accept string) (representation, bool) {
	if strings.TrimSpace(accept) == "" {
		return offers[0].rep, true
	}
	var ranges []mediaRange
	var refused []mediaRange // q=0: "not acceptable", even through a wildcard
	for i, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		typ, sub, _ := strings.Cut(mt, "/")
		q := 1.0
		if s, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(s, 64); err == nil && v >= 0 && v <= 1 {
				q = v
			}
		}
		r := mediaRange{typ: typ, sub: sub, profile: params["profile"], q: q, order: i}
		if q == 0 {
			refused = append(refused, r)
			continue
		}
		ranges = append(ranges, r)
	}
	// Most specific and most preferred first.
	sort.SliceStable(ranges, func(i, j int) bool {
		if ranges[i].q != ranges[j].q {
			return ranges[i].q > ranges[j].q
		}
		return specificity(ranges[i]) > specificity(ranges[j])
	})
	for _, r := range ranges {
		for _, o := range offers {
			if matches(r, o.typ, o.profile) && !isRefused(refused, r, o.typ, o.profile) {
				return o.rep, true
			}
		}
	}
	return representation{}, false
}

// isRefused reports whether an offer is refused with q=0 by a range at
// least as specific as the one that matched it.
func isRefused(refused []mediaRange, matched mediaRange, typ, profile string) bool {
	for _, q0 := range refused {
		if matches(q0, typ, profile) && specificity(q0) >= specificity(matched) {
			return true
		}
	}
	return false
}

func specificity(r mediaRange) int {
	switch {
	case r.typ == "*":
		return 0
	case r.sub == "*":
		return 1
	case r.profile != "":
		return 3
	}
	return 2
}

func matches(r mediaRange, typ, profile string) bool {
	t, s, _ := strings.Cut(typ, "/")
	if r.typ == "*" {
		return r.sub == "*" && profile == ""
	}
	if r.typ != t {
		return false
	}
	if r.sub == "*" {
		return profile == ""
	}
	if r.sub != s {
		return false
	}
	// application/ld+json is only offered with the resolution profile.
	if profile != "" {
		return r.profile == profile
	}
	return r.profile == ""
}

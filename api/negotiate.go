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

// offer is a representation an endpoint can produce, and the media range
// that selects it.
type offer struct {
	typ, profile string
	rep          representation
}

// offers in order of preference when the client's preferences tie.
var offers = []offer{
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
func negotiate(accept string) (representation, bool) { return negotiateFrom(accept, offers) }

// negotiateFrom picks one of offers for an Accept header: the first
// offer when there is no header, else the offer matched by the most
// preferred, most specific media range, earlier offers winning ties.
func negotiateFrom(accept string, offers []offer) (representation, bool) {
	if strings.TrimSpace(accept) == "" {
		return offers[0].rep, true
	}
	ranges, refused := parseAccept(accept)
	for _, r := range ranges {
		for _, o := range offers {
			if matches(r, o.typ, o.profile) && !isRefused(refused, r, o.typ, o.profile) {
				return o.rep, true
			}
		}
	}
	return representation{}, false
}

// parseAccept returns the media ranges of an Accept header with q > 0,
// most preferred and most specific first, and those with q = 0.
// Malformed ranges are skipped.
func parseAccept(accept string) (ranges, refused []mediaRange) {
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
	return ranges, refused
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

// derefOffers are the representations of a dereferenced DID URL (a
// verification method, a service or a document), in order of preference
// when the client's preferences tie: the whole dereferencing result
// first, so that no Accept, */* and application/* select it.
var derefOffers = []offer{
	{did.MediaTypeDIDURLDereferencing, "", representation{did.MediaTypeDIDURLDereferencing, true}},
	{did.MediaTypeDIDLDJSON, "", representation{did.MediaTypeDIDLDJSON, false}},
	{did.MediaTypeDIDJSON, "", representation{did.MediaTypeDIDJSON, false}},
	{mediaLDJSON, "", representation{mediaLDJSON, false}},
	{mediaJSON, "", representation{mediaJSON, false}},
}

// wantsDereferencingResult reports whether an Accept header asks for the
// dereferencing result of a service URL rather than the redirect: it
// names application/did-url-dereferencing with a q above 0 and no other
// media range (wildcards included) is preferred to it.
func wantsDereferencingResult(accept string) bool {
	ranges, _ := parseAccept(accept)
	for _, r := range ranges { // most preferred first
		if r.q != ranges[0].q {
			return false
		}
		if r.typ+"/"+r.sub == did.MediaTypeDIDURLDereferencing && r.profile == "" {
			return true
		}
	}
	return false
}

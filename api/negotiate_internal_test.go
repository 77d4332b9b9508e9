package api

import (
	"testing"

	"github.com/idmesh/idmesh/did"
)

func TestNegotiate(t *testing.T) {
	const ldProfile = `application/ld+json;profile="https://w3id.org/did-resolution"`
	result := representation{did.MediaTypeDIDResolution, true}
	ldResult := representation{ldProfile, true}
	ldjson := representation{did.MediaTypeDIDLDJSON, false}
	djson := representation{did.MediaTypeDIDJSON, false}
	bare := representation{did.MediaTypeDID, false}

	tests := []struct {
		name   string
		accept string
		want   representation
		ok     bool
	}{
		// No preference.
		{"empty", "", result, true},
		{"blank", "   ", result, true},
		{"any", "*/*", result, true},
		{"any application type", "application/*", result, true},

		// One exact type.
		{"resolution", "application/did-resolution", result, true},
		{"did+ld+json", "application/did+ld+json", ldjson, true},
		{"did+json", "application/did+json", djson, true},
		{"did", "application/did", bare, true},
		{"case-insensitive type", "Application/DID+JSON", djson, true},
		{"whitespace around entries", "  application/did+json  ,  text/html ", djson, true},

		// The profile parameter.
		{"ld+json with the resolution profile", ldProfile, ldResult, true},
		{"unquoted URI profile is malformed", "application/ld+json; profile=https://w3id.org/did-resolution", representation{}, false},
		{"ld+json without a profile", "application/ld+json", representation{}, false},
		{"ld+json with another profile", `application/ld+json;profile="https://example.com/p"`, representation{}, false},
		{"wildcard does not select the profiled offer", `application/ld+json;profile="https://example.com/p", */*;q=0.1`, result, true},

		// Ordering by q, then specificity, then the client's order.
		{"higher q wins", "application/did+json;q=0.5, application/did+ld+json;q=0.9", ldjson, true},
		{"higher q wins over order", "application/did;q=0.2, application/did+json;q=0.3", djson, true},
		{"default q is 1", "application/did+json;q=0.99, application/did", bare, true},
		{"tie keeps the client's order", "application/did+json, application/did+ld+json", djson, true},
		{"specific beats */* at equal q", "*/*, application/did+json", djson, true},
		{"specific beats application/* at equal q", "application/*, application/did", bare, true},
		{"profiled beats plain at equal q", "application/did+json, " + ldProfile, ldResult, true},
		{"wildcard with higher q beats a specific type", "application/did+json;q=0.5, */*", result, true},
		{"unsupported first, wildcard as fallback", "text/html, */*;q=0.1", result, true},
		{"unsupported first, supported next", "text/html, application/xhtml+xml, application/did+json;q=0.8", djson, true},

		// Unsupported.
		{"html", "text/html", representation{}, false},
		{"text wildcard", "text/*", representation{}, false},
		{"subtype wildcard only", "*/json", representation{}, false},

		// q=0 excludes.
		{"q=0 only", "application/did+json;q=0", representation{}, false},
		{"q=0.0 only", "application/did+json;q=0.0", representation{}, false},
		{"*/* with q=0", "*/*;q=0", representation{}, false},
		{"q=0 entry skipped", "application/did+json;q=0, application/did;q=0.5", bare, true},

		// Malformed entries are skipped.
		{"lone slash skipped", "/, application/did", bare, true},
		{"bad parameter skipped", "application/did+json;=x, application/did", bare, true},
		{"only commas", ",,,", representation{}, false},
		{"malformed q counts as 1", "application/did+json;q=abc, application/did;q=0.5", djson, true},
		{"out of range q counts as 1", "application/did+json;q=7, application/did;q=0.5", djson, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := negotiate(tt.accept)
			if ok != tt.ok || got != tt.want {
				t.Fatalf("negotiate(%q) = %+v, %v; want %+v, %v", tt.accept, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNegotiateQZeroExcludesWildcardMatch(t *testing.T) {
	tests := []struct {
		accept string
		want   representation
	}{
		{"application/did-resolution;q=0, */*", representation{did.MediaTypeDIDLDJSON, false}},
		{"application/did-resolution;q=0, application/*", representation{did.MediaTypeDIDLDJSON, false}},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			got, ok := negotiate(tt.accept)
			if !ok || got != tt.want {
				t.Fatalf("negotiate(%q) = %+v, %v; want %+v", tt.accept, got, ok, tt.want)
			}
		})
	}
}

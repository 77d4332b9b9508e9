package wallet

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/idmesh/idmesh/credential/sdjwt"
	"github.com/idmesh/idmesh/did/strictjson"
)

// Contents is what a credential says, decoded for display. Nothing in
// it is verified.
type Contents struct {
	// Header is the protected header of a JWT or of an SD-JWT's
	// issuer-signed JWT; nil for ldp_vc.
	Header map[string]any `json:"header,omitempty"`
	// Claims are the JWT's claims; for dc+sd-jwt, the claims with every
	// Disclosure put in its place (the holder's own view: all of them),
	// "_sd" and "_sd_alg" removed; for ldp_vc, the credential.
	Claims map[string]any `json:"claims"`
	// Disclosures lists an SD-JWT's Disclosures as [name, value] (or
	// [value] for an array element), in the order issued.
	Disclosures [][]any `json:"disclosures,omitempty"`
}

// Decode returns what c says. It does not verify signatures or
// digests: a Disclosure whose digest the credential does not hold is
// listed but placed nowhere.
func Decode(c Credential) (Contents, error) {
	switch c.Format {
	case FormatLDPVC:
		m, err := strictjson.Object([]byte(c.Raw), MaxCredentialBytes)
		if err != nil {
			return Contents{}, fmt.Errorf("decode credential: %w: %w", ErrMalformed, err)
		}
		return Contents{Claims: m}, nil
	case FormatJWTVCJSON, FormatVCJWT:
		h, claims, err := decodeJWT(c.Raw)
		if err != nil {
			return Contents{}, fmt.Errorf("decode credential: %w", err)
		}
		return Contents{Header: h, Claims: claims}, nil
	case FormatSDJWT:
		sd, err := sdjwt.Parse(c.Raw, sdjwt.Limits{MaxBytes: MaxCredentialBytes})
		if err != nil {
			return Contents{}, fmt.Errorf("decode credential: %w: %w", ErrMalformed, err)
		}
		h, claims, err := decodeJWT(sd.JWT)
		if err != nil {
			return Contents{}, fmt.Errorf("decode credential: %w", err)
		}
		byDigest := make(map[string]sdjwt.Disclosure, len(sd.Disclosures))
		out := Contents{Header: h}
		for _, d := range sd.Disclosures {
			byDigest[d.Digest] = d
			if d.IsArrayElement {
				out.Disclosures = append(out.Disclosures, []any{d.Value})
			} else {
				out.Disclosures = append(out.Disclosures, []any{d.Name, d.Value})
			}
		}
		used := map[string]bool{}
		v := disclose(claims, byDigest, used, 0, "", nil)
		out.Claims, _ = v.(map[string]any)
		return out, nil
	}
	return Contents{}, fmt.Errorf("decode credential: %w: format %q", ErrUnknownFormat, c.Format)
}

// disclose puts each Disclosure of byDigest where its digest is, once,
// and drops the "_sd" and "_sd_alg" members and undisclosed array
// elements. The depth bound stops a cycle of Disclosures. at is the
// JSON pointer of v; when placed is not nil, the pointer of each claim
// a Disclosure put in place is appended to it.
func disclose(v any, byDigest map[string]sdjwt.Disclosure, used map[string]bool, depth int, at string, placed *[]string) any {
	if depth > strictjson.MaxDepth {
		return v
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if k == "_sd" || k == "_sd_alg" {
				continue
			}
			out[k] = disclose(x, byDigest, used, depth+1, at+"/"+escapePointer(k), placed)
		}
		for _, dg := range stringsOf(t["_sd"]) {
			d, ok := byDigest[dg]
			if !ok || used[dg] || d.IsArrayElement {
				continue
			}
			used[dg] = true
			if _, clash := out[d.Name]; !clash {
				p := at + "/" + escapePointer(d.Name)
				if placed != nil {
					*placed = append(*placed, p)
				}
				out[d.Name] = disclose(d.Value, byDigest, used, depth+1, p, placed)
			}
		}
		return out
	case []any:
		out := make([]any, 0, len(t))
		for _, x := range t {
			if m, ok := x.(map[string]any); ok && len(m) == 1 {
				if dg, ok := m["..."].(string); ok {
					d, ok := byDigest[dg]
					if ok && !used[dg] && d.IsArrayElement {
						used[dg] = true
						p := at + "/" + strconv.Itoa(len(out))
						if placed != nil {
							*placed = append(*placed, p)
						}
						out = append(out, disclose(d.Value, byDigest, used, depth+1, p, placed))
					}
					continue
				}
			}
			out = append(out, disclose(x, byDigest, used, depth+1, at+"/"+strconv.Itoa(len(out)), placed))
		}
		return out
	}
	return v
}

// escapePointer escapes a member name as a JSON pointer token (RFC
// 6901): "~" as "~0", "/" as "~1".
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// sdClaims returns an SD-JWT's claims with every Disclosure in place
// ("_sd" and "_sd_alg" removed) and the JSON pointers of the claims the
// Disclosures put there: what is selectively disclosable. Nothing is
// verified.
func sdClaims(raw string) (map[string]any, []string, error) {
	sd, err := sdjwt.Parse(raw, sdjwt.Limits{MaxBytes: MaxCredentialBytes})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	_, claims, err := decodeJWT(sd.JWT)
	if err != nil {
		return nil, nil, err
	}
	byDigest := make(map[string]sdjwt.Disclosure, len(sd.Disclosures))
	for _, d := range sd.Disclosures {
		byDigest[d.Digest] = d
	}
	placed := []string{}
	v := disclose(claims, byDigest, map[string]bool{}, 0, "", &placed)
	m, _ := v.(map[string]any)
	return m, placed, nil
}

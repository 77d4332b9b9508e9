package dcql

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/idmesh/idmesh/did/strictjson"
)

// Credential format identifiers (OpenID4VP Appendix B).
const (
	// FormatSDJWT is an IETF SD-JWT VC (meta: vct_values).
	FormatSDJWT = "dc+sd-jwt"
	// FormatJWTVC is a W3C VC secured as a JWT (meta: type_values).
	FormatJWTVC = "jwt_vc_json"
	// FormatLDPVC is a W3C VC secured with Data Integrity (meta:
	// type_values).
	FormatLDPVC = "ldp_vc"
	// FormatMDoc is an ISO mdoc (meta: doctype_value). Queries for it
	// parse, but no candidate ever matches them.
	FormatMDoc = "mso_mdoc"
)

// Bounds of a query. Parse refuses a query beyond any of them with
// ErrInvalidQuery and ErrLimit.
const (
	// MaxQueryBytes bounds the query's JSON text.
	MaxQueryBytes = 64 << 10
	// MaxCredentials bounds the credential queries of a query.
	MaxCredentials = 32
	// MaxClaims bounds the claims queries of one credential query.
	MaxClaims = 64
	// MaxClaimSets bounds the claim_sets options of one credential query.
	MaxClaimSets = 32
	// MaxCredentialSets bounds the credential_sets of a query.
	MaxCredentialSets = 32
	// MaxOptions bounds the options of one credential set.
	MaxOptions = 32
	// MaxPath bounds the elements of a claims path pointer.
	MaxPath = 16
	// MaxValues bounds the values of one claims query, and the
	// vct_values and type_values (and each of its alternatives) of a
	// credential query.
	MaxValues = 64
	// MaxIDBytes bounds credential query and claim identifiers.
	MaxIDBytes = 64
	// MaxStringBytes bounds the format identifier, path strings, values
	// and type identifiers.
	MaxStringBytes = 1024
)

// Query is a parsed DCQL query (OpenID4VP section 6). Parse fills every
// default, so the fields are what the query means.
type Query struct {
	// Credentials are the credential queries, in the query's order.
	Credentials []CredentialQuery
	// CredentialSets are the credential set queries; nil when the query
	// has none (then every credential query is required).
	CredentialSets []CredentialSet

	raw []byte
}

// CredentialQuery asks for one credential (or several, with Multiple).
type CredentialQuery struct {
	// ID names the query in credential_sets and in the response.
	ID string
	// Format is the requested credential format identifier.
	Format string
	// Multiple allows more than one presentation for the query
	// (default false).
	Multiple bool
	// RequireHolderBinding is require_cryptographic_holder_binding
	// (default true).
	RequireHolderBinding bool
	// Meta is the meta object as the query has it (numbers json.Number).
	Meta map[string]any
	// VCTValues is meta.vct_values for FormatSDJWT.
	VCTValues []string
	// TypeValues is meta.type_values for FormatJWTVC and FormatLDPVC:
	// alternatives, each a set of types that must all be present.
	TypeValues [][]string
	// DoctypeValue is meta.doctype_value for FormatMDoc.
	DoctypeValue string
	// Claims are the claims queries; nil when the query has none (then
	// no selectively disclosable claim is requested).
	Claims []ClaimQuery
	// ClaimSets are the claim_sets options, claim IDs in the verifier's
	// order of preference; nil when absent.
	ClaimSets [][]string
}

// ClaimQuery asks for one claim (or several, through a nil path element).
type ClaimQuery struct {
	// ID names the claim in ClaimSets; "" when the query gives none.
	ID string
	// Path is the claims path pointer.
	Path Path
	// Values, when not nil, are the accepted values: string, int64 or
	// bool.
	Values []any
	// IntentToRetain is the mso_mdoc intent_to_retain, nil when absent.
	IntentToRetain *bool
}

// CredentialSet is a credential set query: options, each a list of
// credential query IDs that together satisfy it.
type CredentialSet struct {
	// Options are lists of credential query IDs, in order of preference.
	Options [][]string
	// Required is false for a set that may be left out (default true).
	Required bool
}

// Bytes returns a copy of the JSON text the query was parsed from.
func (q *Query) Bytes() []byte { return append([]byte(nil), q.raw...) }

// MarshalJSON returns the JSON text the query was parsed from, so that a
// Query embeds in a request object as it came.
func (q *Query) MarshalJSON() ([]byte, error) {
	if q.raw == nil {
		return nil, fmt.Errorf("marshal DCQL query: %w: not made by Parse", ErrInvalidQuery)
	}
	return q.Bytes(), nil
}

// UnmarshalJSON parses b with Parse, so that a Query field of a request
// object decodes with every rule and bound of Parse.
func (q *Query) UnmarshalJSON(b []byte) error {
	p, err := Parse(b)
	if err != nil {
		return err
	}
	*q = *p
	return nil
}

// Credential returns the credential query with the given ID, or nil.
func (q *Query) Credential(id string) *CredentialQuery {
	for i := range q.Credentials {
		if q.Credentials[i].ID == id {
			return &q.Credentials[i]
		}
	}
	return nil
}

// Parse reads a DCQL query: one JSON object of at most MaxQueryBytes,
// with no repeated member names and no trailing data, that follows every
// rule of OpenID4VP sections 6 and 7 and the meta parameters of the
// formats of Appendix B. Members the specification does not define are
// ignored, as section 6 requires. A query with trusted_authorities is
// refused with ErrUnsupported (see the package documentation). Errors
// wrap ErrInvalidQuery.
func Parse(b []byte) (*Query, error) {
	if len(b) > MaxQueryBytes {
		return nil, invalid("%w: %d bytes, at most %d", ErrLimit, len(b), MaxQueryBytes)
	}
	top, err := strictjson.Object(b, MaxQueryBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidQuery, err)
	}
	q := &Query{raw: append([]byte(nil), b...)}
	creds, err := array(top, "credentials", "", true, MaxCredentials)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for i, v := range creds {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, invalid("credentials[%d] is not an object", i)
		}
		cq, err := parseCredential(obj, i)
		if err != nil {
			return nil, err
		}
		if ids[cq.ID] {
			return nil, invalid("credentials[%d]: id %q appears more than once", i, cq.ID)
		}
		ids[cq.ID] = true
		q.Credentials = append(q.Credentials, cq)
	}
	if _, present := top["credential_sets"]; present {
		sets, err := array(top, "credential_sets", "", true, MaxCredentialSets)
		if err != nil {
			return nil, err
		}
		for i, v := range sets {
			cs, err := parseSet(v, i, ids)
			if err != nil {
				return nil, err
			}
			q.CredentialSets = append(q.CredentialSets, cs)
		}
	}
	return q, nil
}

func parseCredential(obj map[string]any, i int) (CredentialQuery, error) {
	cq := CredentialQuery{RequireHolderBinding: true}
	where := fmt.Sprintf("credentials[%d]", i)
	var err error
	if cq.ID, err = identifier(obj, "id", where); err != nil {
		return cq, err
	}
	where = fmt.Sprintf("credential %q", cq.ID)
	if cq.Format, err = str(obj, "format", where); err != nil {
		return cq, err
	}
	if cq.Format == "" {
		return cq, invalid("%s: format is empty", where)
	}
	if cq.Multiple, err = boolean(obj, "multiple", false, where); err != nil {
		return cq, err
	}
	if cq.RequireHolderBinding, err = boolean(obj, "require_cryptographic_holder_binding", true, where); err != nil {
		return cq, err
	}
	meta, ok := obj["meta"]
	if !ok {
		return cq, invalid("%s: meta is required", where)
	}
	if cq.Meta, ok = meta.(map[string]any); !ok {
		return cq, invalid("%s: meta is not an object", where)
	}
	if err := parseMeta(&cq, where); err != nil {
		return cq, err
	}
	if ta, ok := obj["trusted_authorities"]; ok {
		if err := checkTrustedAuthorities(ta, where); err != nil {
			return cq, err
		}
		return cq, fmt.Errorf("%w: %s: trusted_authorities: %w (idmesh credentials carry no X.509 chain nor federation entity that could match)", ErrInvalidQuery, where, ErrUnsupported)
	}
	if _, present := obj["claims"]; present {
		claims, err := array(obj, "claims", where, true, MaxClaims)
		if err != nil {
			return cq, err
		}
		claimIDs := map[string]bool{}
		for j, v := range claims {
			c, err := parseClaim(v, j, cq.Format, where)
			if err != nil {
				return cq, err
			}
			if c.ID != "" {
				if claimIDs[c.ID] {
					return cq, invalid("%s: claim id %q appears more than once", where, c.ID)
				}
				claimIDs[c.ID] = true
			}
			for _, prev := range cq.Claims {
				if prev.Path.equal(c.Path) {
					return cq, invalid("%s: claims[%d]: path %s appears more than once", where, j, c.Path)
				}
			}
			cq.Claims = append(cq.Claims, c)
		}
	}
	if _, present := obj["claim_sets"]; present {
		if cq.Claims == nil {
			return cq, invalid("%s: claim_sets without claims", where)
		}
		sets, err := array(obj, "claim_sets", where, true, MaxClaimSets)
		if err != nil {
			return cq, err
		}
		for j, c := range cq.Claims {
			if c.ID == "" {
				return cq, invalid("%s: claims[%d] has no id, which claim_sets requires", where, j)
			}
		}
		known := map[string]bool{}
		for _, c := range cq.Claims {
			known[c.ID] = true
		}
		for j, v := range sets {
			opt, err := idList(v, fmt.Sprintf("%s: claim_sets[%d]", where, j), MaxClaims, known, "claim")
			if err != nil {
				return cq, err
			}
			cq.ClaimSets = append(cq.ClaimSets, opt)
		}
	}
	return cq, nil
}

func parseMeta(cq *CredentialQuery, where string) error {
	switch cq.Format {
	case FormatSDJWT:
		vs, err := array(cq.Meta, "vct_values", where+": meta", true, MaxValues)
		if err != nil {
			return err
		}
		for j, v := range vs {
			s, ok := v.(string)
			if !ok || s == "" || len(s) > MaxStringBytes {
				return invalid("%s: meta.vct_values[%d] is not a non-empty string of at most %d bytes", where, j, MaxStringBytes)
			}
			cq.VCTValues = append(cq.VCTValues, s)
		}
	case FormatJWTVC, FormatLDPVC:
		alts, err := array(cq.Meta, "type_values", where+": meta", true, MaxValues)
		if err != nil {
			return err
		}
		for j, a := range alts {
			types, ok := a.([]any)
			if !ok || len(types) == 0 {
				return invalid("%s: meta.type_values[%d] is not a non-empty array", where, j)
			}
			if len(types) > MaxValues {
				return invalid("%w: %s: meta.type_values[%d] has %d types, at most %d", ErrLimit, where, j, len(types), MaxValues)
			}
			var alt []string
			for k, t := range types {
				s, ok := t.(string)
				if !ok || s == "" || len(s) > MaxStringBytes {
					return invalid("%s: meta.type_values[%d][%d] is not a non-empty string of at most %d bytes", where, j, k, MaxStringBytes)
				}
				alt = append(alt, s)
			}
			cq.TypeValues = append(cq.TypeValues, alt)
		}
	case FormatMDoc:
		s, ok := cq.Meta["doctype_value"].(string)
		if !ok || s == "" {
			return invalid("%s: meta.doctype_value is required, a non-empty string", where)
		}
		cq.DoctypeValue = s
	}
	return nil
}

func checkTrustedAuthorities(v any, where string) error {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return invalid("%s: trusted_authorities is not a non-empty array", where)
	}
	for i, e := range arr {
		obj, ok := e.(map[string]any)
		if !ok {
			return invalid("%s: trusted_authorities[%d] is not an object", where, i)
		}
		if t, ok := obj["type"].(string); !ok || t == "" {
			return invalid("%s: trusted_authorities[%d].type is not a non-empty string", where, i)
		}
		vs, ok := obj["values"].([]any)
		if !ok || len(vs) == 0 {
			return invalid("%s: trusted_authorities[%d].values is not a non-empty array", where, i)
		}
		for j, s := range vs {
			if _, ok := s.(string); !ok {
				return invalid("%s: trusted_authorities[%d].values[%d] is not a string", where, i, j)
			}
		}
	}
	return nil
}

func parseClaim(v any, j int, format, cred string) (ClaimQuery, error) {
	var c ClaimQuery
	where := fmt.Sprintf("%s: claims[%d]", cred, j)
	obj, ok := v.(map[string]any)
	if !ok {
		return c, invalid("%s is not an object", where)
	}
	if _, ok := obj["id"]; ok {
		id, err := identifier(obj, "id", where)
		if err != nil {
			return c, err
		}
		c.ID = id
	}
	raw, ok := obj["path"]
	if !ok {
		return c, invalid("%s: path is required", where)
	}
	p, err := parsePath(raw, where)
	if err != nil {
		return c, err
	}
	c.Path = p
	if format == FormatMDoc {
		if len(p) != 2 || !isString(p[0]) || !isString(p[1]) {
			return c, invalid("%s: an mso_mdoc path is two strings (namespace, element)", where)
		}
		if _, ok := obj["intent_to_retain"]; ok {
			b, err := boolean(obj, "intent_to_retain", false, where)
			if err != nil {
				return c, err
			}
			c.IntentToRetain = &b
		}
	}
	if _, ok := obj["values"]; ok {
		vs, err := array(obj, "values", where, true, MaxValues)
		if err != nil {
			return c, err
		}
		for k, v := range vs {
			val, err := parseValue(v)
			if err != nil {
				return c, invalid("%s: values[%d]: %v", where, k, err)
			}
			c.Values = append(c.Values, val)
		}
	}
	return c, nil
}

func isString(v any) bool { _, ok := v.(string); return ok }

// parsePath reads a claims path pointer: a non-empty array of strings,
// non-negative integers and nulls.
func parsePath(raw any, where string) (Path, error) {
	arr, ok := raw.([]any)
	if !ok || len(arr) == 0 {
		return nil, invalid("%s: path is not a non-empty array", where)
	}
	if len(arr) > MaxPath {
		return nil, invalid("%w: %s: path has %d elements, at most %d", ErrLimit, where, len(arr), MaxPath)
	}
	p := make(Path, len(arr))
	for i, e := range arr {
		switch e := e.(type) {
		case string:
			if len(e) > MaxStringBytes {
				return nil, invalid("%w: %s: path[%d] is longer than %d bytes", ErrLimit, where, i, MaxStringBytes)
			}
			p[i] = e
		case nil:
			p[i] = nil
		case json.Number:
			n, ok := index(string(e))
			if !ok {
				return nil, invalid("%s: path[%d] %s is not a non-negative integer", where, i, e)
			}
			p[i] = n
		default:
			return nil, invalid("%s: path[%d] is not a string, a non-negative integer or null", where, i)
		}
	}
	return p, nil
}

// index reads digits (no sign, fraction or exponent) as an array index.
func index(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// parseValue reads an element of values: a string, an integer (as int64)
// or a boolean.
func parseValue(v any) (any, error) {
	switch v := v.(type) {
	case string:
		if len(v) > MaxStringBytes {
			return nil, fmt.Errorf("%w: a string longer than %d bytes", ErrLimit, MaxStringBytes)
		}
		return v, nil
	case bool:
		return v, nil
	case json.Number:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s is not an integer in the signed 64-bit range", v)
		}
		return n, nil
	}
	return nil, errors.New("not a string, an integer or a boolean")
}

func parseSet(v any, i int, ids map[string]bool) (CredentialSet, error) {
	cs := CredentialSet{Required: true}
	where := fmt.Sprintf("credential_sets[%d]", i)
	obj, ok := v.(map[string]any)
	if !ok {
		return cs, invalid("%s is not an object", where)
	}
	opts, err := array(obj, "options", where, true, MaxOptions)
	if err != nil {
		return cs, err
	}
	for j, o := range opts {
		opt, err := idList(o, fmt.Sprintf("%s: options[%d]", where, j), MaxCredentials, ids, "credential query")
		if err != nil {
			return cs, err
		}
		cs.Options = append(cs.Options, opt)
	}
	if cs.Required, err = boolean(obj, "required", true, where); err != nil {
		return cs, err
	}
	return cs, nil
}

// idList reads a non-empty array of at most max identifiers, each one of
// known.
func idList(v any, where string, max int, known map[string]bool, what string) ([]string, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, invalid("%s is not a non-empty array", where)
	}
	if len(arr) > max {
		return nil, invalid("%w: %s has %d identifiers, at most %d", ErrLimit, where, len(arr), max)
	}
	out := make([]string, len(arr))
	for k, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, invalid("%s[%d] is not a string", where, k)
		}
		if !known[s] {
			return nil, invalid("%s[%d]: no %s has id %q", where, k, what, trunc(s))
		}
		out[k] = s
	}
	return out, nil
}

// array reads obj[name] as an array of at most max elements; non-empty
// when nonEmpty. A missing member is an error; where prefixes messages.
func array(obj map[string]any, name, where string, nonEmpty bool, max int) ([]any, error) {
	label := name
	if where != "" {
		label = where + ": " + name
	}
	v, ok := obj[name]
	if !ok {
		return nil, invalid("%s is required", label)
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, invalid("%s is not an array", label)
	}
	if nonEmpty && len(arr) == 0 {
		return nil, invalid("%s is empty", label)
	}
	if len(arr) > max {
		return nil, invalid("%w: %s has %d elements, at most %d", ErrLimit, label, len(arr), max)
	}
	return arr, nil
}

func str(obj map[string]any, name, where string) (string, error) {
	v, ok := obj[name]
	if !ok {
		return "", invalid("%s: %s is required", where, name)
	}
	s, ok := v.(string)
	if !ok {
		return "", invalid("%s: %s is not a string", where, name)
	}
	if len(s) > MaxStringBytes {
		return "", invalid("%w: %s: %s is longer than %d bytes", ErrLimit, where, name, MaxStringBytes)
	}
	return s, nil
}

// identifier reads obj[name] as an id: non-empty, at most MaxIDBytes,
// of ASCII letters, digits, "_" and "-".
func identifier(obj map[string]any, name, where string) (string, error) {
	s, err := str(obj, name, where)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", invalid("%s: %s is empty", where, name)
	}
	if len(s) > MaxIDBytes {
		return "", invalid("%w: %s: %s is longer than %d bytes", ErrLimit, where, name, MaxIDBytes)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return "", invalid("%s: %s %q has a character other than A-Z, a-z, 0-9, _ and -", where, name, s)
		}
	}
	return s, nil
}

func boolean(obj map[string]any, name string, def bool, where string) (bool, error) {
	v, ok := obj[name]
	if !ok {
		return def, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, invalid("%s: %s is not a boolean", where, name)
	}
	return b, nil
}

// trunc shortens s for an error message.
func trunc(s string) string {
	if len(s) > MaxIDBytes {
		return s[:MaxIDBytes] + "..."
	}
	return s
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidQuery}, args...)...)
}

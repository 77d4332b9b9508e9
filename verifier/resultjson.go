package verifier

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/idmesh/idmesh/did/strictjson"
)

// maxAppendDepth is how deep AppendJSON walks a document itself; deeper
// values (which only a cyclic or hand-built document has: decoded ones
// are bounded far below) go to encoding/json, which reports a cycle.
const maxAppendDepth = 900

// AppendJSON appends r's JSON encoding to dst: byte for byte what
// json.Marshal(r) gives, and an error exactly when it fails, without
// encoding/json's reflection for the result's own fields and the usual
// values of its document (objects, arrays, strings, json.Number, booleans,
// null). Other values (float64 numbers, SD-JWT claims, anything a caller put in a
// document by hand) and strings that need escaping are encoded by
// encoding/json, one value at a time, so the output stays the same. A
// Document that is a JWT payload as the verifier decoded it, whose text is
// what encoding/json writes for it (as idmesh issues them), is written as
// that text: a caller that changes a member of such a Document in place
// must clear or replace the map (a new map, or one with more or fewer
// members, is encoded).
func (r *Result) AppendJSON(dst []byte) ([]byte, error) {
	return r.appendJSON(dst, 0)
}

func (r *Result) appendJSON(b []byte, depth int) ([]byte, error) {
	if depth > maxAppendDepth {
		// Deeper than any verifier makes (one level): encoding/json
		// reports a cycle as an error instead of recursing without end
		// (security review R1).
		return appendMarshal(b, r)
	}
	var err error
	b = append(b, `{"verified":`...)
	b = strconv.AppendBool(b, r.Verified)
	b = append(b, `,"checks":`...)
	if r.Checks == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, c := range r.Checks {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendString(b, c); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	b = append(b, `,"results":`...)
	if r.Results == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, c := range r.Results {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"check":`...)
			if b, err = appendString(b, c.Check); err != nil {
				return nil, err
			}
			b = append(b, `,"verified":`...)
			b = strconv.AppendBool(b, c.Verified)
			if c.Problem != nil {
				b = append(b, `,"problem":`...)
				if b, err = appendProblem(b, c.Problem); err != nil {
					return nil, err
				}
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	for _, list := range []struct {
		name string
		ps   []ProblemDetail
	}{{`,"warnings":`, r.Warnings}, {`,"errors":`, r.Errors}, {`,"problemDetails":`, r.ProblemDetails}} {
		b = append(b, list.name...)
		if list.ps == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for i := range list.ps {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendProblem(b, &list.ps[i]); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	for _, m := range []struct{ name, v string }{{`,"format":`, r.Format}, {`,"issuer":`, r.Issuer}, {`,"holder":`, r.Holder}} {
		if m.v != "" {
			b = append(b, m.name...)
			if b, err = appendString(b, m.v); err != nil {
				return nil, err
			}
		}
	}
	if len(r.Document) > 0 {
		b = append(b, `,"document":`...)
		if text := r.signed.of(r.Document); text != "" {
			b = append(b, text...)
		} else if b, err = appendObject(b, r.Document, depth+1); err != nil {
			return nil, err
		}
	}
	if r.ChallengeIssuedByNode != nil {
		b = append(b, `,"challengeIssuedByNode":`...)
		b = strconv.AppendBool(b, *r.ChallengeIssuedByNode)
	}
	if r.StatusHeight != 0 {
		b = append(b, `,"statusHeight":`...)
		b = strconv.AppendUint(b, r.StatusHeight, 10)
	}
	if r.Disclosed != nil {
		b = append(b, `,"disclosedClaims":`...)
		if b, err = appendMarshal(b, r.Disclosed); err != nil {
			return nil, err
		}
	}
	if len(r.Credentials) > 0 {
		b = append(b, `,"credentialResults":[`...)
		for i := range r.Credentials {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = r.Credentials[i].appendJSON(b, depth+1); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// appendProblem appends a ProblemDetail as encoding/json does.
func appendProblem(b []byte, p *ProblemDetail) ([]byte, error) {
	var err error
	b = append(b, `{"type":`...)
	if b, err = appendString(b, p.Type); err != nil {
		return nil, err
	}
	if p.Code != 0 {
		b = append(b, `,"code":`...)
		b = strconv.AppendInt(b, int64(p.Code), 10)
	}
	b = append(b, `,"title":`...)
	if b, err = appendString(b, p.Title); err != nil {
		return nil, err
	}
	if p.Detail != "" {
		b = append(b, `,"detail":`...)
		if b, err = appendString(b, p.Detail); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendValue appends a document value: objects, arrays, strings,
// booleans and null here, anything else through encoding/json.
func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxAppendDepth {
		return appendMarshal(b, v)
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case string:
		return appendString(b, x)
	case json.Number:
		// As encoding/json writes it: the text itself ("" is 0), once it
		// is a valid JSON number (else json.Marshal's error).
		n := string(x)
		if n == "" {
			n = "0"
		}
		if !strictjson.IsNumber(n) {
			return appendMarshal(b, v)
		}
		return append(b, n...), nil
	case map[string]any:
		if x == nil {
			return append(b, "null"...), nil
		}
		return appendObject(b, x, depth+1)
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		var err error
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, e, depth+1); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	}
	return appendMarshal(b, v)
}

// appendObject appends m with its members sorted by name, as
// encoding/json orders a map's keys.
func appendObject(b []byte, m map[string]any, depth int) ([]byte, error) {
	if depth > maxAppendDepth {
		return appendMarshal(b, m)
	}
	var buf [16]string
	names := buf[:0]
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	b = append(b, '{')
	var err error
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		if b, err = appendString(b, k); err != nil {
			return nil, err
		}
		b = append(b, ':')
		if b, err = appendValue(b, m[k], depth); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// plain marks the bytes encoding/json writes as they are in a string:
// printable ASCII but the quote, the backslash and the HTML characters
// it escapes (<, >, &).
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s quoted: directly when every byte is plain, else
// as encoding/json escapes it.
func appendString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || !plain[c] {
			return appendMarshal(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}

// appendMarshal appends v as json.Marshal encodes it.
func appendMarshal(b []byte, v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, raw...), nil
}

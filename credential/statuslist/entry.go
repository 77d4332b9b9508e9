package statuslist

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/idmesh/idmesh/credential"
)

// Status purposes the specification gives a meaning to. Other purposes
// are allowed; these must be used for their intended purpose.
const (
	PurposeRevocation = "revocation" // permanent; a set bit means revoked
	PurposeSuspension = "suspension" // reversible; a set bit means suspended
	PurposeRefresh    = "refresh"    // a newer credential is available
	PurposeMessage    = "message"    // a value with a message from statusMessage
)

// Types of the specification's objects.
const (
	TypeEntry          = "BitstringStatusListEntry"
	TypeListCredential = "BitstringStatusListCredential"
	TypeList           = "BitstringStatusList"
)

// Entry is a BitstringStatusListEntry: one credentialStatus member of a
// credential, pointing at an index of a status list.
type Entry struct {
	// ID is the optional id of the entry; it is not the list's URL.
	ID string
	// Type is TypeEntry.
	Type string
	// Purpose is statusPurpose.
	Purpose string
	// ListCredential is statusListCredential, the list credential's URL.
	ListCredential string
	// Index is statusListIndex (a decimal string on the wire).
	Index int
	// Size is statusSize in bits; ParseEntry sets 1 when it is absent and
	// the other functions treat 0 as 1.
	Size int
	// Messages is statusMessage, indexed by status value; nil when absent.
	Messages []Message
	// References is statusReference: URLs describing the statuses.
	References []string
}

// Message is one statusMessage element.
type Message struct {
	Status  int    // the value; "0x"-prefixed hexadecimal on the wire
	Message string // for developers, not for display to end users
}

func malformed(format string, args ...any) error {
	return credential.Errorf(credential.MalformedValueError, format, args...)
}

// ParseEntry validates a BitstringStatusListEntry object. Values that
// break the specification's MUSTs fail with MALFORMED_VALUE_ERROR: a type
// other than BitstringStatusListEntry, a statusListIndex that is not a
// string of decimal digits (a JSON number is malformed), a statusSize that
// is not a positive integer, a statusMessage with other than 2^statusSize
// elements (required when statusSize > 1), an id equal to the list's URL.
// An index too large for an int or a statusSize over [MaxStatusSize] fail
// with RANGE_ERROR: no list this package accepts could hold them.
func ParseEntry(m map[string]any) (Entry, error) {
	e := Entry{Type: TypeEntry, Size: 1}
	if !hasType(m["type"], TypeEntry) {
		return Entry{}, malformed("credentialStatus: type must be %s", TypeEntry)
	}
	var err error
	if e.ID, err = credential.OptionalURL(m, "id"); err != nil {
		return Entry{}, err
	}
	purpose, ok := m["statusPurpose"].(string)
	if !ok || purpose == "" {
		return Entry{}, malformed("credentialStatus: statusPurpose must be a non-empty string")
	}
	e.Purpose = purpose
	if e.Index, err = parseIndex(m["statusListIndex"]); err != nil {
		return Entry{}, err
	}
	if e.ListCredential, err = credential.OptionalURL(m, "statusListCredential"); err != nil {
		return Entry{}, err
	}
	if e.ListCredential == "" {
		return Entry{}, malformed("credentialStatus: statusListCredential is required")
	}
	if e.ID == e.ListCredential {
		return Entry{}, malformed("credentialStatus: id must not be the status list's URL")
	}
	if raw, ok := m["statusSize"]; ok {
		n, ok := integer(raw)
		if !ok || n < 1 {
			return Entry{}, malformed("credentialStatus: statusSize must be an integer greater than zero")
		}
		if n > MaxStatusSize {
			return Entry{}, credential.Errorf(credential.RangeError, "credentialStatus: statusSize %d is over %d", n, MaxStatusSize)
		}
		e.Size = int(n)
	}
	if raw, ok := m["statusMessage"]; ok {
		if e.Messages, err = parseMessages(raw, e.Size); err != nil {
			return Entry{}, err
		}
	} else if e.Size > 1 {
		return Entry{}, malformed("credentialStatus: statusMessage is required when statusSize is over 1")
	}
	if e.References, err = urls(m, "statusReference"); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// parseIndex reads statusListIndex: an integer >= 0 as a base-10 string.
func parseIndex(raw any) (int, error) {
	s, ok := raw.(string)
	if !ok {
		return 0, malformed("credentialStatus: statusListIndex must be a string of a base-10 integer, not %s", jsonKind(raw))
	}
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return 0, malformed("credentialStatus: statusListIndex %q is not a non-negative base-10 integer", s)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, credential.Errorf(credential.RangeError, "credentialStatus: statusListIndex %s is too large", s)
	}
	return n, nil
}

func parseMessages(raw any, size int) ([]Message, error) {
	arr, ok := raw.([]any)
	if !ok {
		return nil, malformed("credentialStatus: statusMessage must be an array")
	}
	if len(arr) != 1<<size {
		return nil, malformed("credentialStatus: statusMessage has %d elements; statusSize %d needs %d", len(arr), size, 1<<size)
	}
	out := make([]Message, 1<<size)
	seen := make([]bool, 1<<size)
	for _, el := range arr {
		o, ok := el.(map[string]any)
		if !ok {
			return nil, malformed("credentialStatus: statusMessage elements must be objects")
		}
		st, ok := o["status"].(string)
		if !ok || len(st) < 3 || (st[:2] != "0x" && st[:2] != "0X") {
			return nil, malformed("credentialStatus: statusMessage status must be a 0x-prefixed hexadecimal string")
		}
		v, err := strconv.ParseUint(st[2:], 16, 32)
		if err != nil || v >= 1<<size {
			return nil, malformed("credentialStatus: statusMessage status %q is not a %d-bit hexadecimal value", st, size)
		}
		if seen[v] {
			return nil, malformed("credentialStatus: statusMessage status %s appears twice", st)
		}
		msg, ok := o["message"].(string)
		if !ok {
			return nil, malformed("credentialStatus: statusMessage message must be a string")
		}
		seen[v] = true
		out[v] = Message{Status: int(v), Message: msg}
	}
	return out, nil
}

// Object returns the entry as a credentialStatus object, for issuing.
// statusSize is written only when it is over 1.
func (e Entry) Object() map[string]any {
	m := map[string]any{
		"type":                 TypeEntry,
		"statusPurpose":        e.Purpose,
		"statusListIndex":      strconv.Itoa(e.Index),
		"statusListCredential": e.ListCredential,
	}
	if e.ID != "" {
		m["id"] = e.ID
	}
	if e.Size > 1 {
		m["statusSize"] = e.Size
	}
	if e.Messages != nil {
		msgs := make([]any, len(e.Messages))
		for i, msg := range e.Messages {
			msgs[i] = map[string]any{"status": fmt.Sprintf("0x%x", msg.Status), "message": msg.Message}
		}
		m["statusMessage"] = msgs
	}
	switch len(e.References) {
	case 0:
	case 1:
		m["statusReference"] = e.References[0]
	default:
		refs := make([]any, len(e.References))
		for i, r := range e.References {
			refs[i] = r
		}
		m["statusReference"] = refs
	}
	return m
}

func (e Entry) size() int { return max(e.Size, 1) }

// hasType reports whether a type member is typ or an array including it.
func hasType(raw any, typ string) bool {
	switch v := raw.(type) {
	case string:
		return v == typ
	case []any:
		return slices.Contains(v, any(typ))
	}
	return false
}

// integer reads a JSON integer decoded as json.Number, float64 or an int.
func integer(raw any) (int64, bool) {
	switch v := raw.(type) {
	case json.Number:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			f, ferr := v.Float64()
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<62 {
				return 0, false
			}
			return int64(f), true
		}
		return n, true
	case float64:
		if v != math.Trunc(v) || math.Abs(v) >= 1<<62 {
			return 0, false
		}
		return int64(v), true
	case int:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

func jsonKind(raw any) string {
	switch raw.(type) {
	case nil:
		return "absent"
	case json.Number, float64, int, int64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", raw)
}

// urls reads a member that is a URL or an array of URLs.
func urls(m map[string]any, name string) ([]string, error) {
	switch v := m[name].(type) {
	case nil:
		if _, ok := m[name]; ok {
			return nil, malformed("%s must be a URL or an array of URLs", name)
		}
		return nil, nil
	case string:
		if !credential.IsURL(v) {
			return nil, malformed("%s %q is not a URL", name, v)
		}
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, el := range v {
			s, ok := el.(string)
			if !ok || !credential.IsURL(s) {
				return nil, malformed("%s entries must be URLs", name)
			}
			out = append(out, s)
		}
		if len(out) == 0 {
			return nil, malformed("%s is empty", name)
		}
		return out, nil
	}
	return nil, malformed("%s must be a URL or an array of URLs", name)
}

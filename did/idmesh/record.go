package idmesh

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/idmesh/idmesh/did"
)

// maxExactInt is 2^53: RFC 8785 writes numbers as IEEE 754 doubles, which
// hold every integer up to it exactly, so such an integer is written as
// its decimal digits, as strconv writes it.
const maxExactInt = 1 << 53

// encodeRecord returns the state value of rec with latest, its latest
// version's stored bytes (versionBytes), the bytes putJSON stores for a
// storedRecord (RFC 8785 of encoding/json's output), written directly: a
// record is written by every create, update and deactivate. latest is
// canonical JSON already, and RFC 8785 writes a member's value as it
// canonicalizes alone. ok is false when it cannot vouch for the result
// (a string that needs escaping, a number beyond 2^53, a time
// encoding/json refuses or writes otherwise); the caller then takes
// putJSON's way, which gives the answer, or the error.
// TestEncodeRecordMatchesJSON and FuzzEncodeRecord hold both to the same
// bytes.
func encodeRecord(rec *Record, latest []byte) ([]byte, bool) {
	if len(latest) == 0 || rec.Versions > maxExactInt || rec.RotatedKeysTotal > maxExactInt || !plainString(rec.DID) || !plainString(rec.VersionID) {
		return nil, false
	}
	// Members in RFC 8785 order (UTF-16 code units; all ASCII here):
	// created, deactivated, did, latest, rotatedKeysTotal, updated,
	// versionId, versions; encoding/json omits deactivated when false and
	// rotatedKeysTotal when 0 (omitempty).
	b := make([]byte, 0, 170+len(rec.DID)+len(rec.VersionID)+len(latest))
	b = append(b, `{"created":`...)
	var ok bool
	if b, ok = appendTime(b, rec.Created); !ok {
		return nil, false
	}
	if rec.Deactivated {
		b = append(b, `,"deactivated":true`...)
	}
	b = append(b, `,"did":"`...)
	b = append(b, rec.DID...)
	b = append(b, `","latest":`...)
	b = append(b, latest...)
	if rec.RotatedKeysTotal != 0 {
		b = append(b, `,"rotatedKeysTotal":`...)
		b = strconv.AppendUint(b, rec.RotatedKeysTotal, 10)
	}
	b = append(b, `,"updated":`...)
	if b, ok = appendTime(b, rec.Updated); !ok {
		return nil, false
	}
	b = append(b, `,"versionId":"`...)
	b = append(b, rec.VersionID...)
	b = append(b, `","versions":`...)
	b = strconv.AppendUint(b, rec.Versions, 10)
	return append(b, '}'), true
}

// appendTime appends t quoted as encoding/json writes it (time.Time's
// MarshalJSON: RFC 3339 with nanoseconds, the text AppendText writes),
// which RFC 8785 keeps as it is: digits, '-', ':', '.', 'T', 'Z' and
// '+' need no escape. ok is false for a time MarshalJSON refuses.
func appendTime(b []byte, t time.Time) ([]byte, bool) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		return nil, false
	}
	return append(b, '"'), true
}

// plainString reports whether s is printable ASCII without '"', '\\' or
// the characters encoding/json escapes for HTML ('<', '>', '&'): then
// both encoding/json and RFC 8785 write it as it is, between quotes.
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// putRecord writes rec with latest, the stored bytes of its latest
// version, under its key, as putJSON would.
func putRecord(kv KV, rec *Record, latest []byte) error {
	if b, ok := encodeRecord(rec, latest); ok {
		kv.Set(recordKey(rec.DID), b)
		return nil
	}
	return putJSON(kv, recordKey(rec.DID), &storedRecord{Record: *rec, Latest: latest})
}

// encodeVersion returns the state value of sv, the bytes putJSON stores,
// with only its document through encoding/json and canonicalJSON (RFC
// 8785 is written member by member, so a member's value canonicalizes
// alone to what it is within the whole). ok is false as for encodeRecord;
// the caller then takes putJSON's way. TestEncodeVersionMatchesJSON and
// FuzzEncodeRecord hold both to the same bytes.
func encodeVersion(sv *storedVersion) ([]byte, bool) {
	if sv.Height > maxExactInt || sv.RotatedKeysTotal > maxExactInt || !plainString(sv.Previous) || !plainString(sv.VersionID) {
		return nil, false
	}
	doc := []byte("null")
	if sv.Document != nil {
		var ok bool
		if doc, ok = appendDocument(make([]byte, 0, 512), sv.Document); !ok {
			raw, err := json.Marshal(sv.Document)
			if err != nil {
				return nil, false
			}
			if doc, err = canonicalJSON(raw); err != nil {
				return nil, false
			}
		}
	}
	// Members in RFC 8785 order: deactivated, document, height, previous,
	// rotatedKeysTotal, time, versionId; encoding/json omits deactivated
	// when false, previous when empty and rotatedKeysTotal when 0.
	b := make([]byte, 0, 128+len(doc)+len(sv.Previous)+len(sv.VersionID))
	b = append(b, '{')
	if sv.Deactivated {
		b = append(b, `"deactivated":true,`...)
	}
	b = append(b, `"document":`...)
	b = append(b, doc...)
	b = append(b, `,"height":`...)
	b = strconv.AppendUint(b, sv.Height, 10)
	if sv.Previous != "" {
		b = append(b, `,"previous":"`...)
		b = append(b, sv.Previous...)
		b = append(b, '"')
	}
	if sv.RotatedKeysTotal != 0 {
		b = append(b, `,"rotatedKeysTotal":`...)
		b = strconv.AppendUint(b, sv.RotatedKeysTotal, 10)
	}
	b = append(b, `,"time":`...)
	var ok bool
	if b, ok = appendTime(b, sv.Time); !ok {
		return nil, false
	}
	b = append(b, `,"versionId":"`...)
	b = append(b, sv.VersionID...)
	return append(b, `"}`...), true
}

// versionBytes returns the stored bytes of sv, as putJSON would write
// them.
func versionBytes(sv *storedVersion) ([]byte, error) {
	if b, ok := encodeVersion(sv); ok {
		return b, nil
	}
	return canonicalBytes(sv)
}

// appendDocument appends d as canonicalJSON(json.Marshal(d)) writes it,
// written directly for a document of the usual shape: every string
// plain (plainString), contexts that are strings, no publicKeyJwk and
// service endpoints that are strings. ok is false for any other, which
// the caller encodes the slow way. Members go in RFC 8785 order, with
// encoding/json's omissions (omitempty) and did's own forms (a StringSet
// of one is a string; a Relationship is its reference or its embedded
// method). TestEncodeRecordMatchesJSON and FuzzEncodeRecord hold both
// ways to the same bytes.
func appendDocument(b []byte, d *did.Document) ([]byte, bool) {
	ok := true
	str := func(s string) {
		if !plainString(s) {
			ok = false
		}
		b = append(b, '"')
		b = append(b, s...)
		b = append(b, '"')
	}
	strs := func(name string, v []string) {
		b = append(b, name...)
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			str(s)
		}
		b = append(b, ']')
	}
	set := func(v did.StringSet) {
		switch {
		case len(v) == 1:
			str(v[0])
		case v == nil:
			b = append(b, "[]"...)
		default:
			strs("", v)
		}
	}
	method := func(vm *did.VerificationMethod) {
		if len(vm.PublicKeyJwk) != 0 {
			ok = false
			return
		}
		b = append(b, `{"controller":`...)
		str(vm.Controller)
		b = append(b, `,"id":`...)
		str(vm.ID)
		if vm.PublicKeyMultibase != "" {
			b = append(b, `,"publicKeyMultibase":`...)
			str(vm.PublicKeyMultibase)
		}
		b = append(b, `,"type":`...)
		str(vm.Type)
		b = append(b, '}')
	}
	rels := func(name string, v []did.Relationship) {
		if len(v) == 0 {
			return
		}
		b = append(b, name...)
		b = append(b, '[')
		for i := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if v[i].Embedded != nil {
				method(v[i].Embedded)
			} else {
				str(v[i].Reference)
			}
		}
		b = append(b, ']')
	}
	// RFC 8785 order: @context, alsoKnownAs, assertionMethod,
	// authentication, capabilityDelegation, capabilityInvocation,
	// controller, id, keyAgreement, service, verificationMethod.
	b = append(b, `{"@context":`...)
	if d.Context == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, c := range d.Context {
			if i > 0 {
				b = append(b, ',')
			}
			s, isStr := c.(string)
			if !isStr {
				return nil, false
			}
			str(s)
		}
		b = append(b, ']')
	}
	if len(d.AlsoKnownAs) != 0 {
		strs(`,"alsoKnownAs":`, d.AlsoKnownAs)
	}
	rels(`,"assertionMethod":`, d.AssertionMethod)
	rels(`,"authentication":`, d.Authentication)
	rels(`,"capabilityDelegation":`, d.CapabilityDelegation)
	rels(`,"capabilityInvocation":`, d.CapabilityInvocation)
	if len(d.Controller) != 0 {
		b = append(b, `,"controller":`...)
		set(d.Controller)
	}
	b = append(b, `,"id":`...)
	str(d.ID)
	rels(`,"keyAgreement":`, d.KeyAgreement)
	if len(d.Service) != 0 {
		b = append(b, `,"service":[`...)
		for i := range d.Service {
			sv := &d.Service[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			str(sv.ID)
			// A string endpoint, quoted in the raw JSON with nothing
			// around it; anything else takes the slow way.
			e := sv.ServiceEndpoint
			if len(e) < 2 || e[0] != '"' || e[len(e)-1] != '"' || !plainString(string(e[1:len(e)-1])) {
				return nil, false
			}
			b = append(b, `,"serviceEndpoint":`...)
			b = append(b, e...)
			b = append(b, `,"type":`...)
			set(sv.Type)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(d.VerificationMethod) != 0 {
		b = append(b, `,"verificationMethod":[`...)
		for i := range d.VerificationMethod {
			if i > 0 {
				b = append(b, ',')
			}
			method(&d.VerificationMethod[i])
		}
		b = append(b, ']')
	}
	return append(b, '}'), ok
}

package idmesh

import (
	"encoding/json"
	"strconv"
	"time"
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
		raw, err := json.Marshal(sv.Document)
		if err != nil {
			return nil, false
		}
		if doc, err = canonicalJSON(raw); err != nil {
			return nil, false
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

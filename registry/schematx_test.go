package registry_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/schema"
	"github.com/idmesh/idmesh/registry"
)

const (
	degreeSchema = `{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",` +
		`"properties":{"credentialSubject":{"type":"object","required":["degree"]}},"required":["credentialSubject"]}`
	// degreeSchemaReformatted is degreeSchema with other whitespace and
	// member order: the same content, the same hash.
	degreeSchemaReformatted = `{
	  "required": ["credentialSubject"],
	  "properties": {"credentialSubject": {"required": ["degree"], "type": "object"}},
	  "type": "object",
	  "$schema": "https://json-schema.org/draft/2020-12/schema"
	}`
	memberSchema = `{"type":"object","properties":{"credentialSubject":{"type":"object","required":["memberOf"]}}}`
)

// schemaReg returns an unsigned registration of schemaJSON by registrant.
func schemaReg(tb testing.TB, schemaJSON, registrant string) map[string]any {
	tb.Helper()
	var doc any
	if err := json.Unmarshal([]byte(schemaJSON), &doc); err != nil {
		tb.Fatal(err)
	}
	return map[string]any{"schema": doc, "registrant": registrant}
}

// signedSchema returns the payload of a TxSchema: a registration of
// schemaJSON by registrant, signed by signer with eddsa-jcs-2022.
func signedSchema(tb testing.TB, schemaJSON, registrant string, signer issuer) []byte {
	tb.Helper()
	return signDoc(tb, schemaReg(tb, schemaJSON, registrant), signer, dataintegrity.CryptosuiteJCS)
}

func schemaTx(payload []byte) registry.Tx {
	return registry.Tx{Type: registry.TxSchema, Payload: payload}
}

func mustHash(tb testing.TB, schemaJSON string) string {
	tb.Helper()
	h, err := schema.Hash([]byte(schemaJSON))
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// schemaOfSize returns a schema whose compact JSON is n bytes.
func schemaOfSize(tb testing.TB, n int) string {
	tb.Helper()
	base, _ := json.Marshal(map[string]any{"type": "object", "description": ""})
	b, _ := json.Marshal(map[string]any{"type": "object", "description": strings.Repeat("d", n-len(base))})
	if len(b) != n {
		tb.Fatalf("schema of %d bytes, want %d", len(b), n)
	}
	return string(b)
}

func TestSchemaRegistration(t *testing.T) {
	l := mustLedger(t, nil)
	a := l.mustDIDIssuer(t, 1)
	b := l.mustDIDIssuer(t, 2)
	rot := l.mustDIDIssuer(t, 3)
	l.mustUpdate(t, rot, "#key-2", mustKey(t, 33), nil) // #key-1 retired
	k := keyIssuer(t, 4)

	// The first registration of a schema is accepted and readable under
	// its content hash.
	hash := mustHash(t, degreeSchema)
	if _, err := registry.Schema(l.st, hash); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("schema before registration: %v", err)
	}
	l.mustDeliver(t, schemaTx(signedSchema(t, degreeSchema, a.DID, a)))
	rec, err := registry.Schema(l.st, hash)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Hash != hash || rec.Registrant != a.DID || rec.Height != l.ctx.Height {
		t.Fatalf("record %+v, want hash %s, registrant %s, height %d", rec, hash, a.DID, l.ctx.Height)
	}
	if got := mustHash(t, string(rec.Schema)); got != hash {
		t.Fatalf("the stored schema hashes to %s, not %s", got, hash)
	}
	stored := func(h string) []byte {
		v, err := l.st.Get(registry.SchemaKey(h))
		if errors.Is(err, registry.ErrNotFound) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Clone(v)
	}
	first := stored(hash)

	memberHash := mustHash(t, memberSchema)
	valid := signedSchema(t, memberSchema, a.DID, a)
	withReg := func(edit func(m map[string]any)) []byte { // edited, then signed by a
		m := schemaReg(t, memberSchema, a.DID)
		edit(m)
		return signDoc(t, m, a, dataintegrity.CryptosuiteJCS)
	}
	big := schemaOfSize(t, registry.MaxSchemaBytes+1)
	cases := []struct {
		name    string
		hash    string // the schema the payload names, which must stay as it was
		payload []byte
		code    uint32
		substr  string
	}{
		{"the same schema again", hash, signedSchema(t, degreeSchema, a.DID, a), registry.CodeConflict, "is registered"},
		{"the same schema reformatted and reordered", hash, signedSchema(t, degreeSchemaReformatted, a.DID, a), registry.CodeConflict, "is registered"},
		{"the same schema by another registrant", hash, signedSchema(t, degreeSchemaReformatted, b.DID, b), registry.CodeConflict, "is registered"},
		{"signed by another DID's key", memberHash, signedSchema(t, memberSchema, a.DID, b), registry.CodeUnauthorized, "not by the registrant"},
		{"another DID's key under the registrant's method", memberHash, signedSchema(t, memberSchema, a.DID, a.as(b.Key, a.VM)), registry.CodeUnauthorized, "proof"},
		{"signed by a retired key", memberHash, signedSchema(t, memberSchema, rot.DID, rot), registry.CodeUnauthorized, "proof"},
		{"registrant did:web", memberHash, signedSchema(t, memberSchema, "did:web:example.com", a.as(a.Key, "did:web:example.com#key-1")), registry.CodeUnauthorized, "proof"},
		{"second proof by another DID", memberHash, addProof(t, valid, b), registry.CodeUnauthorized, "not by the registrant"},
		{"no proof", memberHash, editJSON(t, valid, func(m map[string]any) { delete(m, "proof") }), registry.CodeUnauthorized, "proof"},
		{"wrong proof purpose", memberHash, signWith(t, schemaReg(t, memberSchema, a.DID), a, dataintegrity.SignOptions{Cryptosuite: dataintegrity.CryptosuiteJCS, ProofPurpose: credential.PurposeAuthentication}), registry.CodeUnauthorized, "proof"},
		{"tampered schema", mustHash(t, memberSchema[:len(memberSchema)-1]+`,"title":"x"}`), editJSON(t, valid, func(m map[string]any) { m["schema"].(map[string]any)["title"] = "x" }), registry.CodeUnauthorized, "proof"},
		{"tampered registrant", memberHash, editJSON(t, valid, func(m map[string]any) { m["registrant"] = b.DID }), registry.CodeUnauthorized, "proof"},
		{"unknown member", memberHash, withReg(func(m map[string]any) { m["note"] = "x" }), registry.CodeInvalid, `unknown member "note"`},
		{"schema missing", memberHash, withReg(func(m map[string]any) { delete(m, "schema") }), registry.CodeInvalid, "required"},
		{"schema a string", memberHash, withReg(func(m map[string]any) { m["schema"] = memberSchema }), registry.CodeInvalid, "required"},
		{"schema an array", memberHash, withReg(func(m map[string]any) { m["schema"] = []any{map[string]any{}} }), registry.CodeInvalid, "required"},
		{"schema null", memberHash, withReg(func(m map[string]any) { m["schema"] = nil }), registry.CodeInvalid, "required"},
		{"registrant missing", memberHash, withReg(func(m map[string]any) { delete(m, "registrant") }), registry.CodeInvalid, "required"},
		{"registrant not a string", memberHash, withReg(func(m map[string]any) { m["registrant"] = 7 }), registry.CodeInvalid, "required"},
		{"oversize schema", mustHash(t, big), signedSchema(t, big, a.DID, a), registry.CodeInvalid, "at most"},
		{"oversize transaction", memberHash, editJSON(t, valid, func(m map[string]any) {
			m["schema"].(map[string]any)["description"] = strings.Repeat("d", registry.MaxTxBytes)
		}), registry.CodeInvalid, "too large"},
		{"malformed JSON", memberHash, valid[:len(valid)-1], registry.CodeInvalid, "invalid schema"},
		{"not an object", memberHash, []byte(`[1]`), registry.CodeInvalid, "invalid schema"},
		{"duplicate member", memberHash, append([]byte(`{"registrant":"`+b.DID+`",`), valid[1:]...), registry.CodeInvalid, "duplicate"},
		{"duplicate member in the schema", memberHash, bytes.Replace(valid, []byte(`"schema":{`), []byte(`"schema":{"type":"string",`), 1), registry.CodeInvalid, "duplicate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := stored(c.hash)
			wantCode(t, l.deliver(schemaTx(c.payload)), c.code, c.substr)
			if !bytes.Equal(stored(c.hash), before) {
				t.Error("the schema's record changed")
			}
			if !bytes.Equal(stored(hash), first) {
				t.Error("the first schema's record changed")
			}
		})
	}

	// Correct registrations of the same schemas are accepted.
	at := schemaOfSize(t, registry.MaxSchemaBytes)
	for name, p := range map[string][]byte{
		"member schema":            valid,
		"did:key registrant":       signedSchema(t, `{"title":"by did:key"}`, k.DID, k),
		"at MaxSchemaBytes":        signedSchema(t, at, b.DID, b),
		"retired DID's latest key": signedSchema(t, `{"title":"rotated"}`, rot.DID, rot.as(mustKey(t, 33), rot.DID+"#key-2")),
	} {
		if err := l.deliver(schemaTx(p)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, h := range []string{memberHash, mustHash(t, at), mustHash(t, `{"title":"by did:key"}`)} {
		if _, err := registry.Schema(l.st, h); err != nil {
			t.Errorf("schema %s: %v", h, err)
		}
	}
}

package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/schema"
	"github.com/idmesh/idmesh/did/strictjson"
)

// TxSchema registers a credential schema (JSON Schema) under the hash of
// its content (schema.Hash: SHA-256 of its JCS form). The payload is a registration signed with Data Integrity
// by a key in the registrant DID's assertionMethod.
const TxSchema TxType = 5

// MaxSchemaBytes bounds a schema.
const MaxSchemaBytes = 64 << 10

// ErrSchema reports a schema registration that breaks a rule.
var ErrSchema = errors.New("invalid schema registration")

// SchemaKey is the state key of a schema.
func SchemaKey(hash string) []byte { return append([]byte("sc\x00"), hash...) }

// SchemaRecord is a registered schema in state.
type SchemaRecord struct {
	Hash       string          `json:"hash"`
	Registrant string          `json:"registrant"`
	Height     uint64          `json:"height"`
	Schema     json.RawMessage `json:"schema"`
}

// Schema returns a registered schema (ErrNotFound if none).
func Schema(r StateReader, hash string) (*SchemaRecord, error) {
	b, err := r.Get(SchemaKey(hash))
	if err != nil {
		return nil, err
	}
	var rec SchemaRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("schema %s: %w", hash, err)
	}
	return &rec, nil
}

// SchemaHandler applies TxSchema. The schema's validity as JSON Schema
// is the registrant's business (verifiers compile it and fail closed); the
// chain checks the signature, the size and that the hash is new.
type SchemaHandler struct{}

// DeliverTx checks and stores one schema.
func (SchemaHandler) DeliverTx(ctx TxContext, st *Overlay, payload []byte) error {
	reg, err := strictjson.Object(payload, MaxTxBytes)
	if err != nil {
		return Reject(CodeInvalid, fmt.Errorf("%w: %w", ErrSchema, err))
	}
	registrant, _ := reg["registrant"].(string)
	doc, ok := reg["schema"].(map[string]any)
	if !ok || registrant == "" {
		return Reject(CodeInvalid, fmt.Errorf("%w: schema (an object) and registrant (a DID) are required", ErrSchema))
	}
	for k := range reg {
		if k != "schema" && k != "registrant" && k != "proof" && k != "@context" {
			return Reject(CodeInvalid, fmt.Errorf("%w: unknown member %q", ErrSchema, k))
		}
	}
	raw, err := json.Marshal(doc)
	if err != nil || len(raw) > MaxSchemaBytes {
		return Reject(CodeInvalid, fmt.Errorf("%w: the schema must be at most %d bytes", ErrSchema, MaxSchemaBytes))
	}
	hash, err := schema.Hash(raw)
	if err != nil {
		return Reject(CodeInvalid, fmt.Errorf("%w: %w", ErrSchema, err))
	}
	if _, err := st.Get(SchemaKey(hash)); err == nil {
		return Reject(CodeConflict, fmt.Errorf("%w: schema %s is registered", ErrSchema, hash))
	} else if !errors.Is(err, ErrNotFound) {
		return Reject(CodeInternal, err)
	}
	res, err := dataintegrity.Verify(context.Background(), reg, currentKeys(st), dataintegrity.VerifyOptions{ExpectedProofPurpose: credential.PurposeAssertion})
	if err != nil {
		return Reject(CodeUnauthorized, fmt.Errorf("%w: proof: %w", ErrSchema, err))
	}
	for _, p := range res.Proofs {
		if p.Key.Controller != registrant {
			return Reject(CodeUnauthorized, fmt.Errorf("%w: signed by %s, not by the registrant %s", ErrSchema, p.Proof.VerificationMethod, registrant))
		}
	}
	b, err := json.Marshal(SchemaRecord{Hash: hash, Registrant: registrant, Height: ctx.Height, Schema: raw})
	if err != nil {
		return Reject(CodeInternal, err)
	}
	st.Set(SchemaKey(hash), b)
	return nil
}

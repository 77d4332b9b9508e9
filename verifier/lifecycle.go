package verifier

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/idmesh/idmesh/credential"
)

// Names of the lifecycle checks.
const (
	CheckSchema = "schema"
	CheckTrust  = "trust"
)

// ErrUnknownSchema reports a schema a [SchemaSource] does not hold:
// neither registered nor bundled (nothing is fetched).
var ErrUnknownSchema = errors.New("schema is neither registered nor bundled")

// SchemaSource serves the JSON Schemas that credentialSchema ids name,
// from the verifier's own chain or bundle: nothing is fetched. Schema
// returns an error wrapping ErrUnknownSchema when it holds no schema of
// that id; any other error is a failure to read one.
type SchemaSource interface {
	Schema(id string) ([]byte, error)
}

// TrustRegistry says which credential types an issuer is accredited for.
type TrustRegistry interface {
	TrustedTypes(issuer string) ([]string, error)
}

// TrustPolicy says which credential types need an accredited issuer.
type TrustPolicy struct {
	// Require lists credential types whose issuers must be accredited;
	// "*" means every type but VerifiableCredential.
	Require []string
	// Trusted accredits issuers locally (issuer DID → types), besides the
	// chain's registry.
	Trusted map[string][]string
}

// CheckSchemas validates a credential against every credentialSchema of
// type JsonSchema that the verifier holds (its Schemas: registered or
// bundled). A schema it cannot check, of another type or one it does not
// hold, is skipped: issuers call CheckSchemas before signing and issue
// such credentials, and verification reports them (SCHEMA_NOT_CHECKED).
// Errors carry SchemaValidationError.
func (v *Verifier) CheckSchemas(c *credential.Credential) error {
	_, err := v.checkSchemas(c)
	return err
}

// checkSchemas is CheckSchemas, and says why each schema it skipped was
// not checked.
func (v *Verifier) checkSchemas(c *credential.Credential) (notChecked []string, err error) {
	for _, s := range c.Schemas {
		id, _ := s["id"].(string)
		if t, _ := s["type"].(string); t != "JsonSchema" {
			notChecked = append(notChecked, fmt.Sprintf("credentialSchema %s: type %v is not checked (only JsonSchema is)", id, s["type"]))
			continue
		}
		if v.Schemas == nil {
			notChecked = append(notChecked, fmt.Sprintf("credentialSchema %s: this verifier holds no schemas", id))
			continue
		}
		raw, err := v.Schemas.Schema(id)
		if errors.Is(err, ErrUnknownSchema) {
			notChecked = append(notChecked, fmt.Sprintf("credentialSchema %s: %v", id, err))
			continue
		}
		if err != nil {
			return notChecked, credential.Errorf(credential.SchemaValidationError, "%v", err)
		}
		compiled, err := v.compiler.Compile(raw)
		if err != nil {
			return notChecked, credential.Errorf(credential.SchemaValidationError, "schema %s: %v", id, err)
		}
		if err := compiled.Validate(c.Object); err != nil {
			return notChecked, err
		}
	}
	return notChecked, nil
}

// schema runs the schema check of a credential that names schemas. A
// schema that cannot be checked is a SCHEMA_NOT_CHECKED warning, and the
// check is reported only if some schema was checked, unless explicit
// (the caller named the check in options.checks): then it fails.
func (v *Verifier) schema(c *credential.Credential, explicit bool, res *Result) {
	notChecked, err := v.checkSchemas(c)
	switch {
	case err != nil:
		res.fail(CheckSchema, err, credential.SchemaValidationError)
	case explicit && len(notChecked) > 0:
		res.fail(CheckSchema, credential.Errorf(credential.SchemaNotChecked, "%s", strings.Join(notChecked, "; ")), credential.SchemaNotChecked)
		return
	case len(notChecked) < len(c.Schemas):
		res.pass(CheckSchema)
	}
	for _, d := range notChecked {
		res.warn(credential.SchemaNotChecked, d)
	}
}

// trustRequired returns the credential's types that need an accredited
// issuer under the policy (all of them when explicit).
func (v *Verifier) trustRequired(c *credential.Credential, explicit bool) []string {
	var out []string
	for _, t := range c.Types {
		if t == credential.TypeCredential {
			continue
		}
		if explicit || slices.Contains(v.TrustPolicy.Require, "*") || slices.Contains(v.TrustPolicy.Require, t) {
			out = append(out, t)
		}
	}
	return out
}

// trust checks that the issuer is accredited for every required type.
func (v *Verifier) trust(c *credential.Credential, required []string) error {
	accredited := slices.Clone(v.TrustPolicy.Trusted[c.Issuer])
	if v.Trust != nil {
		types, err := v.Trust.TrustedTypes(c.Issuer)
		if err != nil {
			return credential.Errorf(credential.UntrustedIssuerError, "trust registry: %v", err)
		}
		accredited = append(accredited, types...)
	}
	var missing []string
	for _, t := range required {
		if !slices.Contains(accredited, t) {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return credential.Errorf(credential.UntrustedIssuerError, "%s is not accredited for %s", c.Issuer, strings.Join(missing, ", "))
	}
	return nil
}

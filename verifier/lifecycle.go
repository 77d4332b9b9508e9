package verifier

import (
	"slices"
	"strings"

	"github.com/idmesh/idmesh/credential"
)

// Names of the lifecycle checks.
const (
	CheckSchema = "schema"
	CheckTrust  = "trust"
)

// SchemaSource serves the JSON Schemas that credentialSchema ids name,
// from the verifier's own chain or bundle: nothing is fetched.
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
// type JsonSchema it names. Issuers call it before signing.
func (v *Verifier) CheckSchemas(c *credential.Credential) error {
	for _, s := range c.Schemas {
		id, _ := s["id"].(string)
		if t, _ := s["type"].(string); t != "JsonSchema" {
			return credential.Errorf(credential.SchemaValidationError, "credentialSchema %s: type %v is not supported (use JsonSchema)", id, s["type"])
		}
		if v.Schemas == nil {
			return credential.Errorf(credential.SchemaValidationError, "this verifier has no schemas")
		}
		raw, err := v.Schemas.Schema(id)
		if err != nil {
			return credential.Errorf(credential.SchemaValidationError, "%v", err)
		}
		compiled, err := v.compiler.Compile(raw)
		if err != nil {
			return credential.Errorf(credential.SchemaValidationError, "schema %s: %v", id, err)
		}
		if err := compiled.Validate(c.Object); err != nil {
			return err
		}
	}
	return nil
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

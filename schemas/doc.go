// Package schemas holds ready JSON Schemas (draft 2020-12) for common
// verifiable credentials, to be named by a credential's credentialSchema
// of type JsonSchema (VC Data Model 2.0, VC JSON Schema 1.0). Each schema
// validates the whole credential: @context, type, issuer, validFrom and
// the credentialSubject claims of its case.
//
// A schema is known by a short name (its file name without ".json") and by
// its $id, https://schemas.idmesh.dev/<name>/v1. The claims are terms of
// the @vocab that https://www.w3.org/ns/credentials/examples/v2 defines;
// see README.md. Validate with package
// github.com/idmesh/idmesh/credential/schema.
//
// [TypeMetadata] derives from each schema the SD-JWT VC Type Metadata of
// the same case as an SD-JWT VC: the subject's claims at the top level,
// described by the schema's titles and descriptions. A node serves it at
// the vct {public-url}/vct/{name} ([VCTPath]).
package schemas

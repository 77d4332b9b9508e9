// Package schema validates credentials against JSON Schemas, as the VC
// Data Model 2.0 credentialSchema of type JsonSchema asks (VC JSON Schema
// 1.0): draft 2020-12 only, evaluated by santhosh-tekuri/jsonschema.
//
// Schemas are untrusted input, so compiling one is bounded and offline:
//
//   - a schema is at most [MaxSchemaBytes], one JSON object without
//     repeated member names, nested at most strictjson.MaxDepth deep;
//   - it must be draft 2020-12 ($schema absent or the 2020-12 meta-schema),
//     and so must every resource embedded in it;
//   - a $ref resolves only inside the schema itself (its $id and the $ids
//     of its subschemas) or to the JSON Schema meta-schemas bundled with the
//     library; any other URL is an error ([ErrExternalRef]) and nothing is
//     ever fetched;
//   - regular expressions use Go's RE2 engine (linear time);
//   - the format keyword is asserted, not just annotated: date, date-time,
//     uri and the other formats the library knows are checked.
//
// A schema's identity is its content: [Hash] is the SHA-256 of its JCS
// (RFC 8785) canonical form, and a [Compiler] caches compiled schemas by
// that hash, so that the same schema sent with other whitespace or member
// order compiles once. A Compiler and a compiled [Schema] are safe for
// concurrent use.
//
// Typical use by a verifier that has fetched the document a credential's
// credentialSchema names:
//
//	var schemas schema.Compiler // shared, e.g. a field of the verifier
//	s, err := schemas.Compile(doc)
//	if err != nil {
//		return err // MALFORMED_VALUE_ERROR
//	}
//	if err := s.Validate(cred.Object); err != nil {
//		return err // SCHEMA_VALIDATION_ERROR naming the location and keyword
//	}
//
// Ready schemas for common credentials are in package
// github.com/idmesh/idmesh/schemas.
package schema

// Package openapitest holds the API to its OpenAPI description in tests:
// a Validator loads api/openapi.yaml (self-contained: a $ref outside the
// file is refused) with kin-openapi, checks that it is valid OpenAPI
// 3.1, and checks responses against it with
// openapi3filter.ValidateResponse: the status must be documented for the
// operation, the documented headers must match, and the body must match
// the schema of its Content-Type. A request that matches no operation of
// the document must be answered by a 404 or 405 problem.
//
// Handler wraps a server's handler and Transport a client's round
// tripper; both report every mismatch to the test. Nothing outside tests
// imports this package.
package openapitest

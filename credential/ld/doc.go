// Package ld is offline JSON-LD processing and RDF Dataset
// Canonicalization (RDFC-1.0) for Data Integrity proofs such as
// eddsa-rdfc-2022.
//
// # Contexts
//
// The JSON-LD contexts a verifier needs are bundled under contexts/ (their
// sources and licences are in contexts/SOURCES.md) and pinned by SHA-256 in
// a table in contexts.go. The digests are checked when the package is
// initialized: a binary whose contexts were altered panics instead of
// running. [Loader] serves only these documents; any other URL is an error
// wrapping [ErrUnknownContext]. Nothing is ever fetched. [Context] and
// [Known] expose the bundled bytes and URLs.
//
// # Canonicalize
//
// [Canonicalize] runs in three stages:
//
//  1. JSON-LD 1.1 expansion (expand.go, derived from json-gold's, with
//     json-gold's context processing), using the bundled contexts only.
//     json-gold's own expansion reads a key's container mapping from the
//     key's scoped context, so credentials v2's verifiableCredential
//     ("@container": "@graph", "@context": null) lost its named graph;
//     here it comes from the active context, as the algorithm says.
//     Processed contexts are cached: top-level ones by their list of
//     URLs, and the property- and type-scoped contexts derived from them
//     (json-gold's context processing dominates the cost otherwise); the
//     cache is bounded and safe for concurrent use.
//  2. Conversion of the expanded document to an RDF dataset (the JSON-LD
//     "Deserialize JSON-LD to RDF" algorithm over json-gold's node map),
//     implemented here so that nothing is dropped silently.
//  3. RDFC-1.0 (https://www.w3.org/TR/rdf-canon/) with SHA-256,
//     implemented here from the specification: first-degree hashes,
//     N-degree hashes with their permutations and recursion, the c14n
//     identifier issuer, and the canonical N-Quads serialization (RDF 1.2
//     canonical N-Triples escaping: \b \t \n \f \r \" \\ as two-character
//     escapes, other U+0000–U+001F and U+007F as \uXXXX, IRIs as they are).
//     json-gold's own normalizer is not used: it defaults to URGNA2012,
//     escapes differently and has no bound on work.
//
// [CanonicalizeConfig] is Canonicalize for a Data Integrity proof
// configuration: one of the usual shape is filled into a template that
// Canonicalize made once for its context, type, cryptosuite, purpose and
// verification method's IRI scheme (bounded, checked against a second
// probe), with the same result and the same charge to a [Budget].
//
// # What the checks read
//
// [CheckTerms] decides whether the JSON members a verifier reads by name
// are exactly those that mean the VC and security vocabularies' IRIs in
// the graph a proof signs: plain documents (bundled context URLs, terms
// as member names) take a JSON walk; any other (inline contexts, IRI
// member names) is expanded with the bundled contexts, within the bounds
// below and a request's [Budget], and every member name, type and
// identifier is checked in the context active where it appears (see
// docs/credentials.md, "What the verifier reads is what was signed").
//
// # Safe mode
//
// Unless Options.AllowUndefinedTerms is set, Canonicalize fails with
// credential.UndefinedTermError (wrapping [ErrUndefinedTerm]) where JSON-LD
// would silently lose data: a property no context defines, a type, node
// identifier, datatype or graph name that is not an absolute IRI, a
// blank-node property, an ill-formed language tag, a free-floating value,
// an item of a @graph container that makes no graph, or @direction on a
// value that is not a string.
//
// # Base direction
//
// A string with @direction becomes a literal with an i18n datatype, as
// JSON-LD 1.1 toRdf does with rdfDirection "i18n-datatype": "شهادة" in
// ar, rtl is "شهادة"^^<https://www.w3.org/ns/i18n#ar_rtl> (the language in
// lower case; "#_rtl" without one). VC Data Integrity does not name
// rdfDirection (w3c/vc-data-integrity#366); this is what the reference
// eddsa-rdfc-2022 and ecdsa-rdfc-2019 cryptosuites and jsonld-signatures
// use, and without it the direction would not be signed. A context with @vocab (such as
// https://www.w3.org/ns/credentials/undefined-terms/v2) defines every term
// on purpose and is accepted.
//
// # Bounds
//
// Every stage is bounded by a count checked before or while it runs, so
// that any document is canonicalized or refused in milliseconds; an
// exceeded bound is a credential.LimitExceededError wrapping
// [ErrDocumentTooLarge], [ErrTooLarge] or [ErrTooMuchWork].
//
//   - Before any JSON-LD work, [CheckDocument]: at most
//     [DefaultMaxNodes] JSON values, [MaxDepth] levels of nesting and
//     [MaxStringBytes] of strings. A verifier calls it first too.
//   - During expansion: at most [DefaultMaxContexts] contexts processed
//     outside the context cache (each copies the active context).
//   - On the expanded document, before json-gold builds its node map:
//     at most [DefaultMaxQuads] values and list items, and at most
//     [DefaultMaxNodeMapWork] comparisons. Node map generation compares
//     each value added to a node's property with those already there, so
//     20,000 identical objects under one property (a 200 KB credential)
//     cost 200 million comparisons and 6 s; the quad bound applied only
//     after that.
//   - While the dataset is built, [DefaultMaxQuads] quads; before RDFC-1.0,
//     [DefaultMaxBlankNodes] blank nodes.
//   - During RDFC-1.0: a hostile document can make it exponential: blank
//     nodes that no first-degree hash tells apart (symmetric cliques,
//     "poison graphs") send the N-degree hashing through every
//     permutation. Its work is bounded by [DefaultMaxWork] units (one per
//     call, per related-node hash and per permutation); the context is
//     checked during that step too.
//
// Options overrides each default. A [Budget] (Options.Budget) shares one
// set of these bounds among several documents: a verifier gives one to a
// presentation and to every credential it carries, so that the work of a
// request is bounded as a whole, not per document. ldtest generates the
// hostile documents.
package ld

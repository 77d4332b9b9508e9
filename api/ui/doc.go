// Package ui holds the node's web UI: plain HTML, CSS and ES modules,
// embedded in the binary and served by package api at / and /ui/. There
// is no build step and nothing is fetched at run time: the pages call
// the node's own JSON endpoints.
//
// The pages are the explorer (height, validators, latest blocks and
// their transactions, commits per second), the DID page (a DID's
// document and version history), the verify page (paste, drop or scan a
// credential; every check as a line) and the issuer console (behind the
// API token, kept in the tab's sessionStorage).
package ui

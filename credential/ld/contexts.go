package ld

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	jsonld "github.com/piprate/json-gold/ld"

	"github.com/idmesh/idmesh/credential"
)

// ErrUnknownContext reports a context URL that is not bundled. The loader
// never fetches anything, so every other URL is an error; Canonicalize
// reports it with the code [credential.UnknownContextError].
var ErrUnknownContext = errors.New("unknown JSON-LD context")

//go:embed contexts/w3c/*.jsonld contexts/npm/*.jsonld
var contextFS embed.FS

// pinned is every bundled context: its URL, its file under contexts/ and
// the SHA-256 of that file. contexts/SOURCES.md names each file's origin
// and licence. A digest that does not match stops the program at init.
var pinned = []struct{ url, file, sha256 string }{
	{"https://w3id.org/did/v1", "npm/did-v1.jsonld", "62c1054bf404d6dd3a4b26b64f830fd72095f6a26edc4469908c94351352ce5f"},
	{"https://w3id.org/security/data-integrity/v1", "w3c/data-integrity-v1.jsonld", "b5d829bd09aa7c42abc6efa0c8ed7635313b5487f37ccfce3ecd149ca9418554"},
	{"https://w3id.org/security/data-integrity/v2", "w3c/data-integrity-v2.jsonld", "67f21e6e33a6c14e5ccfd2fc7865f7474fb71a04af7e94136cb399dfac8ae8f4"},
	{"https://w3id.org/security/jwk/v1", "w3c/jwk-v1.jsonld", "0f14b62f6071aafe00df265770ea0c7508e118247d79b7d861a406d2aa00bece"},
	{"https://w3id.org/security/multikey/v1", "w3c/multikey-v1.jsonld", "ba2c182de2d92f7e47184bcca8fcf0beaee6d3986c527bf664c195bbc7c58597"},
	{"https://w3id.org/security/suites/ed25519-2018/v1", "npm/ed25519-signature-2018-v1.jsonld", "166c6abb9e08176cee5f6c87c9c1bbfefa5717da391bcac525e5437f93eab809"},
	{"https://w3id.org/security/suites/ed25519-2020/v1", "npm/ed25519-signature-2020-v1.jsonld", "b9e1ab971fd8bf2c7553e0c4a9438e0b9450afde1ea1ca5b2492368b9f549588"},
	{"https://w3id.org/security/v1", "npm/security-v1.jsonld", "abaf97e107d1925503c433dcaf3ffd2831697cacc1ed2a293e1bc8030d5bcb47"},
	{"https://w3id.org/security/v2", "npm/security-v2.jsonld", "611bd81151d5efe53ec9aed78f5a813e577287bc9451ee26d6879b1b8b46bc3b"},
	{"https://w3id.org/vc/status-list/2021/v1", "w3c/status-list-2021-v1.jsonld", "6dd06a52bedb771e059c1083ba8ba7848dce22f6b4a8cfa0b98ba3fc188870e4"},
	{"https://www.w3.org/2018/credentials/examples/v1", "w3c/credentials-examples-v1.jsonld", "2070ae4e75bc3b4c2cfe2b8b6e86ec45119672bbb5da283f0399ea96c60a0104"},
	{"https://www.w3.org/2018/credentials/v1", "w3c/credentials-v1.jsonld", "ab4ddd9a531758807a79a5b450510d61ae8d147eab966cc9a200c07095b0cdcc"},
	{"https://www.w3.org/ns/credentials/examples/v2", "w3c/credentials-examples-v2.jsonld", "57393fbc69d6efb9b9b5dc9cb6b9880b0944360abfe2eaf459c9e58cf2279d7c"},
	{"https://www.w3.org/ns/credentials/status/v1", "w3c/credentials-status-v1.jsonld", "fda5add353231e6a6884a46b12e6c75464281900cb348284d9c360f62381d9f7"},
	{"https://www.w3.org/ns/credentials/undefined-terms/v2", "w3c/credentials-undefined-terms-v2.jsonld", "82dab514ba44eb18f5d1b0f638c5e140c6a556fbfb5089601bdc0fa5eb8b2581"},
	// The digest VC Data Model 2.0 publishes for its base context (appendix B.1).
	{"https://www.w3.org/ns/credentials/v2", "w3c/credentials-v2.jsonld", "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"},
	{"https://www.w3.org/ns/did/v1", "npm/did-v1.jsonld", "62c1054bf404d6dd3a4b26b64f830fd72095f6a26edc4469908c94351352ce5f"},
}

// bundled is one verified context: its bytes and its parsed JSON, which
// is never handed out (callers get a deep copy).
type bundled struct {
	raw    []byte
	parsed any
}

// contexts is filled once, at init, and only read afterwards.
var contexts = mustLoadContexts()

// mustLoadContexts reads and verifies every pinned context. A mismatch
// means the binary was tampered with or built from altered files: it
// panics rather than run with contexts nobody vetted.
func mustLoadContexts() map[string]bundled {
	m, err := loadContexts(contextFS)
	if err != nil {
		panic("credential/ld: " + err.Error())
	}
	return m
}

type readFileFS interface {
	ReadFile(name string) ([]byte, error)
}

func loadContexts(fsys readFileFS) (map[string]bundled, error) {
	m := make(map[string]bundled, len(pinned))
	for _, p := range pinned {
		raw, err := fsys.ReadFile("contexts/" + p.file)
		if err != nil {
			return nil, fmt.Errorf("read context %s: %w", p.url, err)
		}
		sum := sha256.Sum256(raw)
		if got := hex.EncodeToString(sum[:]); got != p.sha256 {
			return nil, fmt.Errorf("context %s (%s): SHA-256 %s, want %s", p.url, p.file, got, p.sha256)
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return nil, fmt.Errorf("decode context %s: %w", p.url, err)
		}
		m[p.url] = bundled{raw: raw, parsed: doc}
	}
	return m, nil
}

// Context returns the bundled document for a context URL, byte for byte
// as pinned, and whether it is known. The slice is the caller's.
func Context(url string) ([]byte, bool) {
	c, ok := contexts[url]
	if !ok {
		return nil, false
	}
	return slices.Clone(c.raw), true
}

// Known returns the bundled context URLs, sorted.
func Known() []string {
	urls := make([]string, 0, len(contexts))
	for u := range contexts {
		urls = append(urls, u)
	}
	slices.Sort(urls)
	return urls
}

// Loader returns a json-gold DocumentLoader that serves only the bundled
// contexts. Any other URL is an error wrapping [ErrUnknownContext] (and
// carrying the code [credential.UnknownContextError]); it never touches
// the network or the file system. It is safe for concurrent use, and each
// call returns a fresh copy of the document, which json-gold may modify.
func Loader() jsonld.DocumentLoader { return loader{} }

type loader struct{}

var _ jsonld.DocumentLoader = loader{}

// LoadDocument implements jsonld.DocumentLoader.
func (loader) LoadDocument(url string) (*jsonld.RemoteDocument, error) {
	c, ok := contexts[url]
	if !ok {
		return nil, credential.Errorf(credential.UnknownContextError, "load %q: %w", url, ErrUnknownContext)
	}
	return &jsonld.RemoteDocument{DocumentURL: url, Document: jsonld.CloneDocument(c.parsed)}, nil
}

package credential

import (
	"slices"

	"github.com/idmesh/idmesh/did/strictjson"
)

// MaxCredentialsPerPresentation bounds the credentials one presentation
// may carry.
const MaxCredentialsPerPresentation = 64

// Presentation is a verifiable presentation: the object as received and
// the members the data model gives meaning to.
type Presentation struct {
	// Object is the presentation as decoded.
	Object map[string]any
	// Version is the data model the base context declares.
	Version Version
	// ID is the optional identifier.
	ID string
	// Types lists the types; it includes VerifiablePresentation.
	Types []string
	// Holder is the holder's URL, if given.
	Holder string
	// Credentials are the verifiableCredential entries: each an embedded
	// secured credential or an EnvelopedVerifiableCredential.
	Credentials []map[string]any
	// Enveloped is set for an EnvelopedVerifiablePresentation.
	Enveloped bool
}

// ParsePresentation decodes and validates a presentation.
func ParsePresentation(b []byte) (*Presentation, error) {
	m, err := strictjson.Object(b, MaxBytes)
	if err != nil {
		return nil, Errorf(ParsingError, "presentation: %v", err)
	}
	return PresentationFrom(m)
}

// PresentationFrom validates a decoded presentation object.
func PresentationFrom(m map[string]any) (*Presentation, error) {
	p := &Presentation{Object: m}
	var err error
	if p.Version, err = baseContext(m); err != nil {
		return nil, err
	}
	if p.Types, err = types(m, "presentation"); err != nil {
		return nil, err
	}
	if slices.Contains(p.Types, TypeEnvelopedPresentation) {
		id, _ := m["id"].(string)
		if len(id) < 5 || id[:5] != "data:" {
			return nil, malformed("enveloped presentation: id must be a data: URL")
		}
		p.ID, p.Enveloped = id, true
		return p, nil
	}
	if !slices.Contains(p.Types, TypePresentation) {
		return nil, malformed("presentation: type must include %s", TypePresentation)
	}
	if p.ID, err = OptionalURL(m, "id"); err != nil {
		return nil, err
	}
	if p.Holder, err = idOf(m["holder"], "holder", false); err != nil {
		return nil, err
	}
	if p.Credentials, err = objects(m["verifiableCredential"], "verifiableCredential"); err != nil {
		return nil, err
	}
	if len(p.Credentials) > MaxCredentialsPerPresentation {
		return nil, malformed("presentation: %d credentials, at most %d", len(p.Credentials), MaxCredentialsPerPresentation)
	}
	return p, nil
}

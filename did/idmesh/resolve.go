package idmesh

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/keys"
)

// Resolver resolves did:idmesh DIDs from ledger state.
type Resolver struct {
	State Reader
}

var _ did.Resolver = (*Resolver)(nil)

// xmlTime formats t as DID Resolution's XML datetime in UTC.
func xmlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// Resolve returns the latest version of d, or the one selected by
// opts.VersionID or opts.VersionTime. A deactivated DID resolves, with
// deactivated set in the metadata.
func (r *Resolver) Resolve(_ context.Context, d string, opts did.Options) (*did.ResolutionResult, error) {
	if _, err := did.Parse(d); err != nil {
		return nil, fmt.Errorf("%w: %w", did.ErrInvalidDID, err)
	}
	if err := ValidateDID(d); err != nil {
		return nil, fmt.Errorf("%w: %w", did.ErrInvalidDID, err)
	}
	if opts.VersionID != "" && !opts.VersionTime.IsZero() {
		return nil, fmt.Errorf("%w: versionId and versionTime are exclusive", did.ErrInvalidOptions)
	}
	rec, latest, err := r.latest(d)
	if err != nil {
		return nil, err
	}
	n := rec.Versions
	switch {
	case opts.VersionID != "":
		if n, err = VersionNumber(r.State, d, opts.VersionID); err != nil {
			return nil, wrapNotFound(err)
		}
	case !opts.VersionTime.IsZero():
		if n, err = r.versionAt(d, rec, latest, opts.VersionTime); err != nil {
			return nil, wrapNotFound(err)
		}
	}
	return r.version(d, rec, latest, n)
}

// latest reads the record of d with its latest version, with errors as
// Resolve returns them.
func (r *Resolver) latest(d string) (*Record, *Version, error) {
	rec, latest, _, err := loadLatest(r.State, d)
	if errors.Is(err, ErrNotFound) {
		return nil, nil, fmt.Errorf("%w: %s", did.ErrNotFound, d)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", did.ErrInternal, err)
	}
	return rec, latest, nil
}

// load returns version n of d, whose record and latest version are rec
// and latest: the latest itself, or one read.
func (r *Resolver) load(d string, rec *Record, latest *Version, n uint64) (*Version, error) {
	if n == rec.Versions {
		return latest, nil
	}
	return loadReplaced(r.State, d, n)
}

// ResolveVersionNumber returns version n (1 for the create) of d, as
// Resolve would with that version's versionId. Verifiers use it to look at
// the document that listed a key the DID later retired.
func (r *Resolver) ResolveVersionNumber(_ context.Context, d string, n uint64) (*did.ResolutionResult, error) {
	if err := ValidateDID(d); err != nil {
		return nil, fmt.Errorf("%w: %w", did.ErrInvalidDID, err)
	}
	rec, latest, err := r.latest(d)
	if err != nil {
		return nil, err
	}
	if n == 0 || n > rec.Versions {
		return nil, fmt.Errorf("%w: %s has no version %d", did.ErrNotFound, d, n)
	}
	return r.version(d, rec, latest, n)
}

// version builds the resolution result of version n of d, whose record
// and latest version are rec and latest.
func (r *Resolver) version(d string, rec *Record, latest *Version, n uint64) (*did.ResolutionResult, error) {
	v, err := r.load(d, rec, latest, n)
	if err != nil {
		return nil, wrapNotFound(err)
	}
	md := did.DocumentMetadata{
		Created:   xmlTime(rec.Created),
		VersionID: v.VersionID,
		Extra:     map[string]any{"versionNumber": v.Number, "blockHeight": v.Height},
	}
	if v.Number > 1 {
		md.Updated = xmlTime(v.Time)
	}
	if v.Number < rec.Versions {
		next, err := r.load(d, rec, latest, v.Number+1)
		if err != nil {
			return nil, wrapNotFound(err)
		}
		md.NextVersionID = next.VersionID
		md.NextUpdate = xmlTime(next.Time)
	}
	// DID Core: once deactivated, the metadata of every version says so.
	md.Deactivated = rec.Deactivated
	// The key events up to this version: the newest MaxListedRotatedKeys
	// of them, oldest first, and the count of all.
	if total := v.RotatedKeysTotal; total > 0 {
		first := total - min(total, MaxListedRotatedKeys)
		events := make([]KeyEvent, 0, total-first)
		for i := first; i < total; i++ {
			e, err := LoadKeyEvent(r.State, d, i)
			if err != nil {
				return nil, wrapNotFound(err)
			}
			events = append(events, *e)
		}
		md.Extra["rotatedKeys"] = events
		md.Extra["rotatedKeysTotal"] = total
	}
	return &did.ResolutionResult{
		Context:               did.ContextResolution,
		DIDDocument:           v.Document,
		DIDResolutionMetadata: did.ResolutionMetadata{ContentType: did.MediaTypeDIDLDJSON},
		DIDDocumentMetadata:   md,
	}, nil
}

// versionAt finds the latest version whose time is at or before t by
// binary search over the version numbers 1..rec.Versions.
func (r *Resolver) versionAt(d string, rec *Record, latest *Version, t time.Time) (uint64, error) {
	var ferr error
	i := sort.Search(int(rec.Versions), func(i int) bool {
		v, err := r.load(d, rec, latest, uint64(i)+1)
		if err != nil {
			ferr = err
			return true
		}
		// Compare at the second, the precision metadata reports times in,
		// so that a reported created or updated time selects its version.
		return v.Time.Truncate(time.Second).After(t)
	})
	if ferr != nil {
		return 0, ferr
	}
	if i == 0 {
		return 0, fmt.Errorf("%w: %s did not exist at %s", ErrNotFound, d, xmlTime(t))
	}
	return uint64(i), nil
}

func wrapNotFound(err error) error {
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: %s", did.ErrNotFound, strings.TrimPrefix(err.Error(), ErrNotFound.Error()+": "))
	}
	return fmt.Errorf("%w: %w", did.ErrInternal, err)
}

// Latest returns the latest document of d and whether d is deactivated,
// without building the metadata: one state read, for verifiers that need
// only the current keys.
func (r *Resolver) Latest(_ context.Context, d string) (*did.Document, bool, error) {
	if err := ValidateDID(d); err != nil {
		return nil, false, fmt.Errorf("%w: %w", did.ErrInvalidDID, err)
	}
	rec, v, err := r.latest(d)
	if err != nil {
		return nil, false, err
	}
	return v.Document, rec.Deactivated, nil
}

// KeyStatus returns the key-status index entry of pub, or nil when no
// version of any DID retired or compromised it: one state read.
func (r *Resolver) KeyStatus(_ context.Context, pub keys.PublicKey) (*KeyStatus, error) {
	s, err := LoadKeyStatus(r.State, pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", did.ErrInternal, err)
	}
	return s, nil
}

// RemovedMethod returns the latest update that removed the verification
// method methodID (absolute) from d, or nil when none did.
func (r *Resolver) RemovedMethod(_ context.Context, d, methodID string) (*KeyEvent, error) {
	e, err := LoadRemovedMethod(r.State, d, methodID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", did.ErrInternal, err)
	}
	return e, nil
}

package api

import (
	"encoding/base64"
	"fmt"
	"io"
)

// randomToken returns n bytes read from r, base64url without padding:
// the IDs, codes, references and secrets of the OpenID4VCI and OpenID4VP
// stores.
func randomToken(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// reserveBytes counts n more bytes in *used against max, calling sweep
// once to free what expired when they do not fit, and returns full when
// they still do not (then *used is unchanged). The caller holds the
// store's lock.
func reserveBytes(used *int, max, n int, sweep func(), full error) error {
	if *used+n > max {
		sweep()
		if *used+n > max {
			return full
		}
	}
	*used += n
	return nil
}

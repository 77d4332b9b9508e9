//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package keystore

import "time"

const lockingSupported = false

// lockFile is a no-op on platforms without flock: writers in different
// processes are not serialized there (see the package documentation).
func lockFile(string, time.Duration) (unlock func(), err error) {
	return func() {}, nil
}

//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package keystore

import (
	"errors"
	"os"
	"syscall"
	"time"
)

const lockingSupported = true

// lockFile takes an exclusive flock on path (created with mode 0600 if
// missing), polling until timeout and then failing with ErrLocked. The
// returned function releases it. Locks belong to the open file, so two
// Stores in one process also exclude each other.
func lockFile(path string, timeout time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	delay := time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			// Closing the file releases the lock.
			return func() { f.Close() }, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case !errors.Is(err, syscall.EWOULDBLOCK):
			f.Close()
			return nil, err
		case !time.Now().Before(deadline):
			f.Close()
			return nil, ErrLocked
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
}

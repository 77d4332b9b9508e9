//go:build linux

package keystore_test

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/idmesh/idmesh/did/keystore"
)

func TestLockedByOtherProcess(t *testing.T) {
	s := MustCreate(t)
	s2 := MustOpen(t, s.Path(), keystore.WithLockTimeout(0))
	// Hold the lock the way another idmesh process would.
	f, err := os.OpenFile(s.Path()+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if err := s2.Put(entry("did:idmesh:a#key-1")); !errors.Is(err, keystore.ErrLocked) {
		t.Fatalf("Put while locked = %v, want ErrLocked", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_UN); err != nil {
		t.Fatal(err)
	}
	MustPut(t, s2, entry("did:idmesh:a#key-1"))
	// Readers need no lock.
	if _, err := keystore.Open(s.Path(), pass); err != nil {
		t.Fatal(err)
	}
}

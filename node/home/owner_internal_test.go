//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package home

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTightenRefusesForeignOwner: a secret or directory of the home that
// another user owns stops the start (the test's files belong to the user
// running it; it poses as another user, and as root, who may keep them).
func TestTightenRefusesForeignOwner(t *testing.T) {
	d := Dir(t.TempDir())
	if err := os.WriteFile(d.APIToken(), []byte("token"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := os.Getuid() + 1
	if _, err := d.tighten(other); !errors.Is(err, ErrForeignOwner) {
		t.Fatalf("as user %d: %v", other, err)
	}
	if _, err := d.tighten(0); err != nil {
		t.Fatalf("as root: %v", err)
	}
	if _, err := d.tighten(os.Getuid()); err != nil {
		t.Fatalf("as the owner: %v", err)
	}
	// A link to another user's file is judged by the file.
	if err := os.Remove(d.APIToken()); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "planted")
	if err := os.WriteFile(target, []byte("token"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, d.APIToken()); err != nil {
		t.Fatal(err)
	}
	if _, err := d.tighten(other); !errors.Is(err, ErrForeignOwner) {
		t.Fatalf("link as user %d: %v", other, err)
	}
	// A dangling link, whoever owns it: a new secret would be written
	// through it.
	if err := os.Remove(d.APIToken()); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(t.TempDir(), "absent"), d.APIToken()); err != nil {
		t.Fatal(err)
	}
	if _, err := d.tighten(os.Getuid()); !errors.Is(err, ErrForeignOwner) {
		t.Fatalf("dangling link: %v", err)
	}
	// Nor does a new secret go through it.
	if _, _, err := EnsureSecret(d.APIToken(), strings.NewReader(strings.Repeat("x", 32))); err == nil {
		t.Fatal("a secret was written through a dangling link")
	}
}

package home_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/idmesh/idmesh/node/home"
)

func TestTighten(t *testing.T) {
	d := home.Dir(filepath.Join(t.TempDir(), "home"))
	if err := os.MkdirAll(filepath.Dir(d.TLSKey()), 0o755); err != nil {
		t.Fatal(err)
	}
	for p, mode := range map[string]fs.FileMode{d.APIToken(): 0o644, d.ValidatorKey(): 0o660, d.TLSKey(): 0o400, d.Genesis(): 0o644} {
		if err := os.WriteFile(p, []byte("x"), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // whatever the umask
			t.Fatal(err)
		}
	}
	if err := os.Chmod(string(d), 0o755); err != nil {
		t.Fatal(err)
	}
	changed, err := d.Tighten()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]fs.FileMode{
		string(d): 0o700, filepath.Dir(d.TLSKey()): 0o700, // tightened
		d.APIToken(): 0o600, d.ValidatorKey(): 0o600, // tightened
		d.TLSKey():  0o400, // stricter: kept
		d.Genesis(): 0o644, // not a secret
	}
	for p, m := range want {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != m {
			t.Errorf("%s: %04o, want %04o", p, fi.Mode().Perm(), m)
		}
	}
	if len(changed) != 4 {
		t.Errorf("changed %+v, want the 4 tightened paths", changed)
	}
	if again, err := d.Tighten(); err != nil || len(again) != 0 {
		t.Fatalf("second Tighten = %+v, %v; want nothing to do", again, err)
	}
}

package privval

import (
	"os"
	"path/filepath"
	"testing"
)

// writeFileSync leaves no temporary file behind: not after a write that
// succeeded (the temporary file became the target), nor after one whose
// rename failed (a directory stands at the target's name).
func TestWriteFileSyncLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	for range 3 {
		if err := writeFileSync(path, []byte("{}\n")); err != nil {
			t.Fatal(err)
		}
	}
	blocked := filepath.Join(dir, "blocked")
	if err := os.Mkdir(blocked, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blocked, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeFileSync(blocked, []byte("{}\n")); err == nil {
		t.Fatal("a write over a non-empty directory succeeded")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 2 || names[0] != "blocked" || names[1] != "state.json" {
		t.Fatalf("directory holds %v, want [blocked state.json]", names)
	}
}

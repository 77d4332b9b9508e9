package main

import (
	"bytes"
	"context"
	encbin "encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goleveldb "github.com/syndtr/goleveldb/leveldb"

	"github.com/idmesh/idmesh/registry/leveldb"
)

// TestNodeRefusesOldStoreFormat: `idmesh node` over a chain directory
// written in another store format (format 1, which has no format mark,
// or a newer one) exits with failure and one line naming the format and
// what to do, instead of reading state whose roots it would compute
// differently; with --json, one problem. The store is left as it was.
func TestNodeRefusesOldStoreFormat(t *testing.T) {
	for _, tc := range []struct {
		name string
		kv   map[string][]byte
		want []string
	}{
		{"format 1", map[string][]byte{"G": []byte(`{"chain_id":"old"}`), "M": []byte(`{"height":7}`)},
			[]string{fmt.Sprintf("store format 1 is older than this idmesh's format %d", leveldb.Format), "re-sync from genesis", "idmesh node --state-sync"}},
		{"the previous format", map[string][]byte{"F": encbin.AppendUvarint(nil, leveldb.Format-1), "G": []byte(`{}`)},
			[]string{fmt.Sprintf("store format %d is older than this idmesh's format %d (state roots changed)", leveldb.Format-1, leveldb.Format), "re-sync from genesis"}},
		{"the next format", map[string][]byte{"F": encbin.AppendUvarint(nil, leveldb.Format+1), "G": []byte(`{}`)},
			[]string{fmt.Sprintf("store format %d is newer than this idmesh's format %d", leveldb.Format+1, leveldb.Format), "run a newer idmesh"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tn := t.TempDir()
			mustCLI(t, "", "", "testnet", "init", "--validators", "1", "--dir", tn, "--base-port", fmt.Sprint(freeBase(t, 1)))
			h := filepath.Join(tn, "node0")
			chain := filepath.Join(h, "chain")
			if err := os.RemoveAll(chain); err != nil {
				t.Fatal(err)
			}
			db, err := goleveldb.OpenFile(chain, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.kv {
				if err := db.Put([]byte(k), v, nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			for _, json := range []bool{false, true} {
				args := []string{"node", "--home", h, "--http", "127.0.0.1:0"}
				if json {
					args = append(args, "--json")
				}
				out, errOut, code := runBounded(t, args...)
				if code != exitFailure {
					t.Fatalf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
				}
				msg := errOut
				if json {
					obj, _ := mustOneJSON(t, out).(map[string]any)
					msg, _ = obj["detail"].(string)
					if obj["type"] != problemCommandFailed {
						t.Fatalf("problem %v", obj)
					}
				} else if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
					t.Fatalf("not one line: %q", errOut)
				}
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Fatalf("%q lacks %q", msg, w)
					}
				}
			}
			// Left as it was: the keys are still there, and no mark was added.
			db, err = goleveldb.OpenFile(chain, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for k, v := range tc.kv {
				if got, err := db.Get([]byte(k), nil); err != nil || !bytes.Equal(got, v) {
					t.Fatalf("key %q after the refusal: %q %v", k, got, err)
				}
			}
			if _, ok := tc.kv["F"]; !ok {
				if has, _ := db.Has([]byte("F"), nil); has {
					t.Fatal("the refused store was marked")
				}
			}
		})
	}
}

// runBounded runs the binary with a deadline, so that a node that starts
// instead of refusing fails the test rather than hanging it.
func runBounded(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("idmesh %s did not exit: %s", strings.Join(args, " "), errb.String())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	code := 0
	if ee != nil {
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

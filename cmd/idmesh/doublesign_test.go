package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/node/wal"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// copyTree copies the directory src to dst (which must not exist),
// keeping file modes.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(to, fi.Mode().Perm())
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRestoredHomeRefusesToSign is the double-sign check through real
// processes: four validators; one validator's home is copied while it is
// stopped; the chain moves on with its signature required on every
// commit; its home is then restored from the copy. Restarted, it syncs
// from its peers, finds its own precommits above the watermark of the
// copy, and exits naming the height instead of signing; the other three
// go on committing.
func TestRestoredHomeRefusesToSign(t *testing.T) {
	if testing.Short() {
		t.Skip("processes")
	}
	dir := t.TempDir()
	home := func(i int) string { return filepath.Join(dir, fmt.Sprintf("node%d", i)) }
	nodes := startTestnet(t, dir, 4, nil)
	txs, _, err := registrytest.CreateOps(0, 8)
	if err != nil {
		t.Fatal(err)
	}
	commit := func(p *proc, i int) uint64 { return commitOp(t, p, i, txs[i].Payload) }
	h := commit(nodes[0], 0)
	for _, p := range nodes {
		p.waitHeight(t, h, 30*time.Second)
	}

	// The backup: node3's home, copied while it is stopped.
	nodes[3].stop()
	backup := filepath.Join(t.TempDir(), "node3-backup")
	copyTree(t, home(3), backup)
	nodes[3] = startNode(t, "node3", "--home", home(3), "--log-level", "warn")
	nodes[3].waitHeight(t, nodes[0].status(t).Height, 30*time.Second)
	backupHeight := nodes[3].status(t).Height

	// The chain moves on with node0 down: every commit needs node3's
	// precommit.
	nodes[0].stop()
	var last uint64
	for i := 1; i <= 3; i++ {
		last = commit(nodes[1], i)
	}
	if last <= backupHeight {
		t.Fatalf("the chain is at %d, the backup at %d", last, backupHeight)
	}
	nodes[3].stop()
	nodes[0] = startNode(t, "node0", "--home", home(0), "--log-level", "warn")

	// node3's home restored from the copy: it refuses to sign.
	if err := os.RemoveAll(home(3)); err != nil {
		t.Fatal(err)
	}
	copyTree(t, backup, home(3))
	restored := startNode(t, "node3", "--home", home(3), "--log-level", "warn")
	exited := make(chan error, 1)
	go func() { exited <- restored.cmd.Wait() }()
	select {
	case err = <-exited:
	case <-time.After(90 * time.Second):
		_ = restored.cmd.Process.Kill()
		<-exited
		restored.mu.Lock()
		defer restored.mu.Unlock()
		t.Fatalf("the restored validator did not stop:\n%s", tail(restored.logs.String(), 3000))
	}
	restored.mu.Lock()
	logs := restored.logs.String()
	restored.mu.Unlock()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("restored validator: %v, want exit status 1:\n%s", err, logs)
	}
	m := regexp.MustCompile(`(?m)^idmesh: double-sign check .*the commit of height (\d+) round \d+ carries validator \S+ precommit, above its last-signed watermark .*refusing to sign$`).FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no one-line double-sign refusal in:\n%s", logs)
	}
	if at, _ := strconv.ParseUint(m[1], 10, 64); at <= backupHeight || at > last {
		t.Fatalf("refusal names height %d, want one in (%d, %d]", at, backupHeight, last)
	}
	t.Logf("backup at height %d, chain at %d: %s", backupHeight, last, m[0])

	// The other three go on.
	h = commit(nodes[0], 4)
	if h <= last {
		t.Fatalf("height %d after the refusal, was %d", h, last)
	}
	for _, p := range nodes[:3] {
		p.waitHeight(t, h, 30*time.Second)
	}
}

// TestCorruptLogRefused: a validator whose write-ahead log has a bad
// record before a valid one refuses to start, with one line naming the
// file and the offset; a torn final record is dropped and it starts.
func TestCorruptLogRefused(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	startDev(t, home).stop()
	walPath := filepath.Join(home, "consensus.wal")
	vote := p2p.Message{Vote: &consensus.Vote{Type: consensus.Prevote, Height: 99, BlockID: registry.Sum([]byte{1}), Signature: make([]byte, 64)}}
	l, _, err := wal.Open[p2p.Message](walPath, 99)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Append([]p2p.Message{vote, vote}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	good, err := os.ReadFile(walPath)
	if err != nil {
		t.Fatal(err)
	}

	// A torn final record: dropped, and the node starts.
	if err := os.WriteFile(walPath, good[:len(good)-5], 0o600); err != nil {
		t.Fatal(err)
	}
	startDev(t, home).stop()

	// A byte flipped in the first of two records: refused.
	bad := append([]byte(nil), good...)
	bad[20] ^= 1
	if err := os.WriteFile(walPath, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "dev", "--home", home, "--http", "127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("dev on a corrupt log: %v, want exit status 1:\n%s", err, stderr.String())
	}
	want := regexp.MustCompile(`(?m)^idmesh: open wal: wal: corrupt write-ahead log: ` + regexp.QuoteMeta(walPath) + ` at byte 0: checksum mismatch, with \d+ bytes from there to the end of the file$`)
	if !want.MatchString(stderr.String()) {
		t.Fatalf("no one-line refusal naming the file and offset in:\n%s", stderr.String())
	}
	if after, _ := os.ReadFile(walPath); !bytes.Equal(after, bad) {
		t.Fatal("the corrupt log was changed")
	}
}

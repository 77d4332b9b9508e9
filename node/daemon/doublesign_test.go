package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/node/daemon"
	"github.com/idmesh/idmesh/node/home"
	"github.com/idmesh/idmesh/node/privval"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), fi.Mode().Perm())
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDoubleSignCheck: a validator's home copied at height 1, started on
// loopback next to the original (the key running elsewhere, or a home
// restored from a backup) once the original has signed more blocks, syncs
// them from it through libp2p and refuses to sign: Run fails with
// ErrSignedAbove before the engine starts.
func TestDoubleSignCheck(t *testing.T) {
	dir := t.TempDir()
	if _, err := home.Dir(dir).InitSingle(chainID, genesisTime); err != nil {
		t.Fatal(err)
	}
	cfg := daemon.Config{Home: dir, HTTPAddr: "127.0.0.1:0", P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, FirstPeerWait: -1,
		BlockInterval: time.Millisecond, Version: "test"}
	submit := func(d *running, i uint64) uint64 {
		t.Helper()
		op, _, err := registrytest.NewCreate(chainID, i)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := op.Encode()
		code, b := mustDo(t, http.MethodPost, d.BaseURL()+"/v1/operations?wait=30s", body)
		var sub struct{ Height uint64 }
		if err := json.Unmarshal(b, &sub); err != nil || code != http.StatusOK {
			t.Fatalf("submit: %d %s", code, b)
		}
		return sub.Height
	}
	d := MustStart(t, cfg)
	first := submit(d, 1)
	d.MustStop(t)
	backup := filepath.Join(t.TempDir(), "backup")
	copyDir(t, dir, backup)

	d = MustStart(t, cfg)
	var last uint64
	for i := uint64(2); i <= 4; i++ {
		last = submit(d, i)
	}
	if last <= first {
		t.Fatalf("heights %d then %d", first, last)
	}

	// The copy, next to the original on loopback, with a network
	// identity of its own (libp2p does not dial itself).
	if err := os.Remove(home.Dir(backup).NodeKey()); err != nil {
		t.Fatal(err)
	}
	old := cfg
	old.Home, old.P2PListen, old.Bootstrap, old.FirstPeerWait = backup, []string{"/ip4/127.0.0.1/tcp/0"}, d.P2PAddrs()[:1], 30*time.Second
	o, err := daemon.New(t.Context(), old)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	// A bound for a broken check, which would run the engine on.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	err = o.Run(ctx)
	if !errors.Is(err, privval.ErrSignedAbove) {
		t.Fatalf("Run of the copy = %v, want ErrSignedAbove", err)
	}
	if h := o.Node().State().Height; h != last {
		t.Fatalf("the copy synced to %d, the original is at %d", h, last)
	}
}

// logSignal is a slog handler that closes seen the first time a record
// with message msg is handled.
type logSignal struct {
	msg  string
	seen chan struct{}
	once *sync.Once
}

func (l logSignal) Enabled(context.Context, slog.Level) bool { return true }
func (l logSignal) Handle(_ context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, l.msg) {
		l.once.Do(func() { close(l.seen) })
	}
	return nil
}
func (l logSignal) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l logSignal) WithGroup(string) slog.Handler      { return l }

// twoValidatorHomes creates two homes sharing a genesis in which each
// of their validators has half the power: neither decides alone.
func twoValidatorHomes(t *testing.T) (a, b string) {
	t.Helper()
	dirs := []string{t.TempDir(), t.TempDir()}
	g := &registry.Genesis{ChainID: chainID, GenesisTime: genesisTime}
	for _, d := range dirs {
		kf, err := privval.GenerateKey(home.Dir(d).ValidatorKey(), nil)
		if err != nil {
			t.Fatal(err)
		}
		g.Validators = append(g.Validators, registry.Validator{PubKey: kf.PublicKey, Power: 1})
	}
	enc, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if err := os.WriteFile(home.Dir(d).Genesis(), enc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dirs[0], dirs[1]
}

// TestValidatorAwaitsPeerTip: a validator that cannot decide alone,
// started with no peer to ask, signs nothing: it says it waits for a
// peer's tip (its watermark untouched), and once a peer is up and
// answers, it syncs, runs its check and signs, and the two commit.
func TestValidatorAwaitsPeerTip(t *testing.T) {
	ha, hb := twoValidatorHomes(t)
	sig := logSignal{msg: "not signing until a peer tells its tip", seen: make(chan struct{}), once: new(sync.Once)}
	cfgA := daemon.Config{Home: ha, HTTPAddr: "127.0.0.1:0", P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, FirstPeerWait: -1,
		BlockInterval: time.Millisecond, Version: "test", Log: slog.New(sig)}
	a := MustStart(t, cfgA)
	select {
	case <-sig.seen:
	case <-time.After(time.Minute):
		t.Fatal("the validator did not wait for a peer before signing")
	}
	signedHeight := func() uint64 {
		t.Helper()
		b, err := os.ReadFile(home.Dir(ha).PrivvalState())
		if errors.Is(err, fs.ErrNotExist) {
			return 0
		}
		var w privval.Watermark
		if err != nil || json.Unmarshal(b, &w) != nil {
			t.Fatalf("watermark: %v %s", err, b)
		}
		if w.Round == math.MaxInt32 {
			return 0 // a floor raised at start, not a signature
		}
		return w.Height
	}
	if h := signedHeight(); h != 0 {
		t.Fatalf("the waiting validator signed at height %d", h)
	}

	cfgB := daemon.Config{Home: hb, HTTPAddr: "127.0.0.1:0", P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, Bootstrap: a.P2PAddrs()[:1],
		FirstPeerWait: 30 * time.Second, BlockInterval: time.Millisecond, Version: "test"}
	b := MustStart(t, cfgB)
	op, _, err := registrytest.NewCreate(chainID, 1)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := op.Encode()
	code, out := mustDo(t, http.MethodPost, b.BaseURL()+"/v1/operations?wait=60s", body)
	if code != http.StatusOK {
		t.Fatalf("submit: %d %s", code, out)
	}
	if signedHeight() == 0 {
		t.Fatal("the validator never signed after its peer came")
	}
}

// TestDoubleSignCheckWithoutFirstPeerWait: validator B of a
// two-validator chain is backed up, signs more blocks, and is restored
// from the backup and started with no wait for a first peer: whether or
// not its peer is connected when the start-up sync runs, it syncs from the
// first peer that answers before it checks, finds its own precommits above
// the backup's watermark and refuses to sign.
func TestDoubleSignCheckWithoutFirstPeerWait(t *testing.T) {
	ha, hb := twoValidatorHomes(t)
	cfg := func(home string, boot []string, wait time.Duration) daemon.Config {
		return daemon.Config{Home: home, HTTPAddr: "127.0.0.1:0", P2PListen: []string{"/ip4/127.0.0.1/tcp/0"}, Bootstrap: boot,
			FirstPeerWait: wait, BlockInterval: time.Millisecond, Version: "test"}
	}
	submit := func(d *running, i uint64) uint64 {
		t.Helper()
		op, _, err := registrytest.NewCreate(chainID, i)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := op.Encode()
		code, b := mustDo(t, http.MethodPost, d.BaseURL()+"/v1/operations?wait=60s", body)
		var sub struct{ Height uint64 }
		if err := json.Unmarshal(b, &sub); err != nil || code != http.StatusOK {
			t.Fatalf("submit: %d %s", code, b)
		}
		return sub.Height
	}
	a := MustStart(t, cfg(ha, nil, -1))
	b := MustStart(t, cfg(hb, a.P2PAddrs()[:1], 30*time.Second))
	submit(a, 1)
	b.MustStop(t)
	backup := filepath.Join(t.TempDir(), "backup")
	copyDir(t, hb, backup)
	b = MustStart(t, cfg(hb, a.P2PAddrs()[:1], 30*time.Second))
	last := submit(a, 2)
	last = max(last, submit(a, 3))
	b.MustStop(t)

	restored, err := daemon.New(t.Context(), cfg(backup, a.P2PAddrs()[:1], -1))
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := restored.Run(ctx); !errors.Is(err, privval.ErrSignedAbove) {
		t.Fatalf("Run of the restored validator = %v, want ErrSignedAbove", err)
	}
	if h := restored.Node().State().Height; h < last {
		t.Fatalf("the restored validator synced to %d, the chain is at %d", h, last)
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// testFlags are the flags of a command under test.
type testFlags struct {
	keyType string
	count   int
	verbose bool
	timeout time.Duration
	config  string
}

// testCmd is a command like idmesh's (`idmesh test`), with its own env.
type testCmd struct {
	a              *app
	root           *cobra.Command
	pos            []string
	stdout, stderr *bytes.Buffer
}

// newTestFlags returns a command like one of idmesh's, with its own env.
func newTestFlags(vars map[string]string) (*testCmd, *testFlags, env, *bytes.Buffer) {
	tc := &testCmd{stdout: new(bytes.Buffer), stderr: new(bytes.Buffer)}
	e := env{
		stdin:  strings.NewReader(""),
		stdout: tc.stdout,
		stderr: tc.stderr,
		getenv: func(k string) string { return vars[k] },
	}
	tc.a = &app{env: e}
	tc.root = newBase(tc.a)
	f := new(testFlags)
	c := tc.a.command("test [--key-type T] ARG...", "a test", func(_ context.Context, _ env, pos []string) error {
		tc.pos = pos
		return nil
	})
	fs := c.Flags()
	fs.StringVar(&f.keyType, "key-type", "Ed25519", "key type")
	fs.IntVar(&f.count, "count", 1, "a number")
	fs.BoolVar(&f.verbose, "verbose", false, "say more")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "how long")
	fs.StringVar(&f.config, "config", "", "JSON file of flag values")
	tc.root.AddCommand(c)
	return tc, f, e, tc.stderr
}

// parse runs `idmesh test ARGS...` as idmesh runs a command and returns
// the positional arguments the command got.
func parse(tc *testCmd, _ env, args []string) ([]string, error) {
	err := tc.a.execute(context.Background(), tc.root, append([]string{"test"}, args...))
	if len(tc.pos) == 0 {
		return nil, err // as the flag package gave them
	}
	return tc.pos, err
}

// mustConfig writes a config file and returns its path.
func mustConfig(tb testing.TB, body string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestParsePrecedence(t *testing.T) {
	const cfg = `{"key-type": "from-file", "count": 3, "verbose": true, "timeout": "3s", "other-command-flag": "x"}`
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		config string // file contents; "" for no --config
		want   testFlags
	}{
		{
			name: "defaults",
			want: testFlags{keyType: "Ed25519", count: 1, timeout: time.Minute},
		},
		{
			name:   "config file over defaults",
			config: cfg,
			want:   testFlags{keyType: "from-file", count: 3, verbose: true, timeout: 3 * time.Second},
		},
		{
			name:   "environment over config file",
			env:    map[string]string{"IDMESH_KEY_TYPE": "from-env", "IDMESH_COUNT": "4", "IDMESH_VERBOSE": "false", "IDMESH_TIMEOUT": "4s"},
			config: cfg,
			want:   testFlags{keyType: "from-env", count: 4, verbose: false, timeout: 4 * time.Second},
		},
		{
			name:   "command line over environment and config file",
			args:   []string{"--key-type", "from-flag", "-count=5", "-verbose=false", "--timeout", "5s"},
			env:    map[string]string{"IDMESH_KEY_TYPE": "from-env", "IDMESH_COUNT": "4", "IDMESH_VERBOSE": "true", "IDMESH_TIMEOUT": "4s"},
			config: cfg,
			want:   testFlags{keyType: "from-flag", count: 5, verbose: false, timeout: 5 * time.Second},
		},
		{
			name:   "each flag from its own source",
			args:   []string{"--key-type=P-256"},
			env:    map[string]string{"IDMESH_COUNT": "4"},
			config: cfg,
			want:   testFlags{keyType: "P-256", count: 4, verbose: true, timeout: 3 * time.Second},
		},
		{
			name: "empty environment value is unset",
			env:  map[string]string{"IDMESH_KEY_TYPE": ""},
			want: testFlags{keyType: "Ed25519", count: 1, timeout: time.Minute},
		},
		{
			name: "environment without a config file",
			env:  map[string]string{"IDMESH_KEY_TYPE": "P-256"},
			want: testFlags{keyType: "P-256", count: 1, timeout: time.Minute},
		},
		{
			name: "flag set to its default still wins",
			args: []string{"--key-type", "Ed25519"},
			env:  map[string]string{"IDMESH_KEY_TYPE": "P-256"},
			want: testFlags{keyType: "Ed25519", count: 1, timeout: time.Minute},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.config != "" {
				path := mustConfig(t, tt.config)
				args = append(append([]string(nil), args...), "--config", path)
				tt.want.config = path
			}
			fs, got, e, _ := newTestFlags(tt.env)
			pos, err := parse(fs, e, args)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if len(pos) != 0 {
				t.Fatalf("positional %q", pos)
			}
			if *got != tt.want {
				t.Fatalf("flags %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestParseConfigFromEnvironment(t *testing.T) {
	path := mustConfig(t, `{"key-type": "from-file"}`)
	fs, f, e, _ := newTestFlags(map[string]string{"IDMESH_CONFIG": path})
	if _, err := parse(fs, e, nil); err != nil {
		t.Fatal(err)
	}
	if f.keyType != "from-file" {
		t.Fatalf("key-type %q: the config file named by IDMESH_CONFIG was not read", f.keyType)
	}
}

func TestParsePositional(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantPos []string
		wantKey string
		wantCnt int
	}{
		{"none", nil, nil, "Ed25519", 1},
		{"only positional", []string{"a", "b"}, []string{"a", "b"}, "Ed25519", 1},
		{"flags first", []string{"--key-type", "P-256", "a"}, []string{"a"}, "P-256", 1},
		{"flags after positional", []string{"a", "--key-type", "P-256", "b", "-count", "2"}, []string{"a", "b"}, "P-256", 2},
		{"flags between positional", []string{"a", "-count=3", "b", "c"}, []string{"a", "b", "c"}, "Ed25519", 3},
		{"double dash ends flags", []string{"--", "-a"}, []string{"-a"}, "Ed25519", 1},
		{"single dash is positional", []string{"-", "a"}, []string{"-", "a"}, "Ed25519", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, f, e, _ := newTestFlags(nil)
			pos, err := parse(fs, e, tt.args)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !reflect.DeepEqual(pos, tt.wantPos) || f.keyType != tt.wantKey || f.count != tt.wantCnt {
				t.Fatalf("pos %q key-type %q count %d; want %q %q %d", pos, f.keyType, f.count, tt.wantPos, tt.wantKey, tt.wantCnt)
			}
		})
	}
}

func TestParseDoubleDashEndsFlagsForGood(t *testing.T) {
	fs, _, e, _ := newTestFlags(nil)
	pos, err := parse(fs, e, []string{"x", "--", "-a", "-b"})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if want := []string{"x", "-a", "-b"}; !reflect.DeepEqual(pos, want) {
		t.Fatalf("pos %q, want %q", pos, want)
	}
}

func TestParseErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.json")
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		config   string
		wantText string // in the error
	}{
		{name: "unknown flag", args: []string{"--nope"}, wantText: "nope"},
		{name: "unknown flag after positional", args: []string{"a", "--nope"}, wantText: "nope"},
		{name: "flag missing its value", args: []string{"--key-type"}, wantText: "key-type"},
		{name: "bad flag value", args: []string{"--count", "many"}, wantText: "count"},
		{name: "bad env int", env: map[string]string{"IDMESH_COUNT": "many"}, wantText: "IDMESH_COUNT"},
		{name: "bad env bool", env: map[string]string{"IDMESH_VERBOSE": "maybe"}, wantText: "IDMESH_VERBOSE"},
		{name: "bad env duration", env: map[string]string{"IDMESH_TIMEOUT": "10"}, wantText: "IDMESH_TIMEOUT"},
		{name: "bad env value ignored when the flag is given", args: []string{"--count", "2"}, env: map[string]string{"IDMESH_COUNT": "many", "IDMESH_VERBOSE": "maybe"}, wantText: "IDMESH_VERBOSE"},
		{name: "config not JSON", config: "count = 3", wantText: "config"},
		{name: "bad config value", config: `{"timeout": "soon"}`, wantText: "timeout"},
		{name: "missing config file", args: []string{"--config", missing}, wantText: "missing.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.config != "" {
				args = append(append([]string(nil), args...), "--config", mustConfig(t, tt.config))
			}
			fs, _, e, _ := newTestFlags(tt.env)
			_, err := parse(fs, e, args)
			if err == nil {
				t.Fatal("parse succeeded")
			}
			if got := exitCode(err); got != 2 {
				t.Fatalf("exit code %d, want 2 (usage): %v", got, err)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("error %q does not mention %q", err, tt.wantText)
			}
			if strings.Contains(oneLine(err), "\n") {
				t.Fatal("oneLine kept a newline")
			}
		})
	}
}

func TestParseHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"a", "-h"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			fs, _, e, stderr := newTestFlags(nil)
			_, err := parse(fs, e, args)
			if err != nil {
				t.Fatalf("err = %v, want none: help is not an error (issue 13)", err)
			}
			if exitCode(err) != 0 {
				t.Fatalf("exit code %d, want 0", exitCode(err))
			}
			if stderr.Len() != 0 {
				t.Fatalf("help wrote to stderr: %q", stderr)
			}
			out := fs.stdout.String()
			for _, want := range []string{"Usage: idmesh test", "IDMESH_<FLAG>"} {
				if !strings.Contains(out, want) {
					t.Fatalf("usage lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestParseHelpListsFlagsOnce(t *testing.T) {
	fs, _, e, _ := newTestFlags(nil)
	if _, err := parse(fs, e, []string{"-h"}); err != nil {
		t.Fatalf("err = %v, want none", err)
	}
	out := fs.stdout.String()
	if n := strings.Count(out, "Usage: idmesh test"); n != 1 {
		t.Fatalf("usage header printed %d times:\n%s", n, out)
	}
	for _, want := range []string{"-key-type", "-count", "-verbose", "-timeout", "-config"} {
		if !strings.Contains(out, want) {
			t.Fatalf("usage lacks %q:\n%s", want, out)
		}
	}
}

func TestConfigFileNumbers(t *testing.T) {
	tests := []struct {
		name string
		json string
		want int
	}{
		{"small", `{"count": 42}`, 42},
		{"zero", `{"count": 0}`, 0},
		{"negative", `{"count": -7}`, -7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, f, e, _ := newTestFlags(nil)
			if _, err := parse(fs, e, []string{"--config", mustConfig(t, tt.json)}); err != nil {
				t.Fatal(err)
			}
			if f.count != tt.want {
				t.Fatalf("count %d, want %d", f.count, tt.want)
			}
		})
	}
}

func TestConfigFileLargeInteger(t *testing.T) {
	fs, f, e, _ := newTestFlags(nil)
	if _, err := parse(fs, e, []string{"--config", mustConfig(t, `{"count": 1000000}`)}); err != nil {
		t.Fatal(err)
	}
	if f.count != 1_000_000 {
		t.Fatalf("count %d, want 1000000", f.count)
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"usage error", usageError("bad"), 2},
		{"wrapped usage error", errors.Join(errors.New("x"), usageError("bad")), 2},
		{"other", errors.New("boom"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Fatalf("exitCode = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int // 0: no error
		wantOut  string
		wantErr  string
	}{
		{"no command", nil, 2, "Usage: idmesh <command>", ""},
		{"help", []string{"help"}, 0, "Usage: idmesh <command>", ""},
		{"-h", []string{"-h"}, 0, "Usage: idmesh <command>", ""},
		{"unknown command", []string{"frobnicate"}, 2, "", "Usage: idmesh <command>"},
		{"version", []string{"version"}, 0, "idmesh " + version, ""},
		{"unknown flag of a command", []string{"version-not"}, 2, "", "Usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			e := env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
			err := run(t.Context(), tt.args, e)
			code := 0
			if err != nil {
				code = exitCode(err)
			}
			if code != tt.wantCode {
				t.Fatalf("exit code %d, want %d (%v)", code, tt.wantCode, err)
			}
			if !strings.Contains(stdout.String(), tt.wantOut) || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Fatalf("stdout %q, stderr %q", stdout.String(), stderr.String())
			}
		})
	}
}

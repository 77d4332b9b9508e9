// Command idmesh runs idmesh nodes and talks to them: `idmesh dev` starts
// a single-validator network with every HTTP service, `idmesh did ...`
// manages DIDs whose keys stay in a local encrypted keystore, and
// `idmesh keys ...` manages that keystore.
//
// The command tree is built on spf13/cobra (root.go); each command is
// declared in the file of its subject (did.go, keys.go, vc.go, ...).
//
// Every flag can also be set with an IDMESH_<FLAG> environment variable
// (IDMESH_HOME for --home, IDMESH_KEY_TYPE for --key-type) or in a JSON
// config file named by --config; a flag on the command line wins over
// the environment, which wins over the file (flags.go).
//
// The exit status is 0 on success, 1 when a verification fails, the node
// refuses or anything else goes wrong, 2 for a usage error and 3 when the
// node cannot be reached, times out or answers 502, 503 or 504
// (errors.go). With --json every command prints JSON on stdout, and an
// error is one RFC 9457 problem object on stdout.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// profile, if set (only in a build with the idmesh_pprof tag,
// pprof.go), starts a profile of the process and returns what stops it.
var profile func() (stop func())

func main() {
	stopProfile := func() {}
	if profile != nil {
		stopProfile = profile()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	stopProfile()
	if err != nil {
		os.Exit(exitCode(err))
	}
}

// env is the process environment a command may use, injectable for tests.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// json is the --json flag: print JSON, and errors as problems.
	json bool
}

// run runs the command line args, reports an error (a one-line message
// on stderr, or with --json a problem object on stdout) and returns it.
func run(ctx context.Context, args []string, e env) error {
	a := &app{env: e}
	return a.execute(ctx, newRoot(a), args)
}

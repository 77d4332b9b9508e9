// Command idmesh runs idmesh nodes and talks to them: `idmesh dev` starts
// a single-validator network with every HTTP service, `idmesh did ...`
// manages DIDs whose keys stay in a local encrypted keystore, and
// `idmesh keys ...` manages that keystore.
//
// Every flag can also be set with an IDMESH_<FLAG> environment variable
// (IDMESH_HOME for --home, IDMESH_KEY_TYPE for --key-type) or in a JSON
// config file named by --config; a flag on the command line wins over
// the environment, which wins over the file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	if err != nil {
		if !errors.Is(err, errUsageShown) {
			fmt.Fprintln(os.Stderr, "idmesh:", oneLine(err))
		}
		os.Exit(exitCode(err))
	}
}

// env is the process environment a command may use, injectable for tests.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"dev", "run a single-validator network with every HTTP service", runDev},
		{"node", "run a node from an initialized home directory", runNode},
		{"testnet", "write and run a local multi-validator network", runTestnet},
		{"did", "create, update, rotate, deactivate and resolve DIDs", runDID},
		{"keys", "generate and list keys in the local keystore", runKeys},
		{"issuer", "register issuers whose keys the node keeps", runIssuer},
		{"vc", "issue and verify verifiable credentials", runVC},
		{"vp", "sign and verify verifiable presentations", runVP},
		{"schema", "register and read credential schemas on the chain", runSchema},
		{"trust", "accredit issuers for credential types (governance)", runTrust},
		{"version", "print the version", func(_ context.Context, e env, _ []string) error {
			fmt.Fprintln(e.stdout, "idmesh", version)
			return nil
		}},
	}
}

func run(ctx context.Context, args []string, e env) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout)
		if len(args) == 0 {
			return usageError("no command given")
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	usage(e.stderr)
	return usageError(fmt.Sprintf("unknown command %q", args[0]))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: idmesh <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'idmesh <command> -h' for a command's flags.")
}

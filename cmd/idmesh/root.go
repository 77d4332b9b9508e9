package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// app is one invocation of idmesh: the process environment, whose json
// field is the global --json flag, shared by every command.
type app struct {
	env     env
	version bool // --version
}

// usageTemplate is the usage of every command (cobra's template syntax):
// the synopsis, subcommands, flags and inherited global flags.
const usageTemplate = `Usage: {{.UseLine}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags (each also read from IDMESH_<FLAG>):
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableSubCommands}}

Run '{{.CommandPath}} <command> --help' for a command's flags.{{end}}
`

// newRoot returns the idmesh command tree.
func newRoot(a *app) *cobra.Command {
	root := newBase(a)
	root.AddCommand(
		newDevCmd(a),
		newNodeCmd(a),
		newTestnetCmd(a),
		newDIDCmd(a),
		newKeysCmd(a),
		newIssuerCmd(a),
		newVCCmd(a),
		newVPCmd(a),
		newVerifyGroupCmd(a),
		newSchemaCmd(a),
		newTrustCmd(a),
		newWalletCmd(a),
		newStatusCmd(a),
		newPeersCmd(a),
		newBlocksCmd(a),
		newVersionCmd(a),
		newCompletionCmd(a),
	)
	return root
}

// newBase returns the root command without subcommands: the global
// flags, usage and help, flag errors as usage errors, and the settings
// of IDMESH_* variables and --config files applied to the flags of the
// command that runs.
func newBase(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "idmesh <command>",
		Short: "a self-sovereign identity network: DIDs and verifiable credentials on a replicated ledger",
		Long: `idmesh runs idmesh nodes and talks to them.

Every flag can also be set as IDMESH_<FLAG> in the environment (dashes become
underscores) or in the JSON file named by --config; the command line wins over
the environment, which wins over the file.

Exit status: 0 ok; 1 not verified, refused by the node, or another failure;
2 usage error; 3 node unreachable, timeout, or a 502/503/504 answer.
With --json every command prints JSON on stdout, and an error is one RFC 9457
problem object on stdout.`,
		Args:              cobra.ArbitraryArgs,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			if c.Name() == cobra.ShellCompRequestCmd || c.Name() == cobra.ShellCompNoDescRequestCmd {
				return nil
			}
			return applySettings(c.Flags(), a.env.getenv)
		},
		RunE: func(c *cobra.Command, args []string) error {
			if a.version {
				return printVersion(a.env)
			}
			return a.group(c, args)
		},
	}
	root.SetUsageTemplate(usageTemplate)
	root.SetHelpCommand(newHelpCmd())
	root.SetFlagErrorFunc(flagError)
	root.PersistentFlags().BoolVar(&a.env.json, "json", false, "print JSON on stdout; an error is one RFC 9457 problem object")
	root.Flags().BoolVar(&a.version, "version", false, "print the version")
	return root
}

// execute runs args on root and reports an error as the user asked.
func (a *app) execute(ctx context.Context, root *cobra.Command, args []string) error {
	root.SetIn(a.env.stdin)
	root.SetOut(a.env.stdout)
	root.SetErr(a.env.stderr)
	args = normalizeArgs(root, args)
	a.env.json = wantsJSON(args, a.env.getenv)
	root.SetArgs(append([]string{}, args...)) // never nil: cobra would read os.Args
	_, err := root.ExecuteContextC(ctx)
	if err != nil {
		report(a.env, err)
	}
	return err
}

// action adapts a command's body to cobra: it runs with the command's
// context, the environment (its json field set by then) and the
// positional arguments.
func (a *app) action(run func(ctx context.Context, e env, args []string) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error { return run(c.Context(), a.env, args) }
}

// command returns a command that runs run.
func (a *app) command(use, short string, run func(ctx context.Context, e env, args []string) error) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, RunE: a.action(run)}
}

// groupCmd returns a command that only holds subcommands.
func (a *app) groupCmd(name, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: name + " <command>", Short: short, Args: cobra.ArbitraryArgs, RunE: a.group}
	c.AddCommand(subs...)
	return c
}

// group is the action of a command that holds subcommands: run without
// one, or with an unknown one, it is a usage error. The usage goes to
// stderr (the whole of it to stdout for a bare `idmesh`), not with
// --json.
func (a *app) group(c *cobra.Command, args []string) error {
	prefix := commandName(c) + ": "
	if !c.HasParent() {
		prefix = ""
	}
	switch {
	case a.env.json:
	case len(args) == 0 && !c.HasParent():
		fmt.Fprint(a.env.stdout, c.UsageString())
	default:
		// The commands, short: the error line follows.
		fmt.Fprintf(a.env.stderr, "Usage: %s\n\nCommands:\n", c.UseLine())
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				fmt.Fprintf(a.env.stderr, "  %-*s %s\n", sub.NamePadding(), sub.Name(), sub.Short)
			}
		}
	}
	if len(args) == 0 {
		return usageError(prefix + "no command given")
	}
	msg := fmt.Sprintf("%sunknown command %q", prefix, args[0])
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return usageError(msg)
}

// serverEnv is the environment of a command that runs until stopped
// (dev, node, testnet start). With --json its stdout carries only the
// problem object of an error, so what it prints while it runs joins the
// logs on stderr.
func (a *app) serverEnv() env {
	e := a.env
	if e.json {
		e.stdout = e.stderr
	}
	return e
}

// note prints a remark for the user on stderr, but not with --json: an
// error then leaves stderr empty.
func (e env) note(format string, args ...any) {
	if !e.json {
		fmt.Fprintf(e.stderr, format, args...)
	}
}

// newHelpCmd is `idmesh help [command]`: the help of a command, and a
// usage error for one that does not exist.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "print the help of a command",
		Args:  cobra.ArbitraryArgs,
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			target, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, sub := range target.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return usageError(fmt.Sprintf("help: unknown command %q", strings.Join(args, " ")))
			}
			target.InitDefaultHelpFlag()
			return target.Help()
		},
	}
}

func printVersion(e env) error {
	if e.json {
		return printJSON(e, map[string]string{"version": version})
	}
	fmt.Fprintln(e.stdout, "idmesh", version)
	return nil
}

func newVersionCmd(a *app) *cobra.Command {
	return a.command("version", "print the version", func(_ context.Context, e env, args []string) error {
		if len(args) != 0 {
			return usageError("version takes no arguments")
		}
		return printVersion(e)
	})
}

// shells are the shells `idmesh completion` writes scripts for.
var shells = []string{"bash", "zsh", "fish", "powershell"}

func newCompletionCmd(a *app) *cobra.Command {
	var noDesc bool
	c := &cobra.Command{Use: "completion " + strings.Join(shells, "|"), Short: "print a shell completion script", ValidArgs: shells}
	c.Long = `Print a script that completes idmesh's commands and flags in a shell:

  bash:        source <(idmesh completion bash)
  zsh:         idmesh completion zsh > "${fpath[1]}/_idmesh"
  fish:        idmesh completion fish > ~/.config/fish/completions/idmesh.fish
  powershell:  idmesh completion powershell | Out-String | Invoke-Expression`
	c.RunE = a.action(func(_ context.Context, e env, args []string) error {
		if len(args) != 1 {
			return usageError("completion takes one shell: " + strings.Join(shells, ", "))
		}
		var b bytes.Buffer
		var err error
		root := c.Root()
		switch args[0] {
		case "bash":
			err = root.GenBashCompletionV2(&b, !noDesc)
		case "zsh":
			if noDesc {
				err = root.GenZshCompletionNoDesc(&b)
			} else {
				err = root.GenZshCompletion(&b)
			}
		case "fish":
			err = root.GenFishCompletion(&b, !noDesc)
		case "powershell":
			if noDesc {
				err = root.GenPowerShellCompletion(&b)
			} else {
				err = root.GenPowerShellCompletionWithDesc(&b)
			}
		default:
			return usageError(fmt.Sprintf("completion: unknown shell %q (%s)", args[0], strings.Join(shells, ", ")))
		}
		if err != nil {
			return fmt.Errorf("completion: %w", err)
		}
		if e.json {
			return printJSON(e, map[string]string{"shell": args[0], "script": b.String()})
		}
		_, err = b.WriteTo(e.stdout)
		return err
	})
	c.Flags().BoolVar(&noDesc, "no-descriptions", false, "complete without descriptions")
	return c
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// usageErr is a usage error: a command, flag or argument the command
// line got wrong (exit status 2).
type usageErr struct{ msg string }

func (e usageErr) Error() string { return e.msg }

func usageError(msg string) error { return usageErr{msg} }

// oneLine keeps an error message on one line.
func oneLine(err error) string {
	// An error may carry text from a node, a verifier, an issuer or a
	// credential: no control or layout character reaches the terminal.
	return strings.Join(strings.Fields(sanitize(err.Error())), " ")
}

// commandName is c's path without the program name ("did create"), or
// the program name for the root.
func commandName(c *cobra.Command) string {
	if !c.HasParent() {
		return c.Name()
	}
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}

// flagError turns pflag's errors (unknown flag, missing or bad value)
// into usage errors naming the command.
func flagError(c *cobra.Command, err error) error {
	return usageError(fmt.Sprintf("%s: %v", commandName(c), err))
}

// notSettings are flags that IDMESH_* variables and config files do not
// set: they ask for output instead of configuring the command.
var notSettings = map[string]bool{"help": true, "version": true}

// normalizeArgs rewrites the single-dash spelling of long flags (-home
// DIR, -json, -count=3), which the standard flag package read, to the
// double-dash one pflag reads. Only names of long flags of the command
// that args run are rewritten; shorthands (-h), flag values, "-" and
// everything after "--" stay as they are.
func normalizeArgs(root *cobra.Command, args []string) []string {
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		return args // the shell's words, completed as typed
	}
	root.InitDefaultHelpCmd()
	c, _, err := root.Find(args)
	if err != nil {
		return args
	}
	c.InitDefaultHelpFlag()
	lookup := func(name string) *pflag.Flag {
		if f := c.Flags().Lookup(name); f != nil {
			return f
		}
		return c.InheritedFlags().Lookup(name)
	}
	out := slices.Clone(args)
	for i := 0; i < len(out); i++ {
		s := out[i]
		if s == "--" {
			break
		}
		if len(s) < 2 || s[0] != '-' {
			continue
		}
		double := strings.HasPrefix(s, "--")
		name, _, hasValue := strings.Cut(strings.TrimPrefix(s[1:], "-"), "=")
		if !double && len(name) < 2 {
			continue // a shorthand
		}
		f := lookup(name)
		if f == nil {
			continue // an unknown flag: pflag says so
		}
		if !double {
			out[i] = "-" + s
		}
		if !hasValue && f.NoOptDefVal == "" {
			i++ // the next argument is the flag's value
		}
	}
	return out
}

// wantsJSON reports whether args (normalised) or IDMESH_JSON ask for
// --json, so that an error found before or while the flags are parsed
// is reported in the form asked for.
func wantsJSON(args []string, getenv func(string) string) bool {
	v, _ := strconv.ParseBool(getenv("IDMESH_JSON"))
	for _, s := range args {
		if s == "--" {
			break
		}
		if s == "--json" {
			v = true
		} else if val, ok := strings.CutPrefix(s, "--json="); ok {
			if b, err := strconv.ParseBool(val); err == nil {
				v = b
			}
		}
	}
	return v
}

// applySettings fills the flags of fs that the command line left unset
// from IDMESH_<FLAG> environment variables, and then from the JSON
// config file named by --config (if fs has that flag): the command line
// wins over the environment, which wins over the file. Errors are usage
// errors.
func applySettings(fs *pflag.FlagSet, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || notSettings[f.Name] {
			return
		}
		name := "IDMESH_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	})
	if cf := fs.Lookup("config"); cf != nil && cf.Value.String() != "" {
		if err := applyConfigFile(fs, cf.Value.String()); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return usageError(err.Error())
	}
	return nil
}

// applyConfigFile sets the flags not set yet (by the command line or
// the environment) from a JSON object whose members are flag names.
// Members that name no flag of fs are settings of other commands.
func applyConfigFile(fs *pflag.FlagSet, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // 1000000 stays 1000000, not 1e+06
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	for k, v := range m {
		f := fs.Lookup(k)
		if f == nil || notSettings[k] {
			continue // a setting for another command
		}
		if f.Changed {
			continue
		}
		s := fmt.Sprint(v)
		if err := fs.Set(k, s); err != nil {
			return fmt.Errorf("config %s: %s: %w", path, k, err)
		}
	}
	return nil
}

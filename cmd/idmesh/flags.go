package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// errUsageShown marks an error whose message the flag package printed.
var errUsageShown = errors.New("usage shown")

type usageErr struct{ msg string }

func (e usageErr) Error() string { return e.msg }

func usageError(msg string) error { return usageErr{msg} }

// exitCode is 2 for usage errors and 1 for everything else.
func exitCode(err error) int {
	var u usageErr
	if errors.As(err, &u) || errors.Is(err, errUsageShown) {
		return 2
	}
	return 1
}

// oneLine keeps an error message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// newFlags returns a flag set that prints its usage to e.stderr.
func newFlags(e env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: idmesh %s\n\nFlags (each also read from IDMESH_<FLAG>):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, allowing flags after positional arguments, then
// fills unset flags from IDMESH_<FLAG> environment variables and then
// from the JSON config file named by --config (if the set has one).
// It returns the positional arguments.
func parse(fs *flag.FlagSet, e env, args []string) ([]string, error) {
	// The flag package prints errors and usage itself; errors here are
	// one line on stderr instead, and usage only for -h.
	usage := fs.Usage
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	defer func() { fs.Usage = usage; fs.SetOutput(e.stderr) }()
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(e.stderr)
				usage()
				return nil, errUsageShown
			}
			return nil, usageError(fmt.Sprintf("%s: %v", fs.Name(), err))
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		// After "--" everything is positional.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		name := "IDMESH_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := e.getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			set[f.Name] = true
		}
	})
	if cf := fs.Lookup("config"); cf != nil && cf.Value.String() != "" {
		if err := applyConfigFile(fs, cf.Value.String(), set); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, usageError(err.Error())
	}
	return pos, nil
}

// applyConfigFile sets unset flags from a JSON object whose members are
// flag names.
func applyConfigFile(fs *flag.FlagSet, path string, set map[string]bool) error {
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
		if f == nil {
			continue // a setting for another command
		}
		if set[k] {
			continue
		}
		s := fmt.Sprint(v)
		if err := fs.Set(k, s); err != nil {
			return fmt.Errorf("config %s: %s: %w", path, k, err)
		}
	}
	return nil
}

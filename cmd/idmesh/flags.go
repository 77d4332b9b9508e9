package main

import (
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
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.Usage()
				return nil, errUsageShown
			}
			return nil, usageError(fmt.Sprintf("%s: %v", fs.Name(), err))
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
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
	if err := json.Unmarshal(b, &m); err != nil {
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
		if f, ok := v.(float64); ok {
			s = fmt.Sprintf("%g", f)
		}
		if err := fs.Set(k, s); err != nil {
			return fmt.Errorf("config %s: %s: %w", path, k, err)
		}
	}
	return nil
}

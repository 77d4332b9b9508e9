//go:build idmesh_pprof

package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// A build with the idmesh_pprof tag (BenchmarkNetwork builds one when
// IDMESH_BENCH_PPROF names a directory) writes a CPU profile of the whole
// process to the file IDMESH_PPROF_CPU names, until the process exits
// cleanly (SIGTERM), and then its allocations' profile to that name with
// .allocs added. Release builds have no such variable.
func init() {
	path := os.Getenv("IDMESH_PPROF_CPU")
	if path == "" {
		return
	}
	os.Unsetenv("IDMESH_PPROF_CPU")
	profile = func() func() {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
			return func() {}
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
			f.Close()
			return func() {}
		}
		return func() {
			pprof.StopCPUProfile()
			f.Close()
			// What the process allocated, beside its CPU profile.
			if a, err := os.Create(path + ".allocs"); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(a, 0)
				a.Close()
			}
		}
	}
}

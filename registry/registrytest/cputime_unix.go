//go:build unix

package registrytest

import (
	"syscall"
	"time"
)

// CPUTime returns the CPU time (user and system) this process has used,
// background work such as LevelDB's compactions included: on a loaded
// machine it tracks the work a benchmark did better than the wall clock.
// It is 0 where it cannot be read.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

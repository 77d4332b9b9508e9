//go:build unix

package leveldb_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user and system) this process has used,
// LevelDB's background compactions included: on a loaded machine it
// tracks the work done better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package main

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
)

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// failpoint returns a Consensus.Failpoint for IDMESH_FAILPOINT=POINT@HEIGHT:
// the process exits abruptly (status 99, no cleanup, as a crash) when the
// driver reaches POINT at HEIGHT. For crash tests.
func failpoint(spec string, log *slog.Logger) func(string, uint64) {
	point, h, ok := strings.Cut(spec, "@")
	height, err := strconv.ParseUint(h, 10, 64)
	if !ok || err != nil {
		log.Error("ignoring IDMESH_FAILPOINT: want POINT@HEIGHT", "value", spec)
		return nil
	}
	return func(p string, at uint64) {
		if p == point && at == height {
			fmt.Fprintf(os.Stderr, "idmesh: failpoint %s at height %d: crashing\n", p, at)
			os.Exit(99)
		}
	}
}

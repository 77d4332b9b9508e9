package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestStartProgressPlain: not on a terminal, each node's output is passed
// through, with a plain line as each node serves and one when all do;
// no control characters; a node serving twice counts once.
func TestStartProgressPlain(t *testing.T) {
	var b bytes.Buffer
	p := newStartProgress(&b, false, 2)
	p.output("node0", "level=INFO msg=starting")
	p.output("node0", "idmesh: serving http://127.0.0.1:8080")
	p.output("node0", "idmesh: serving http://127.0.0.1:8080")
	p.line("node1 exited: exit status 1")
	p.output("node1", "idmesh: serving http://127.0.0.1:8081")
	p.output("node1", "level=INFO msg=committed")
	want := `node0 | level=INFO msg=starting
node0 | idmesh: serving http://127.0.0.1:8080
testnet: node0 serving http://127.0.0.1:8080 (1 of 2)
node0 | idmesh: serving http://127.0.0.1:8080
node1 exited: exit status 1
node1 | idmesh: serving http://127.0.0.1:8081
testnet: node1 serving http://127.0.0.1:8081 (2 of 2)
testnet: all 2 nodes serving
node1 | level=INFO msg=committed
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestStartProgressTerminal: on a terminal a status line with a bar stays
// under the output, redrawn after each line, and is replaced by the
// final line once all serve; the bar is bounded for many nodes.
func TestStartProgressTerminal(t *testing.T) {
	var b bytes.Buffer
	p := newStartProgress(&b, true, 2)
	p.output("node0", "idmesh: serving http://127.0.0.1:8080")
	p.output("node1", "idmesh: serving http://127.0.0.1:8081")
	p.output("node1", "after")
	const clear = "\r\033[K"
	want := clear + "testnet: [--] 0 of 2 nodes serving" +
		clear + "node0 | idmesh: serving http://127.0.0.1:8080\n" + clear + "testnet: [--] 0 of 2 nodes serving" +
		clear + "testnet: [#-] 1 of 2 nodes serving" +
		clear + "node1 | idmesh: serving http://127.0.0.1:8081\n" + clear + "testnet: [#-] 1 of 2 nodes serving" +
		clear + "testnet: all 2 nodes serving\n" +
		"node1 | after\n"
	if b.String() != want {
		t.Fatalf("got  %q\nwant %q", b.String(), want)
	}

	b.Reset()
	p = newStartProgress(&b, true, 1000)
	p.output("node7", "idmesh: serving http://x")
	if last := b.String()[strings.LastIndex(b.String(), "testnet:"):]; last != "testnet: ["+strings.Repeat("-", maxProgressBar)+"] 1 of 1000 nodes serving" {
		t.Fatalf("status line for many nodes %q", last)
	}
}

// TestSyncDisplay: log lines are written above the status line, which is
// redrawn after each; redraws are throttled; the rate and time left come
// from the injected clock; the line is cleared when the sync ends.
func TestSyncDisplay(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(1000, 0)
	s := newSyncDisplay(&b, func() time.Time { return now })
	s.progress(100, 1100)
	if got := b.String(); got != "\r\033[Ksync: ["+strings.Repeat("#", 9*maxProgressBar/100)+strings.Repeat(" ", maxProgressBar-9*maxProgressBar/100)+"] 9% height 100 of 1100" {
		t.Fatalf("first draw %q", got)
	}
	b.Reset()
	now = now.Add(10 * time.Millisecond)
	s.progress(101, 1100) // throttled
	if b.Len() != 0 {
		t.Fatalf("redrawn within %s: %q", syncRedrawEvery, b.String())
	}
	now = now.Add(990 * time.Millisecond)
	s.progress(600, 1100) // 500 blocks in 1s: 1s left
	want := "\r\033[Ksync: [" + strings.Repeat("#", 54*maxProgressBar/100) + strings.Repeat(" ", maxProgressBar-54*maxProgressBar/100) + "] 54% height 600 of 1100, 500 blocks/s, 1s left"
	if b.String() != want {
		t.Fatalf("got %q\nwant %q", b.String(), want)
	}
	b.Reset()
	fmt.Fprintln(s, "level=INFO msg=syncing")
	if got := b.String(); got != "\r\033[Klevel=INFO msg=syncing\n"+want[len("\r\033[K"):] {
		t.Fatalf("log line not above the status line: %q", got)
	}
	b.Reset()
	s.progress(1100, 1100)
	fmt.Fprintln(s, "level=INFO msg=synced")
	if got := b.String(); got != "\r\033[Klevel=INFO msg=synced\n" {
		t.Fatalf("status line not cleared: %q", got)
	}
}

package main

import (
	"bytes"
	"strings"
	"testing"
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

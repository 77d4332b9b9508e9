package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// maxProgressBar is the widest progress bar drawn, in characters.
const maxProgressBar = 30

// startProgress shows how many of a testnet's nodes serve, until all do.
// On a terminal it keeps one status line under the nodes' output,
// redrawn after each of their lines; elsewhere it prints a plain line as
// each node starts serving, and one when all do. Its methods are called
// under the lock of the output.
type startProgress struct {
	w       io.Writer
	tty     bool
	total   int
	serving map[string]bool // the nodes that printed their address
	shown   bool            // the terminal's status line is drawn
	done    bool            // every node served once
}

func newStartProgress(w io.Writer, tty bool, total int) *startProgress {
	p := &startProgress{w: w, tty: tty, total: total, serving: map[string]bool{}}
	if tty {
		p.draw()
	}
	return p
}

// line prints one line of output above the status line.
func (p *startProgress) line(s string) {
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, s)
	if p.shown {
		p.draw()
	}
}

// output prints a node's line, and counts the node as serving when the
// line is the address it serves ("idmesh: serving URL").
func (p *startProgress) output(name, text string) {
	p.line(name + " | " + text)
	url, ok := strings.CutPrefix(text, "idmesh: serving ")
	if !ok || p.done || p.serving[name] {
		return
	}
	p.serving[name] = true
	n := len(p.serving)
	if !p.tty {
		fmt.Fprintf(p.w, "testnet: %s serving %s (%d of %d)\n", name, url, n, p.total)
	}
	if n < p.total {
		if p.tty {
			p.draw()
		}
		return
	}
	p.done = true
	if p.shown {
		fmt.Fprint(p.w, "\r\033[K")
		p.shown = false
	}
	fmt.Fprintf(p.w, "testnet: all %d nodes serving\n", p.total)
}

// draw (re)draws the terminal's status line.
func (p *startProgress) draw() {
	n, width := len(p.serving), min(p.total, maxProgressBar)
	filled := 0
	if p.total > 0 {
		filled = n * width / p.total
	}
	fmt.Fprintf(p.w, "\r\033[Ktestnet: [%s%s] %d of %d nodes serving", strings.Repeat("#", filled), strings.Repeat("-", width-filled), n, p.total)
	p.shown = true
}

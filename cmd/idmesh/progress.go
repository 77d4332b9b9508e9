package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/idmesh/idmesh/node"
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
// line is the address it serves ("idmesh: serving URL", or its JSON
// record with --log-format json).
func (p *startProgress) output(name, text string) {
	p.line(name + " | " + text)
	url, ok := servingURL(text)
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

// syncDisplay shows a node's block sync on a terminal: one status line
// ("sync: [####      ] 41% height 4100 of 10000, 850 blocks/s, 7s left")
// kept under the log, whose writer it wraps so that each log line is
// written above it, and cleared when the sync ends. It is used only on a
// terminal; elsewhere the log's "syncing" and "synced" records are the
// plain lines. Safe for concurrent use.
type syncDisplay struct {
	mu    sync.Mutex
	w     io.Writer
	now   func() time.Time
	shown string // the status line drawn, or ""

	began      time.Time
	fromHeight uint64
	started    bool
	lastDraw   time.Time
	// the state sync's start, for its rate
	stateBegan time.Time
}

// syncRedrawEvery bounds how often the status line is redrawn.
const syncRedrawEvery = 100 * time.Millisecond

func newSyncDisplay(w io.Writer, now func() time.Time) *syncDisplay {
	return &syncDisplay{w: w, now: now}
}

// Write writes a log line above the status line.
func (s *syncDisplay) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shown != "" {
		fmt.Fprint(s.w, "\r\033[K")
	}
	n, err := s.w.Write(p)
	if s.shown != "" {
		fmt.Fprint(s.w, s.shown)
	}
	return n, err
}

// progress is daemon.Config.SyncProgress.
func (s *syncDisplay) progress(height, target uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if height >= target {
		if s.shown != "" {
			fmt.Fprint(s.w, "\r\033[K")
			s.shown = ""
		}
		s.started = false
		return
	}
	if !s.started {
		s.started, s.began, s.fromHeight = true, now, height
	}
	if s.shown != "" && now.Sub(s.lastDraw) < syncRedrawEvery {
		return
	}
	s.lastDraw = now
	s.shown = syncLine(height, target, s.fromHeight, now.Sub(s.began))
	fmt.Fprint(s.w, "\r\033[K"+s.shown)
}

// syncLine is the status line of a sync at height of target that began
// at from, elapsed ago.
func syncLine(height, target, from uint64, elapsed time.Duration) string {
	pct := int(height * 100 / max(target, 1))
	filled := pct * maxProgressBar / 100
	line := fmt.Sprintf("sync: [%s%s] %d%% height %d of %d", strings.Repeat("#", filled), strings.Repeat(" ", maxProgressBar-filled), pct, height, target)
	if done := height - min(from, height); done > 0 && elapsed > 0 {
		rate := float64(done) / elapsed.Seconds()
		left := time.Duration(float64(target-height) / rate * float64(time.Second)).Round(time.Second)
		line += fmt.Sprintf(", %.0f blocks/s, %s left", rate, left)
	}
	return line
}

// stateProgress is daemon.Config.StateSyncProgress: a status line
// ("state sync: [####      ] 41% chunks 11 of 27 at height 5000,
// 120000 entries, 44.0 MB, 9.5 MB/s, 3s left") while the snapshot's
// headers and chunks arrive, cleared when it is restored; block sync's
// line follows.
func (s *syncDisplay) stateProgress(p node.StateSyncProgress) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if p.Phase == "done" {
		if s.shown != "" {
			fmt.Fprint(s.w, "\r\033[K")
			s.shown = ""
		}
		return
	}
	if s.stateBegan.IsZero() || p.Phase == "offers" {
		s.stateBegan = now
	}
	if s.shown != "" && now.Sub(s.lastDraw) < syncRedrawEvery {
		return
	}
	s.lastDraw = now
	s.shown = stateSyncLine(p, now.Sub(s.stateBegan))
	fmt.Fprint(s.w, "\r\033[K"+s.shown)
}

// stateSyncLine is the status line of a state sync elapsed after it
// began.
func stateSyncLine(p node.StateSyncProgress, elapsed time.Duration) string {
	switch p.Phase {
	case "offers":
		return "state sync: looking for a snapshot offered by peers"
	case "headers":
		return fmt.Sprintf("state sync: checking headers, %d of %d", p.Headers, p.Height)
	case "block":
		return fmt.Sprintf("state sync: %d chunks, %d entries restored; fetching block %d, the snapshot's base (%s)",
			p.Chunks, p.Entries, p.Height, p.Waited.Round(time.Second))
	case "finish":
		return fmt.Sprintf("state sync: checking the restored state, %d entries, and recording block %d (%s)",
			p.Entries, p.Height, p.Waited.Round(time.Second))
	}
	total := max(p.ChunksTotal, p.Chunks, 1)
	pct := int(p.Chunks * 100 / total)
	filled := pct * maxProgressBar / 100
	line := fmt.Sprintf("state sync: [%s%s] %d%% chunks %d of %d at height %d, %d entries, %.1f MB",
		strings.Repeat("#", filled), strings.Repeat(" ", maxProgressBar-filled), pct, p.Chunks, total, p.Height, p.Entries, float64(p.Bytes)/1e6)
	if p.Chunks > 0 && elapsed > 0 {
		rate := float64(p.Bytes) / elapsed.Seconds()
		left := time.Duration(float64(total-p.Chunks) * elapsed.Seconds() / float64(p.Chunks) * float64(time.Second)).Round(time.Second)
		line += fmt.Sprintf(", %.1f MB/s, %s left", rate/1e6, left)
	}
	if p.Refused > 0 {
		line += fmt.Sprintf(", %d refused", p.Refused)
	}
	return line
}

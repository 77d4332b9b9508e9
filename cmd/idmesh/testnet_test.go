package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/node/consensus"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/registrytest"
)

// freeBase finds a base port P with P..P+k and P+100..P+100+k free,
// below the kernel's range of ephemeral ports where it can: a port free
// now but in that range may be taken by any outgoing connection (the
// benchmark's clients, a node's dials) before the node that is to
// listen on it starts, which failed BenchmarkNetwork with "address
// already in use".
func freeBase(t testing.TB, k int) int {
	t.Helper()
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	lo, span := 20000, 30000
	if first, ok := ephemeralStart(); ok && first-200-k > lo+1000 {
		span = first - 200 - k - lo
	}
	for range 50 {
		base := lo + r.IntN(span)
		ok := true
		var lns []net.Listener
		for i := range k {
			for _, p := range []int{base + i, base + 100 + i} {
				ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					ok = false
					break
				}
				lns = append(lns, ln)
			}
		}
		for _, ln := range lns {
			ln.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port range")
	return 0
}

// ephemeralStart returns the first port of the kernel's range of
// ephemeral ports (Linux), and false where it cannot be read.
func ephemeralStart() (int, bool) {
	raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, false
	}
	var first, last int
	if _, err := fmt.Sscan(string(raw), &first, &last); err != nil || first <= 0 {
		return 0, false
	}
	return first, true
}

// proc is a node process of the testnet.
type proc struct {
	t    testing.TB
	name string
	cmd  *exec.Cmd
	url  string
	// banner is what the node printed on stdout up to its address.
	banner []string
	logs   *bytes.Buffer
	mu     sync.Mutex
}

// startNode starts `idmesh node` with args and waits until it serves.
func startNode(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	return startProc(t, name, append([]string{"node"}, args...)...)
}

// startProc runs the idmesh binary with args and waits until it prints
// the address it serves.
func startProc(t testing.TB, name string, args ...string) *proc {
	t.Helper()
	return startBinary(t, binary, nil, name, args...)
}

// startBinary is startProc with another build of idmesh at bin, and env
// added to the environment.
func startBinary(t testing.TB, bin string, env []string, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "QUIC_GO_DISABLE_RECEIVE_BUFFER_WARNING=1"), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, name: name, cmd: cmd, logs: new(bytes.Buffer)}
	cmd.Stderr = &lockedWriter{mu: &p.mu, w: p.logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			// What each process said, so that a node that died or
			// stalled under a failing test can be told.
			p.mu.Lock()
			t.Logf("%s (%v):\n%s", name, p.cmd.ProcessState, tail(p.logs.String(), 4000))
			p.mu.Unlock()
		}
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		p.banner = append(p.banner, sc.Text())
		if u, ok := servingURL(sc.Text()); ok {
			p.url = u
			break
		}
	}
	if p.url == "" {
		_ = cmd.Wait()
		t.Fatalf("%s did not start:\n%s", name, p.logs)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.t.Fatalf("%s exited with %v:\n%s", p.name, err, p.logs)
	}
}

func (p *proc) status(t testing.TB) api.StatusResponse {
	t.Helper()
	var st api.StatusResponse
	r := get(t, p.url+"/v1/status", "")
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatalf("%s status: %v", p.name, err)
	}
	return st
}

// waitHeight waits (on the node's own long-poll, no sleeping) until p
// reaches height h.
func (p *proc) waitHeight(t testing.TB, h uint64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for p.status(t).Height < h {
		if time.Now().After(deadline) {
			p.mu.Lock()
			t.Fatalf("%s stuck at height %d, want %d:\n%s", p.name, p.status(t).Height, h, tail(p.logs.String(), 3000))
			p.mu.Unlock()
		}
		// Block on the next commit: a wait on an unknown hash returns at
		// the node's next block or after 1s.
		get(t, p.url+"/v1/operations/"+strings.Repeat("0", 64)+"?wait=1s", "")
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// startTestnet runs `testnet init` with n validators in dir and starts
// each validator's node with extra(i) arguments (extra may be nil). A
// node started later binds port 0 and names its address in its banner:
// a port chosen now and bound later could be taken in between.
func startTestnet(t *testing.T, dir string, n int, extra func(i int) []string) []*proc {
	t.Helper()
	base := freeBase(t, n)
	mustCLI(t, "", "", "testnet", "init", "--validators", fmt.Sprint(n), "--dir", dir, "--base-port", fmt.Sprint(base), "--chain-id", registrytest.ChainID)
	var nodes []*proc
	for i := range n {
		args := []string{"--home", filepath.Join(dir, fmt.Sprintf("node%d", i)), "--log-level", "warn"}
		if extra != nil {
			args = append(args, extra(i)...)
		}
		nodes = append(nodes, startNode(t, fmt.Sprintf("node%d", i), args...))
	}
	return nodes
}

// TestTestnetProcesses is the network issue's story through real
// processes: four validators on loopback; 1,000 DID operations submitted
// to random nodes; identical chains with every operation committed once;
// a validator killed with SIGKILL while the others go on; its restart and
// catch-up; a late full node that syncs and serves reads; and no honest
// validator ever signing two conflicting votes.
func TestTestnetProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("processes")
	}
	dir := t.TempDir()
	audit := func(i int) string { return filepath.Join(dir, fmt.Sprintf("audit%d.jsonl", i)) }
	nodes := startTestnet(t, dir, 4, func(i int) []string { return []string{"--audit-log", audit(i)} })

	const total = 1000
	txs, dids, err := registrytest.CreateOps(0, total)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	submit := func(from, to int, alive []*proc) []registry.Hash {
		var hs []registry.Hash
		for i := from; i < to; i++ {
			p := alive[r.IntN(len(alive))]
			res := post(t, p.url+"/v1/operations", txs[i].Payload)
			if res.status != http.StatusAccepted {
				t.Fatalf("submit %d to %s: %d %s", i, p.name, res.status, res.body)
			}
			hs = append(hs, txs[i].Hash())
		}
		return hs
	}
	waitCommitted := func(hs []registry.Hash, alive []*proc) {
		for _, p := range alive {
			for _, h := range hs {
				var st struct{ Status string }
				for st.Status != "committed" {
					res := get(t, p.url+"/v1/operations/"+h.String()+"?wait=10s", "")
					if err := json.Unmarshal(res.body, &st); err != nil || (res.status != 200 && res.status != 404) {
						t.Fatalf("%s status of %s: %d %s", p.name, h, res.status, res.body)
					}
					if st.Status == "rejected" {
						t.Fatalf("%s rejected %s: %s", p.name, h, res.body)
					}
				}
			}
		}
	}

	hs := submit(0, 800, nodes)
	waitCommitted(hs, nodes)
	sameChainsHTTP(t, nodes, txs[:800])

	// SIGKILL a validator: the other three keep committing.
	victim := nodes[2]
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.cmd.Wait()
	alive := []*proc{nodes[0], nodes[1], nodes[3]}
	hs = submit(800, 900, alive)
	waitCommitted(hs, alive)

	// Restart it: it catches up and joins in again.
	nodes[2] = startNode(t, "node2", "--home", filepath.Join(dir, "node2"), "--audit-log", audit(2), "--log-level", "warn")
	nodes[2].waitHeight(t, nodes[0].status(t).Height, 30*time.Second)
	hs = submit(900, total, nodes)
	waitCommitted(hs, nodes)
	sameChainsHTTP(t, nodes, txs)

	// A late full node syncs the whole chain from the genesis file and a
	// bootstrap address, and serves reads.
	var cfg map[string]string
	b, _ := os.ReadFile(filepath.Join(dir, "node0", "config.json"))
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	late := startNode(t, "late", "--home", filepath.Join(dir, "late"), "--genesis", filepath.Join(dir, "node0", "genesis.json"),
		"--http", "127.0.0.1:0", "--p2p", "/ip4/127.0.0.1/tcp/0", "--bootstrap", strings.Split(cfg["bootstrap"], ",")[0], "--log-level", "warn")
	late.waitHeight(t, nodes[0].status(t).Height, 60*time.Second)
	for _, d := range []string{dids[0], dids[total-1]} {
		if res := get(t, resolveURL(late.url, d, nil), ""); res.status != http.StatusOK {
			t.Fatalf("late node resolves %s: %d", d, res.status)
		}
	}
	// Its bulk sync finishes and it says so.
	for deadline := time.Now().Add(30 * time.Second); late.status(t).Syncing; {
		if time.Now().After(deadline) {
			t.Fatal("the late node still says it is syncing")
		}
		get(t, late.url+"/v1/operations/"+strings.Repeat("0", 64)+"?wait=200ms", "")
	}
	if st := late.status(t); len(st.Peers) == 0 {
		t.Fatalf("late node has no peers: %+v", st)
	}
	// It forwards writes.
	more, _, _ := registrytest.CreateOps(total, 1)
	if res := post(t, late.url+"/v1/operations?wait=20s", more[0].Payload); res.status != http.StatusOK {
		t.Fatalf("write through the late node: %d %s", res.status, res.body)
	}
	sameChainsHTTP(t, append(nodes, late), nil)

	for _, p := range append(nodes, late) {
		p.stop()
	}
	checkAudit(t, []string{audit(0), audit(1), audit(2), audit(3)})
}

// sameChainsHTTP checks that the nodes hold the same blocks up to the
// lowest height among them, and that each of txs is in exactly one block.
func sameChainsHTTP(t *testing.T, nodes []*proc, txs []registry.Tx) {
	t.Helper()
	low := ^uint64(0)
	for _, p := range nodes {
		low = min(low, p.status(t).Height)
	}
	seen := map[registry.Hash]int{}
	for h := uint64(1); h <= low; h++ {
		var first api.BlockResponse
		for i, p := range nodes {
			var blk api.BlockResponse
			if err := json.Unmarshal(get(t, fmt.Sprintf("%s/v1/blocks/%d", p.url, h), "").body, &blk); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = blk
				for _, th := range blk.TxHashes {
					seen[th]++
				}
				continue
			}
			if blk.BlockID != first.BlockID {
				t.Fatalf("fork at height %d: %s has %s, %s has %s", h, nodes[0].name, first.BlockID, p.name, blk.BlockID)
			}
		}
	}
	for i, tx := range txs {
		if seen[tx.Hash()] != 1 {
			t.Fatalf("operation %d is in %d blocks", i, seen[tx.Hash()])
		}
	}
}

// checkAudit reads every message the validators signed and fails on two
// votes of one type, height and round by one validator for different
// blocks, or two different proposals.
func checkAudit(t *testing.T, files []string) {
	t.Helper()
	type key struct {
		val   registry.Address
		typ   consensus.VoteType
		h     uint64
		round int32
	}
	votes := map[key]registry.Hash{}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			var rec struct {
				Message p2p.Message `json:"message"`
			}
			if err := json.Unmarshal(line, &rec); err != nil {
				t.Fatalf("audit %s: %v", f, err)
			}
			n++
			m := rec.Message
			var k key
			var id registry.Hash
			switch {
			case m.Vote != nil:
				k, id = key{m.Vote.Validator, m.Vote.Type, m.Vote.Height, m.Vote.Round}, m.Vote.BlockID
			case m.Proposal != nil:
				k, id = key{m.Proposal.Proposer, 0, m.Proposal.Height, m.Proposal.Round}, m.Proposal.Block.ID()
			default:
				continue
			}
			if old, ok := votes[k]; ok && old != id {
				t.Fatalf("equivocation by %s: %v at %d/%d for %s and %s", k.val, k.typ, k.h, k.round, old, id)
			}
			votes[k] = id
		}
	}
	if n == 0 {
		t.Fatal("the audit logs are empty")
	}
	t.Logf("%d signed messages audited, no equivocation", n)
}

// TestCrashAtFailpoints crashes a validator (idmesh dev) at each point
// of handling a decision, restarts it, and checks that it commits exactly
// what it had signed, never signs anything conflicting, and loses nothing
// it had committed.
func TestCrashAtFailpoints(t *testing.T) {
	for _, point := range []string{"before-wal", "after-wal", "after-send", "after-commit"} {
		t.Run(point, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			auditLog := filepath.Join(t.TempDir(), "audit.jsonl")
			// A first block, so the crash happens at height 2 with a
			// committed block to keep.
			n := startDev(t, home, "--audit-log", auditLog)
			ks := filepath.Join(t.TempDir(), "ks.json")
			mustCLI(t, n.url, ks, "did", "create")
			n.stop()

			cmd := exec.Command(binary, "dev", "--home", home, "--http", "127.0.0.1:0", "--audit-log", auditLog)
			cmd.Env = append(os.Environ(), "IDMESH_FAILPOINT="+point+"@2")
			out, _ := cmd.StdoutPipe()
			var logs bytes.Buffer
			cmd.Stderr = &logs
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			url := ""
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if u, ok := strings.CutPrefix(sc.Text(), "idmesh: serving "); ok {
					url = u
					break
				}
			}
			go func() { _, _ = io.Copy(io.Discard, out) }()
			// This create reaches the failpoint at height 2: the node dies.
			_, _, _ = cli(t, url, ks, "did", "create", "--timeout", "5s")
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 99 {
				t.Fatalf("want the failpoint's crash (exit 99), got %v:\n%s", err, logs.String())
			}

			// Restart: the chain keeps block 1; a block 2 signed before
			// the crash is committed as signed.
			n2 := startDev(t, home, "--audit-log", auditLog)
			mustCLI(t, n2.url, ks, "did", "create")
			st := status(t, n2.url)
			if st.Height < 2 {
				t.Fatalf("height %d after restart and another create", st.Height)
			}
			var b2 api.BlockResponse
			if err := json.Unmarshal(get(t, n2.url+"/v1/blocks/2", "").body, &b2); err != nil {
				t.Fatal(err)
			}
			n2.stop()
			checkAudit(t, []string{auditLog})
			// What was signed at height 2 before the crash is what block 2 is.
			b, _ := os.ReadFile(auditLog)
			for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
				var rec struct {
					Message p2p.Message `json:"message"`
				}
				_ = json.Unmarshal(line, &rec)
				if v := rec.Message.Vote; v != nil && v.Height == 2 && v.Type == consensus.Precommit && !v.BlockID.IsZero() && v.BlockID != b2.BlockID {
					t.Fatalf("signed block %s at height 2, committed %s", v.BlockID, b2.BlockID)
				}
			}
		})
	}
}

// commitOp posts operation number i to p, waits for its commit and
// returns p's height then.
func commitOp(t *testing.T, p *proc, i int, payload []byte) uint64 {
	t.Helper()
	res := post(t, p.url+"/v1/operations?wait=30s", payload)
	if res.status != http.StatusOK {
		t.Fatalf("submit %d to %s: %d %s", i, p.name, res.status, res.body)
	}
	return p.status(t).Height
}

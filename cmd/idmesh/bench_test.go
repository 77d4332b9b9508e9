package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idmesh/idmesh/registry/registrytest"
)

// BenchmarkNetwork runs N validators as processes on loopback and measures
// committed DID operations per second and the time from submission to
// commit (each client waits for its operation's commit before sending the
// next; 256, 512 and 1,024 clients for 4 validators, 256 for 7 and 10;
// operations go to the nodes in turn), then how fast a new full node syncs the
// resulting chain. It needs the binary and real processes, so it runs
// only with IDMESH_BENCH_NET=1 (make bench sets it):
//
//	IDMESH_BENCH_NET=1 go test -run '^$' -bench Network -benchtime 1x ./cmd/idmesh/
//
// node-cpu-us/op is the CPU time (user and system, from /proc) the
// validator processes spent while the operations were submitted, per
// committed operation and per node; client-cpu-us/op is the CPU time of
// the clients (this process) per operation. raw-verify-cpu-us is the CPU
// time of one raw ed25519.Verify measured for 1 s before the nodes
// start, and node-cpu-x-raw is node-cpu-us/op in such verifications: the
// machine's speed varies by a fifth or more within a day, and the ratio
// compares runs made at different times. consensus-copies/msg and
// txs-copies/msg are the copies of each peer's gossip message a node
// received (first copy plus relays, from /metrics), consensus-B/msg and
// txs-B/msg the size of a first copy, and *-dup-B/op the relays' bytes
// per operation and node. The clients are the lean
// HTTP/1.1 client of loadgen_test.go; IDMESH_BENCH_CLIENT=nethttp uses
// net/http's client instead. With IDMESH_BENCH_PPROF=dir the
// validators run a build with the idmesh_pprof tag and write CPU profiles
// of the load to dir/<benchmark>-node<i>.pprof (the new-node sync is then
// skipped). IDMESH_BENCH_OPS=n submits n operations in every case instead
// of its own count (longer runs reach the store's compactions).
// IDMESH_BENCH_WARMUP=w first submits w operations that are not measured
// (blocks counts the measured ones; the new node syncs them all).
// node-sys-us/op is the part of node-cpu-us/op spent in the kernel
// (system calls, page faults, the loopback network's processing).
// node-minflt/op is the validators' minor page faults in the same window,
// per operation and node, node-rss-MiB their mean resident memory at its
// end; IDMESH_BENCH_HUGEPAGES=off runs them with
// --huge-pages=false (the heap on 4 KiB pages, as before stop 28).
// IDMESH_BENCH_NODE_FLAGS adds flags to every validator's command line
// (for example "--block-interval 50ms"). IDMESH_BENCH_BASELINE=rev runs
// validators built from git revision rev and this tree's alternately,
// IDMESH_BENCH_PAIRS pairs (default 4), and reports both and their
// ratios (benchNetworkAgainst). submit-batch-txs and
// submit-alone-% describe how HTTP submissions had their signatures
// verified (reportPrepare).
func BenchmarkNetwork(b *testing.B) {
	if knob("IDMESH_BENCH_NET") == "" {
		b.Skip("set IDMESH_BENCH_NET=1 to run validators as processes")
	}
	// Seven and ten validator processes share the same two cores, so they
	// get a lighter load.
	for _, c := range []struct{ n, ops, inFlight int }{{4, 6000, 1024}, {4, 3000, 256}, {4, 6000, 512}, {7, 2000, 256}, {10, 2000, 256}} {
		if v, err := strconv.Atoi(knob("IDMESH_BENCH_OPS")); err == nil && v > 0 {
			c.ops = v
		}
		b.Run(fmt.Sprintf("validators=%d/clients=%d", c.n, c.inFlight), func(b *testing.B) {
			for b.Loop() {
				if rev := knob("IDMESH_BENCH_BASELINE"); rev != "" {
					benchNetworkAgainst(b, rev, c.n, c.ops, c.inFlight)
				} else {
					benchNetwork(b, "", c.n, c.ops, c.inFlight, true)
				}
			}
		})
	}
}

// netRun is what one run of benchNetwork measured: committed operations
// a second, the validators' CPU (all of it and the kernel's part) per
// operation and node, the commit latency's median and 99th percentile in
// milliseconds, and the validators' minor faults per operation and node
// and mean resident memory in MiB.
type netRun struct{ opsPerSec, cpu, sys, p50, p99, minflt, rss float64 }

// benchNetworkAgainst runs benchNetwork with the validators of baseline,
// a git revision of this repository (IDMESH_BENCH_BASELINE), and with
// this tree's, alternately, IDMESH_BENCH_PAIRS times each (default 4; the
// first of each pair alternates too), and reports this tree's means
// beside the baseline's (base-*) and the mean of the pairs' ratios: the
// machine's speed drifts by a fifth or more within minutes, so only runs
// interleaved in one process compare. The other metrics are the last
// run's. The harness, the clients and `testnet init` are this tree's;
// the baseline must run with the homes it makes.
func benchNetworkAgainst(b *testing.B, baseline string, n, ops, inFlight int) {
	base := baselineBinary(b, baseline)
	pairs := 4
	if v, err := strconv.Atoi(knob("IDMESH_BENCH_PAIRS")); err == nil && v > 0 {
		pairs = v
	}
	var cur, old []netRun
	for i := range pairs {
		if i%2 == 0 {
			old = append(old, benchNetwork(b, base, n, ops, inFlight, false))
			cur = append(cur, benchNetwork(b, "", n, ops, inFlight, false))
		} else {
			cur = append(cur, benchNetwork(b, "", n, ops, inFlight, false))
			old = append(old, benchNetwork(b, base, n, ops, inFlight, false))
		}
		b.Logf("pair %d: baseline %.0f ops/s %.1f µs p99 %.0f ms, this tree %.0f ops/s %.1f µs p99 %.0f ms",
			i+1, old[i].opsPerSec, old[i].cpu, old[i].p99, cur[i].opsPerSec, cur[i].cpu, cur[i].p99)
	}
	mean := func(rs []netRun, f func(netRun) float64) float64 {
		var sum float64
		for _, r := range rs {
			sum += f(r)
		}
		return sum / float64(len(rs))
	}
	for _, m := range []struct {
		unit string
		f    func(netRun) float64
	}{
		{"ops/s", func(r netRun) float64 { return r.opsPerSec }},
		{"node-cpu-us/op", func(r netRun) float64 { return r.cpu }},
		{"node-sys-us/op", func(r netRun) float64 { return r.sys }},
		{"p50-ms", func(r netRun) float64 { return r.p50 }},
		{"p99-ms", func(r netRun) float64 { return r.p99 }},
		{"node-minflt/op", func(r netRun) float64 { return r.minflt }},
		{"node-rss-MiB", func(r netRun) float64 { return r.rss }},
	} {
		b.ReportMetric(mean(cur, m.f), m.unit)
		b.ReportMetric(mean(old, m.f), "base-"+m.unit)
	}
	var opsRatio, cpuRatio, faster float64
	for i := range cur {
		opsRatio += cur[i].opsPerSec / old[i].opsPerSec / float64(pairs)
		cpuRatio += cur[i].cpu / old[i].cpu / float64(pairs)
		if cur[i].opsPerSec > old[i].opsPerSec {
			faster++
		}
	}
	b.ReportMetric(opsRatio, "ops-ratio")
	b.ReportMetric(cpuRatio, "cpu-ratio")
	b.ReportMetric(faster, "faster-pairs")
	b.ReportMetric(float64(pairs), "pairs")
}

// baselineBinary returns idmesh built from revision rev of the repository
// this test runs in (git archive into b's temporary directory, go build),
// removed with it.
func baselineBinary(b *testing.B, rev string) string {
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		b.Fatalf("IDMESH_BENCH_BASELINE needs a git checkout: %v", err)
	}
	dir := b.TempDir()
	archive := exec.Command("sh", "-c", `git -C "$1" archive "$2" | tar -x -C "$3"`, "sh", strings.TrimSpace(string(root)), rev, dir)
	if out, err := archive.CombinedOutput(); err != nil {
		b.Fatalf("git archive %s: %v\n%s", rev, err, out)
	}
	bin := filepath.Join(dir, "idmesh")
	build := exec.Command("go", "build", "-o", bin, "./cmd/idmesh")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build idmesh at %s: %v\n%s", rev, err, out)
	}
	return bin
}

// benchNetwork submits ops operations from inFlight clients, each waiting
// for its operation's commit before sending the next: throughput is
// inFlight divided by the commit latency, up to what the network can do.
// The validators run bin ("": this tree's idmesh, or its profiling build
// with IDMESH_BENCH_PPROF); with syncNode, a new full node then syncs
// the chain (sync-blocks/s).
func benchNetwork(b *testing.B, bin string, n, ops, inFlight int, syncNode bool) netRun {
	// Raw ed25519.Verify on this machine now, before anything starts:
	// the yardstick of node-cpu-x-raw.
	raw := rawVerifyRate(600, rawSpan)
	dir := b.TempDir()
	base := freeBase(b, n)
	out, errOut, code := cli(b, "", "", "testnet", "init", "--validators", fmt.Sprint(n), "--dir", dir, "--base-port", fmt.Sprint(base), "--chain-id", registrytest.ChainID)
	if code != 0 {
		b.Fatalf("testnet init: %s %s", out, errOut)
	}
	logLevel := knob("IDMESH_BENCH_LOG") // the nodes' log level
	if logLevel == "" {
		logLevel = "error"
	}
	profDir := knob("IDMESH_BENCH_PPROF")
	if bin == "" {
		bin = binary
	}
	if profDir != "" && bin == binary {
		bin = filepath.Join(b.TempDir(), "idmesh-pprof")
		if out, err := exec.Command("go", "build", "-tags", "idmesh_pprof", "-o", bin, ".").CombinedOutput(); err != nil {
			b.Fatalf("build idmesh with profiling: %v\n%s", err, out)
		}
	}
	var nodeFlags []string
	switch hp := knob("IDMESH_BENCH_HUGEPAGES"); hp {
	case "", "on":
	case "off":
		nodeFlags = append(nodeFlags, "--huge-pages=false")
	default:
		b.Fatalf("IDMESH_BENCH_HUGEPAGES=%q: on or off", hp)
	}
	nodeFlags = append(nodeFlags, strings.Fields(knob("IDMESH_BENCH_NODE_FLAGS"))...)
	var nodes []*proc
	for i := range n {
		var env []string
		if profDir != "" {
			name := strings.ReplaceAll(b.Name(), "/", "_")
			env = append(env, "IDMESH_PPROF_CPU="+filepath.Join(profDir, fmt.Sprintf("%s-node%d.pprof", name, i)))
		}
		args := append([]string{"node", "--home", filepath.Join(dir, fmt.Sprintf("node%d", i)), "--log-level", logLevel}, nodeFlags...)
		nodes = append(nodes, startBinary(b, bin, env, fmt.Sprintf("node%d", i), args...))
	}
	// IDMESH_BENCH_WARMUP=w submits w operations first, unmeasured: the
	// figures are then those of validators whose heaps, caches and store
	// have been in use, not of processes just started.
	warm := 0
	if v, err := strconv.Atoi(knob("IDMESH_BENCH_WARMUP")); err == nil && v > 0 {
		warm = v
	}
	total := warm + ops
	txs, _, err := registrytest.CreateOps(0, uint64(total))
	if err != nil {
		b.Fatal(err)
	}
	// The clients are the lean HTTP/1.1 client of loadgen_test.go (one
	// keep-alive connection each, one request in flight), as for goal 1:
	// they share the validators' two cores, and net/http's client cost
	// about 60 µs of CPU per request. Client i sends to node i mod n.
	// IDMESH_BENCH_CLIENT=nethttp uses net/http's client instead.
	nethttp := knob("IDMESH_BENCH_CLIENT") == clientNetHTTP
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: inFlight, MaxConnsPerHost: inFlight}}
	targets := make([]*leanTarget, n)
	for j, p := range nodes {
		var bodies [][]byte
		for i := j; i < total; i += n {
			bodies = append(bodies, txs[i].Payload)
		}
		t, err := newLeanTarget(loadSpec{Method: http.MethodPost, URL: p.url + "/v1/operations?wait=30s", Bodies: bodies})
		if err != nil {
			b.Fatal(err)
		}
		targets[j] = t
	}
	lat := make([]time.Duration, total)
	// submit sends operations from to to-1 from inFlight clients and
	// returns when all are committed.
	submit := func(from, to int) {
		var wg sync.WaitGroup
		next := make([]chan int, n)
		for j := range next {
			next[j] = make(chan int)
		}
		start := time.Now()
		for w := range inFlight {
			j := w % n
			wg.Go(func() {
				conn := newLeanConn(targets[j], http.StatusOK, []byte(`"status":"committed"`))
				defer conn.close()
				if err := conn.setUntil(start.Add(10 * time.Minute)); err != nil {
					b.Error(err)
					return
				}
				for i := range next[j] {
					t0 := time.Now()
					var err error
					if nethttp {
						err = postNetHTTP(client, nodes[j].url+"/v1/operations?wait=30s", txs[i].Payload)
					} else {
						err = conn.do(i / n) // targets[j] holds ops j, j+n, ...
					}
					if err != nil {
						b.Errorf("operation %d: %v", i, err)
						continue
					}
					lat[i] = time.Since(t0)
				}
			})
		}
		for i := from; i < to; i++ {
			next[i%n] <- i
		}
		for _, c := range next {
			close(c)
		}
		wg.Wait()
	}
	if warm > 0 {
		submit(0, warm)
	}
	height0 := nodes[0].status(b).Height
	before := make([]procSample, n)
	for i, p := range nodes {
		before[i] = sampleProc(p.cmd.Process.Pid)
	}
	clientCPU0 := cpuTime()
	start := time.Now()
	submit(warm, total)
	elapsed := time.Since(start)
	lat = lat[warm:]
	clientCPU := cpuTime() - clientCPU0
	var cpu, sys time.Duration
	var flt, rss int64
	for i, p := range nodes {
		now := sampleProc(p.cmd.Process.Pid)
		cpu += now.cpu - before[i].cpu
		sys += now.sys - before[i].sys
		flt += now.minflt - before[i].minflt
		rss += now.rss
	}
	if b.Failed() {
		for _, p := range nodes {
			p.mu.Lock()
			b.Logf("%s:\n%s", p.name, tail(p.logs.String(), 60000))
			p.mu.Unlock()
		}
		b.FailNow()
	}
	slices.Sort(lat)
	run := netRun{
		opsPerSec: float64(ops) / elapsed.Seconds(),
		cpu:       float64(cpu.Microseconds()) / float64(ops) / float64(n),
		sys:       float64(sys.Microseconds()) / float64(ops) / float64(n),
		p50:       float64(lat[len(lat)/2].Milliseconds()),
		p99:       float64(lat[len(lat)*99/100].Milliseconds()),
		minflt:    float64(flt) / float64(ops) / float64(n),
		rss:       float64(rss) / float64(n) / (1 << 20),
	}
	b.ReportMetric(run.opsPerSec, "ops/s")
	b.ReportMetric(run.p50, "p50-ms")
	b.ReportMetric(run.p99, "p99-ms")
	height := nodes[0].status(b).Height
	b.ReportMetric(float64(height-height0), "blocks")
	extra := 0 // blocks decided after round 0
	for h := height0 + 1; h <= height; h++ {
		var blk struct {
			Commit struct{ Round int } `json:"commit"`
		}
		_ = json.Unmarshal(get(b, fmt.Sprintf("%s/v1/blocks/%d", nodes[0].url, h), "").body, &blk)
		if blk.Commit.Round > 0 {
			extra++
		}
	}
	b.ReportMetric(float64(extra), "late-rounds")
	nodeCPU := run.cpu
	b.ReportMetric(nodeCPU, "node-cpu-us/op")
	b.ReportMetric(run.sys, "node-sys-us/op")
	b.ReportMetric(run.minflt, "node-minflt/op")
	b.ReportMetric(run.rss, "node-rss-MiB")
	b.ReportMetric(float64(raw.cpu)/float64(time.Microsecond), "raw-verify-cpu-us")
	b.ReportMetric(nodeCPU/(float64(raw.cpu)/float64(time.Microsecond)), "node-cpu-x-raw")
	b.ReportMetric(float64(clientCPU.Microseconds())/float64(ops), "client-cpu-us/op")
	reportGossip(b, nodes, total)
	reportPrepare(b, nodes)
	if profDir != "" {
		for _, p := range nodes {
			p.stop()
		}
		return run
	}
	if !syncNode {
		for _, p := range nodes {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		return run
	}

	// A new full node syncs the chain from a bootstrap peer.
	var cfg map[string]string
	if raw, err := os.ReadFile(filepath.Join(dir, "node0", "config.json")); err != nil || json.Unmarshal(raw, &cfg) != nil {
		b.Fatalf("read config: %v", err)
	}
	t0 := time.Now()
	late := startNode(b, "late", "--home", filepath.Join(dir, "late"), "--genesis", filepath.Join(dir, "node0", "genesis.json"),
		"--http", "127.0.0.1:0", "--p2p", "/ip4/127.0.0.1/tcp/0", "--bootstrap", strings.Split(cfg["bootstrap"], ",")[0], "--log-level", "info")
	for late.status(b).Height < height {
		if time.Since(t0) > 5*time.Minute {
			b.Fatal("the new node did not sync")
		}
		time.Sleep(5 * time.Millisecond) // polling a process's progress for a measurement
	}
	took := time.Since(t0)
	if took > 10*time.Second {
		late.mu.Lock()
		b.Logf("slow sync:\n%s", tail(late.logs.String(), 4000))
		late.mu.Unlock()
	}
	b.ReportMetric(float64(height)/took.Seconds(), "sync-blocks/s")
	b.ReportMetric(float64(total)/took.Seconds(), "sync-ops/s")
	for _, p := range append(nodes, late) {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
	return run
}

// postNetHTTP posts body to url with client and checks that the answer
// is a committed operation, as the lean client checks it.
func postNetHTTP(client *http.Client, url string, body []byte) error {
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, leanMaxBody))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	return checkAnswer(http.StatusOK, []byte(`"status":"committed"`), resp.StatusCode, got)
}

// procStat returns the fields of /proc/pid/stat after the command name
// (field 2, in parentheses, may hold spaces): field k of proc(5) is at
// index k-3. nil where there is no /proc.
func procStat(pid int) []string {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(raw[i+1:]))
}

// procSample is what /proc/<pid>/stat says of a process at one moment
// (all zero where there is no /proc): its CPU time in user space and the
// kernel (utime and stime, fields 14 and 15, in clock ticks of 10 ms),
// the part in the kernel, its minor page faults (field 10) and its
// resident memory (field 24, in pages).
type procSample struct {
	cpu, sys    time.Duration
	minflt, rss int64
}

func sampleProc(pid int) procSample {
	f := procStat(pid)
	field := func(k int) int64 { // field k as proc(5) numbers them
		if len(f) <= k-3 {
			return 0
		}
		n, err := strconv.ParseInt(f[k-3], 10, 64)
		if err != nil {
			return 0
		}
		return n
	}
	tick := time.Second / 100
	return procSample{
		cpu:    time.Duration(field(14)+field(15)) * tick,
		sys:    time.Duration(field(15)) * tick,
		minflt: field(10),
		rss:    field(24) * int64(os.Getpagesize()),
	}
}

// reportPrepare reports how the validators' HTTP submissions had their
// signatures verified (node/prepare.go), summed over the nodes and the
// whole run (warm-up included): submit-batch-txs is the mean number of
// submissions a batch held, submit-alone-% the share of submissions
// verified alone.
func reportPrepare(b *testing.B, nodes []*proc) {
	var batches, txs, alone float64
	for _, p := range nodes {
		m := metricsOf(b, p.url)
		batches += m["idmesh_submit_prepare_batches_total"]
		txs += m["idmesh_submit_prepared_txs_total"]
		alone += m["idmesh_submit_prepared_alone_total"]
	}
	if batches > 0 && txs > 0 {
		b.ReportMetric(txs/batches, "submit-batch-txs")
		b.ReportMetric(100*alone/txs, "submit-alone-%")
	}
}

// reportGossip reports, summed over the nodes, how many copies of each
// gossip message a node receives per topic (first copy plus
// duplicates), and the duplicates' data bytes per operation and node.
func reportGossip(b *testing.B, nodes []*proc, ops int) {
	for _, topic := range []string{"consensus", "txs"} {
		var first, firstBytes, dups, dupBytes float64
		for _, p := range nodes {
			m := metricsOf(b, p.url)
			l := `{topic="` + topic + `"}`
			first += m["idmesh_p2p_gossip_received_total"+l]
			firstBytes += m["idmesh_p2p_gossip_received_bytes_total"+l]
			dups += m["idmesh_p2p_gossip_duplicates_total"+l]
			dupBytes += m["idmesh_p2p_gossip_duplicate_bytes_total"+l]
		}
		if first > 0 {
			b.ReportMetric((first+dups)/first, topic+"-copies/msg")
			b.ReportMetric(firstBytes/first, topic+"-B/msg")
		}
		b.ReportMetric(dupBytes/float64(ops)/float64(len(nodes)), topic+"-dup-B/op")
	}
	// Direct answers (decided blocks, proposals and votes a peer lacks).
	var direct float64
	for _, p := range nodes {
		direct += metricsOf(b, p.url)["idmesh_p2p_direct_sent_bytes_total"]
	}
	b.ReportMetric(direct/float64(ops)/float64(len(nodes)), "direct-B/op")

}

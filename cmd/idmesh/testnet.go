package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/spf13/cobra"

	"github.com/idmesh/idmesh/node/home"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/node/privval"
	"github.com/idmesh/idmesh/registry"
)

func newTestnetCmd(a *app) *cobra.Command {
	return a.groupCmd("testnet", "write and run a local multi-validator network", newTestnetInitCmd(a), newTestnetStartCmd(a))
}

func newTestnetInitCmd(a *app) *cobra.Command {
	var n, base, maxBlock int
	var dir, chainID, config string
	c := a.command("init --validators N --dir DIR --base-port P", "write keys, configs and genesis for N local validators",
		func(_ context.Context, e env, pos []string) error {
			return testnetInit(e, n, base, maxBlock, dir, chainID, pos)
		})
	c.Long = `Write keys, configs and genesis for N local validators: DIR/node0 ... DIR/node{N-1},
node i serving HTTP on 127.0.0.1:P+i and libp2p on port P+100+i.`
	fs := c.Flags()
	fs.IntVar(&n, "validators", 4, "number of validators")
	fs.StringVar(&dir, "dir", "./testnet", "directory for the nodes' homes")
	fs.IntVar(&base, "base-port", 27000, "node i serves HTTP on 127.0.0.1:P+i and libp2p on P+100+i")
	fs.StringVar(&chainID, "chain-id", "idmesh-testnet", "chain ID")
	fs.IntVar(&maxBlock, "max-block-bytes", registry.DefaultMaxBlockBytes, fmt.Sprintf("genesis max_block_bytes: bound on a block with its last commit, as proposed (%d to %d)", registry.MinBlockBytes, registry.MaxBlockBytesCeiling))
	fs.StringVar(&config, "config", "", "JSON file of flag values")
	return c
}

// testnetNode is what testnet init prints of a node.
type testnetNode struct {
	Name string `json:"name"`
	HTTP string `json:"http"`
	P2P  string `json:"p2p"`
}

func testnetInit(e env, n, base, maxBlock int, dir, chainID string, pos []string) error {
	switch {
	case len(pos) != 0:
		return usageError("testnet init takes no arguments")
	case n < 1 || n > 100:
		return usageError("--validators must be 1 to 100")
	case base < 1024 || base+100+n > 65535:
		return usageError("--base-port must leave room for P+100+N below 65536")
	case maxBlock < registry.MinBlockBytes || maxBlock > registry.MaxBlockBytesCeiling:
		return usageError(fmt.Sprintf("--max-block-bytes must be %d to %d", registry.MinBlockBytes, registry.MaxBlockBytesCeiling))
	}
	if _, err := os.Stat(filepath.Join(dir, "node0")); err == nil {
		return fmt.Errorf("%s already holds a testnet (remove it first)", dir)
	}
	printed := []testnetNode{}
	type nodeInfo struct {
		home home.Dir
		addr string // full p2p multiaddr
	}
	nodes := make([]nodeInfo, n)
	var vals []registry.Validator
	for i := range nodes {
		h := home.Dir(filepath.Join(dir, fmt.Sprintf("node%d", i)))
		if err := os.MkdirAll(string(h), 0o700); err != nil {
			return err
		}
		kf, err := privval.GenerateKey(h.ValidatorKey(), nil)
		if err != nil {
			return err
		}
		vals = append(vals, registry.Validator{PubKey: kf.PublicKey, Power: 10})
		id, err := p2p.LoadOrCreateIdentity(h.NodeKey())
		if err != nil {
			return err
		}
		pid, err := peer.IDFromPrivateKey(id)
		if err != nil {
			return err
		}
		nodes[i] = nodeInfo{home: h, addr: fmt.Sprintf("/ip4/127.0.0.1/tcp/%d/p2p/%s", base+100+i, pid)}
	}
	g := &registry.Genesis{ChainID: chainID, GenesisTime: time.Now().UTC().Truncate(time.Millisecond), Validators: vals, MaxBlockBytes: maxBlock}
	if err := g.Validate(); err != nil {
		return err
	}
	gb, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	for i, nd := range nodes {
		if err := os.WriteFile(nd.home.Genesis(), append(gb, '\n'), 0o644); err != nil {
			return err
		}
		var peers []string
		for j, other := range nodes {
			if j != i {
				peers = append(peers, other.addr)
			}
		}
		cfg := map[string]string{
			"http":      fmt.Sprintf("127.0.0.1:%d", base+i),
			"p2p":       fmt.Sprintf("/ip4/127.0.0.1/tcp/%d,/ip4/127.0.0.1/udp/%d/quic-v1", base+100+i, base+100+i),
			"bootstrap": strings.Join(peers, ","),
		}
		cb, _ := json.MarshalIndent(cfg, "", "  ")
		if err := os.WriteFile(nd.home.Config(), append(cb, '\n'), 0o600); err != nil {
			return err
		}
		printed = append(printed, testnetNode{fmt.Sprintf("node%d", i), fmt.Sprintf("http://127.0.0.1:%d", base+i), nd.addr})
	}
	if e.json {
		return printJSON(e, map[string]any{"chainId": chainID, "dir": dir, "nodes": printed})
	}
	for _, nd := range printed {
		fmt.Fprintf(e.stdout, "%s  %s  %s\n", nd.Name, nd.HTTP, nd.P2P)
	}
	fmt.Fprintf(e.stdout, "wrote %d validators of chain %q in %s; run each with: idmesh node --home %s/nodeI\n", n, chainID, dir, dir)
	return nil
}

func newTestnetStartCmd(a *app) *cobra.Command {
	var dir, config string
	c := &cobra.Command{Use: "start --dir DIR", Short: "run every node of DIR as a separate process",
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usageError("testnet start takes no arguments")
			}
			return testnetStart(c.Context(), a.serverEnv(), dir)
		}}
	c.Flags().StringVar(&dir, "dir", "./testnet", "directory made by testnet init")
	c.Flags().StringVar(&config, "config", "", "JSON file of flag values")
	return c
}

// testnetStart runs `idmesh node` for every node home in DIR as child
// processes and prefixes their output, and shows how many serve until
// all do (a status line on a terminal, plain lines elsewhere). A node that exits (or is killed,
// to try the network's fault tolerance) is reported and the others go
// on; all are stopped when ctx ends. Restart a node by hand with
// `idmesh node --home DIR/nodeI`.
func testnetStart(ctx context.Context, e env, dir string) error {
	homes, err := filepath.Glob(filepath.Join(dir, "node*"))
	if err != nil || len(homes) == 0 {
		return fmt.Errorf("no node homes in %s (run idmesh testnet init first)", dir)
	}
	sort.Strings(homes)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	done := make(chan struct{}, len(homes))
	progress := newStartProgress(e.stdout, isTerminal(e.stdout), len(homes))
	var cmds []*exec.Cmd
	for _, h := range homes {
		cmd := exec.Command(self, "node", "--home", h)
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		cmd.Stderr = cmd.Stdout
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start %s: %w", h, err)
		}
		cmds = append(cmds, cmd)
		name := filepath.Base(h)
		wg.Go(func() { prefixLines(out, name, progress, &mu) })
		go func() {
			err := cmd.Wait()
			mu.Lock()
			progress.line(fmt.Sprintf("%s exited: %v", name, err))
			mu.Unlock()
			done <- struct{}{}
		}()
	}
	for running := len(cmds); running > 0; {
		select {
		case <-ctx.Done():
			for _, c := range cmds {
				_ = c.Process.Signal(syscall.SIGTERM)
			}
			for ; running > 0; running-- {
				<-done
			}
		case <-done:
			running--
		}
	}
	wg.Wait()
	return nil
}

// prefixLines prints each line of a node's output, prefixed with its
// name, through the progress display.
func prefixLines(r io.Reader, name string, progress *startProgress, mu *sync.Mutex) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		mu.Lock()
		progress.output(name, sc.Text())
		mu.Unlock()
	}
}

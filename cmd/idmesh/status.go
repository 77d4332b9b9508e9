package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/idmesh/idmesh/api"
)

// nodeStatus is what `idmesh status` prints: the node's /v1/status and
// its readiness (/readyz).
type nodeStatus struct {
	api.StatusResponse
	Ready bool `json:"ready"`
	// NotReady is /readyz's detail when the node is not ready.
	NotReady string `json:"not_ready,omitempty"`
}

func newStatusCmd(a *app) *cobra.Command {
	var f clientFlags
	c := a.command("status [--node URL]", "show a node's chain, height, validators, peers and readiness",
		func(ctx context.Context, e env, pos []string) error {
			if len(pos) != 0 {
				return usageError("status takes no arguments")
			}
			return showStatus(ctx, e, f)
		})
	c.Long = `Show a node's chain, height, last block, validators, peers, sync and readiness
(GET /v1/status and GET /readyz). A node that is not ready (syncing, or without
peers on a multi-node network) is reported, not an error: the exit status is 0.`
	f.register(c.Flags())
	return c
}

func showStatus(ctx context.Context, e env, f clientFlags) error {
	cl, err := f.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var st nodeStatus
	if _, err := cl.do(ctx, http.MethodGet, "/v1/status", nil, "", &st.StatusResponse); err != nil {
		return err
	}
	st.Ready = true
	if _, err := cl.do(ctx, http.MethodGet, "/readyz", nil, "", nil); err != nil {
		var pe *problemError
		if !errors.As(err, &pe) || pe.p.Type != api.ProblemNotReady {
			return err
		}
		st.Ready, st.NotReady = false, strings.TrimPrefix(pe.p.Detail, "not ready: ")
	}
	if e.json {
		return json.NewEncoder(e.stdout).Encode(st)
	}
	ready := "yes"
	if !st.Ready {
		ready = "no: " + st.NotReady
	}
	fmt.Fprintf(e.stdout, "chain       %s\nheight      %d\nlast block  %s at %s\nvalidators  %d\npeers       %d\nsyncing     %t\nready       %s\n",
		inLine(st.ChainID), st.Height, inLine(fmt.Sprint(st.LastBlockHash)), inLine(fmt.Sprint(st.LastBlockTime)), len(st.Validators), len(st.Peers), st.Syncing, inLine(ready))
	if st.Version != "" {
		fmt.Fprintf(e.stdout, "version     %s\n", inLine(st.Version))
	}
	return nil
}

func newPeersCmd(a *app) *cobra.Command {
	var f clientFlags
	c := a.command("peers [--node URL]", "list the libp2p peers a node is connected to",
		func(ctx context.Context, e env, pos []string) error {
			if len(pos) != 0 {
				return usageError("peers takes no arguments")
			}
			return listPeers(ctx, e, f)
		})
	c.Long = `List the libp2p peer IDs a node is connected to, one a line (none for a node
without a network, such as idmesh dev).`
	f.register(c.Flags())
	return c
}

func listPeers(ctx context.Context, e env, f clientFlags) error {
	cl, err := f.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	var st api.StatusResponse
	if _, err := cl.do(ctx, http.MethodGet, "/v1/status", nil, "", &st); err != nil {
		return err
	}
	if st.Peers == nil {
		st.Peers = []string{}
	}
	if e.json {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"peers": st.Peers})
	}
	for _, p := range st.Peers {
		fmt.Fprintln(e.stdout, inLine(p))
	}
	return nil
}

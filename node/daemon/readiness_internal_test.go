package daemon

import (
	"slices"
	"strings"
	"testing"
)

// TestReadinessRule: a node is ready unless it syncs or, on a multi-node
// network (a libp2p host and bootstrap peers, more than one validator, or
// not a validator), has no peer; dev and a lone single validator are
// ready without peers.
func TestReadinessRule(t *testing.T) {
	tests := []struct {
		name      string
		r         readiness
		multiNode bool
		want      []string // substrings, one per reason, in order
	}{
		{"dev: no host, one validator", readiness{Validators: 1, Validator: true}, false, nil},
		{"dev with many validators and no host", readiness{Validators: 4, Validator: true}, false, nil},
		{"lone validator with a host, no bootstrap", readiness{Host: true, Validators: 1, Validator: true}, false, nil},
		{"lone validator with bootstrap, no peers", readiness{Host: true, Bootstrap: true, Validators: 1, Validator: true}, true, []string{"no peers on a multi-node network (bootstrap peers configured)"}},
		{"lone validator with bootstrap and a peer", readiness{Host: true, Bootstrap: true, Validators: 1, Validator: true, Peers: 1}, true, nil},
		{"one of four validators, no peers", readiness{Host: true, Validators: 4, Validator: true}, true, []string{"no peers on a multi-node network (4 validators)"}},
		{"one of four validators with peers", readiness{Host: true, Validators: 4, Validator: true, Peers: 3}, true, nil},
		{"full node, no peers", readiness{Host: true, Validators: 1}, true, []string{"(not a validator)"}},
		{"full node with everything, no peers", readiness{Host: true, Bootstrap: true, Validators: 2}, true, []string{"(bootstrap peers configured, 2 validators, not a validator)"}},
		{"full node with a peer", readiness{Host: true, Validators: 1, Peers: 1}, true, nil},
		{"syncing, target unknown", readiness{Host: true, Validators: 1, Validator: true, Syncing: true, Height: 7}, false, []string{"syncing: the start-up sync from peers has not finished (height 7)"}},
		{"syncing to a target", readiness{Host: true, Validators: 3, Validator: true, Syncing: true, Height: 10, Target: 250, Peers: 2}, true, []string{"syncing: height 10 of 250"}},
		{"syncing, target reached", readiness{Host: true, Validators: 3, Validator: true, Syncing: true, Height: 250, Target: 250, Peers: 2}, true, []string{"syncing: the start-up sync"}},
		{"syncing without peers", readiness{Host: true, Validators: 2, Validator: true, Syncing: true}, true, []string{"syncing", "no peers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.multiNode(); got != tt.multiNode {
				t.Errorf("multiNode %v, want %v", got, tt.multiNode)
			}
			got := tt.r.notReady()
			if len(got) != len(tt.want) {
				t.Fatalf("reasons %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("reason %q lacks %q", got[i], w)
				}
			}
			if slices.ContainsFunc(got, func(s string) bool { return len(s) > 200 }) {
				t.Errorf("a reason over 200 bytes: %q", got)
			}
		})
	}
}

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// knobs holds the IDMESH_* variables the test process was started with.
// scrubEnvironment moves them here before any test runs, so that neither
// the commands run in process nor the processes the tests start read a
// developer's configuration (an exported IDMESH_API_TOKEN or IDMESH_NODE
// would otherwise change what the tests see). Benchmarks read their
// switches (IDMESH_BENCH_NET, IDMESH_BENCH_LOG) from here with knob.
var knobs = map[string]string{}

func scrubEnvironment() {
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "IDMESH_") {
			knobs[k] = v
			os.Unsetenv(k)
		}
	}
}

// knob returns the value of an IDMESH_* variable the caller set.
func knob(name string) string { return knobs[name] }

// TestCallerEnvironmentIgnored runs end-to-end tests again in a child
// test process whose caller exported a hostile IDMESH_* configuration
// (a wrong API token and passphrases, an unreachable node, a missing home,
// keystore and config file): they must pass as they do in a clean
// environment.
func TestCallerEnvironmentIgnored(t *testing.T) {
	if knob("IDMESH_TEST_CHILD") != "" {
		t.Skip("already in the child")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^(TestDIDLifecycle|TestCredentials)$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		"IDMESH_TEST_CHILD=1",
		"IDMESH_API_TOKEN=not-the-token",
		"IDMESH_NODE=http://127.0.0.1:9",
		"IDMESH_HOME=/nonexistent/idmesh-home",
		"IDMESH_HTTP=127.0.0.1:9",
		"IDMESH_PASSPHRASE=wrong passphrase",
		"IDMESH_ISSUER_PASSPHRASE=wrong passphrase",
		"IDMESH_KEYSTORE=/nonexistent/keystore.json",
		"IDMESH_CONFIG=/nonexistent/config.json",
		"IDMESH_LOG_FORMAT=bogus",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the end-to-end tests fail under the caller's IDMESH_* variables: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("child ran no test:\n%s", out)
	}
}

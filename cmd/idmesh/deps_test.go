package main

import (
	"runtime/debug"
	"testing"

	"golang.org/x/mod/semver"
)

// advisories lists the Go vulnerability reports that concern modules the
// binary compiles in, with the first version that fixes each. The test
// fails when the binary builds with an affected version. govulncheck needs
// the vulnerability database, which CI machines cannot reach; add a row
// for each new report that names one of our modules.
var advisories = []struct {
	id, module, fixed string
}{
	{"GO-2026-6165", "github.com/pion/dtls/v3", "v3.1.4"},
	{"GO-2026-6163", "github.com/pion/stun/v3", "v3.1.5"},
}

func TestNoModuleWithKnownVulnerability(t *testing.T) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		t.Fatal("no build information in the test binary")
	}
	versions := make(map[string]string, len(info.Deps))
	for _, m := range info.Deps {
		v := m.Version
		if m.Replace != nil {
			v = m.Replace.Version
		}
		versions[m.Path] = v
	}
	for _, a := range advisories {
		v, ok := versions[a.module]
		if !ok {
			continue // not compiled in
		}
		if semver.Compare(v, a.fixed) < 0 {
			t.Errorf("%s %s is affected by %s: require %s or later", a.module, v, a.id, a.fixed)
		}
	}
	// jwx v2 is deprecated, with an advisory fixed only in v3.
	if v, ok := versions["github.com/lestrrat-go/jwx/v2"]; ok {
		t.Errorf("github.com/lestrrat-go/jwx/v2 %s is compiled in: use v3", v)
	}
}

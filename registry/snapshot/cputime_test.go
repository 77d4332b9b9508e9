package snapshot_test

import "github.com/idmesh/idmesh/registry/registrytest"

// cpuTime is the process's CPU time (registrytest.CPUTime).
var cpuTime = registrytest.CPUTime

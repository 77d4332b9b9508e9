package did_test

import (
	"time"

	"github.com/idmesh/idmesh/did"
)

func timeParse(s string) (time.Time, error) { return time.Parse(did.TimeLayout, s) }

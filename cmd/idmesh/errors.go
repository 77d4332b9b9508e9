package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"syscall"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/verifier"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailure     = 1 // not verified, refused by the node, anything else
	exitUsage       = 2 // unknown command or flag, missing or extra argument, bad value
	exitUnreachable = 3 // node unreachable, timeout, or a 502, 503 or 504 answer
)

// Problem types of the CLI's own errors (with --json), in the style of
// the node's (api.ProblemBase). Append-only: scripts may switch on them.
// A problem the node answered is printed as the node gave it.
const (
	problemUsage           = api.ProblemBase + "usage"
	problemNodeUnreachable = api.ProblemBase + "node-unreachable"
	problemTimeout         = api.ProblemBase + "timeout"
	problemNotVerified     = api.ProblemBase + "not-verified"
	problemCommandFailed   = api.ProblemBase + "command-failed"
)

// kind classifies an error for its exit status and problem type.
type kind int

const (
	kindFailure     kind = iota // anything else
	kindRefused                 // the node answered a 4xx (or another non-gateway error)
	kindNotVerified             // a verification said verified: false
	kindUsage                   // the command line is wrong
	kindUnreachable             // connection refused or reset, DNS failure
	kindTimeout                 // no answer in time
	kindUnavailable             // the node (or a gateway before it) answered 502, 503 or 504
)

// classify is the one place that decides what kind an error is.
func classify(err error) kind {
	var u usageErr
	var nv errNotVerified
	var p *problemError
	switch {
	case errors.As(err, &u):
		return kindUsage
	case errors.As(err, &nv):
		return kindNotVerified
	case errors.As(err, &p):
		switch p.p.Status {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return kindUnavailable
		}
		return kindRefused
	case isTimeout(err):
		return kindTimeout
	case isUnreachable(err):
		return kindUnreachable
	}
	return kindFailure
}

// exitCode maps an error to the process exit status.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	switch classify(err) {
	case kindUsage:
		return exitUsage
	case kindUnreachable, kindTimeout, kindUnavailable:
		return exitUnreachable
	}
	return exitFailure
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

func isUnreachable(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial") ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// timedOut marks an error as a timeout, keeping its message.
type timedOut struct{ error }

func (t timedOut) Unwrap() error { return t.error }
func (timedOut) Timeout() bool   { return true }

// problemError is an RFC 9457 problem returned by the node (or made of
// an HTTP error answer that carried none).
type problemError struct{ p api.Problem }

func (e *problemError) Error() string {
	if e.p.Detail != "" {
		return e.p.Detail
	}
	return fmt.Sprintf("%s (HTTP %d)", e.p.Title, e.p.Status)
}

// httpError is the problem of an HTTP error answer that is not
// problem+json (RFC 9457 section 4.2.1: about:blank).
func httpError(status int) *problemError {
	return &problemError{api.Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: fmt.Sprintf("HTTP %d", status)}}
}

// errNotVerified makes a failed verification exit non-zero after its
// result was printed (with --json, the result is in the problem).
type errNotVerified struct {
	reason string
	status int // of the node's answer
	result *verifier.Result
}

func (e errNotVerified) Error() string { return "not verified: " + e.reason }

// problem is what --json prints for an error: an RFC 9457 problem, with
// the verification result as an extension member when one failed.
type problem struct {
	api.Problem
	Result *verifier.Result `json:"result,omitempty"`
}

// problemOf returns the problem err is reported as: the node's own when
// it answered one, else one of the CLI's types.
func problemOf(err error) problem {
	local := func(typ, title string, status int) problem {
		return problem{Problem: api.Problem{Type: typ, Title: title, Status: status, Detail: oneLine(err)}}
	}
	switch classify(err) {
	case kindUsage:
		return local(problemUsage, "Usage error", http.StatusBadRequest)
	case kindNotVerified:
		var nv errNotVerified
		errors.As(err, &nv)
		status := nv.status
		if status < 400 {
			status = http.StatusBadRequest
		}
		return problem{Problem: api.Problem{Type: problemNotVerified, Title: "Not verified", Status: status, Detail: nv.reason}, Result: nv.result}
	case kindRefused, kindUnavailable:
		var p *problemError
		errors.As(err, &p)
		out := problem{Problem: p.p}
		if out.Type == "" {
			out.Type = "about:blank"
		}
		if out.Title == "" {
			out.Title = http.StatusText(out.Status)
		}
		return out
	case kindTimeout:
		return local(problemTimeout, "The node did not answer in time", http.StatusGatewayTimeout)
	case kindUnreachable:
		return local(problemNodeUnreachable, "The node cannot be reached", http.StatusServiceUnavailable)
	}
	return local(problemCommandFailed, "The command failed", http.StatusInternalServerError)
}

// report prints err as the user asked: one problem object on stdout
// with --json (nothing on stderr), else one line on stderr.
func report(e env, err error) {
	if e.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(problemOf(err))
		return
	}
	fmt.Fprintln(e.stderr, "idmesh:", oneLine(err))
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"rsc.io/qr"

	"github.com/idmesh/idmesh/api"
)

// verifyPollInterval is how often verify result --wait asks the node.
const verifyPollInterval = 250 * time.Millisecond

func newVerifyGroupCmd(a *app) *cobra.Command {
	return a.groupCmd("verify", "ask wallets for presentations over OpenID4VP and read the results", newVerifyRequestCmd(a), newVerifyResultCmd(a))
}

func newVerifyRequestCmd(a *app) *cobra.Command {
	var f apiFlags
	var o vpRequestOptions
	c := a.command("request --dcql QUERY.json [--trusted-issuers DIDS] [--response-mode direct_post|direct_post.jwt] [--webhook URL | --redirect-uri URL] [--png FILE]",
		"make an OpenID4VP presentation request and print its URI and QR code",
		func(ctx context.Context, e env, pos []string) error {
			return verifyRequest(ctx, e, f, o, pos)
		})
	c.Long = `Ask a wallet for the credentials and claims a DCQL query names (QUERY.json; - for
standard input), over OpenID for Verifiable Presentations 1.0: the node makes a request
signed with its verifier DID (client_id decentralized_identifier:DID) and prints the
openid4vp:// URI and a QR code of it, which a wallet opens (idmesh wallet present URI).
The request can be answered once before it expires (5 minutes by default); read the
outcome with idmesh verify result TXID. Without --trusted-issuers any issuer whose
signature verifies is accepted (the result names it); with it, only those. With --webhook the node also posts the result
to that URL (https, or http to a loopback address), signed with the webhook secret
printed once here (X-Idmesh-Signature: sha256=HMAC-SHA256 of X-Idmesh-Timestamp,
".", and the body; reject old timestamps). With --redirect-uri (a same-device flow) the
wallet is sent to that URL after answering, with response_code=CODE in its fragment
(whatever the outcome); the result is then read only with that code
(idmesh verify result TXID --response-code CODE), which only the browser the wallet
came back to has. --redirect-uri and --webhook exclude each other.`
	fs := c.Flags()
	f.register(fs)
	fs.StringVar(&o.dcqlFile, "dcql", "", "the DCQL query, a JSON file (required)")
	fs.StringVar(&o.mode, "response-mode", api.ResponseModeDirectPost, "direct_post, or direct_post.jwt for an encrypted response")
	fs.StringVar(&o.hook, "webhook", "", "also post the result to this URL")
	fs.StringVar(&o.redirect, "redirect-uri", "", "send the wallet to this URL after its answer, with the response code")
	fs.StringVar(&o.trusted, "trusted-issuers", "", "accept credentials only from these issuers (DIDs, comma-separated)")
	fs.StringVar(&o.png, "png", "", "also write the QR code as a PNG image to FILE")
	return c
}

// vpRequestOptions are verify request's flags.
type vpRequestOptions struct {
	dcqlFile, mode, hook, redirect, png, trusted string
}

func verifyRequest(ctx context.Context, e env, f apiFlags, o vpRequestOptions, pos []string) error {
	switch {
	case len(pos) != 0:
		return usageError("verify request takes no arguments: give the query with --dcql FILE")
	case o.dcqlFile == "":
		return usageError("verify request: --dcql QUERY.json is required")
	case o.mode != api.ResponseModeDirectPost && o.mode != api.ResponseModeDirectPostJWT:
		return usageError("verify request: --response-mode must be direct_post or direct_post.jwt")
	case o.hook != "" && o.redirect != "":
		return usageError("verify request: --redirect-uri and --webhook exclude each other (a webhook delivers the result without the response code)")
	}
	doc, err := readDocument(e, o.dcqlFile)
	if err != nil {
		return fmt.Errorf("verify request: %w", err)
	}
	query, ok := doc.(map[string]any)
	if !ok {
		return usageError("verify request: the DCQL query must be a JSON object")
	}
	req := map[string]any{"dcql_query": query, "response_mode": o.mode}
	if o.hook != "" {
		req["webhook"] = o.hook
	}
	if o.redirect != "" {
		req["redirect_uri"] = o.redirect
	}
	if list := splitList(o.trusted); len(list) > 0 {
		req["trusted_issuers"] = list
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	body, _ := json.Marshal(req)
	var out api.VPRequestResponse
	if _, err := c.do(ctx, http.MethodPost, api.VerifierRequestsPath, body, "", &out); err != nil {
		return fmt.Errorf("verify request: %w", err)
	}
	code, err := qr.Encode(out.URI, qr.M)
	if err != nil {
		return fmt.Errorf("verify request: encode QR code: %w", err)
	}
	if o.png != "" {
		code.Scale = 8
		if err := os.WriteFile(o.png, code.PNG(), 0o644); err != nil {
			return fmt.Errorf("verify request: write --png: %w", err)
		}
	}
	if e.json {
		return printJSON(e, out)
	}
	fmt.Fprint(e.stdout, terminalQR(code))
	fmt.Fprintln(e.stdout, out.URI)
	fmt.Fprintf(e.stderr, "transaction %s: idmesh verify result %s\n", out.TransactionID, out.TransactionID)
	if out.WebhookSecret != "" {
		fmt.Fprintf(e.stderr, "webhook secret (shown once): %s\n", out.WebhookSecret)
	}
	return nil
}

// maxResponseCodeBytes bounds a response code read from standard input
// (the node's are 43 characters).
const maxResponseCodeBytes = 256

func newVerifyResultCmd(a *app) *cobra.Command {
	var f apiFlags
	var wait time.Duration
	var code string
	c := a.command("result TXID [--wait DURATION] [--response-code CODE]", "show the result of an OpenID4VP presentation request",
		func(ctx context.Context, e env, pos []string) error {
			return verifyResult(ctx, e, f, wait, code, pos)
		})
	c.Long = `Show where a presentation request stands (pending, verified, failed or expired)
and, once verified, each credential presented: its issuer, type and exactly the
claims the wallet disclosed. With --wait, wait up to DURATION for the wallet's
answer. Exits 1 when the request failed or expired (or is still pending after
--wait). A request made with --redirect-uri gives its result only with
--response-code, the code the wallet's redirect carried (- reads it from standard
input, which keeps it out of the process list and the shell's history).`
	fs := c.Flags()
	f.register(fs)
	fs.DurationVar(&wait, "wait", 0, "wait up to this long while the request is pending (e.g. 2m)")
	fs.StringVar(&code, "response-code", "", "the response code of the wallet's redirect (requests made with --redirect-uri; - for standard input)")
	return c
}

func verifyResult(ctx context.Context, e env, f apiFlags, wait time.Duration, code string, pos []string) error {
	switch {
	case len(pos) != 1:
		return usageError("verify result takes one transaction ID")
	case wait < 0:
		return usageError("verify result: --wait must not be negative")
	}
	if code == "-" {
		b, err := io.ReadAll(io.LimitReader(e.stdin, maxResponseCodeBytes+1))
		if err != nil {
			return fmt.Errorf("verify result: read the response code: %w", err)
		}
		if code = strings.TrimSpace(string(b)); code == "" || len(code) > maxResponseCodeBytes {
			return usageError(fmt.Sprintf("verify result: --response-code -: standard input must hold the code (1 to %d bytes)", maxResponseCodeBytes))
		}
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	deadline := time.Now().Add(wait)
	var v api.VPTransaction
	for {
		path := api.VerifierTransactionsPath + url.PathEscape(pos[0])
		if code != "" {
			path += "?response_code=" + url.QueryEscape(code)
		}
		if _, err := c.do(ctx, http.MethodGet, path, nil, "", &v); err != nil {
			if pe := (*problemError)(nil); errors.As(err, &pe) && pe.p.Type == api.ProblemResponseCode {
				if code == "" {
					return fmt.Errorf("verify result: the request was made with --redirect-uri: give the response code the wallet's redirect carried (--response-code CODE): %w", err)
				}
				return fmt.Errorf("verify result: not the response code of this transaction: %w", err)
			}
			return fmt.Errorf("verify result: %w", err)
		}
		if v.Status != api.VPPending || !time.Now().Before(deadline) {
			break
		}
		t := time.NewTimer(min(verifyPollInterval, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	switch v.Status {
	case api.VPFailed, api.VPExpired:
		if !e.json {
			printTransaction(e, v)
		}
		reason := v.Status
		if v.Error != "" {
			reason += ": " + v.Error
		}
		return errNotVerified{reason: reason, status: http.StatusOK}
	case api.VPPending:
		if wait > 0 {
			if !e.json {
				printTransaction(e, v)
			}
			return fmt.Errorf("verify result: still pending after %s", wait)
		}
	}
	if e.json {
		return printJSON(e, v)
	}
	printTransaction(e, v)
	return nil
}

// printTransaction shows a transaction for people: its status, then each
// credential and its disclosed claims.
func printTransaction(e env, v api.VPTransaction) {
	// Everything but the ID and the status came from a wallet's answer:
	// printed through inLine, so that no escape sequence or line break
	// reaches the terminal.
	fmt.Fprintf(e.stdout, "transaction %s: %s\n", inLine(v.TransactionID), inLine(v.Status))
	if v.Error != "" {
		fmt.Fprintf(e.stdout, "  error: %s\n", inLine(v.Error))
	}
	for _, c := range v.Credentials {
		typ := c.VCT
		if typ == "" && len(c.Type) > 0 {
			typ = c.Type[len(c.Type)-1]
		}
		fmt.Fprintf(e.stdout, "credential %s (%s, %s)\n  issuer: %s\n", inLine(c.ID), inLine(c.Format), inLine(typ), inLine(c.Issuer))
		if c.Holder != "" {
			fmt.Fprintf(e.stdout, "  holder: %s\n", inLine(c.Holder))
		}
		for _, k := range slices.Sorted(maps.Keys(c.Claims)) {
			b, _ := json.Marshal(c.Claims[k]) // escapes C0 controls, not C1
			fmt.Fprintf(e.stdout, "  %s: %s\n", inLine(k), inLine(string(b)))
		}
	}
}

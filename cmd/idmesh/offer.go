package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"rsc.io/qr"

	"github.com/idmesh/idmesh/api"
)

func newVCOfferCmd(a *app) *cobra.Command {
	var f apiFlags
	var iss, typ, txCode, png string
	c := a.command("offer --issuer NAME [--type ID] [--tx-code CODE] [--png FILE] CLAIMS.json",
		"offer a credential to a wallet over OpenID4VCI (pre-authorized code flow)",
		func(ctx context.Context, e env, pos []string) error {
			return vcOffer(ctx, e, f, iss, typ, txCode, png, pos)
		})
	c.Long = `Make an OpenID4VCI credential offer of the claims in CLAIMS.json (an object; - for
standard input) by an issuer the node keeps, and print its openid-credential-offer://
URI and a QR code of it. Any OpenID4VCI wallet (idmesh wallet receive URI) redeems it
once, before it expires (10 minutes by default). --type names a credential
configuration of the node's /.well-known/openid-credential-issuer ({schema}_sd_jwt,
{schema}_jwt_vc_json, {schema}_ldp_vc); without it, generic_sd_jwt (any flat claims,
all selectively disclosable).`
	fs := c.Flags()
	f.register(fs)
	fs.StringVar(&iss, "issuer", "", "the name of the issuer (required)")
	fs.StringVar(&typ, "type", api.GenericConfiguration, "the credential configuration ID")
	fs.StringVar(&txCode, "tx-code", "", "a transaction code (digits) the holder must enter to redeem the offer")
	fs.StringVar(&png, "png", "", "also write the QR code as a PNG image to FILE")
	return c
}

func vcOffer(ctx context.Context, e env, f apiFlags, iss, typ, txCode, png string, pos []string) error {
	switch {
	case len(pos) != 1:
		return usageError("vc offer takes one CLAIMS.json file (or -)")
	case iss == "" || strings.HasPrefix(iss, "did:"):
		return usageError("vc offer: --issuer NAME is required (the name of an issuer the node keeps)")
	case txCode != "" && strings.Trim(txCode, "0123456789") != "":
		return usageError("vc offer: --tx-code must be digits")
	}
	doc, err := readDocument(e, pos[0])
	if err != nil {
		return fmt.Errorf("vc offer: %w", err)
	}
	claims, ok := doc.(map[string]any)
	if !ok {
		return usageError("vc offer: the claims must be a JSON object")
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	req := map[string]any{"credential_configuration_id": typ, "claims": claims}
	if txCode != "" {
		req["tx_code"] = txCode
	}
	body, _ := json.Marshal(req)
	var out api.OfferResponse
	if _, err := c.do(ctx, http.MethodPost, "/issuers/"+iss+"/offers", body, "", &out); err != nil {
		return fmt.Errorf("vc offer: %w", err)
	}
	code, err := qr.Encode(out.URI, qr.M)
	if err != nil {
		return fmt.Errorf("vc offer: encode QR code: %w", err)
	}
	if png != "" {
		code.Scale = 8
		if err := os.WriteFile(png, code.PNG(), 0o644); err != nil {
			return fmt.Errorf("vc offer: write --png: %w", err)
		}
	}
	if e.json {
		return printJSON(e, map[string]any{"uri": out.URI, "expires_at": out.ExpiresAt.UTC().Format(time.RFC3339)})
	}
	fmt.Fprint(e.stdout, terminalQR(code))
	fmt.Fprintln(e.stdout, out.URI)
	fmt.Fprintf(e.stderr, "expires at %s", out.ExpiresAt.UTC().Format(time.RFC3339))
	if txCode != "" {
		fmt.Fprint(e.stderr, "; give the holder the transaction code separately")
	}
	fmt.Fprintln(e.stderr)
	return nil
}

// terminalQR draws a QR code with Unicode half blocks, two modules
// rows per line, dark on light whatever the terminal's colours (the
// light modules and a 4-module quiet zone are drawn as full blocks).
func terminalQR(c *qr.Code) string {
	const quiet = 4
	var b strings.Builder
	dark := func(x, y int) bool { return c.Black(x, y) }
	for y := -quiet; y < c.Size+quiet; y += 2 {
		for x := -quiet; x < c.Size+quiet; x++ {
			top, bottom := dark(x, y), dark(x, y+1)
			switch {
			case top && bottom:
				b.WriteRune(' ')
			case top:
				b.WriteRune('▄')
			case bottom:
				b.WriteRune('▀')
			default:
				b.WriteRune('█')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

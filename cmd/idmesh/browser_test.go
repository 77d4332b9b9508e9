package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The browser tests drive the web UI of a real `idmesh dev` in headless
// Chromium (Debian's chromium package) through chromedp, a pure Go
// client of the DevTools protocol. They run only when IDMESH_BROWSER=1,
// which `make browser` sets (it installs Chromium when it is missing);
// `make test` leaves them out.

// browserStep bounds one step of a browser test (a page to load, a
// condition to reach).
const browserStep = 20 * time.Second

// artifacts is where the browser tests write their screenshots, a folder
// of the repository that git ignores.
var artifacts = filepath.Join("..", "..", ".artifacts", "browser")

// requireBrowser skips the test unless IDMESH_BROWSER=1 (make browser);
// when it is set, a missing Chromium is a failure, not a skip. It returns
// the path of Chromium.
func requireBrowser(t *testing.T) string {
	t.Helper()
	if knob("IDMESH_BROWSER") != "1" {
		t.Skip("browser tests in headless Chromium: set IDMESH_BROWSER=1 (make browser)")
	}
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("IDMESH_BROWSER=1 needs Debian's chromium: run `make browser`, which installs it")
	return ""
}

// browser is a headless Chromium tab with what its page said on its
// console.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
	logged  chan struct{} // signalled after each console message
}

// newBrowser starts Chromium at path, headless, with the flags a root
// user on a closed network needs, a fresh profile, and JavaScript dialogs
// accepted.
func newBrowser(t *testing.T, path string) *browser {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-extensions", true), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000))
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, logged: make(chan struct{}, 1)}
	// The first run starts the browser: no timeout on it (it would stop
	// the browser), but a watchdog.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start chromium: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("chromium did not start within a minute")
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
			select {
			case b.logged <- struct{}{}:
			default:
			}
		}
	}()
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return b
}

// do runs steps within browserStep.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.shot("failure")
		b.t.Fatalf("browser: %v\nconsole: %v", err, b.messages())
	}
}

// wait waits until the JavaScript expression is truthy.
func (b *browser) wait(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep+time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(browserStep), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		b.shot("failure")
		b.t.Fatalf("waiting for %s (%s): %v\nconsole: %v", what, expr, err, b.messages())
	}
}

// eval evaluates a JavaScript expression into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// shot writes a screenshot of the whole page to the artifacts.
func (b *browser) shot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		b.t.Fatal(err)
	}
	p, err := filepath.Abs(filepath.Join(artifacts, b.t.Name()+"-"+name+".png"))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", p)
	return p
}

func (b *browser) messages() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.console {
		out = append(out, m.String()+" ("+m.Source+" "+m.URL+")")
	}
	return out
}

// noPageErrors fails the test on an uncaught exception or a violation
// of the Content-Security-Policy on the page.
func (b *browser) noPageErrors() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.console {
		if m.IsException() || m.Source == "security" || strings.Contains(m.Text, "Content Security Policy") {
			b.t.Errorf("the page reported %s (%s:%d)", m, m.URL, m.Line)
		}
	}
}

// waitConsole waits until the page logged a message containing text.
func (b *browser) waitConsole(text string) {
	b.t.Helper()
	deadline := time.After(browserStep)
	for {
		if slices.ContainsFunc(b.messages(), func(m string) bool { return strings.Contains(m, text) }) {
			return
		}
		select {
		case <-b.logged:
		case <-deadline:
			b.t.Fatalf("the page never logged %q: %v", text, b.messages())
		}
	}
}

// js quotes s as a JavaScript string.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestBrowserUI is the issue's walk through the web UI of a real
// `idmesh dev` in headless Chromium: the explorer shows the chain's
// height and blocks; the DID page resolves a DID with all four of its
// versions (made within a second or so, which versionTime alone cannot
// tell apart) and shows an old one; the verify page shows every check of a good credential as a
// green line, and the revoked one (dropped in as a file) with a red
// status line; a hostile credential's markup stays text; the issuer
// console, with the token in sessionStorage and no cookie, issues from
// the schema form, shows an OpenID4VCI offer's QR code and revokes with
// a click, which the node then reports; at 360 px no page overflows and
// every field has a label; no page reports an exception or a violation
// of the Content-Security-Policy, which blocks an injected inline
// script. Screenshots go to .artifacts/browser/.
func TestBrowserUI(t *testing.T) {
	chromium := requireBrowser(t)
	n := startDevNode(t)
	uni := n.createIssuer(t, "uni")
	vc := func(id string) map[string]any {
		c := degree(uni)
		c["id"] = id
		return n.issue(t, c, nil)
	}
	good := vc("urn:uuid:9b1e0c1a-0000-4000-8000-000000000001")
	revoked := vc("urn:uuid:9b1e0c1a-0000-4000-8000-000000000002")
	target := vc("urn:uuid:9b1e0c1a-0000-4000-8000-000000000003")
	if r := n.setStatus(t, revoked["id"].(string), "revocation", true); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	// A DID with four versions, made within a second or so.
	ks := filepath.Join(t.TempDir(), "keystore.json")
	var created struct {
		DID string `json:"did"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, n.url, ks, "did", "create", "--json")), &created); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, n.url, ks, "did", "rotate", created.DID)
	mustCLI(t, n.url, ks, "did", "update", created.DID, "--add-service", "LinkedDomains=https://example.com")
	mustCLI(t, n.url, ks, "did", "rotate", created.DID)
	height := n.status(t).Height
	b := newBrowser(t, chromium)

	// The explorer.
	b.do(chromedp.Navigate(n.url + "/"))
	b.wait("the height", fmt.Sprintf(`Number(document.getElementById('x-height').textContent) >= %d`, height))
	b.wait("the latest blocks", `document.querySelectorAll('#x-blocks > li').length >= 1`)
	if got := eval[string](b, `document.getElementById('x-chain').textContent`); got != "idmesh-dev" {
		t.Fatalf("explorer chain %q", got)
	}
	if got := eval[int](b, `document.querySelectorAll('#x-validators tbody tr').length`); got != 1 {
		t.Fatalf("explorer shows %d validators", got)
	}
	b.shot("explorer")
	// Keyboard: the first Tab reaches the skip link, Enter on a nav link
	// opens its page.
	b.do(chromedp.KeyEvent("\t"))
	if got := eval[string](b, `document.activeElement.className`); got != "skip" {
		t.Fatalf("first Tab focused %q", got)
	}

	// The DID page: the document and all four versions; a version's
	// link shows that version.
	b.do(chromedp.Navigate(n.url+"/#/did"), chromedp.WaitVisible(chromedp.ID("did-input")),
		chromedp.SetValue(chromedp.ID("did-input"), created.DID), chromedp.Click(chromedp.CSS(`#did-form button[type=submit]`)))
	b.wait("the DID's history", `!document.getElementById('did-out').hidden && document.querySelectorAll('#did-history li').length === 4`)
	if doc := eval[string](b, `document.getElementById('did-doc').textContent`); !strings.Contains(doc, created.DID) || !strings.Contains(doc, "LinkedDomains") {
		t.Fatalf("DID page shows %.300s", doc)
	}
	if got := eval[[]string](b, `[...document.querySelectorAll('#did-history li')].map(li => li.dataset.version)`); !slices.Equal(got, []string{"1", "2", "3", "4"}) {
		t.Fatalf("history lists versions %v", got)
	}
	if st := eval[string](b, `document.getElementById('did-state').textContent`); st != "active" {
		t.Fatalf("DID state %q", st)
	}
	b.shot("did")
	b.do(chromedp.Click(chromedp.CSS(`#did-history li[data-version="1"] a`)))
	b.wait("version 1", `document.getElementById('did-version').textContent.startsWith('1 (')`)
	if doc := eval[string](b, `document.getElementById('did-doc').textContent`); strings.Contains(doc, "LinkedDomains") {
		t.Fatal("version 1 shows the service added in version 3")
	}

	// The verify page: a good credential pasted.
	goodJSON, _ := json.MarshalIndent(good, "", "  ")
	b.do(chromedp.Navigate(n.url+"/#/verify"), chromedp.WaitVisible(chromedp.ID("verify-input")),
		chromedp.SetValue(chromedp.ID("verify-input"), string(goodJSON)), chromedp.Click(chromedp.CSS(`#verify-form button[type=submit]`)))
	b.wait("the result", `document.getElementById('verify-summary').textContent === 'Verified'`)
	lines := eval[[]map[string]string](b, `[...document.querySelectorAll('#verify-checks li')].map(li => ({check: li.dataset.check, class: li.className, text: li.textContent}))`)
	if len(lines) < 3 {
		t.Fatalf("verify lines %v", lines)
	}
	var checks []string
	for _, l := range lines {
		checks = append(checks, l["check"])
		if l["class"] != "pass" {
			t.Fatalf("good credential, red line %v", l)
		}
	}
	if !slices.Contains(checks, "proof") || !slices.Contains(checks, "status") {
		t.Fatalf("checks shown %v", checks)
	}
	b.shot("verify-good")

	// The revoked credential, chosen as a file.
	file := filepath.Join(t.TempDir(), "revoked.json")
	revokedJSON, _ := json.Marshal(revoked)
	if err := os.WriteFile(file, revokedJSON, 0o600); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.SetUploadFiles(chromedp.ID("verify-file"), []string{file}))
	b.wait("the revoked result", `document.getElementById('verify-summary').textContent === 'Not verified' && !!document.querySelector('#verify-checks li[data-check=status].fail')`)
	if txt := eval[string](b, `document.querySelector('#verify-checks li[data-check=status]').textContent`); !strings.Contains(strings.ToLower(txt), "revoked") {
		t.Fatalf("status line %q does not say revoked", txt)
	}
	if n := eval[int](b, `document.querySelectorAll('#verify-checks li.pass').length`); n == 0 {
		t.Fatal("the revoked credential's passing checks are not shown")
	}
	b.shot("verify-revoked")

	// Scanning: headless Chromium on Linux has no BarcodeDetector, and
	// the page says so instead of failing.
	b.do(chromedp.Click(chromedp.ID("scan-start")))
	b.wait("the scanner message", `document.getElementById('scan-msg').textContent !== ''`)
	if has := eval[bool](b, `'BarcodeDetector' in window`); !has {
		if msg := eval[string](b, `document.getElementById('scan-msg').textContent`); !strings.Contains(msg, "no QR code scanner") {
			t.Fatalf("scan without BarcodeDetector: %q", msg)
		}
	}

	// A hostile credential: its markup is shown as text, never parsed.
	hostile := `{"@context":["https://www.w3.org/ns/credentials/v2","<img src=x id=pwned onerror=alert(1)>"],"type":["VerifiableCredential"],"issuer":"did:example:<b id=bold>x</b>","credentialSubject":{"name":"<script id=s>alert(1)</script>"}}`
	b.do(chromedp.SetValue(chromedp.ID("verify-input"), hostile), chromedp.Click(chromedp.CSS(`#verify-form button[type=submit]`)))
	b.wait("the hostile result", `document.getElementById('verify-summary').textContent === 'Not verified' && !document.querySelector('#verify-checks li[data-check=status]')`)
	if eval[bool](b, `!!document.querySelector('#pwned, #bold, #s, #verify-out img, #verify-out script, #verify-out b[id]')`) {
		t.Fatal("markup from the credential became elements")
	}

	// The issuer console.
	b.do(chromedp.Navigate(n.url+"/#/issuer"), chromedp.WaitVisible(chromedp.ID("token-input")),
		chromedp.SetValue(chromedp.ID("token-input"), n.token), chromedp.Click(chromedp.CSS(`#token-form button[type=submit]`)))
	row := `#issued-table tr[data-id=` + js(target["id"].(string)) + `]`
	b.wait("the issued list", `!!document.querySelector(`+js(row)+`)`)
	if got := eval[string](b, `sessionStorage.getItem('idmesh.token')`); got != n.token {
		t.Fatal("the token is not in sessionStorage")
	}
	if c := eval[string](b, `document.cookie`); c != "" {
		t.Fatalf("cookies %q", c)
	}
	if got := eval[string](b, `document.querySelector(`+js(row+` td[data-col=revoked]`)+`).textContent`); got != "no" {
		t.Fatalf("before: revoked %q", got)
	}
	// Issue from the form of the first bundled schema (age-over-18).
	b.wait("the schema form", `!!document.getElementById('f-credentialSubject-id')`)
	b.do(chromedp.SetValue(chromedp.ID("f-credentialSubject-id"), "did:example:holder"), chromedp.Click(chromedp.CSS(`#issue-form button[type=submit]`)))
	b.wait("the issued credential", `!document.getElementById('issued-out').hidden && document.getElementById('issued-vc').textContent.includes('"proof"')`)
	issued := map[string]any{}
	if err := json.Unmarshal([]byte(eval[string](b, `document.getElementById('issued-vc').textContent`)), &issued); err != nil {
		t.Fatal(err)
	}
	if res, status := n.verify(t, issued, nil); status != http.StatusOK || !res.Verified {
		t.Fatalf("the console's credential does not verify: %d %+v", status, res.ProblemDetails)
	}
	b.wait("the new row", `document.querySelectorAll('#issued-table tbody tr').length === 4`)
	// An OpenID4VCI offer as a QR code.
	b.do(chromedp.Click(chromedp.ID("offer-make")))
	b.wait("the offer's QR code", `!document.getElementById('offer-out').hidden && document.getElementById('offer-qr').complete && document.getElementById('offer-qr').naturalWidth > 0`)
	if uri := eval[string](b, `document.getElementById('offer-uri').textContent`); !strings.HasPrefix(uri, "openid-credential-offer://?credential_offer_uri=") {
		t.Fatalf("offer %q", uri)
	}
	// Revoke with a click (the confirmation dialog is accepted).
	b.do(chromedp.Click(chromedp.CSS(`button[aria-label=` + js("Revoke "+target["id"].(string)) + `]`)))
	b.wait("the revocation", `document.querySelector(`+js(row+` td[data-col=revoked]`)+`)?.textContent === 'yes'`)
	b.shot("issuer")
	if res, status := n.verify(t, target, nil); status != http.StatusBadRequest || res.Verified {
		t.Fatalf("revoked from the console, yet %d %+v", status, res)
	}

	// A phone's width: nothing overflows, every field has a label.
	b.do(chromedp.EmulateViewport(360, 800))
	for _, p := range []string{"/", "/#/did", "/#/verify", "/#/issuer"} {
		b.do(chromedp.Navigate(n.url + p))
		b.wait("the page at 360 px", `document.readyState === 'complete'`)
		if w := eval[int](b, `document.documentElement.scrollWidth`); w > 360 {
			b.shot("overflow")
			t.Errorf("%s is %d px wide at 360 px", p, w)
		}
		unlabelled := eval[[]string](b, `[...document.querySelectorAll('input, select, textarea')].filter(e => !e.closest('[hidden]') && !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id || e.outerHTML.slice(0, 60))`)
		if len(unlabelled) > 0 {
			t.Errorf("%s: fields without a label: %v", p, unlabelled)
		}
	}
	b.shot("issuer-360")
	b.noPageErrors()

	// The browser enforces the policy: a script injected inline does not
	// run.
	if ran := eval[bool](b, `(() => { window.__ran = false; const s = document.createElement('script'); s.textContent = 'window.__ran = true'; document.body.append(s); return window.__ran; })()`); ran {
		t.Fatal("an inline script ran: the Content-Security-Policy is not enforced")
	}
	b.waitConsole("Content Security Policy")
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/daemon"
	"github.com/idmesh/idmesh/node/home"
	"github.com/idmesh/idmesh/registry"
)

// nodeFlags are the flags of `idmesh dev` and `idmesh node`.
type nodeFlags struct {
	home, http, chainID, logLevel, logFormat, tlsCert, tlsKey, config string
	p2p, bootstrap, genesis, auditLog                                 string
	apiToken, issuerPass, publicURL, requireTrust                     string
	tls, mdns, requireNodeChallenges, stateSync                       bool
	snapshotInterval                                                  uint64
	blockInterval, blockQuiet, clockSkew, stateRetention              time.Duration
	doubleSignCheckHeight                                             int
	// The limits of the verification endpoints (api.Config).
	verifyConcurrency, verifyBurst, verifyClientSlots int
	verifyRate                                        float64
	verifyWait, verifyTimeout                         time.Duration
	trustedProxies                                    string
	// The OpenID4VP verifier (api.Config.VerifierDID, VerifierRequestTTL).
	verifierDID        string
	verifierRequestTTL time.Duration
	// offerTTL is api.Config.OfferTTL.
	offerTTL    time.Duration
	corsOrigins string
	// hugePages is daemon.Config.HugePages.
	hugePages bool
	// The state sync's checkpoint (HEIGHT:BLOCKID) and cross-check mode
	// as given (idmesh node only), and as runNode parsed them.
	stateSyncTrust, stateSyncCrossCheck string
	trust                               *node.StateSyncTrust
	crossCheck                          node.CrossCheckMode
}

// The bounds of --offer-ttl: an offer must outlive a holder's scan of
// its QR code, and not sit in memory (its code redeemable) for days.
const (
	minOfferTTL = time.Second
	maxOfferTTL = 24 * time.Hour
)

func (f *nodeFlags) register(fs *pflag.FlagSet, dev bool) {
	fs.StringVar(&f.home, "home", "./data", "home directory: keys, genesis and the chain")
	fs.StringVar(&f.http, "http", "127.0.0.1:8080", "address of the HTTP API (port 0 picks a free one)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "text", "text or json")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "the certificate's private key (PEM)")
	fs.StringVar(&f.config, "config", "", "JSON file of flag values")
	fs.DurationVar(&f.blockInterval, "block-interval", 100*time.Millisecond, "how long after a commit the next block waits for transactions")
	fs.DurationVar(&f.blockQuiet, "block-quiet", 10*time.Millisecond, fmt.Sprintf("as the next proposer, start the next block sooner (from a fifth of --block-interval) once at least %d transactions are pending and none came for this long; 0 waits the whole interval", node.QuietMinTxs))
	fs.DurationVar(&f.stateRetention, "state-retention", registry.DefaultStateRetention,
		"keep the state-tree versions of the blocks of this much block time before the tip (proofs at older heights answer 410); 0 keeps every version")
	fs.StringVar(&f.auditLog, "audit-log", "", "append every consensus message this validator signs to this file (JSON lines)")
	fs.StringVar(&f.publicURL, "public-url", "", "the node's public base URL, in the status list URLs of issued credentials (default: the address it serves)")
	fs.DurationVar(&f.clockSkew, "clock-skew", time.Minute, "clock skew the verifier tolerates on validity periods and proof dates")
	fs.StringVar(&f.requireTrust, "require-trust", "", "credential types whose issuers must be accredited on the chain, comma-separated (* for all)")
	fs.BoolVar(&f.requireNodeChallenges, "require-node-challenges", false,
		"presentations must answer a challenge this node issued (POST /challenges); by default a relying party's own is accepted too (challengeIssuedByNode: false)")
	fs.StringVar(&f.apiToken, "api-token", "", "bearer token of the issuer and admin endpoints (prefer IDMESH_API_TOKEN: flags show in ps)")
	fs.IntVar(&f.verifyConcurrency, "verify-concurrency", 0, "verifications run at once on the public verify endpoints (0: the number of CPUs, negative: no bound)")
	fs.IntVar(&f.verifyClientSlots, "verify-client-slots", api.DefaultVerifyClientSlots, "verifications one client (without the API token) may have running at once")
	fs.DurationVar(&f.verifyWait, "verify-wait", api.DefaultVerifyWait, "how long a verification waits for a slot before 503")
	fs.DurationVar(&f.verifyTimeout, "verify-timeout", api.DefaultVerifyTimeout, "deadline of one verification once it runs, did:web key fetches included")
	fs.Float64Var(&f.verifyRate, "verify-rate", api.DefaultVerifyRate, "verifications per second per client without the API token (negative: no limit)")
	fs.IntVar(&f.verifyBurst, "verify-burst", api.DefaultVerifyBurst, "verifications a client without the API token may make at once")
	fs.StringVar(&f.verifierDID, "verifier-did", "", "the issuer (name or DID) whose key signs OpenID4VP requests as the verifier (default: the first live issuer)")
	fs.DurationVar(&f.verifierRequestTTL, "verifier-request-ttl", api.DefaultVPRequestTTL, "how long an OpenID4VP presentation request may be answered (1s to 1h)")
	fs.StringVar(&f.trustedProxies, "trusted-proxies", "", "proxies (CIDR prefixes, comma-separated) whose X-Forwarded-For names the client for --verify-rate")
	fs.DurationVar(&f.offerTTL, "offer-ttl", api.DefaultOfferTTL, "how long an OpenID4VCI credential offer and its pre-authorized code stay valid (1s to 24h)")
	fs.BoolVar(&f.hugePages, "huge-pages", true, "mark the heap for transparent huge pages where the kernel gives them on request (THP madvise mode): far fewer page faults (docs/operations.md)")
	fs.StringVar(&f.corsOrigins, "cors-origins", "", "origins whose web pages may call the API, comma-separated exact origins (https://wallet.example), or * for reads without the token from any (default none)")
	if dev {
		fs.StringVar(&f.chainID, "chain-id", "idmesh-dev", "chain ID of a new dev chain")
		fs.BoolVar(&f.tls, "tls", false, "serve HTTPS with a self-signed certificate kept in HOME/tls")
		return
	}
	fs.StringVar(&f.p2p, "p2p", "", "libp2p listen multiaddrs, comma-separated (e.g. /ip4/127.0.0.1/tcp/27100)")
	fs.StringVar(&f.bootstrap, "bootstrap", "", "peers to dial, comma-separated full multiaddrs with /p2p/<id>")
	fs.BoolVar(&f.mdns, "mdns", false, "find peers of the same chain on the local network")
	fs.BoolVar(&f.stateSync, "state-sync", false,
		"start an empty store from a state snapshot served by peers (checked against the header chain from the genesis) instead of replaying every block")
	fs.StringVar(&f.stateSyncTrust, "state-sync-trust", "",
		"HEIGHT:BLOCKID: with --state-sync, the verified header chain must hold this block (hex ID) at this height, and offers below it are refused; without it the chain is trusted from the genesis only")
	fs.StringVar(&f.stateSyncCrossCheck, "state-sync-cross-check", "best-effort",
		"best-effort or required: with --state-sync, whether another peer must confirm the snapshot's header when no --state-sync-trust is given (best-effort goes on with a warning)")
	fs.Uint64Var(&f.snapshotInterval, "snapshot-interval", node.DefaultSnapshotInterval,
		"take a state snapshot every this many blocks and serve the latest two to syncing peers (HOME/snapshots); 0 serves none")
	fs.StringVar(&f.genesis, "genesis", "", "genesis file to start a new home from")
	fs.IntVar(&f.doubleSignCheckHeight, "double-sign-check-height", daemon.DefaultDoubleSignCheckHeight,
		"before signing, look for this validator's signature in this many of the peers' latest commits above its watermark (0: no check)")
}

// dsCheck maps the flag (0: no check) to daemon.Config's (negative: no
// check; dev has no peers, so its zero means the default, unused).
func dsCheck(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

func newDevCmd(a *app) *cobra.Command {
	var f nodeFlags
	c := &cobra.Command{Use: "dev [--home DIR] [--http ADDR] [--tls]", Short: "run a single-validator network with every HTTP service",
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) != 0 {
				return usageError("dev takes no arguments")
			}
			return runDev(c.Context(), a.serverEnv(), f)
		}}
	f.register(c.Flags(), true)
	return c
}

func runDev(ctx context.Context, e env, f nodeFlags) error {
	if _, err := newLogger(e, f.logLevel, f.logFormat); err != nil {
		return err // before anything is created or printed
	}
	b := newBanner(e.stdout, f.logFormat)
	h := home.Dir(f.home)
	created, err := h.InitSingle(f.chainID, time.Now())
	if err != nil {
		return err
	}
	if created {
		b.say(fmt.Sprintf("created a single-validator chain %q in %s", f.chainID, f.home), "created a single-validator chain",
			slog.String("chain", f.chainID), slog.String("home", f.home))
	}
	if f.tls && f.tlsCert == "" {
		if f.tlsCert, f.tlsKey, err = h.EnsureSelfSignedTLS(time.Now()); err != nil {
			return err
		}
	}
	// A dev node works out of the box: it makes an API token and an
	// issuer keystore passphrase once and keeps them in its home (0600).
	if f.apiToken == "" {
		tok, made, err := home.EnsureSecret(h.APIToken(), randReader)
		if err != nil {
			return fmt.Errorf("api token: %w", err)
		}
		f.apiToken = tok
		if made {
			b.say(fmt.Sprintf("API token   %s (saved in %s)", tok, h.APIToken()), "API token created", slog.String("file", h.APIToken()))
		}
	}
	if f.issuerPass = e.getenv("IDMESH_ISSUER_PASSPHRASE"); f.issuerPass == "" {
		if f.issuerPass, _, err = home.EnsureSecret(h.IssuerPassphrase(), randReader); err != nil {
			return fmt.Errorf("issuer passphrase: %w", err)
		}
	}
	return serve(ctx, e, f)
}

func newNodeCmd(a *app) *cobra.Command {
	var f nodeFlags
	c := &cobra.Command{Use: "node --home DIR [--http ADDR] [--p2p ADDRS] [--bootstrap ADDRS] [--genesis FILE]", Short: "run a node from an initialized home directory"}
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) != 0 {
			return usageError("node takes no arguments")
		}
		// A home made by `idmesh testnet init` carries its settings in
		// HOME/config.json; flags and IDMESH_* still win over it.
		if cfg := home.Dir(f.home).Config(); f.config == "" && fileExists(cfg) {
			if err := c.Flags().Set("config", cfg); err != nil {
				return err
			}
			if err := applyConfigFile(c.Flags(), cfg); err != nil {
				return usageError(err.Error())
			}
		}
		return runNode(c.Context(), a.serverEnv(), f)
	}
	f.register(c.Flags(), false)
	return c
}

func runNode(ctx context.Context, e env, f nodeFlags) error {
	if err := f.parseStateSync(); err != nil {
		return err // before anything is created
	}
	if f.genesis != "" {
		if err := home.Dir(f.home).AdoptGenesis(f.genesis); err != nil {
			return err
		}
	}
	f.issuerPass = e.getenv("IDMESH_ISSUER_PASSPHRASE")
	return serve(ctx, e, f)
}

// parseStateSync parses --state-sync-trust and --state-sync-cross-check
// into f.trust and f.crossCheck; errors are usage errors.
func (f *nodeFlags) parseStateSync() error {
	if f.stateSyncTrust != "" {
		t, err := node.ParseStateSyncTrust(f.stateSyncTrust)
		if err != nil {
			return usageError("--state-sync-trust: " + err.Error())
		}
		f.trust = &t
	}
	m, err := node.ParseCrossCheckMode(f.stateSyncCrossCheck)
	if err != nil {
		return usageError("--state-sync-cross-check: " + err.Error())
	}
	f.crossCheck = m
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func newLogger(e env, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError("--log-level: " + err.Error())
	}
	o := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(api.LogHandler(slog.NewTextHandler(e.stderr, o))), nil
	case "json":
		return slog.New(api.LogHandler(slog.NewJSONHandler(e.stderr, o))), nil
	}
	return nil, usageError("--log-format must be text or json")
}

// serve runs a node from f.home until ctx ends, then shuts down in order:
// stop accepting requests, stop the engine, close the network and store.
func serve(ctx context.Context, e env, f nodeFlags) error {
	// On a terminal, with text logs, block sync shows a status line
	// under the log.
	var display *syncDisplay
	logEnv := e
	if f.logFormat == "text" && isTerminal(e.stderr) {
		display = newSyncDisplay(e.stderr, time.Now)
		logEnv.stderr = display
	}
	log, err := newLogger(logEnv, f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	proxies, err := parsePrefixes(f.trustedProxies)
	if err != nil {
		return err
	}
	if f.verifierRequestTTL < time.Second || f.verifierRequestTTL > time.Hour {
		return usageError(fmt.Sprintf("--verifier-request-ttl %s: must be from 1s to 1h", f.verifierRequestTTL))
	}
	if f.offerTTL < minOfferTTL || f.offerTTL > maxOfferTTL {
		return usageError(fmt.Sprintf("--offer-ttl %s: must be from %s to %s", f.offerTTL, minOfferTTL, maxOfferTTL))
	}
	origins, err := api.ParseCORSOrigins(f.corsOrigins)
	if err != nil {
		return usageError("--cors-origins: " + err.Error())
	}
	if f.blockQuiet < 0 || f.blockQuiet > 0 && f.blockQuiet < time.Millisecond {
		return usageError(fmt.Sprintf("--block-quiet %s: must be 0 (wait the whole --block-interval) or at least 1ms", f.blockQuiet))
	}
	if f.stateRetention < 0 {
		return usageError(fmt.Sprintf("--state-retention %s: must be 0 (keep every version) or positive", f.stateRetention))
	}
	cfg := daemon.Config{Home: f.home, HTTPAddr: f.http, TLSCert: f.tlsCert, TLSKey: f.tlsKey, PublicURL: f.publicURL,
		P2PListen: splitList(f.p2p), Bootstrap: splitList(f.bootstrap), MDNS: f.mdns,
		BlockInterval: f.blockInterval, BlockQuiet: f.blockQuiet, StateRetention: f.stateRetention, AuditLog: f.auditLog, DoubleSignCheckHeight: dsCheck(f.doubleSignCheckHeight),
		APIToken: f.apiToken, IssuerPassphrase: f.issuerPass, Version: version,
		ClockSkew: f.clockSkew, RequireTrust: splitList(f.requireTrust), RequireNodeChallenges: f.requireNodeChallenges,
		VerifyConcurrency: f.verifyConcurrency, VerifyClientSlots: f.verifyClientSlots, VerifyWait: f.verifyWait, VerifyTimeout: f.verifyTimeout,
		VerifyRate: f.verifyRate, VerifyBurst: f.verifyBurst, TrustedProxies: proxies, OfferTTL: f.offerTTL, CORSOrigins: origins,
		VerifierDID: f.verifierDID, VerifierRequestTTL: f.verifierRequestTTL,
		HugePages: f.hugePages,
		StateSync: f.stateSync, SnapshotInterval: f.snapshotInterval, StateSyncTrust: f.trust, StateSyncCrossCheck: f.crossCheck,
		Log: log}
	if f.trust != nil && !f.stateSync {
		log.InfoContext(ctx, "--state-sync-trust has no effect without --state-sync", "checkpoint", f.trust.String())
	}
	if display != nil {
		cfg.SyncProgress = display.progress
		cfg.StateSyncProgress = display.stateProgress
	}
	if fp := e.getenv("IDMESH_FAILPOINT"); fp != "" {
		cfg.Failpoint = failpoint(fp, log)
	}
	d, err := daemon.New(ctx, cfg)
	if ge := (*daemon.GenesisError)(nil); errors.As(err, &ge) {
		return fmt.Errorf("%w (run 'idmesh dev' for a single-validator home, or give --genesis)", err)
	}
	if errors.Is(err, daemon.ErrStateSyncNotEmpty) || errors.Is(err, daemon.ErrStateSyncNoPeers) {
		return usageError("--state-sync: " + err.Error())
	}
	if errors.Is(err, node.ErrTrustMismatch) && f.trust != nil {
		return fmt.Errorf("--state-sync-trust %s: %w", f.trust, err)
	}
	if err != nil {
		return err
	}
	defer d.Close()

	st := d.Node().State()
	role := "full node (not a validator)"
	if self, ok := d.Validator(); ok {
		role = "validator " + self.String()
	}
	base := d.BaseURL()
	b := newBanner(e.stdout, f.logFormat)
	b.say(fmt.Sprintf("chain %s at height %d, %s, home %s", st.ChainID, st.Height, role, f.home), "node",
		slog.String("chain", st.ChainID), slog.Uint64("height", st.Height), slog.String("role", role), slog.String("home", f.home), slog.String("version", version))
	for _, a := range d.P2PAddrs() {
		b.say("p2p         "+a, "p2p", slog.String("addr", a))
	}
	b.say("resolver    "+base+"/1.0/identifiers/{did}", "endpoint", slog.String("name", "resolver"), slog.String("url", base+"/1.0/identifiers/{did}"))
	b.say("operations  "+base+"/v1/operations", "endpoint", slog.String("name", "operations"), slog.String("url", base+"/v1/operations"))
	b.say("status      "+base+"/v1/status   metrics "+base+"/metrics", "endpoint", slog.String("name", "status"), slog.String("url", base+"/v1/status"), slog.String("metrics", base+"/metrics"))
	b.say("issuers     "+base+"/v1/issuers   (bearer token)", "endpoint", slog.String("name", "issuers"), slog.String("url", base+"/v1/issuers"))
	b.say("VC-API      "+base+"/credentials/issue  /credentials/verify  /presentations/verify  /challenges", "endpoint", slog.String("name", "VC-API"), slog.String("url", base+"/credentials/"))
	b.say("web UI      "+base+"/", "endpoint", slog.String("name", "web UI"), slog.String("url", base+"/"))
	b.say("serving "+base, bannerServingMsg, slog.String("url", base))
	return d.Run(ctx)
}

// parsePrefixes parses a comma-separated list of CIDR prefixes (a bare
// address is its own /32 or /128).
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range splitList(list) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, usageError(fmt.Sprintf("--trusted-proxies: %q is not a CIDR prefix or an address", s))
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

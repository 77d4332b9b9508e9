package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	goleveldb "github.com/syndtr/goleveldb/leveldb"
	"golang.org/x/sync/errgroup"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/jwk"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keystore"
	"github.com/idmesh/idmesh/did/web"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/node/home"
	"github.com/idmesh/idmesh/node/hugepage"
	"github.com/idmesh/idmesh/node/p2p"
	"github.com/idmesh/idmesh/node/privval"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
)

// Defaults of Config.
const (
	// DefaultFirstPeerWait is how long a node with a network waits for a
	// first peer before it syncs and starts the engine.
	DefaultFirstPeerWait = 5 * time.Second
	// DefaultShutdownWait bounds how long Run waits for requests in
	// flight when it stops.
	DefaultShutdownWait = 10 * time.Second
	// DefaultDoubleSignCheckHeight is how many of the latest commits a
	// validator on a network checks for its own signatures before it
	// signs (Config.DoubleSignCheckHeight).
	DefaultDoubleSignCheckHeight = 10
)

// Config configures a Daemon. Zero values take the defaults named.
type Config struct {
	// Home is the node's home directory (see node/home): genesis,
	// validator and node keys, chain, WAL, issuer keystore and state.
	// It must hold a genesis.
	Home string
	// HTTPAddr is the API's TCP address; port 0 picks a free one.
	HTTPAddr string
	// TLSCert and TLSKey, when TLSCert is set, serve HTTPS with this
	// certificate and key (PEM files), HTTP/1.1 only.
	TLSCert, TLSKey string
	// PublicURL is the node's public base URL, in the status list URLs
	// of issued credentials and the schema ids it answers; default the
	// address it serves (BaseURL).
	PublicURL string

	// P2PListen (libp2p multiaddrs), Bootstrap (full multiaddrs with
	// /p2p/<id>) and MDNS make the node join a network; with none of
	// them it runs alone, without a libp2p host.
	P2PListen, Bootstrap []string
	MDNS                 bool
	// FirstPeerWait bounds the wait for a first peer before the block
	// sync; default DefaultFirstPeerWait, negative for none.
	FirstPeerWait time.Duration
	// DoubleSignCheckHeight is how many of the latest commits a
	// validator on a network looks through, once its start-up sync from
	// peers is done and before it signs anything, for its own precommits
	// above its last-signed watermark (HOME/privval_state.json): finding
	// one, it refuses to start, because its watermark is older than what
	// its key signed (a home restored from a backup, or the key running
	// elsewhere). A validator that cannot decide alone (2/3 of the power
	// or less) does not sign before at least one peer has answered with
	// its tip. Default DefaultDoubleSignCheckHeight; negative for no
	// check (and no wait). A node without a network (idmesh dev) has no
	// peers to ask and makes no check.
	DoubleSignCheckHeight int

	// BlockInterval is how long after a commit the next block waits for
	// transactions; default the engine's (100ms).
	BlockInterval time.Duration
	// BlockQuiet, if positive, lets this validator, as the next height's
	// proposer, start its block sooner, from a fifth of BlockInterval on,
	// once at least node.QuietMinTxs transactions are pending and none
	// came for that long (node.Consensus.Quiet, at least
	// node.MinQuiet); zero waits the whole interval.
	BlockQuiet time.Duration
	// AuditLog, if set, is a file to which every consensus message this
	// validator signs is appended (JSON lines, created 0600).
	AuditLog string
	// Failpoint, if set, is the engine's node.Consensus.Failpoint.
	Failpoint func(point string, height uint64)

	// APIToken authenticates the issuer and admin endpoints; empty
	// refuses them all (and New logs a warning).
	APIToken string
	// IssuerPassphrase opens (or creates) the issuers' keystore in the
	// home; empty runs no issuer service.
	IssuerPassphrase string
	// Version is reported by /v1/status.
	Version string
	// ClockSkew, RequireTrust and the Verify* and TrustedProxies limits
	// are those of api.Config.
	ClockSkew         time.Duration
	RequireTrust      []string
	VerifyConcurrency int
	VerifyClientSlots int
	VerifyWait        time.Duration
	VerifyTimeout     time.Duration
	VerifyRate        float64
	VerifyBurst       int
	TrustedProxies    []netip.Prefix
	// RequireNodeChallenges is api.Config's: presentations must answer
	// a challenge this node issued.
	RequireNodeChallenges bool
	// VerifierDID and VerifierRequestTTL are api.Config's: the OpenID4VP
	// verifier's identity and how long its requests may be answered.
	VerifierDID        string
	VerifierRequestTTL time.Duration
	// OfferTTL is api.Config's: how long an OpenID4VCI offer and its
	// pre-authorized code stay valid (default api.DefaultOfferTTL).
	OfferTTL time.Duration
	// CORSOrigins are api.Config's: the origins whose pages may call
	// the API (api.ParseCORSOrigins), "*" for reads from any.
	CORSOrigins []string
	// StateRetention prunes the state-tree versions of blocks older than
	// this (in block time) before the tip, in the background
	// (registry.Pruner); proofs at their heights then answer 410. Zero
	// (the default here; idmesh's flag defaults to
	// registry.DefaultStateRetention) keeps every version.
	StateRetention time.Duration
	// HugePages marks the process's Go heap for transparent huge pages
	// (node/hugepage) when New starts, before the heap grows: far fewer
	// page faults where the kernel gives huge pages on request (THP
	// "madvise" mode). Off here by default; idmesh's --huge-pages is on.
	HugePages bool

	// StateSync restores the empty store from a snapshot served by
	// peers before the node opens its chain (idmesh node --state-sync):
	// the header chain is checked from the genesis, each chunk against
	// the state root of the verified header; block sync continues from
	// the snapshot's height. New fails with ErrStateSyncNotEmpty if the
	// store already holds a chain, ErrStateSyncNoPeers without a network.
	// New runs the sync, so its ctx must last as long.
	StateSync bool
	// StateSyncProgress, if set, is told how a state sync advances.
	StateSyncProgress func(node.StateSyncProgress)
	// StateSyncTrust, if set, is a checkpoint the state sync's header
	// chain must hold (node.StateSync.Trust); StateSyncCrossCheck says
	// whether another peer must confirm the target header without one.
	StateSyncTrust      *node.StateSyncTrust
	StateSyncCrossCheck node.CrossCheckMode
	// SnapshotInterval makes a node on a network take a snapshot of the
	// state every this many blocks and serve the latest two to peers
	// (HOME/snapshots); 0 serves none.
	SnapshotInterval uint64

	// Log receives the node's logs; default none.
	Log *slog.Logger
	// SyncProgress, if set, is told the height reached and the target
	// as block sync advances, and once more with height == target (or
	// target 0 when it stopped short) when a sync ends; for a progress
	// display.
	SyncProgress func(height, target uint64)
	// Now is the clock of the node, engine, API and status service;
	// default the system clock.
	Now func() time.Time
}

// GenesisError reports a home whose genesis cannot be loaded; its text
// is the underlying error's.
type GenesisError struct{ Err error }

// Error returns the underlying error's text.
func (e *GenesisError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *GenesisError) Unwrap() error { return e.Err }

// Daemon is an assembled node. New opens it, Run runs it once, Close
// releases it.
type Daemon struct {
	cfg    Config
	log    *slog.Logger
	chain  *registry.Chain
	node   *node.Node
	host   *p2p.Host
	net    *netInfo
	self   registry.Address // the validator's address; zero on a full node
	signer *privval.Signer  // the validator's signer; nil on a full node
	// sigs remembers the consensus signatures the network host and the
	// engine verified, so that each is checked once.
	sigs   *p2p.SigCache
	api    *api.Server
	ln     net.Listener // the API's TCP listener
	httpLn net.Listener // ln, or TLS over it
	base   string
	engine *node.Consensus
	status *issuer.StatusService // nil without issuers
	pruner *registry.Pruner      // nil when every version is kept
	snaps  *node.Snapshots       // nil without a network or interval
	sets   *node.ValidatorSets   // the validator sets seen, served with headers

	// life ends when Run's work ends (or at Close): gossip of the
	// transactions clients submit stops with it.
	life context.Context
	stop context.CancelFunc

	closers []func() error // in the order opened; Close runs them backwards
	// hugeHeap is the heap's huge-page advice (Config.HugePages), or nil
	// and hugeErr says why; Run logs which.
	hugeHeap *hugepage.Heap
	hugeErr  error
}

// New assembles a node from cfg.Home and listens on cfg.HTTPAddr (and
// the P2P addresses), but serves nothing until Run. ctx bounds only the
// start-up. On error everything opened is closed again.
func New(ctx context.Context, cfg Config) (_ *Daemon, err error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Daemon{cfg: cfg, log: log}
	d.life, d.stop = context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		if err != nil {
			_ = d.Close()
		}
	}()
	if cfg.HugePages {
		d.hugeHeap, d.hugeErr = hugepage.Advise(hugepage.DefaultReserve)
		if d.hugeHeap != nil {
			d.closers = append(d.closers, func() error { d.hugeHeap.Stop(); return nil })
		}
	}
	h := home.Dir(cfg.Home)
	// Secrets readable by others are made private before anything uses
	// them, and the operator is told.
	changed, err := h.Tighten()
	for _, c := range changed {
		log.WarnContext(ctx, "permissions tightened", "path", c.Path, "was", fmt.Sprintf("%04o", c.From), "now", fmt.Sprintf("%04o", c.To))
	}
	if err != nil {
		return nil, err
	}
	g, err := registry.LoadGenesis(h.Genesis())
	if err != nil {
		return nil, &GenesisError{Err: err}
	}
	// A home without a validator key runs a full node that follows.
	var valKey ed25519.PrivateKey
	if kf, err := privval.LoadKey(h.ValidatorKey()); err == nil {
		valKey, d.self = kf.PrivateKey, kf.Address
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	store, err := leveldb.Open(h.Chain())
	if err != nil {
		return nil, err
	}
	d.closers = append(d.closers, store.Close)
	if d.sets, err = node.OpenValidatorSets(filepath.Join(cfg.Home, "validator-sets.json")); err != nil {
		return nil, err
	}
	var synced *node.StateSyncProgress
	if cfg.StateSync {
		if synced, err = stateSync(ctx, cfg, h, g, store, d.sets, log); err != nil {
			return nil, err
		}
	}
	if d.chain, err = registry.OpenChain(store, g, registry.NewMachineDefault()); err != nil {
		if errors.Is(err, leveldb.ErrRestoring) {
			return nil, fmt.Errorf("%w (run with --state-sync to start it over)", err)
		}
		return nil, err
	}
	if gs, err := g.ValidatorSet(); err == nil {
		err = errors.Join(d.sets.Add(gs), d.sets.AddState(d.chain.State()))
		if err != nil {
			return nil, err
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(newHugePageCollector(d.hugeHeap))
	if cfg.StateRetention > 0 {
		if d.pruner, err = registry.NewPruner(d.chain, cfg.StateRetention); err != nil {
			return nil, err
		}
		d.pruner.Log = log
		d.pruner.Now = cfg.Now
		d.pruner.Observe = pruneMetrics(reg)
	}

	var gossip func(registry.Tx)
	d.sigs = p2p.NewSigCache(p2p.DefaultSigCacheSize)
	nodeID := d.self
	d.net = &netInfo{chain: d.chain, self: d.self, bootstrap: len(cfg.Bootstrap) > 0}
	if len(cfg.P2PListen) > 0 || len(cfg.Bootstrap) > 0 || cfg.MDNS {
		var snaps p2p.SnapshotSource
		if cfg.SnapshotInterval > 0 {
			d.snaps = &node.Snapshots{Chain: d.chain, View: func() (node.SnapshotView, error) { return store.View() }, Dir: filepath.Join(cfg.Home, "snapshots"),
				Interval: cfg.SnapshotInterval, Sets: d.sets, Log: log}
			if err := d.snaps.Open(); err != nil {
				return nil, err
			}
			d.closers = append(d.closers, func() error { d.snaps.Close(); return nil })
			snaps = d.snaps
		}
		if d.host, nodeID, err = startNetwork(ctx, cfg, h, d.chain, d.self, d.sigs, reg, log, snaps); err != nil {
			return nil, err
		}
		d.closers = append(d.closers, d.host.Close)
		d.net.host = d.host
		host := d.host
		registerNetworkMetrics(reg, host)
		registerSnapshotMetrics(reg, host, synced)
		gossip = func(t registry.Tx) {
			if err := host.PublishTx(d.life, t); err != nil {
				log.WarnContext(d.life, "gossip transaction", "tx", t.Hash(), "err", err)
			}
		}
	}
	if d.node, err = node.New(d.chain, node.Options{Log: log, Registerer: reg, Gossip: gossip, Now: cfg.Now, ValidatorSets: d.sets}); err != nil {
		return nil, err
	}
	resolver := did.Methods{
		idmesh.Method: &idmesh.Resolver{State: registry.ReaderOf(store)},
		"key":         key.Resolver{},
		"jwk":         jwk.Resolver{},
		"web":         &web.Resolver{Log: log},
	}
	// Without a network there is nothing to sync from: ready at once.
	d.net.synced.Store(d.host == nil)
	registerNodeMetrics(reg, d.net)
	consensusMetrics, err := node.NewConsensusMetrics(reg)
	if err != nil {
		return nil, err
	}
	// Issuers' keys live in their own keystore, opened only with a
	// passphrase.
	var issuers *issuer.Registry
	if cfg.IssuerPassphrase != "" {
		ks, err := keystore.OpenOrCreate(h.Issuers(), []byte(cfg.IssuerPassphrase), keystore.DefaultParams)
		if err != nil {
			return nil, fmt.Errorf("issuer keystore: %w", err)
		}
		d.closers = append(d.closers, ks.Close)
		issuers = issuer.NewRegistry(ks)
	}
	if cfg.APIToken == "" {
		log.WarnContext(ctx, "no API token: the issuer and admin endpoints refuse every request (set IDMESH_API_TOKEN)")
	}
	if d.ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
	}
	// After a Run, the server's shutdown has closed it already.
	d.closers = append(d.closers, func() error { _ = d.ln.Close(); return nil })
	scheme := "http"
	if cfg.TLSCert != "" {
		scheme = "https"
	}
	d.base = fmt.Sprintf("%s://%s", scheme, d.ln.Addr())
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = d.base
	}
	// The issuers' status lists: which credential holds which index is
	// kept in a database of the node's own, next to the keystore.
	var status *issuer.StatusService
	if issuers != nil {
		// goleveldb would make the directory 0755.
		if err := os.MkdirAll(h.IssuerState(), home.DirMode); err != nil {
			return nil, fmt.Errorf("issuer state: %w", err)
		}
		db, err := goleveldb.OpenFile(h.IssuerState(), nil)
		if err != nil {
			return nil, fmt.Errorf("issuer state: %w", err)
		}
		d.closers = append(d.closers, db.Close)
		status = &issuer.StatusService{DB: db, Chain: node.StatusChain{Node: d.node}, Registry: issuers, BaseURL: strings.TrimRight(publicURL, "/"), Now: cfg.Now}
		d.status = status
	}
	d.api, err = api.NewServer(api.Config{Ledger: d.node, Resolver: resolver, Log: log, Registry: reg, Version: cfg.Version, Network: d.net,
		Readiness: d.net, Issuers: issuers, APIToken: cfg.APIToken, State: store, Status: status, PublicURL: publicURL, ValidatorKey: valKey,
		TokenStatus:  tokenStatus(status),
		RequireTrust: cfg.RequireTrust, ClockSkew: cfg.ClockSkew, RequireNodeChallenges: cfg.RequireNodeChallenges,
		VerifyConcurrency: cfg.VerifyConcurrency, VerifyClientSlots: cfg.VerifyClientSlots, VerifyWait: cfg.VerifyWait, VerifyTimeout: cfg.VerifyTimeout, VerifyRate: cfg.VerifyRate, VerifyBurst: cfg.VerifyBurst, TrustedProxies: cfg.TrustedProxies,
		VerifierDID: cfg.VerifierDID, VerifierRequestTTL: cfg.VerifierRequestTTL,
		OfferTTL: cfg.OfferTTL, CORSOrigins: cfg.CORSOrigins, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	if valKey != nil {
		// A corrupt write-ahead log stops a validator here, before it
		// serves anything.
		if d.signer, err = node.OpenSigner(valKey, h.PrivvalState(), d.chain, h.WAL()); err != nil {
			return nil, err
		}
	}
	committed := d.node.Committed
	if p := d.pruner; p != nil {
		committed = func(b *registry.Block, results []registry.Result) {
			d.node.Committed(b, results)
			p.Notify()
		}
	}
	if d.host != nil {
		// Before the next block: the snapshot's view of this height (the
		// node's Committed recorded the validator sets).
		prev := committed
		committed = func(b *registry.Block, results []registry.Result) {
			prev(b, results)
			d.snaps.Take(b.Header.Height)
		}
	}
	d.engine = &node.Consensus{Chain: d.chain, Mempool: d.node.Mempool, Key: valKey, Signer: d.signer, WALPath: h.WAL(), Interval: cfg.BlockInterval, Quiet: cfg.BlockQuiet, Log: log, Committed: committed,
		Failpoint: cfg.Failpoint, Now: cfg.Now, Metrics: consensusMetrics, Verify: d.sigs.Verify}
	if cfg.AuditLog != "" {
		audit, err := os.OpenFile(cfg.AuditLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("audit log: %w", err)
		}
		d.closers = append(d.closers, audit.Close)
		d.engine.Audit = audit
	}
	if d.host != nil {
		d.engine.Transport = d.host
		d.engine.ID = nodeID
	}
	// api.Listener turns the answers net/http gives on its own (malformed
	// requests) into problems; over TLS it needs the *tls.Conn under it,
	// and serves HTTP/1.1.
	d.httpLn = d.ln
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		d.httpLn = tls.NewListener(d.ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}})
	}
	return d, nil
}

// Run serves the API, syncs from peers (on a network) and runs the
// engine until ctx ends or one of them fails. It then stops accepting
// requests (waiting DefaultShutdownWait at most for those in flight),
// lets the engine stop, and returns the first failure, or nil. Run may be
// called once; Close must follow.
func (d *Daemon) Run(ctx context.Context) error {
	if d.cfg.HugePages {
		logHeapAdvice(ctx, d.log, d.hugeHeap, d.hugeErr)
	}
	grp, gctx := errgroup.WithContext(ctx)
	context.AfterFunc(gctx, d.stop)
	httpSrv := &http.Server{Handler: d.api, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
		// Requests end with the node: a shutdown ends long polls
		// (?wait=) at once instead of waiting them out.
		BaseContext: func(net.Listener) context.Context { return gctx },
		// OPTIONS * goes to the API (a problem), not to a bare 200.
		DisableGeneralOptionsHandler: true}
	grp.Go(func() error {
		err := httpSrv.Serve(api.Listener(d.httpLn))
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("http: %w", err)
	})
	grp.Go(func() error {
		if d.host != nil {
			go receiveTxs(gctx, d.host, d.node, d.log)
			if err := catchUp(gctx, d.host, d.node, d.net, d.firstPeerWait(), d.log, d.cfg.SyncProgress); err != nil {
				return err
			}
			if err := d.awaitPeerTip(gctx); err != nil {
				return err
			}
			if err := d.doubleSignCheck(); err != nil {
				d.log.ErrorContext(ctx, "not signing", "err", err)
				return err
			}
		}
		if err := d.engine.Run(gctx); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
		return nil
	})
	if d.pruner != nil {
		grp.Go(func() error { return d.pruner.Run(gctx) })
	}
	grp.Go(func() error {
		<-gctx.Done()
		d.log.InfoContext(ctx, "shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), DefaultShutdownWait)
		defer cancel()
		return httpSrv.Shutdown(sctx)
	})
	err := grp.Wait()
	d.log.InfoContext(ctx, "stopped", "height", d.chain.State().Height)
	return err
}

func (d *Daemon) firstPeerWait() time.Duration {
	switch {
	case d.cfg.FirstPeerWait < 0:
		return 0
	case d.cfg.FirstPeerWait == 0:
		return DefaultFirstPeerWait
	}
	return d.cfg.FirstPeerWait
}

// peerRetry paces awaitPeerTip's attempts while peers are connected but
// none answers.
const peerRetry = time.Second

// checkHeights returns how many of the latest commits the double-sign
// check looks at; negative for none.
func (d *Daemon) checkHeights() int {
	if d.cfg.DoubleSignCheckHeight == 0 {
		return DefaultDoubleSignCheckHeight
	}
	return d.cfg.DoubleSignCheckHeight
}

// awaitPeerTip holds a validator that cannot decide alone until at least
// one peer has told it its tip and the node has synced to it (to the tip
// of at least one peer that answered), so that
// the double-sign check sees the network's latest commits: with no peer
// answering it would see only the commits the node holds, and a restored
// old home holds none of those it signed since. A validator with more
// than 2/3 of the power decides alone, and waits for nobody (the
// single-validator network of `idmesh dev`). With the check off
// (Config.DoubleSignCheckHeight negative) nothing is awaited.
func (d *Daemon) awaitPeerTip(ctx context.Context) error {
	if d.signer == nil || d.checkHeights() < 0 || d.decidesAlone() {
		return nil
	}
	warned := false
	for {
		// Caught up with a peer that answered: the node syncs from every
		// peer ahead, then needs at least one answer at or below its new
		// tip. A peer that claims a tip it does not serve cannot hold it
		// while another peer answers truthfully.
		if sts := d.host.Statuses(ctx); len(sts) > 0 {
			if err := catchUp(ctx, d.host, d.node, d.net, 0, d.log, d.cfg.SyncProgress); err != nil {
				return err
			}
			tip := d.chain.State().Height
			if slices.ContainsFunc(sts, func(s p2p.Status) bool { return s.Height <= tip }) {
				return nil
			}
		}
		if ctx.Err() != nil {
			return nil // Run is stopping
		}
		if !warned {
			warned = true
			d.log.WarnContext(ctx, "not signing until a peer tells its tip: the double-sign check needs the network's latest commits")
		}
		if err := d.host.WaitPeers(ctx, 1); err != nil {
			return nil // ctx ended: Run is stopping
		}
		t := time.NewTimer(peerRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// tokenStatus is status as the API's allocator of Token Status List
// entries, or nil (no interface holding a nil pointer) without issuers.
func tokenStatus(status *issuer.StatusService) api.TokenStatusAllocator {
	if status == nil {
		return nil
	}
	return status
}

// decidesAlone reports whether the validator holds more than 2/3 of the
// current set's power.
func (d *Daemon) decidesAlone() bool {
	vs := d.chain.State().Validators
	v, ok := vs.ByAddress(d.self)
	return ok && 3*v.Power > 2*vs.TotalPower()
}

// doubleSignCheck looks through the latest commits, as synced from peers,
// for the validator's own precommits above its watermark (see
// Config.DoubleSignCheckHeight). Both the commit the node saved for a
// height and the one the next block carries are looked at.
func (d *Daemon) doubleSignCheck() error {
	n := d.checkHeights()
	if d.signer == nil || n < 0 {
		return nil
	}
	store := d.chain.Store()
	tip := d.chain.State().Height
	var commits []*registry.Commit
	for h := tip; h > 0 && tip-h < uint64(n); h-- {
		if c, err := store.Commit(h); err == nil {
			commits = append(commits, c)
		}
		if b, err := store.Block(h + 1); err == nil && b.LastCommit != nil {
			commits = append(commits, b.LastCommit)
		}
	}
	if err := privval.CheckCommits(d.signer.Last(), d.self, commits); err != nil {
		return fmt.Errorf("double-sign check of the last %d heights: %w", n, err)
	}
	return nil
}

// Close releases what New opened, last opened first: the audit log, the
// issuer state and keystore, the listener, the network and the store.
// Call it after Run has returned (or instead of Run).
func (d *Daemon) Close() error {
	d.stop()
	var errs []error
	for i := len(d.closers) - 1; i >= 0; i-- {
		errs = append(errs, d.closers[i]())
	}
	d.closers = nil
	return errors.Join(errs...)
}

// Node returns the node: its chain, mempool and transaction status.
func (d *Daemon) Node() *node.Node { return d.node }

// Status returns the issuers' status service (Bitstring and token
// status lists), nil on a node without issuers.
func (d *Daemon) Status() *issuer.StatusService { return d.status }

// API returns the node's HTTP API.
func (d *Daemon) API() *api.Server { return d.api }

// Handler returns the HTTP API, for serving it in-process.
func (d *Daemon) Handler() http.Handler { return d.api }

// HTTPAddr returns the address the API listens on.
func (d *Daemon) HTTPAddr() net.Addr { return d.ln.Addr() }

// BaseURL returns the URL the API serves: http(s)://HTTPAddr.
func (d *Daemon) BaseURL() string { return d.base }

// Validator returns this node's validator address, and false on a full
// node (a home without a validator key).
func (d *Daemon) Validator() (registry.Address, bool) {
	return d.self, d.self != (registry.Address{})
}

// P2PAddrs returns the full multiaddrs of the node's libp2p host, none
// when it runs without a network.
func (d *Daemon) P2PAddrs() []string {
	if d.host == nil {
		return nil
	}
	return d.host.Addrs()
}

// pruneMetrics registers the pruner's metrics and returns its observer.
func pruneMetrics(reg prometheus.Registerer) func(registry.PruneStats, uint64) {
	versions := prometheus.NewCounter(prometheus.CounterOpts{Name: "idmesh_state_pruned_versions_total", Help: "State-tree versions (heights) pruned."})
	nodes := prometheus.NewCounter(prometheus.CounterOpts{Name: "idmesh_state_pruned_nodes_total", Help: "State-tree nodes deleted by pruning."})
	bytes := prometheus.NewCounter(prometheus.CounterOpts{Name: "idmesh_state_pruned_bytes_total", Help: "Bytes of keys and values deleted by pruning (before LevelDB compaction)."})
	floor := prometheus.NewGauge(prometheus.GaugeOpts{Name: "idmesh_state_retained_from_height", Help: "The lowest height whose state root is still provable."})
	reg.MustRegister(versions, nodes, bytes, floor)
	return func(s registry.PruneStats, f uint64) {
		versions.Add(float64(s.Versions))
		nodes.Add(float64(s.Nodes))
		bytes.Add(float64(s.Bytes))
		floor.Set(float64(f))
	}
}

package api

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/idmesh/idmesh/credential/didkeys"
	"github.com/idmesh/idmesh/credential/schema"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/issuer"
	"github.com/idmesh/idmesh/node"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/verifier"
)

// Ledger is what the API needs of a node.
type Ledger interface {
	// Submit checks and queues a transaction.
	Submit(t registry.Tx) (registry.Hash, error)
	// Status says where a transaction stands.
	Status(h registry.Hash) (node.TxStatus, error)
	// WaitStatus waits until a transaction is no longer pending or ctx ends.
	WaitStatus(ctx context.Context, h registry.Hash) (node.TxStatus, error)
	// State returns the chain's tip.
	State() registry.ChainState
	// Block and Commit read the block store.
	Block(height uint64) (*registry.Block, error)
	Commit(height uint64) (*registry.Commit, error)
}

// Config configures a Server.
type Config struct {
	Ledger   Ledger
	Resolver did.Resolver
	Log      *slog.Logger
	// Registry receives the HTTP metrics and serves /metrics; nil
	// disables both.
	Registry *prometheus.Registry
	// MaxBodyBytes bounds request bodies; default 256 KiB.
	MaxBodyBytes int64
	// MaxWait bounds how long a request may wait for a commit; default 30s.
	MaxWait time.Duration
	// Version is reported by /v1/status.
	Version string
	// ResolveCacheBytes bounds the cache of resolver responses, which a
	// new block empties, in bytes (keys, bodies and a per-entry overhead);
	// a response larger than 1/16 of it is not cached. Default
	// DefaultResolveCacheBytes (64 MiB); negative disables the cache.
	ResolveCacheBytes int64
	// MaxLargeReads bounds the requests for large responses (blocks,
	// proofs) served at once; beyond it they get 503 with Retry-After.
	// Default DefaultMaxLargeReads (4).
	MaxLargeReads int
	// Network, if set, tells /v1/status about peers and sync.
	Network Network
	// Readiness, if set, decides GET /readyz; nil: ready whenever the
	// server serves.
	Readiness Readiness
	// Issuers keeps the node's issuers; nil disables the issuer endpoints.
	Issuers *issuer.Registry
	// Verifier runs the verification endpoints; by default one over
	// Resolver with a challenge store, which keeps did:idmesh keys, key
	// statuses and verified status list versions until Ledger's height
	// moves (Resolver's did:idmesh state and State must be Ledger's).
	Verifier *verifier.Verifier
	// APIToken authenticates the issuer and admin endpoints (bearer
	// token); empty refuses them all. Only its hash is kept.
	APIToken string
	// State reads the committed state (status lists, schemas, trust).
	State registry.StateReader
	// Status gives issued credentials their status entries and changes
	// them; nil issues credentials without status. Its Chain is the
	// node's (node.StatusChain).
	Status *issuer.StatusService
	// TokenStatus gives issued SD-JWT VCs their Token Status List entry
	// (the status claim); nil issues them without status.
	TokenStatus TokenStatusAllocator
	// PublicURL is the node's public base URL (in schema ids it answers,
	// and in the vct URLs of SD-JWT VC type metadata).
	PublicURL string
	// ValidatorKey, on a validator, signs trust changes (POST /v1/trust).
	ValidatorKey ed25519.PrivateKey
	// ClockSkew is the verifier's tolerance on validity periods and proof
	// dates; default one minute.
	ClockSkew time.Duration
	// RequireTrust lists credential types whose issuers must be
	// accredited on the chain for the default verifier ("*": every type).
	RequireTrust []string
	// RequireNodeChallenges makes the default verifier accept only the
	// challenges it issued (POST /challenges) in presentations; by
	// default a relying party's own challenge is accepted too, and the
	// result says challengeIssuedByNode: false
	// (verifier.Verifier.AcceptCallerChallenges).
	RequireNodeChallenges bool
	// VerifyConcurrency bounds the verifications running at once on the
	// unauthenticated verification endpoints (credentials and
	// presentations, in every base); default runtime.NumCPU(), negative
	// for no bound. A request waits at most VerifyWait (default
	// DefaultVerifyWait) for a slot, then is answered 503.
	// A client without the API token has at most VerifyClientSlots
	// verifications running at a time (default DefaultVerifyClientSlots;
	// when there is more than one slot): its others wait, within the same
	// VerifyWait. A verification gives its slot back while it fetches a
	// did:web document, so that requests stalled on slow hosts hold no
	// slot. Each verification then runs under
	// a deadline of VerifyTimeout (default DefaultVerifyTimeout), key
	// resolution included; one cut by it gets the verification result of
	// what could not be done in time.
	VerifyConcurrency int
	VerifyClientSlots int
	VerifyWait        time.Duration
	VerifyTimeout     time.Duration
	// VerifyRate and VerifyBurst are each client's token bucket on those
	// endpoints: requests per second and how many at once (defaults
	// DefaultVerifyRate, DefaultVerifyBurst); over it a client is
	// answered 429. A negative VerifyRate turns the limit off. Callers
	// with the API token are exempt. VerifyClientBytes bounds the memory
	// of the table of clients (default DefaultVerifyClientBytes).
	VerifyRate        float64
	VerifyBurst       int
	VerifyClientBytes int
	// TrustedProxies are the peers whose X-Forwarded-For header names
	// the client for the rate limit; empty trusts none.
	TrustedProxies []netip.Prefix
	// OfferTTL is how long an OpenID4VCI credential offer and its
	// pre-authorized code stay valid (default DefaultOfferTTL);
	// OfferStoreBytes bounds the memory of offers, access tokens and
	// spent nonces (default DefaultOfferStoreBytes).
	OfferTTL        time.Duration
	OfferStoreBytes int
	// CORSOrigins are the origins whose pages may call the API
	// (ParseCORSOrigins): each exact origin every endpoint, with the
	// Authorization header; "*" any origin, for GET and HEAD without
	// it. Empty: no CORS headers at all.
	CORSOrigins []string
	// VerifierDID names the OpenID4VP verifier's identity: an issuer of
	// Issuers (its name or DID) whose key signs the request objects, for
	// the client_id decentralized_identifier:<DID>; empty: the first live
	// issuer by name. VerifierRequestTTL is how long a presentation
	// request may be answered (default DefaultVPRequestTTL);
	// VerifierStoreBytes bounds the memory of the transactions (default
	// DefaultVPStoreBytes).
	VerifierDID        string
	VerifierRequestTTL time.Duration
	VerifierStoreBytes int
	// Now and Rand default to the system clock and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

// Network is what /v1/status shows of a node's network.
type Network interface {
	Peers() []string
	Syncing() bool
}

// Server is the HTTP API.
type Server struct {
	cfg      Config
	ledger   Ledger
	resolver did.Resolver
	log      *slog.Logger
	router   *mux.Router
	static   staticRoutes // the routes without variables, by path and method
	requests *prometheus.HistogramVec
	creds    credentialMetrics
	cache    *responseCache
	issuers  *issuer.Registry
	verifier *verifier.Verifier
	token    *tokenHash
	now      func() time.Time
	rand     io.Reader
	schemas  *schema.Compiler

	ids *requestIDs // the IDs of requests that came without one

	// largeReads holds a token per large response being served.
	largeReads chan struct{}
	limits     *verifyLimits

	// tokenLists checks token status list entries (nil without State).
	tokenLists *verifier.TokenLists

	// vci keeps the OpenID4VCI offers, codes, tokens and nonces.
	vci *vciStore

	// cors is the CORS policy (nil: no CORS headers).
	cors *cors
	// vp keeps the OpenID4VP transactions; hooks calls their webhooks.
	vp        *vpStore
	vpMetrics *vpMetrics
	hooks     *hookSender
}

// route is one endpoint.
type route struct {
	method, path, name string
	h                  http.HandlerFunc
}

// NewServer returns the API with every route registered.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Ledger == nil || cfg.Resolver == nil {
		return nil, errors.New("api: a ledger and a resolver are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 256 << 10
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 30 * time.Second
	}
	if cfg.ResolveCacheBytes == 0 {
		cfg.ResolveCacheBytes = DefaultResolveCacheBytes
	}
	if cfg.MaxLargeReads <= 0 {
		cfg.MaxLargeReads = DefaultMaxLargeReads
	}
	if cfg.Now == nil {
		cfg.Now = defaultNow
	}
	if cfg.Rand == nil {
		cfg.Rand = defaultRand
	}
	cfg.Log = slog.New(LogHandler(cfg.Log.Handler()))
	s := &Server{cfg: cfg, ledger: cfg.Ledger, resolver: cfg.Resolver, log: cfg.Log, router: mux.NewRouter(), cache: newResponseCache(cfg.ResolveCacheBytes),
		issuers: cfg.Issuers, verifier: cfg.Verifier, token: hashToken(cfg.APIToken), now: cfg.Now, rand: cfg.Rand, schemas: &schema.Compiler{},
		limits: newVerifyLimits(cfg), ids: newRequestIDs()}
	s.largeReads = make(chan struct{}, cfg.MaxLargeReads)
	s.cors = newCORS(cfg.CORSOrigins)
	vci, err := newVCIStore(cfg.Now, cfg.Rand, cfg.OfferTTL, cfg.OfferStoreBytes)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s.vci = vci
	s.vp = newVPStore(cfg.Now, cfg.Rand, cfg.VerifierRequestTTL, cfg.VerifierStoreBytes)
	s.vpMetrics = &vpMetrics{}
	s.hooks = newHookSender(cfg.Log, s.vpMetrics, cfg.Now)
	if cfg.Verifier == nil {
		keys := &didkeys.CachedKeys{Next: didkeys.DIDKeys{Resolver: capWeb(cfg.Resolver), Index: keyIndex(cfg.Resolver)}}
		if keys.Next.(didkeys.DIDKeys).Index != nil {
			// did:idmesh keys and every key's status come from the
			// chain: kept until the next block.
			keys.Height = func() uint64 { return s.ledger.State().Height }
		}
		cfg.Verifier = &verifier.Verifier{Keys: keys, Now: cfg.Now, Skew: cfg.ClockSkew,
			Challenges: &verifier.Challenges{Now: cfg.Now, Rand: cfg.Rand}, AcceptCallerChallenges: !cfg.RequireNodeChallenges}
		if cfg.State != nil {
			cfg.Verifier.Lists, cfg.Verifier.Trust = statusLists{s}, trusted{s}
		}
		cfg.Verifier.Schemas = schemaSource{s}
		cfg.Verifier.TrustPolicy.Require = cfg.RequireTrust
		s.verifier, s.cfg.Verifier = cfg.Verifier, cfg.Verifier
	}
	if cfg.State != nil {
		s.tokenLists = &verifier.TokenLists{Source: tokenListSource{s}, Keys: s.verifier.Keys, Now: cfg.Now, Skew: cfg.ClockSkew}
		if s.verifier.TokenStatus == nil {
			// SD-JWT VCs' Token Status List entries, read from this
			// node's chain.
			s.verifier.TokenStatus = s.tokenLists
		}
	}
	s.router.UseEncodedPath()
	// No 301 to a cleaned path: a path with empty, "." or ".." segments
	// matches no route and gets a 404 problem.
	s.router.SkipClean(true)
	if cfg.Registry != nil {
		s.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "idmesh_http_request_duration_seconds",
			Help:    "HTTP requests by route and status code.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"route", "code"})
		if err := cfg.Registry.Register(s.requests); err != nil {
			return nil, fmt.Errorf("api: register metrics: %w", err)
		}
		if err := s.creds.register(cfg.Registry); err != nil {
			return nil, fmt.Errorf("api: register metrics: %w", err)
		}
		if err := s.vpMetrics.register(cfg.Registry); err != nil {
			return nil, fmt.Errorf("api: register metrics: %w", err)
		}
		if err := s.registerMemoryMetrics(cfg.Registry); err != nil {
			return nil, fmt.Errorf("api: register metrics: %w", err)
		}
	}
	routes := s.routes()
	handlers := make([]http.Handler, len(routes))
	for i, rt := range routes {
		handlers[i] = s.instrument(rt.name, rt.h)
		s.router.Handle(rt.path, handlers[i]).Methods(methods(rt.method)...).Name(rt.name)
	}
	if cfg.Registry != nil {
		s.router.Handle("/metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})).Methods(methods(http.MethodGet)...)
	}
	s.router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.EscapedPath(); p != cleanPath(p) {
			writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "no such endpoint: the path has empty, \".\" or \"..\" segments")
			return
		}
		writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "no such endpoint")
	})
	s.router.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", strings.Join(s.allowed(r), ", "))
		writeProblem(w, r, http.StatusMethodNotAllowed, ProblemMethodNotAllowed, r.Method+" is not allowed here")
	})
	s.static = newStaticRoutes(s.router, routes, handlers)
	return s, nil
}

// routes lists every endpoint but /metrics.
func (s *Server) routes() []route {
	return append([]route{
		{http.MethodGet, "/1.0/identifiers/{did}", "resolve", s.handleResolve},
		{http.MethodPost, "/v1/operations", "submit_operation", s.handleSubmitOperation},
		{http.MethodGet, "/v1/operations/{hash}", "operation_status", s.handleOperationStatus},
		{http.MethodGet, "/v1/blocks/{height}", "block", s.handleBlock},
		{http.MethodGet, "/v1/proofs/dids/{did}", "proof", s.handleProof},
		{http.MethodGet, "/v1/status", "status", s.handleStatus},
		{http.MethodGet, "/healthz", "healthz", s.handleHealth},
		{http.MethodGet, "/readyz", "readyz", s.handleReady},
		{http.MethodGet, "/openapi.yaml", "openapi", s.handleOpenAPI},
	}, slices.Concat(s.credentialRoutes(), s.statusRoutes(), s.lifecycleRoutes(), s.sdJWTRoutes(), s.oid4vciRoutes(), s.webRoutes(), s.oid4vpRoutes())...)
}

// methods are the HTTP methods a route of method m answers: HEAD with
// every GET (the same response without its body).
func methods(m string) []string {
	if m == http.MethodGet {
		return []string{http.MethodGet, http.MethodHead}
	}
	return []string{m}
}

// cleanPath is p without empty, "." and ".." segments, as path.Clean
// makes it, keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// allowed returns the methods that have a route for r's path.
func (s *Server) allowed(r *http.Request) []string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost} {
		c := r.Clone(r.Context())
		c.Method = m
		var match mux.RouteMatch
		if s.router.Match(c, &match) && match.MatchErr == nil {
			out = append(out, m)
		}
	}
	return out
}

// ServeHTTP implements http.Handler. Every response, whatever answers it
// (a handler, /metrics, the 404 and 405 problems), carries
// X-Content-Type-Options: nosniff and the request's X-Request-ID.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	id := s.ids.of(r)
	w.Header().Set(RequestIDHeader, id)
	if s.cors.handle(w, r) {
		return // a preflight, answered
	}
	r = r.WithContext(withRequestID(r.Context(), id))
	if h := s.static.handler(r); h != nil {
		h.ServeHTTP(w, r)
		return
	}
	s.router.ServeHTTP(w, r)
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// keptCodes are the status codes whose request-duration series
// instrument keeps per route once resolved (on the first request that
// answers it, so that /metrics lists only series that were observed),
// instead of looking the labels up on every request.
var keptCodes = [...]int{http.StatusOK, http.StatusCreated, http.StatusBadRequest, http.StatusNotFound}

// observerOf holds a resolved series.
type observerOf struct{ prometheus.Observer }

func (s *Server) instrument(route string, h http.HandlerFunc) http.Handler {
	var kept [len(keptCodes)]atomic.Pointer[observerOf]
	observe := func(code int, d time.Duration) {
		if s.requests == nil {
			return
		}
		for i, c := range keptCodes {
			if c != code {
				continue
			}
			o := kept[i].Load()
			if o == nil {
				o = &observerOf{s.requests.WithLabelValues(route, strconv.Itoa(code))}
				kept[i].Store(o)
			}
			o.Observe(d.Seconds())
			return
		}
		s.requests.WithLabelValues(route, strconv.Itoa(code)).Observe(d.Seconds())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				s.log.ErrorContext(r.Context(), "handler panic", "route", route, "panic", v)
				writeProblem(rec, r, http.StatusInternalServerError, ProblemInternal, "")
			}
			d := time.Since(start)
			observe(rec.code, d)
			if s.log.Enabled(r.Context(), slog.LevelDebug) {
				s.log.DebugContext(r.Context(), "http", "method", r.Method, "path", loggedPath(r.URL.Path), "status", rec.code, "duration", d)
			}
		}()
		h(rec, r)
	})
}

// loggedPath is path as the log may show it: a credential offer's path
// is a bearer secret (whoever has it fetches the pre-authorized code),
// and so are a presentation request's references (whoever has one reads
// the request's state or answers it) and a transaction's ID: their IDs
// are left out.
func loggedPath(path string) string {
	for _, p := range []string{CredentialOffersPath, VerifierRequestObjectsPath, VerifierResponsesPath, VerifierTransactionsPath} {
		if strings.HasPrefix(path, p) {
			return p + "{id}"
		}
	}
	return path
}

// readBody reads a bounded request body, answering 413 or 400 itself.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if rb, ok := r.Body.(*readBody); ok && rb.Len() == len(rb.body) {
		// Read (within the bound) by limitVerify, not yet by anyone else.
		_, _ = rb.Seek(0, io.SeekEnd)
		return rb.body, true
	}
	body, err := readAllBounded(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), r.ContentLength, s.cfg.MaxBodyBytes)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeProblem(w, r, http.StatusRequestEntityTooLarge, ProblemBodyTooLarge, fmt.Sprintf("the body exceeds %d bytes", s.cfg.MaxBodyBytes))
		return nil, false
	case err != nil:
		writeProblem(w, r, http.StatusBadRequest, ProblemInvalidJSON, "read body: "+err.Error())
		return nil, false
	}
	return body, true
}

// firstBodyBuffer is the most readAllBounded allocates before any byte
// of the body has arrived: a client that declares a large body and sends
// none holds this much, not the declared length (security review R1).
const firstBodyBuffer = 16 << 10

// readAllBounded reads rd (already bounded to max bytes) to its end,
// growing one buffer towards the size the request declared (when that is
// within max) as bytes arrive, instead of from 512 bytes: a body of the
// declared length is read with no copy beyond the doublings above
// firstBodyBuffer.
func readAllBounded(rd io.Reader, declared, max int64) ([]byte, error) {
	if declared <= 0 || declared > max {
		return io.ReadAll(rd)
	}
	want := int(declared) + 1 // +1: the read that sees the end
	buf := make([]byte, 0, min(want, firstBodyBuffer))
	for {
		if len(buf) == cap(buf) && cap(buf) < want {
			buf = slices.Grow(buf, min(want, 2*cap(buf))-len(buf))
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			// More than declared: net/http reports that as an error of
			// its own; read on as io.ReadAll would.
			rest, err := io.ReadAll(rd)
			return append(buf, rest...), err
		}
	}
}

// waitFor parses a "wait" query parameter: a Go duration or "true"
// (the maximum), bounded by MaxWait.
func (s *Server) waitFor(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("wait")
	switch v {
	case "", "false", "0":
		return 0, nil
	case "true":
		return s.cfg.MaxWait, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("wait %q is not a duration such as 5s", v)
	}
	return min(d, s.cfg.MaxWait), nil
}

func errorf(sentinel error, format string, a ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, a...))
}

// handleHealth is liveness: 200 whenever the process serves, whatever
// the node's sync or peers (those are /readyz's).
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "height": s.ledger.State().Height})
}

package p2p

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/idmesh/idmesh/registry"
)

// Errors of the package. Verdict errors wrap these or the consensus
// package's ErrInvalidMessage, ErrBadSignature and ErrNotValidator.
var (
	// ErrClosed reports a call on a closed Host.
	ErrClosed = errors.New("p2p: host closed")
	// ErrNoPeers reports that no peer answered.
	ErrNoPeers = errors.New("p2p: no peers")
	// ErrTooLarge reports a message or response over its size bound.
	ErrTooLarge = errors.New("p2p: message too large")
	// ErrWrongChain reports a message or peer of another chain.
	ErrWrongChain = errors.New("p2p: wrong chain")
	// ErrStale reports a consensus message for a height far below the
	// chain's tip (ignored, not held against the sender).
	ErrStale = errors.New("p2p: stale height")
	// ErrUnknownValidators reports a consensus message for a height whose
	// validator set this node does not know (ignored).
	ErrUnknownValidators = errors.New("p2p: validator set unknown")
	// ErrRemote reports an error a peer sent in answer to a request.
	ErrRemote = errors.New("p2p: peer error")
	// ErrSpoofedStatus reports a Status whose From is not the node
	// address of the peer that sent it (rejected, Stats.Spoofed).
	ErrSpoofedStatus = errors.New("p2p: status from another sender")
	// ErrUnboundStatus reports a Status relayed by a peer other than its
	// sender, which cannot be answered (ignored).
	ErrUnboundStatus = errors.New("p2p: status not from its sender")
)

// ChainView is what the host needs to know of the chain to judge
// consensus messages. Its methods are called from many goroutines and
// must be quick.
type ChainView interface {
	// Height returns the height of the last committed block (0 before
	// the first). Consensus messages for heights more than
	// Config.StaleHeights below it are ignored.
	Height() uint64
	// Validators returns the validator set that signs the block at
	// height, and false if this node does not know it. A node knows the
	// sets of Height()+1 and Height()+2 (ChainState.Validators and
	// NextValidators); it should also answer for Height() (ChainState.
	// LastValidators), so that a peer one height behind is heard and
	// can be helped with the decided block.
	Validators(height uint64) (*registry.ValidatorSet, bool)
}

// BlockSource is the committed chain served to syncing peers. Its methods
// are called from many goroutines.
type BlockSource interface {
	// Block returns the committed block at height, or an error wrapping
	// registry.ErrNotFound.
	Block(height uint64) (*registry.Block, error)
	// Commit returns the commit that made the block at height final.
	Commit(height uint64) (*registry.Commit, error)
	// Height returns the height of the last committed block.
	Height() uint64
}

// Outcome is the verdict on a message from a peer.
type Outcome uint8

// Outcomes, as gossipsub's ValidationAccept, ValidationReject and
// ValidationIgnore.
const (
	// Accepted messages are delivered and forwarded.
	Accepted Outcome = iota
	// Rejected messages are malformed or wrongly signed: they are
	// dropped and count against the peer's gossipsub score.
	Rejected
	// Ignored messages cannot be judged or are of no use (stale,
	// unknown validator set): dropped without penalty.
	Ignored
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Rejected:
		return "rejected"
	case Ignored:
		return "ignored"
	}
	return fmt.Sprintf("outcome-%d", uint8(o))
}

// Verdict reports the judgement on one message from a peer, for metrics
// and tests.
type Verdict struct {
	// Protocol is the gossip topic or the stream protocol ID.
	Protocol string
	// Peer is the peer that sent it to us (for gossip, the last hop).
	Peer    string
	Outcome Outcome
	// Err says why it was rejected or ignored.
	Err error
}

// Defaults of Config.
const (
	DefaultMaxMessageBytes = 8 << 20
	DefaultMaxSyncBlocks   = 100
	DefaultMaxSyncBytes    = 16 << 20
	DefaultQueueSize       = 4096
	DefaultStaleHeights    = 8
	DefaultRequestTimeout  = 30 * time.Second
	DefaultDialTimeout     = 5 * time.Second
	DefaultRedialInterval  = 10 * time.Second
	// DefaultLinkCheckInterval: a gossip link lost while connected is
	// cut within three of these and dialed again one to two later
	// (linkWatch).
	DefaultLinkCheckInterval = 3 * time.Second
)

// MinReplyRate returns the lowest reply rate a Host accepts for a
// message bound of maxMessageBytes: two maximal messages a second, so
// that a peer catching up with decided blocks (each at most
// max_block_bytes plus its commit, within maxMessageBytes) gets at least
// two blocks a second.
func MinReplyRate(maxMessageBytes int) int { return 2 * maxMessageBytes }

// DefaultListenAddrs listen on TCP and QUIC on the loopback interface at
// ports the system picks: safe for tests; a node that others must reach
// sets ListenAddrs, e.g. "/ip4/0.0.0.0/tcp/26656".
var DefaultListenAddrs = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}

// Config configures a Host. ChainID and Chain are required.
type Config struct {
	// ChainID names the chain; it is part of every topic and protocol
	// ID, so hosts of different chains do not talk.
	ChainID string
	// ListenAddrs are multiaddrs to listen on; default DefaultListenAddrs.
	ListenAddrs []string
	// Identity is the host's network key (not the validator key); nil
	// makes a random one. See LoadOrCreateIdentity.
	Identity crypto.PrivKey
	// Bootstrap are full multiaddrs of peers (with /p2p/<id>) that the
	// host dials at start and redials whenever it is not connected.
	Bootstrap []string
	// MDNS finds peers of the same chain on the local network.
	MDNS bool
	// Log receives the host's logs; default discards them.
	Log *slog.Logger
	// Registerer, if set, receives libp2p's own metrics (series named
	// libp2p_*: connections, streams, resource manager, identify, event
	// bus); nil turns them off. libp2p's collectors are shared by the
	// hosts of one process, so hosts registering with different
	// registries in one process report their sum.
	Registerer prometheus.Registerer

	// Self is this node's validator address: direct consensus messages
	// (with To set) are delivered only if To is Self. Zero for a node
	// that does not validate.
	Self registry.Address
	// Chain judges consensus messages. Required.
	Chain ChainView
	// Blocks, if set, is served to peers through the sync and status
	// protocols.
	Blocks BlockSource
	// Verify, if set, checks the Ed25519 signatures of consensus messages
	// (votes, proposals, commits); nil means registry.VerifySignature. A
	// node passes a SigCache's Verify, shared with its engine, so that a
	// signature is checked once. It must answer as
	// registry.VerifySignature does.
	Verify func(pub ed25519.PublicKey, msg, sig []byte) bool
	// Snapshots, if set, is served to peers through the snapshot
	// protocol (state sync): its snapshots' chunks, and the signed
	// headers that make their roots trusted.
	Snapshots SnapshotSource
	// SnapshotRate and SnapshotBurst bound the snapshot requests one
	// peer may make: SnapshotRate a second, SnapshotBurst at once;
	// defaults DefaultSnapshotRate and DefaultSnapshotBurst. A request
	// beyond is answered with an error (ErrRateLimited).
	SnapshotRate  float64
	SnapshotBurst int
	// MaxSyncHeaders bounds the headers in one snapshot headers answer
	// (at most MaxSyncBytes too); default DefaultMaxSyncHeaders.
	MaxSyncHeaders int
	// CheckTx, if set, checks gossiped transactions against the chain;
	// a transaction it refuses is ignored (not forwarded, no penalty:
	// the peer's state may differ). It is not called for our own.
	CheckTx func(registry.Tx) error
	// MaxTxBytes bounds a gossiped transaction's encoding (registry.Tx.
	// Size): a batch holding a larger one is rejected, and PublishTx
	// refuses one. A node sets it to registry.Chain.MaxTxBytes, the
	// largest transaction that can fit in a block of its chain; default
	// registry.MaxTxBytes.
	MaxTxBytes int
	// OnVerdict, if set, is told the verdict on every message from a
	// peer. It is called from validation goroutines and must not block.
	OnVerdict func(Verdict)

	// StaleHeights: consensus messages for heights more than this below
	// Chain.Height() are ignored; default DefaultStaleHeights.
	StaleHeights uint64
	// MaxMessageBytes bounds an encoded consensus message (proposals
	// carry blocks); default DefaultMaxMessageBytes (8 MiB).
	MaxMessageBytes int
	// MaxSyncBlocks and MaxSyncBytes bound one sync response; defaults
	// DefaultMaxSyncBlocks and DefaultMaxSyncBytes (16 MiB). A response
	// always holds at least one block.
	MaxSyncBlocks int
	MaxSyncBytes  int
	// QueueSize is the length of every queue: gossipsub's outbound,
	// validation and subscription queues, Send's queue and the Receive
	// and Txs channels; default DefaultQueueSize.
	QueueSize int
	// RequestTimeout bounds a sync, status or direct exchange when the
	// context has no deadline, and how long a handler serves one;
	// default DefaultRequestTimeout.
	RequestTimeout time.Duration
	// DialTimeout bounds each dial to a bootstrap or discovered peer;
	// default DefaultDialTimeout.
	DialTimeout time.Duration
	// RedialInterval is how often bootstrap peers that are not connected
	// are dialed again; default DefaultRedialInterval.
	RedialInterval time.Duration
	// LinkCheckInterval is how often the host looks for connected peers
	// of its chain that gossipsub has lost from its topics; one missing
	// at two checks in a row is disconnected and dialed again one to two
	// intervals later. Default DefaultLinkCheckInterval.
	LinkCheckInterval time.Duration

	// ReplyRate bounds, in bytes per second, the direct messages (the
	// engine's answers: decided blocks, proposals, votes) sent to one
	// peer; ReplyBurst is how many bytes may go at once (the bucket's
	// size), and also bounds the bytes queued for the peer. Replies
	// beyond are dropped and counted (Stats.ReplyDropped). ReplyRate is
	// at least MinReplyRate(MaxMessageBytes) (16 MiB/s by default: at
	// least twice the largest max_block_bytes per second, so that block
	// catch-up never stalls) and defaults to it; ReplyBurst is at least
	// MaxMessageBytes and defaults to ReplyRate (one second's worth).
	ReplyRate, ReplyBurst int
	// Now is the reply buckets' clock; default time.Now.
	Now func() time.Time

	// maxReplyPeers bounds the peers with reply state; maxReplyPeers
	// unless a test lowers it.
	maxReplyPeers int
}

// validate checks c and fills in defaults.
func (c *Config) validate() error {
	if c.ChainID == "" || len(c.ChainID) > registry.MaxChainIDBytes {
		return fmt.Errorf("p2p: config: chain ID length %d", len(c.ChainID))
	}
	if c.Chain == nil {
		return errors.New("p2p: config: Chain is required")
	}
	if len(c.ListenAddrs) == 0 {
		c.ListenAddrs = DefaultListenAddrs
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	def(&c.MaxSyncBlocks, DefaultMaxSyncBlocks)
	def(&c.MaxSyncBytes, DefaultMaxSyncBytes)
	def(&c.MaxSyncHeaders, DefaultMaxSyncHeaders)
	def(&c.SnapshotBurst, DefaultSnapshotBurst)
	if c.SnapshotRate <= 0 {
		c.SnapshotRate = DefaultSnapshotRate
	}
	def(&c.QueueSize, DefaultQueueSize)
	def(&c.MaxTxBytes, registry.MaxTxBytes)
	if c.StaleHeights == 0 {
		c.StaleHeights = DefaultStaleHeights
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur(&c.RequestTimeout, DefaultRequestTimeout)
	defDur(&c.DialTimeout, DefaultDialTimeout)
	defDur(&c.RedialInterval, DefaultRedialInterval)
	defDur(&c.LinkCheckInterval, DefaultLinkCheckInterval)
	c.ReplyRate = max(c.ReplyRate, MinReplyRate(c.MaxMessageBytes))
	if c.ReplyBurst <= 0 {
		c.ReplyBurst = c.ReplyRate
	}
	c.ReplyBurst = max(c.ReplyBurst, c.MaxMessageBytes)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.maxReplyPeers <= 0 {
		c.maxReplyPeers = maxReplyPeers
	}
	return nil
}

// IdentityFromSeed returns the libp2p Ed25519 key of a 32-byte seed.
func IdentityFromSeed(seed []byte) (crypto.PrivKey, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("p2p: identity seed is %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		return nil, fmt.Errorf("p2p: identity from seed: %w", err)
	}
	return k, nil
}

// LoadOrCreateIdentity returns the network key stored at path, creating a
// new Ed25519 key there (mode 0600, directory 0700) if the file does not
// exist. The file holds libp2p's protobuf encoding of the key
// (crypto.MarshalPrivateKey). A key file readable by group or others is
// refused.
func LoadOrCreateIdentity(path string) (crypto.PrivKey, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("p2p: stat identity: %w", err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("p2p: identity file %s is accessible by others (mode %04o)", path, fi.Mode().Perm())
		}
		k, err := crypto.UnmarshalPrivateKey(b)
		if err != nil {
			return nil, fmt.Errorf("p2p: decode identity %s: %w", path, err)
		}
		return k, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("p2p: read identity: %w", err)
	}
	k, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, fmt.Errorf("p2p: generate identity: %w", err)
	}
	b, err = crypto.MarshalPrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("p2p: encode identity: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("p2p: create identity directory: %w", err)
	}
	// Write to a temporary file and link it into place, so a crash
	// leaves either no key or a whole one, and a concurrent creator's
	// key is not overwritten.
	f, err := os.CreateTemp(filepath.Dir(path), ".identity-*")
	if err != nil {
		return nil, fmt.Errorf("p2p: save identity: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("p2p: save identity: %w", err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreateIdentity(path)
		}
		return nil, fmt.Errorf("p2p: save identity: %w", err)
	}
	return k, nil
}

// Package p2p is idmesh's network layer on libp2p: a Host gossips
// consensus messages and transactions between the nodes of one chain,
// sends consensus messages addressed to one validator directly, and lets
// a node that fell behind fetch committed blocks from its peers.
//
// # Transports and identity
//
// A Host listens on TCP and QUIC (Config.ListenAddrs; by default on
// 127.0.0.1 at ports the system picks) with libp2p's TLS or Noise
// security. Its network identity is a libp2p key (Config.Identity, see
// LoadOrCreateIdentity), separate from any validator key: peers are
// authenticated by the connection, validators by the signatures inside
// consensus messages. Peers are found through Config.Bootstrap (full
// multiaddrs ending in /p2p/<id>, redialed while disconnected), Connect,
// and optionally mDNS on the local network (service "_idmesh-<first 6 hex
// digits of SHA-256 of the chain ID>._udp"). Every
// Config.LinkCheckInterval (3 s) a host looks for connected peers of its
// chain that are on none of its topics, which gossipsub leaves behind
// when its stream to a peer dies while the peer stays connected; one
// missing at two checks in a row is disconnected and dialed again
// (Stats.GossipRelinks).
//
// # Gossip topics
//
// Two gossipsub topics per chain, on the protocol /idmesh/meshsub/1.2.0:
//
//   - /idmesh/<chainID>/consensus/1 carries proposals, votes and decided
//     blocks (Message). Each gossip message is an envelope: a
//     version byte, the publishing host's sequence number and peer ID,
//     and the message in EncodeMessage's compact deterministic binary
//     encoding (blocks and commits in registry's encodings). A message is
//     at most Config.MaxMessageBytes (8 MiB) so that proposals can carry
//     big blocks; gossipsub's RPC bound is raised to match. Blocks are
//     bounded by the chain's max_block_bytes (at most
//     registry.MaxBlockBytesCeiling, 7 MiB), so that a proposal, or a
//     decided block with its commit, always fits (tested).
//   - /idmesh/<chainID>/txs/1 carries encoded transactions
//     (registry.Tx.Encode, at most Config.MaxTxBytes: no more than
//     registry.MaxTxBytes and than what fits in a block).
//
// A gossip message's ID is SHA-256 of its data, so a host drops what it
// has already seen. For transactions the ID is the transaction hash: a
// transaction submitted at several nodes travels once. For consensus
// messages the envelope's sequence number makes every publication new,
// because the consensus engine rebroadcasts its own proposal and votes to
// stay live when messages are lost, and identical bytes would be dropped
// as duplicates for gossipsub's seen-messages TTL (two minutes).
//
// Messages are not signed by libp2p (gossipsub's StrictNoSign, with no
// author or sequence number fields): every vote and proposal is signed by
// a validator key, a decided block carries a commit signed by more than
// two thirds of the validators, and transactions carry their own
// signatures in their payloads. A libp2p signature would add a second
// signature check per message per host and about 100 bytes per message,
// and authenticate only the network key, which the consensus does not
// care about.
//
// Every message from a peer goes through a topic validator before it is
// delivered or forwarded. A consensus message must decode and pass
// ValidateBasic; a Status must come from its sender (below); a vote's or
// proposal's signer must be a validator of the message's height
// (Config.Chain.Validators) and its signature must verify (its From is
// then bound to the peer it came from, below); a decided block's commit must verify as
// registry.VerifyCommit does. Signatures are checked with Config.Verify (a SigCache's, which
// the node shares with its engine, so each is checked once) or registry.VerifySignature. Malformed or wrongly signed messages are rejected
// (gossipsub's ValidationReject, which lowers the forwarding peer's score:
// a few rejections and its gossip is ignored, then it is graylisted);
// messages for heights more than Config.StaleHeights below the tip, or
// whose validator set this node does not know, are ignored without
// penalty. Our own messages are not checked. A transaction must decode
// with registry.DecodeTx; Config.CheckTx may ignore it.
//
// gossipsub's queues (per-peer outbound, validation, subscription) default
// to 32 messages and silently drop bursts beyond; a Host raises them all
// to Config.QueueSize (4096).
//
// # Status and direct messages
//
// A Status (a node saying where it is and asking for what it lacks) is
// unsigned, so its sender is bound to the connection: Send sets its From
// to the host's node address (NodeAddress: registry.AddressOf of its
// network public key) and sends it to every connected peer over a direct
// stream (at most 32 at once; a peer beyond misses this one and gets the
// next period's), never on gossip, where a relay could be mistaken for
// its sender. A host accepts a Status only from the peer whose key gives
// that address (on a direct stream, or as the first hop of the gossip).
// One that claims another sender is rejected and counted
// (ErrSpoofedStatus, Stats.Spoofed); a relayed one is ignored
// (ErrUnboundStatus). Accepting it teaches the route from its From to
// that peer, so the engine's answer reaches the asker and nobody else.
// Every other message is bound too before the engine sees it: its From
// becomes the node address of the peer it came from directly (direct
// stream or first gossip hop), or nothing for a relayed message, which
// the engine then does not answer. A vote or proposal thus keeps its
// signer as From only if the validator's network key is its validator
// key; a node whose keys differ (as node/daemon sets them up) is answered
// at its node address, which it accepts as To as well as Config.Self.
//
// A consensus message with To set (the engine's answer to a peer: a
// decided block and its commit, or the proposals and votes it lacks)
// goes over a stream of /idmesh/<chainID>/direct/1 to the peer whose node
// address To is. Routes are learned only for the address a peer is
// authenticated as by its connection, so no peer can draw the answers
// meant for another: one that replays a validator's signed vote in its
// name is answered itself, at its own address and within its own rate.
// The stream carries one encoded message; the receiver judges it as a
// gossiped one and answers one byte (0 accepted). It is never published:
// without a route it is dropped (Stats.Unroutable). There are at most
// 16,384 routes; a peer that disconnects takes its route, and a full
// table first drops the routes of peers no longer connected, else the
// least recently used (Stats.RoutesEvicted).
//
// Answers to one peer go at most four at a time, within a token bucket of
// Config.ReplyBurst bytes refilled at Config.ReplyRate bytes a second (at
// least MinReplyRate: two maximal messages a second, so catching up never
// stalls); an answer beyond it, beyond ReplyBurst bytes waiting for the
// peer (256 MiB over all peers), or whose stream fails is dropped and
// counted (Stats.ReplyDropped), never queued without bound. A stream
// that fails empties its peer's queue; one that times out
// (Config.RequestTimeout) also cuts the peer: its reply state goes
// (Stats.ReplyCut). Reply state is kept for at most 1,024 peers: when
// the table is full, a new peer takes the place of the least recently
// used peer with nothing queued or in flight, and inherits its bucket's
// tokens (Stats.ReplyEvicted). A peer with answers queued or in flight is
// never evicted, so a flood of new peer IDs drops no queued answer; if
// every peer is busy, the new peer's answer is dropped.
//
// # Sync and status
//
// Gossip drops what it has seen and does not replay the past, so a node
// that missed blocks asks for them:
//
//   - /idmesh/<chainID>/status/1: the client sends nothing; the server
//     answers its chain ID, height and last block ID (Status, BestPeer).
//   - /idmesh/<chainID>/sync/1: the client sends from and to; the server
//     answers from Config.Blocks a prefix of that range, each block with
//     its commit, at most Config.MaxSyncBlocks (100) blocks and about
//     MaxSyncBytes (16 MiB) (FetchBlocks).
//
// The client checks only that a response decodes and is well formed. The
// caller must verify every commit against the validator set of its height
// before using a block.
//
// # Use
//
// Host implements node.Transport (Send, Receive) for node.Consensus;
// PublishTx and Txs carry the mempool's transactions. Close stops the
// host and waits for its goroutines.
package p2p

// Package keystore keeps private keys in a local file, encrypted at rest
// under a passphrase.
//
// The CLI uses it for the keys of the DIDs a user controls
// (idmesh did create --keystore FILE) and the node uses it for issuer
// keys. Secrets are opaque bytes to this package: callers store, for
// example, the output of keys.PrivateKey.MarshalBinary, so keystore
// imports no other idmesh package.
//
// # Model
//
// A Store is a set of [Entry] values keyed by ID. ID, Type, Public,
// Created and Labels are stored in clear; Secret is encrypted. Create
// makes a new file, Open unlocks an existing one, and OpenOrCreate does
// whichever applies:
//
//	s, err := keystore.OpenOrCreate(path, passphrase, keystore.DefaultParams)
//	if err != nil { ... }
//	defer s.Close()
//	err = s.Put(keystore.Entry{ID: "did:idmesh:abc#key-1", Type: "Ed25519", Secret: sk})
//	e, err := s.Get("did:idmesh:abc#key-1")
//
// # Cryptography
//
// Open runs scrypt once over the passphrase and the file's salt to derive
// 64 bytes: a 32-byte XChaCha20-Poly1305 key and a 32-byte HMAC-SHA256
// key. The file holds a check value (the AEAD encryption of a fixed
// string), so a wrong passphrase is reported as [ErrWrongPassphrase]
// rather than as garbage. Each Secret is sealed with a fresh random
// 24-byte nonce and the additional data
//
//	"idmesh-keystore-v1\x00" + ID + "\x00" + Type
//
// so ciphertexts cannot be moved between entries (IDs and types may not
// contain NUL, which keeps that encoding unambiguous). An HMAC over the
// whole document (header and every entry, clear fields included) makes
// tampering with the clear fields, or deleting or adding entries, visible
// as [ErrCorrupt] on Open. Close zeroes the derived keys.
//
// # File format
//
// The file is JSON, byte fields in standard base64:
//
//	{"version":1,
//	 "kdf":{"name":"scrypt","salt":b64,"n":32768,"r":8,"p":1},
//	 "check":b64(nonce||sealed),
//	 "entries":[{"id","type","public","created","labels","nonce","ciphertext"}],
//	 "mac":b64(HMAC-SHA256)}
//
// Entries are written sorted by ID. Files larger than [MaxFileSize] or
// holding more than [MaxEntries] entries are rejected, and so are scrypt
// parameters above the bounds documented on [Params].
//
// # Durability and concurrency
//
// Every write (Put, Update, Delete) persists before it returns: the new
// document is written to a temporary file in the same directory, synced,
// renamed over the old file and the directory is synced. A crash leaves
// either the old or the new file, plus perhaps a stale temporary file,
// which the next write removes. The file is created with mode 0600 and a
// missing parent directory with mode 0700. If path is a symbolic link,
// the first write replaces the link with a regular file; point path at
// the real file instead.
//
// A Store is safe for concurrent use by multiple goroutines. Across
// processes, writers take an advisory flock(2) on the sibling file
// PATH.lock, re-read the keystore under that lock and apply their change
// to what they read, so two processes writing different entries never
// lose each other's writes. The lock is advisory: a process that does not
// use this package can still clobber the file. On platforms without
// flock (for example Windows) the lock is a no-op and concurrent writers
// in different processes may lose updates.
//
// Get and List read the snapshot loaded by Open or by the Store's last
// write; call Reload to pick up changes made by other processes.
//
// The MAC does not stop an attacker who can write the file from rolling
// it back to an older, genuine version, and nothing here protects keys
// from someone who learns the passphrase.
package keystore

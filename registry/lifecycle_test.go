package registry_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/registry"
	"github.com/idmesh/idmesh/registry/leveldb"
)

// Helpers shared by the lifecycle handler tests (status lists, schemas,
// trust): a ledger that runs transactions through the default machine
// over an in-memory store, and issuers that sign for it.

const lifecycleChainID = "lifecycle"

// blockTime is the time of every block the lifecycle tests run.
var blockTime = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// ledger runs transactions one by one through NewMachineDefault on top of
// an in-memory store, keeping the writes of those accepted, as a block
// builder does.
type ledger struct {
	m   *registry.Machine
	st  *registry.Overlay
	ctx registry.TxContext
}

// mustLedger returns an empty ledger whose blocks are decided by vs (4
// validators of equal power when nil).
func mustLedger(tb testing.TB, vs *registry.ValidatorSet) *ledger {
	tb.Helper()
	store, err := leveldb.OpenMemory()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	if vs == nil {
		vs, _ = testValidators(tb, 4)
	}
	return &ledger{
		m:   registry.NewMachineDefault(),
		st:  registry.NewOverlay(store),
		ctx: registry.TxContext{ChainID: lifecycleChainID, Height: 1, Time: blockTime, Validators: vs},
	}
}

// deliver runs tx in the next block; on success its writes stay.
func (l *ledger) deliver(tx registry.Tx) error {
	l.ctx.Height++
	return l.m.Check(l.ctx, l.st, tx)
}

// try runs tx on top of the ledger and discards its writes.
func (l *ledger) try(tx registry.Tx) error {
	return l.m.Check(l.ctx, registry.NewOverlay(l.st), tx)
}

// mustDeliver runs tx and fails the test if it is rejected.
func (l *ledger) mustDeliver(tb testing.TB, tx registry.Tx) {
	tb.Helper()
	if err := l.deliver(tx); err != nil {
		tb.Fatalf("%s transaction rejected: %v", tx.Type, err)
	}
}

// wantCode fails the test unless err has the result code want and, when
// want is not OK and substr is not empty, mentions substr.
func wantCode(tb testing.TB, err error, want uint32, substr string) {
	tb.Helper()
	if got := registry.CodeOf(err); got != want {
		tb.Fatalf("result code %d, want %d (err: %v)", got, want, err)
	}
	if want != registry.CodeOK && substr != "" && !strings.Contains(err.Error(), substr) {
		tb.Fatalf("error %q does not mention %q", err, substr)
	}
	if want != registry.CodeOK {
		var te *registry.TxError
		if !errors.As(err, &te) {
			tb.Fatalf("error %v is not a *registry.TxError", err)
		}
	}
}

// issuer is a DID with a signing key under its assertionMethod.
type issuer struct {
	DID string
	Key keys.PrivateKey
	// VM is the verification method the key signs as.
	VM string
	// Version is the DID's current versionId (did:idmesh).
	Version string
}

func (i issuer) signer() credential.KeySigner { return credential.KeySigner{ID: i.VM, Key: i.Key} }

// as returns i signing with another key and method (for forgeries).
func (i issuer) as(k keys.PrivateKey, vm string) issuer { i.Key, i.VM = k, vm; return i }

func mustKey(tb testing.TB, seed uint64) keys.PrivateKey {
	tb.Helper()
	var s [32]byte
	binary.BigEndian.PutUint64(s[:], seed)
	k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8(s))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// keyIssuer returns a did:key issuer: nothing on the chain.
func keyIssuer(tb testing.TB, seed uint64) issuer {
	tb.Helper()
	k := mustKey(tb, seed)
	d := key.New(k.Public())
	return issuer{DID: d, Key: k, VM: d + "#" + k.Public().Multibase()}
}

// createTx returns a signed did:idmesh create of a document with one key
// "#key-1" in every relationship (idmesh.NewCreate), and its issuer.
func createTx(tb testing.TB, chainID string, seed uint64) (registry.Tx, issuer) {
	tb.Helper()
	k := mustKey(tb, seed)
	op, err := idmesh.NewCreate(chainID, k)
	if err != nil {
		tb.Fatal(err)
	}
	return didTx(tb, op), issuer{DID: subject(tb, op), Key: k, VM: subject(tb, op) + "#key-1", Version: versionID(tb, op)}
}

// mustUpdate replaces i's document with one holding only newKey as vm
// (relative, "#key-2") in every relationship, marking the methods in
// compromised as such and the others retired; i's key signs, and newKey
// too (its proof of possession) when it is a new key. It returns the
// issuer with the new key.
func (l *ledger) mustUpdate(tb testing.TB, i issuer, vm string, newKey keys.PrivateKey, compromised []string) issuer {
	tb.Helper()
	op := &idmesh.Operation{Type: idmesh.Update, DID: i.DID, Previous: i.Version, Compromised: compromised,
		Document: multikeyDoc(map[string]keys.PublicKey{vm: newKey.Public()}, map[string][]string{vm: {"auth", "assert", "invoke"}})}
	signers := []idmesh.Signer{{VM: strings.TrimPrefix(i.VM, i.DID), Key: i.Key}}
	if !newKey.Public().Equal(i.Key.Public()) {
		signers = append(signers, idmesh.Signer{VM: vm, Key: newKey})
	}
	if err := op.SignAll(l.ctx.ChainID, signers...); err != nil {
		tb.Fatal(err)
	}
	l.mustDeliver(tb, didTx(tb, op))
	return issuer{DID: i.DID, Key: newKey, VM: i.DID + vm, Version: versionID(tb, op)}
}

// mustDeactivate deactivates i's DID, signed by i's key.
func (l *ledger) mustDeactivate(tb testing.TB, i issuer) {
	tb.Helper()
	op := &idmesh.Operation{Type: idmesh.Deactivate, DID: i.DID, Previous: i.Version}
	if err := op.Sign(l.ctx.ChainID, strings.TrimPrefix(i.VM, i.DID), i.Key); err != nil {
		tb.Fatal(err)
	}
	l.mustDeliver(tb, didTx(tb, op))
}

func versionID(tb testing.TB, op *idmesh.Operation) string {
	tb.Helper()
	v, err := op.VersionID()
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// mustDIDIssuer creates a did:idmesh issuer on the ledger.
func (l *ledger) mustDIDIssuer(tb testing.TB, seed uint64) issuer {
	tb.Helper()
	tx, iss := createTx(tb, l.ctx.ChainID, seed)
	l.mustDeliver(tb, tx)
	return iss
}

func didTx(tb testing.TB, op *idmesh.Operation) registry.Tx {
	tb.Helper()
	tx, err := registry.DIDTx(op)
	if err != nil {
		tb.Fatal(err)
	}
	return tx
}

func subject(tb testing.TB, op *idmesh.Operation) string {
	tb.Helper()
	d, err := op.SubjectDID()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// multikeyDoc returns a create template with the given methods, each
// under the relationships named for it ("auth", "assert", "invoke").
func multikeyDoc(methods map[string]keys.PublicKey, rels map[string][]string) *did.Document {
	doc := &did.Document{Context: []any{did.ContextV1, did.ContextMultikey}}
	for _, id := range []string{"#key-1", "#key-2", "#key-3", "#key-4"} {
		pub, ok := methods[id]
		if !ok {
			continue
		}
		doc.VerificationMethod = append(doc.VerificationMethod, did.NewMultikey(id, "", pub))
		for _, r := range rels[id] {
			switch r {
			case "auth":
				doc.Authentication = append(doc.Authentication, did.Ref(id))
			case "assert":
				doc.AssertionMethod = append(doc.AssertionMethod, did.Ref(id))
			case "invoke":
				doc.CapabilityInvocation = append(doc.CapabilityInvocation, did.Ref(id))
			}
		}
	}
	return doc
}

// signDoc signs doc as iss with suite and returns the signed JSON.
func signDoc(tb testing.TB, doc map[string]any, iss issuer, suite string) []byte {
	tb.Helper()
	signed, err := dataintegrity.Sign(context.Background(), doc, iss.signer(), dataintegrity.SignOptions{Cryptosuite: suite, Created: blockTime.Add(-time.Hour)})
	if err != nil {
		tb.Fatal(err)
	}
	b, err := json.Marshal(signed)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// listURL is the credential id of list listID.
func listURL(listID string) string {
	return "https://registry.example" + registry.StatusListPathSegment + listID
}

// listSpec describes one status list version to sign.
type listSpec struct {
	ID        string // list ID
	Issuer    string // the credential's issuer; the signer's DID when empty
	Purpose   string // revocation when empty
	Length    int    // statuslist.MinLength when 0
	Set       []int  // indexes set to 1
	ValidFrom time.Time
	Suite     string // eddsa-rdfc-2022 when empty
}

// mustBits returns a list of n bits with set set.
func mustBits(tb testing.TB, n int, set []int) *statuslist.Bitstring {
	tb.Helper()
	bits, err := statuslist.New(n)
	if err != nil {
		tb.Fatal(err)
	}
	for _, i := range set {
		if err := bits.Set(i, true); err != nil {
			tb.Fatal(err)
		}
	}
	return bits
}

// unsignedList returns the list credential of s.
func unsignedList(tb testing.TB, s listSpec, signer issuer) map[string]any {
	tb.Helper()
	if s.Issuer == "" {
		s.Issuer = signer.DID
	}
	if s.Purpose == "" {
		s.Purpose = statuslist.PurposeRevocation
	}
	n := s.Length
	if n == 0 || n < statuslist.MinLength {
		n = statuslist.MinLength
	}
	vc, err := statuslist.NewListCredential(listURL(s.ID), s.Issuer, s.Purpose, mustBits(tb, n, s.Set), s.ValidFrom)
	if err != nil {
		tb.Fatal(err)
	}
	if s.Length != 0 && s.Length < statuslist.MinLength {
		// NewListCredential refuses short lists: write the encoding of
		// one in by hand, before signing.
		enc, err := mustBits(tb, s.Length, s.Set).Encode()
		if err != nil {
			tb.Fatal(err)
		}
		vc["credentialSubject"].(map[string]any)["encodedList"] = enc
	}
	return vc
}

// signedList returns the payload of a TxStatusList: s signed by signer.
func signedList(tb testing.TB, s listSpec, signer issuer) []byte {
	tb.Helper()
	suite := s.Suite
	if suite == "" {
		suite = dataintegrity.CryptosuiteRDFC
	}
	return signDoc(tb, unsignedList(tb, s, signer), signer, suite)
}

func statusTx(payload []byte) registry.Tx {
	return registry.Tx{Type: registry.TxStatusList, Payload: payload}
}

// editJSON decodes b, applies edit and encodes the result: a change made
// after signing.
func editJSON(tb testing.TB, b []byte, edit func(m map[string]any)) []byte {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// storedList returns the stored version of a list, nil if none.
func storedList(tb testing.TB, r registry.StateReader, listID string) []byte {
	tb.Helper()
	b, err := registry.StatusList(r, listID)
	if errors.Is(err, registry.ErrNotFound) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.Clone(b)
}

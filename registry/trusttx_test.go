package registry_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/idmesh/idmesh/registry"
)

// trustChange returns a change signed by signers, in order.
func trustChange(tb testing.TB, chainID string, seq uint64, action, issuer string, types []string, signers ...ed25519.PrivateKey) *registry.TrustChange {
	tb.Helper()
	c := &registry.TrustChange{ChainID: chainID, Sequence: seq, Action: action, Issuer: issuer, Types: types}
	for _, k := range signers {
		if err := c.Sign(k); err != nil {
			tb.Fatal(err)
		}
	}
	return c
}

func mustTrustTx(tb testing.TB, c *registry.TrustChange) registry.Tx {
	tb.Helper()
	tx, err := c.Tx()
	if err != nil {
		tb.Fatal(err)
	}
	return tx
}

// trustState is what the handler writes: the sequence and one record.
type trustState struct {
	seq    uint64
	record []byte
}

func readTrust(tb testing.TB, r registry.StateReader, issuer string) trustState {
	tb.Helper()
	seq, err := registry.TrustSequence(r)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := r.Get(registry.TrustKey(issuer))
	if err != nil && !errors.Is(err, registry.ErrNotFound) {
		tb.Fatal(err)
	}
	return trustState{seq: seq, record: bytes.Clone(b)}
}

// TestTrustChanges runs accreditation changes in order on a chain of 4
// validators of equal power; each step sees the steps before it.
func TestTrustChanges(t *testing.T) {
	l := mustLedger(t, nil)
	vals := l.ctx.Validators
	_, keys := testValidators(t, 4)
	outsider := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{99}, ed25519.SeedSize))
	const iss = "did:example:university"
	const chain = lifecycleChainID
	add := func(seq uint64, types []string, signers ...ed25519.PrivateKey) registry.Tx {
		return mustTrustTx(t, trustChange(t, chain, seq, registry.TrustAdd, iss, types, signers...))
	}
	remove := func(seq uint64, types []string, signers ...ed25519.PrivateKey) registry.Tx {
		return mustTrustTx(t, trustChange(t, chain, seq, registry.TrustRemove, iss, types, signers...))
	}
	three := keys[:3]
	first := add(0, []string{"UniversityDegreeCredential", "AlumniCredential"}, three...)
	forged := trustChange(t, chain, 1, registry.TrustAdd, iss, []string{"X"}, three...)
	forged.Types = []string{"PassportCredential"} // after signing
	unknownField := mustTrustTx(t, trustChange(t, chain, 1, registry.TrustAdd, iss, []string{"X"}, three...))
	unknownField.Payload = append([]byte(`{"extra":1,`), unknownField.Payload[1:]...)
	tooMany := make([]string, registry.MaxTrustTypes+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("T%d", i)
	}

	steps := []struct {
		name   string
		tx     registry.Tx
		code   uint32
		substr string
		types  []string // the record's types after the step, when accepted
	}{
		{"signed by 3 of 4", first, registry.CodeOK, "", []string{"AlumniCredential", "UniversityDegreeCredential"}},
		{"signed by 2 of 4", add(1, []string{"X"}, keys[0], keys[1]), registry.CodeUnauthorized, "not more than two thirds", nil},
		{"signed by 1 of 4", add(1, []string{"X"}, keys[3]), registry.CodeUnauthorized, "not more than two thirds", nil},
		{"no signatures", add(1, []string{"X"}), registry.CodeUnauthorized, "not more than two thirds", nil},
		{"3 validators and a non-validator", add(1, []string{"X"}, keys[0], keys[1], keys[2], outsider), registry.CodeUnauthorized, "not a validator", nil},
		{"2 validators and a non-validator", add(1, []string{"X"}, keys[0], outsider, keys[1]), registry.CodeUnauthorized, "not a validator", nil},
		{"duplicate signer", add(1, []string{"X"}, keys[0], keys[1], keys[1]), registry.CodeUnauthorized, "two signatures", nil},
		{"one signer three times", add(1, []string{"X"}, keys[2], keys[2], keys[2]), registry.CodeUnauthorized, "two signatures", nil},
		{"changed after signing", mustTrustTx(t, forged), registry.CodeUnauthorized, "bad signature", nil},
		{"replay of the first change", first, registry.CodeConflict, "replayed or out of order", nil},
		{"sequence ahead", add(2, []string{"X"}, three...), registry.CodeConflict, "replayed or out of order", nil},
		{"signed for another chain", mustTrustTx(t, trustChange(t, "other-chain", 1, registry.TrustAdd, iss, []string{"X"}, three...)), registry.CodeUnauthorized, "other-chain", nil},
		{"add of a held type", add(1, []string{"AlumniCredential"}, keys[1], keys[2], keys[3]), registry.CodeOK, "", []string{"AlumniCredential", "UniversityDegreeCredential"}},
		{"add of held and new types, repeated", add(2, []string{"Z", "AlumniCredential", "Z"}, keys[3], keys[0], keys[1]), registry.CodeOK, "", []string{"AlumniCredential", "UniversityDegreeCredential", "Z"}},
		{"remove", remove(3, []string{"UniversityDegreeCredential", "Z"}, keys...), registry.CodeOK, "", []string{"AlumniCredential"}},
		{"remove of an absent type", remove(4, []string{"Nothing"}, three...), registry.CodeOK, "", []string{"AlumniCredential"}},
		{"invalid action", mustTrustTx(t, trustChange(t, chain, 5, "grant", iss, []string{"X"}, three...)), registry.CodeInvalid, "action", nil},
		{"empty types", add(5, nil, three...), registry.CodeInvalid, "credential types", nil},
		{"empty type name", add(5, []string{""}, three...), registry.CodeInvalid, "credential type", nil},
		{"type name too long", add(5, []string{strings.Repeat("T", 257)}, three...), registry.CodeInvalid, "credential type", nil},
		{"too many types", add(5, tooMany, three...), registry.CodeInvalid, "credential types", nil},
		{"issuer not a DID", mustTrustTx(t, trustChange(t, chain, 5, registry.TrustAdd, "https://university.example", []string{"X"}, three...)), registry.CodeInvalid, "issuer", nil},
		{"issuer empty", mustTrustTx(t, trustChange(t, chain, 5, registry.TrustAdd, "", []string{"X"}, three...)), registry.CodeInvalid, "issuer", nil},
		{"unknown field", unknownField, registry.CodeInvalid, "unknown field", nil},
		{"malformed JSON", registry.Tx{Type: registry.TxTrust, Payload: []byte(`{"chain_id":`)}, registry.CodeInvalid, "invalid governance", nil},
		{"remove all", remove(5, []string{"AlumniCredential"}, three...), registry.CodeOK, "", []string{}},
	}
	for _, s := range steps {
		before := readTrust(t, l.st, iss)
		err := l.deliver(s.tx)
		if registry.CodeOf(err) != s.code || (err != nil && !strings.Contains(err.Error(), s.substr)) {
			t.Fatalf("%s: result %d (%v), want %d mentioning %q", s.name, registry.CodeOf(err), err, s.code, s.substr)
		}
		after := readTrust(t, l.st, iss)
		if s.code != registry.CodeOK {
			if after.seq != before.seq || !bytes.Equal(after.record, before.record) {
				t.Fatalf("%s: rejected, but the state changed", s.name)
			}
			continue
		}
		if after.seq != before.seq+1 {
			t.Fatalf("%s: sequence %d after %d", s.name, after.seq, before.seq)
		}
		rec, err := registry.Trust(l.st, iss)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Issuer != iss || rec.Height != l.ctx.Height || !slices.Equal(rec.Types, s.types) || !slices.IsSorted(rec.Types) {
			t.Fatalf("%s: record %+v, want types %q at height %d", s.name, rec, s.types, l.ctx.Height)
		}
	}
	if _, err := registry.Trust(l.st, "did:example:other"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("an issuer never accredited: %v", err)
	}
	// Without a validator set the node, not the change, is at fault.
	l.ctx.Validators = nil
	wantCode(t, l.try(add(6, []string{"X"}, three...)), registry.CodeInternal, "no current validator set")
	l.ctx.Validators = vals
	wantCode(t, l.try(add(6, []string{"X"}, three...)), registry.CodeOK, "")
}

// TestTrustQuorum checks CheckQuorum against the handler for every subset
// of signers drawn from the validators and an outsider, on sets of equal
// and of unequal power, with each signer's signature once or twice.
func TestTrustQuorum(t *testing.T) {
	outsider := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{99}, ed25519.SeedSize))
	_, keys := testValidators(t, 4)
	for _, powers := range [][]int64{{10, 10, 10, 10}, {1, 1, 1, 3}, {1, 2, 3, 4}, {100, 1, 1, 1}} {
		var vals []registry.Validator
		for i, k := range keys {
			vals = append(vals, registry.Validator{PubKey: k.Public().(ed25519.PublicKey), Power: powers[i]})
		}
		vs, err := registry.NewValidatorSet(vals)
		if err != nil {
			t.Fatal(err)
		}
		power := map[registry.Address]int64{}
		for _, v := range vs.Validators {
			power[v.Address()] = v.Power
		}
		l := mustLedger(t, vs)
		all := append(slices.Clone(keys), outsider)
		for mask := range 1 << len(all) {
			for _, twice := range []bool{false, true} {
				var signers []ed25519.PrivateKey
				var signed int64
				outside := false
				for i, k := range all {
					if mask&(1<<i) == 0 {
						continue
					}
					signers = append(signers, k)
					if k.Equal(outsider) {
						outside = true
					} else {
						signed += power[registry.AddressOf(k.Public().(ed25519.PublicKey))]
					}
				}
				if twice && len(signers) > 0 {
					signers = append(signers, signers[0])
				}
				want := !outside && (!twice || len(signers) == 0) && 3*signed > 2*vs.TotalPower()
				c := trustChange(t, lifecycleChainID, 0, registry.TrustAdd, "did:example:u", []string{"T"}, signers...)
				qerr := c.CheckQuorum(vs)
				herr := l.try(mustTrustTx(t, c))
				if (qerr == nil) != want || (herr == nil) != want {
					t.Fatalf("powers %v, signers %05b (twice %v): CheckQuorum %v, handler %v, want accepted %v", powers, mask, twice, qerr, herr, want)
				}
				if herr != nil {
					wantCode(t, herr, registry.CodeUnauthorized, "")
				}
			}
		}
	}
}

// TestTrustPayloadOneEncoding: a signed change followed by anything, or
// with a repeated member, is refused: one change has one transaction hash.
func TestTrustPayloadOneEncoding(t *testing.T) {
	for name, payload := range map[string]string{
		"trailing":  `{"chain_id":"c","sequence":0,"action":"add","issuer":"did:example:a","types":["T"]} {}`,
		"garbage":   `{"chain_id":"c","sequence":0,"action":"add","issuer":"did:example:a","types":["T"]}x`,
		"duplicate": `{"chain_id":"c","chain_id":"c","sequence":0,"action":"add","issuer":"did:example:a","types":["T"]}`,
	} {
		err := registry.TrustHandler{}.DeliverTx(registry.TxContext{ChainID: "c"}, registry.NewOverlay(nil), []byte(payload))
		if registry.CodeOf(err) != registry.CodeInvalid {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

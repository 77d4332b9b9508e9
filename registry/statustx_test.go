package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/dataintegrity"
	"github.com/idmesh/idmesh/credential/statuslist"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/registry"
)

// TestStatusListVersions runs the versions of one revocation list and one
// suspension list in order: each step sees the state the steps before it
// left, and after each the stored version is the step's payload if it was
// accepted and the one before otherwise.
func TestStatusListVersions(t *testing.T) {
	l := mustLedger(t, nil)
	a := l.mustDIDIssuer(t, 1)
	rev := registry.StatusListOwner(a.DID) + "rev"
	sus := registry.StatusListOwner(a.DID) + "sus"
	at := func(d time.Duration) time.Time { return blockTime.Add(d) }
	revList := func(from time.Duration, set ...int) []byte {
		return signedList(t, listSpec{ID: rev, Set: set, ValidFrom: at(from)}, a)
	}
	v1 := revList(-time.Hour, 1, 5)
	v2 := revList(-50*time.Minute, 1, 5, 9, 100_000)
	v3 := revList(-40*time.Minute, 1, 5, 9, 100_000, 131_071)

	steps := []struct {
		name    string
		list    string
		payload []byte
		code    uint32
		substr  string
	}{
		{"first version", rev, v1, registry.CodeOK, ""},
		{"later validFrom, more bits set", rev, v2, registry.CodeOK, ""},
		{"replay of the current version", rev, v2, registry.CodeConflict, "replayed or out of order"},
		{"replay of an older version", rev, v1, registry.CodeConflict, "replayed or out of order"},
		{"same validFrom, other bits", rev, revList(-50*time.Minute, 1, 5, 9, 100_000, 7), registry.CodeConflict, "replayed or out of order"},
		{"earlier validFrom", rev, revList(-55*time.Minute, 1, 5, 9, 100_000, 7), registry.CodeConflict, "replayed or out of order"},
		{"clears a revoked bit", rev, revList(-45*time.Minute, 1, 9, 100_000), registry.CodeConflict, "entry 5 is revoked: revocation is final"},
		{"clears every revoked bit", rev, revList(-45 * time.Minute), registry.CodeConflict, "revocation is final"},
		{"changed length", rev, signedList(t, listSpec{ID: rev, Length: 2 * statuslist.MinLength, Set: []int{1, 5, 9, 100_000}, ValidFrom: at(-45 * time.Minute)}, a), registry.CodeConflict, "entries, the list has"},
		{"changed purpose", rev, signedList(t, listSpec{ID: rev, Purpose: statuslist.PurposeSuspension, Set: []int{1, 5, 9, 100_000}, ValidFrom: at(-45 * time.Minute)}, a), registry.CodeConflict, "purposes"},
		{"third version", rev, v3, registry.CodeOK, ""},
		{"suspension list", sus, signedList(t, listSpec{ID: sus, Purpose: statuslist.PurposeSuspension, Set: []int{3, 4}, ValidFrom: at(-time.Hour)}, a), registry.CodeOK, ""},
		{"suspension lifted", sus, signedList(t, listSpec{ID: sus, Purpose: statuslist.PurposeSuspension, Set: []int{4}, ValidFrom: at(-30 * time.Minute)}, a), registry.CodeOK, ""},
		{"every suspension lifted", sus, signedList(t, listSpec{ID: sus, Purpose: statuslist.PurposeSuspension, ValidFrom: at(-20 * time.Minute)}, a), registry.CodeOK, ""},
		{"suspension list replayed", sus, signedList(t, listSpec{ID: sus, Purpose: statuslist.PurposeSuspension, Set: []int{4}, ValidFrom: at(-30 * time.Minute)}, a), registry.CodeConflict, "replayed"},
		{"validFrom at the skew bound", rev, revList(5*time.Minute, 1, 5, 9, 100_000, 131_071), registry.CodeOK, ""},
		{"validFrom past the skew bound", rev, revList(5*time.Minute+time.Second, 1, 5, 9, 100_000, 131_071), registry.CodeInvalid, "validFrom"},
	}
	for _, s := range steps {
		before := storedList(t, l.st, s.list)
		err := l.deliver(statusTx(s.payload))
		wantCode(t, err, s.code, s.substr)
		after := storedList(t, l.st, s.list)
		switch {
		case s.code == registry.CodeOK && !bytes.Equal(after, s.payload):
			t.Fatalf("%s: accepted, but the stored version is not the payload", s.name)
		case s.code != registry.CodeOK && !bytes.Equal(after, before):
			t.Fatalf("%s: rejected, but the stored version changed", s.name)
		}
		if s.code == registry.CodeOK {
			mustParseStored(t, after)
		}
	}
	got := mustParseStored(t, storedList(t, l.st, rev))
	for _, i := range []int{1, 5, 9, 100_000, 131_071} {
		if v, _ := got.Bits.Get(i); !v {
			t.Errorf("bit %d of the stored list is not set", i)
		}
	}
	if got.Bits.Count() != 5 {
		t.Errorf("stored list has %d bits set, want 5", got.Bits.Count())
	}
}

// TestStatusListRejected runs versions the handler must refuse, each on a
// ledger holding one list of issuer a, and checks that neither that list
// nor the list the version names changes.
func TestStatusListRejected(t *testing.T) {
	l := mustLedger(t, nil)
	a := l.mustDIDIssuer(t, 1)
	b := l.mustDIDIssuer(t, 2)
	web := issuer{DID: "did:web:example.com"}

	// d has #key-2 under authentication only.
	k1, k2, k3 := mustKey(t, 30), mustKey(t, 31), mustKey(t, 32)
	dOp := &idmesh.Operation{Type: idmesh.Create, Document: multikeyDoc(
		map[string]keys.PublicKey{"#key-1": k1.Public(), "#key-2": k2.Public()},
		map[string][]string{"#key-1": {"auth", "assert", "invoke"}, "#key-2": {"auth"}})}
	if err := dOp.SignAll(lifecycleChainID, idmesh.Signer{VM: "#key-1", Key: k1}, idmesh.Signer{VM: "#key-2", Key: k2}); err != nil {
		t.Fatal(err)
	}
	l.mustDeliver(t, didTx(t, dOp))
	d := issuer{DID: subject(t, dOp), Key: k1, VM: subject(t, dOp) + "#key-1"}

	// rot rotated #key-1 out (retired) for #key-2; cmp marked its #key-1
	// compromised; gone is deactivated.
	rot, cmp, gone := l.mustDIDIssuer(t, 40), l.mustDIDIssuer(t, 41), l.mustDIDIssuer(t, 42)
	rot2 := l.mustUpdate(t, rot, "#key-2", k3, nil)
	l.mustUpdate(t, cmp, "#key-2", mustKey(t, 43), []string{"#key-1"})
	l.mustDeactivate(t, gone)
	// held still lists its key, and dk is a did:key; thief added both
	// keys to its own document (it holds them: proof of possession), then
	// marked them compromised: their status follows the key material, so
	// neither may write any more.
	held, dk, thief := l.mustDIDIssuer(t, 44), keyIssuer(t, 46), l.mustDIDIssuer(t, 45)
	both := &idmesh.Operation{Type: idmesh.Update, DID: thief.DID, Previous: thief.Version,
		Document: multikeyDoc(map[string]keys.PublicKey{"#key-1": thief.Key.Public(), "#key-2": held.Key.Public(), "#key-3": dk.Key.Public()},
			map[string][]string{"#key-1": {"auth", "assert", "invoke"}, "#key-2": {"assert"}, "#key-3": {"assert"}})}
	if err := both.SignAll(l.ctx.ChainID, idmesh.Signer{VM: "#key-1", Key: thief.Key}, idmesh.Signer{VM: "#key-2", Key: held.Key}, idmesh.Signer{VM: "#key-3", Key: dk.Key}); err != nil {
		t.Fatal(err)
	}
	l.mustDeliver(t, didTx(t, both))
	thief.Version = versionID(t, both)
	l.mustUpdate(t, thief, "#key-1", thief.Key, []string{"#key-2", "#key-3"})

	existing := registry.StatusListOwner(a.DID) + "main"
	current := signedList(t, listSpec{ID: existing, Set: []int{2}, ValidFrom: blockTime.Add(-time.Hour)}, a)
	l.mustDeliver(t, statusTx(current))

	own := func(i issuer, suffix string) string { return registry.StatusListOwner(i.DID) + suffix }
	next := func(signer issuer) []byte { // a valid next version of existing, signed by signer
		return signedList(t, listSpec{ID: existing, Issuer: a.DID, Set: []int{2, 3}, ValidFrom: blockTime.Add(-time.Minute)}, signer)
	}
	fresh := listSpec{ID: own(a, "fresh"), Set: []int{7}, ValidFrom: blockTime.Add(-time.Minute)}
	withSpec := func(edit func(s *listSpec)) listSpec { s := fresh; edit(&s); return s }
	signedEdited := func(s listSpec, signer issuer, edit func(m map[string]any)) []byte {
		m := unsignedList(t, s, signer)
		edit(m)
		return signDoc(t, m, signer, dataintegrity.CryptosuiteRDFC)
	}
	valid := signedList(t, fresh, a)

	cases := []struct {
		name    string
		list    string
		payload []byte
		code    uint32
		substr  string
	}{
		{"shorter than the minimum", fresh.ID, signedList(t, withSpec(func(s *listSpec) { s.Length = statuslist.MinLength / 2 }), a), registry.CodeInvalid, "shorter than"},
		{"one bit short", fresh.ID, signedList(t, withSpec(func(s *listSpec) { s.Length = statuslist.MinLength - 8 }), a), registry.CodeInvalid, "shorter than"},
		{"longer than MaxStatusListBits", fresh.ID, signedList(t, withSpec(func(s *listSpec) { s.Length = registry.MaxStatusListBits + 8 }), a), registry.CodeInvalid, "invalid status list"},
		{"list not under the issuer's prefix", own(b, "x"), signedList(t, withSpec(func(s *listSpec) { s.ID = own(b, "x") }), a), registry.CodeUnauthorized, "prefix"},
		{"another issuer's existing list", existing, signedList(t, listSpec{ID: existing, Set: []int{2, 3}, ValidFrom: blockTime.Add(-time.Minute)}, b), registry.CodeUnauthorized, "prefix"},
		{"list ID is the bare prefix of another issuer", own(b, ""), signedList(t, withSpec(func(s *listSpec) { s.ID = strings.TrimSuffix(own(b, ""), "-") }), a), registry.CodeUnauthorized, "prefix"},
		{"key not in assertionMethod", own(d, "l"), signedList(t, withSpec(func(s *listSpec) { s.ID = own(d, "l") }), d.as(k2, d.DID+"#key-2")), registry.CodeUnauthorized, "assertionMethod"},
		{"key the issuer does not have", own(d, "l"), signedList(t, withSpec(func(s *listSpec) { s.ID = own(d, "l") }), d.as(k3, d.DID+"#key-9")), registry.CodeUnauthorized, "proof"},
		{"signed by another DID's key", existing, next(a.as(b.Key, b.VM)), registry.CodeUnauthorized, "not by the issuer"},
		{"signed with another DID's key under the issuer's method", existing, next(a.as(b.Key, a.VM)), registry.CodeUnauthorized, "proof"},
		{"signed by a retired key", own(rot, "l"), signedList(t, withSpec(func(s *listSpec) { s.ID = own(rot, "l") }), rot), registry.CodeUnauthorized, "proof"},
		{"signed by a compromised key", own(cmp, "l"), signedList(t, withSpec(func(s *listSpec) { s.ID = own(cmp, "l") }), cmp), registry.CodeUnauthorized, "compromised"},
		{"signed by a current key another DID marked compromised", own(held, "l"), signedList(t, withSpec(func(s *listSpec) { s.ID, s.Issuer = own(held, "l"), held.DID }), held), registry.CodeUnauthorized, "compromised"},
		{"signed by a did:key another DID marked compromised", own(dk, "l"), signedList(t, withSpec(func(s *listSpec) { s.ID, s.Issuer = own(dk, "l"), dk.DID }), dk), registry.CodeUnauthorized, "compromised"},
		{"issuer deactivated", own(gone, "l"), signedList(t, withSpec(func(s *listSpec) { s.ID = own(gone, "l") }), gone), registry.CodeUnauthorized, "deactivated"},
		{"issuer did:web", own(web, "l"), signedList(t, withSpec(func(s *listSpec) { s.ID, s.Issuer = own(web, "l"), web.DID }), a), registry.CodeInvalid, "did:idmesh or did:key"},
		{"issuer not a DID", "https.example.com-l", signedList(t, withSpec(func(s *listSpec) { s.ID, s.Issuer = "https.example.com-l", "https://example.com/issuer" }), a), registry.CodeUnauthorized, "prefix"},
		{"validFrom missing", fresh.ID, signedList(t, withSpec(func(s *listSpec) { s.ValidFrom = time.Time{} }), a), registry.CodeInvalid, "validFrom"},
		{"validFrom a day ahead", fresh.ID, signedList(t, withSpec(func(s *listSpec) { s.ValidFrom = blockTime.Add(24 * time.Hour) }), a), registry.CodeInvalid, "validFrom"},
		{"validFrom just past the skew bound", fresh.ID, signedList(t, withSpec(func(s *listSpec) { s.ValidFrom = blockTime.Add(5*time.Minute + time.Millisecond) }), a), registry.CodeInvalid, "validFrom"},
		{"id without a list path", fresh.ID, signedEdited(fresh, a, func(m map[string]any) { m["id"] = "https://registry.example/lists/" + fresh.ID }), registry.CodeInvalid, "does not end in"},
		{"list ID with a slash", fresh.ID, signedEdited(fresh, a, func(m map[string]any) { m["id"] = listURL(fresh.ID + "/x") }), registry.CodeInvalid, "does not end in"},
		{"not a status list credential", fresh.ID, signedEdited(fresh, a, func(m map[string]any) { m["type"] = []any{"VerifiableCredential"} }), registry.CodeInvalid, "BitstringStatusListCredential"},
		{"encodedList not multibase", fresh.ID, signedEdited(fresh, a, func(m map[string]any) {
			m["credentialSubject"].(map[string]any)["encodedList"] = "H4sIAAAAAAAA"
		}), registry.CodeInvalid, "encodedList"},
		{"malformed JSON", fresh.ID, valid[:len(valid)/2], registry.CodeInvalid, "invalid status list"},
		{"not an object", fresh.ID, []byte(`["` + fresh.ID + `"]`), registry.CodeInvalid, "invalid status list"},
		{"trailing data", fresh.ID, append(bytes.Clone(valid), []byte(" {}")...), registry.CodeInvalid, "invalid status list"},
		{"duplicate member", fresh.ID, append([]byte(`{"issuer":"`+b.DID+`",`), valid[1:]...), registry.CodeInvalid, "duplicate"},
		{"duplicate member in the subject", fresh.ID, bytes.Replace(valid, []byte(`"credentialSubject":{`), []byte(`"credentialSubject":{"statusPurpose":"suspension",`), 1), registry.CodeInvalid, "duplicate"},
		{"oversize", fresh.ID, editJSON(t, valid, func(m map[string]any) { m["description"] = strings.Repeat("x", registry.MaxTxBytes) }), registry.CodeInvalid, "too large"},
		{"no proof", fresh.ID, editJSON(t, valid, func(m map[string]any) { delete(m, "proof") }), registry.CodeUnauthorized, "proof"},
		{"wrong proof purpose", fresh.ID, signWith(t, unsignedList(t, fresh, a), a, dataintegrity.SignOptions{ProofPurpose: credential.PurposeAuthentication}), registry.CodeUnauthorized, "proof"},
		{"second proof by another DID", fresh.ID, addProof(t, valid, b), registry.CodeUnauthorized, "not by the issuer"},
		{"tampered bits", fresh.ID, editJSON(t, valid, func(m map[string]any) {
			enc, _ := mustBits(t, statuslist.MinLength, nil).Encode()
			m["credentialSubject"].(map[string]any)["encodedList"] = enc
		}), registry.CodeUnauthorized, "proof"},
		{"tampered validFrom", fresh.ID, editJSON(t, valid, func(m map[string]any) { m["validFrom"] = "2025-06-01T11:59:00.001Z" }), registry.CodeUnauthorized, "proof"},
		{"tampered proof value", fresh.ID, editJSON(t, valid, func(m map[string]any) {
			p := m["proof"].(map[string]any)
			v := []byte(p["proofValue"].(string))
			v[5] = map[bool]byte{true: '2', false: '3'}[v[5] == '3']
			p["proofValue"] = string(v)
		}), registry.CodeUnauthorized, "proof"},
		{"inline context", fresh.ID, signedEdited(fresh, a, func(m map[string]any) {
			m["@context"] = append(m["@context"].([]any), map[string]any{"x": "https://example.com/x"})
		}), registry.CodeInvalid, "inline context"},
		{"member renamed to its IRI", fresh.ID, signedEdited(fresh, a, func(m map[string]any) {
			m["https://www.w3.org/2018/credentials#validUntil"] = "2020-01-01T00:00:00Z"
		}), registry.CodeInvalid, "not IRIs"},
		{"tampered issuer", existing, editJSON(t, next(a), func(m map[string]any) { m["issuer"] = b.DID }), registry.CodeUnauthorized, "prefix"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantCode(t, l.deliver(statusTx(c.payload)), c.code, c.substr)
			if got := storedList(t, l.st, existing); !bytes.Equal(got, current) {
				t.Error("the existing list changed")
			}
			if c.list != existing && storedList(t, l.st, c.list) != nil {
				t.Errorf("list %s was stored", c.list)
			}
		})
	}
	// The same issuers' correctly signed versions are accepted: the
	// refusals above were for the reason named.
	for name, tx := range map[string][]byte{
		"valid":          valid,
		"next":           next(a),
		"current key":    signedList(t, withSpec(func(s *listSpec) { s.ID = own(rot, "l") }), rot2),
		"assertion key":  signedList(t, withSpec(func(s *listSpec) { s.ID = own(d, "l") }), d),
		"at the maximum": signedList(t, withSpec(func(s *listSpec) { s.ID, s.Length = own(a, "max"), registry.MaxStatusListBits }), a),
	} {
		if err := l.deliver(statusTx(tx)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestStatusListDIDKeyIssuer: a did:key issuer publishes and updates its
// lists with nothing on the chain; the JCS suite works as RDFC does.
func TestStatusListDIDKeyIssuer(t *testing.T) {
	l := mustLedger(t, nil)
	k := keyIssuer(t, 9)
	id := registry.StatusListOwner(k.DID) + "0001"
	for i, s := range []listSpec{
		{ID: id, ValidFrom: blockTime.Add(-time.Hour)},
		{ID: id, Set: []int{42}, ValidFrom: blockTime.Add(-time.Minute), Suite: dataintegrity.CryptosuiteJCS},
		{ID: id, Set: []int{42, 43}, ValidFrom: blockTime},
	} {
		p := signedList(t, s, k)
		if err := l.deliver(statusTx(p)); err != nil {
			t.Fatalf("version %d: %v", i+1, err)
		}
		if got := storedList(t, l.st, id); !bytes.Equal(got, p) {
			t.Fatalf("version %d is not the stored one", i+1)
		}
	}
	// Another did:key cannot write under k's prefix, nor sign k's list.
	other := keyIssuer(t, 10)
	wantCode(t, l.deliver(statusTx(signedList(t, listSpec{ID: id, Set: []int{42, 43, 44}, ValidFrom: blockTime}, other))), registry.CodeUnauthorized, "prefix")
	wantCode(t, l.deliver(statusTx(signedList(t, listSpec{ID: id, Issuer: k.DID, Set: []int{42, 43, 44}, ValidFrom: blockTime.Add(time.Second)}, other))), registry.CodeUnauthorized, "not by the issuer")
}

// TestStatusListSameBlockAsIssuer commits a block that creates the issuer
// DID and then publishes its list: the handler resolves the issuer from
// the block's own earlier writes.
func TestStatusListSameBlockAsIssuer(t *testing.T) {
	c, _ := newGovChain(t)
	create, a := createTx(t, "gov", 1)
	id := registry.StatusListOwner(a.DID) + "l"
	list := signedList(t, listSpec{ID: id, Set: []int{1}, ValidFrom: c.now}, a)
	// In the other order the list's issuer is not yet on the chain when
	// the proposer checks the list, which it leaves out.
	if err := c.CheckTx(statusTx(list), c.now); registry.CodeOf(err) != registry.CodeUnauthorized {
		t.Fatalf("list before its issuer: %v", err)
	}
	if res := c.commit(t, statusTx(list), create); len(res) != 1 || !res[0].OK() {
		t.Fatalf("list before its issuer: %+v", res)
	}
	if storedList(t, c.store, id) != nil {
		t.Fatal("the list before its issuer was stored")
	}
	c2, _ := newGovChain(t)
	if res := c2.commit(t, create, statusTx(list)); !res[0].OK() || !res[1].OK() {
		t.Fatalf("results %+v", res)
	}
	if got := storedList(t, c2.store, id); !bytes.Equal(got, list) {
		t.Fatal("the list is not stored")
	}
}

func mustParseStored(tb testing.TB, b []byte) *statuslist.List {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	lst, err := statuslist.ParseListCredential(m, registry.MaxStatusListBits)
	if err != nil {
		tb.Fatal(err)
	}
	return lst
}

func signWith(tb testing.TB, doc map[string]any, iss issuer, opts dataintegrity.SignOptions) []byte {
	tb.Helper()
	signed, err := dataintegrity.Sign(context.Background(), doc, iss.signer(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := json.Marshal(signed)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// addProof adds iss's proof, of the same cryptosuite, to a signed
// document (a proof set).
func addProof(tb testing.TB, signed []byte, iss issuer) []byte {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(signed, &m); err != nil {
		tb.Fatal(err)
	}
	suite, _ := m["proof"].(map[string]any)["cryptosuite"].(string)
	return signWith(tb, m, iss, dataintegrity.SignOptions{Cryptosuite: suite})
}

// TestStatusListRevocationOnlyGrows is a property: whatever versions of a
// list arrive (the first accepted one fixes its purpose), valid or not and in any order, the stored
// list's revoked bits only ever grow, and the handler accepts exactly the
// versions a naive model of the rules accepts.
func TestStatusListRevocationOnlyGrows(t *testing.T) {
	a, other := keyIssuer(t, 77), keyIssuer(t, 78)
	id := registry.StatusListOwner(a.DID) + "prop"
	kinds := []string{"grow", "grow", "arbitrary", "tampered", "other signer", "longer", "suspension", "future"}
	rapid.Check(t, func(rt *rapid.T) {
		l := mustLedger(t, nil)
		var model *statuslist.List // the stored version, as the rules say
		from := blockTime.Add(-time.Hour)
		steps := rapid.IntRange(1, 10).Draw(rt, "steps")
		for i := range steps {
			kind := rapid.SampledFrom(kinds).Draw(rt, "kind")
			from = from.Add(time.Duration(rapid.IntRange(-2, 3).Draw(rt, "delta")) * time.Second)
			set := rapid.SliceOfN(rapid.IntRange(0, 31), 0, 6).Draw(rt, "set")
			if kind == "grow" && model != nil {
				for j := range 32 {
					if v, _ := model.Bits.Get(j); v {
						set = append(set, j)
					}
				}
			}
			s := listSpec{ID: id, Set: set, ValidFrom: from, Suite: dataintegrity.CryptosuiteJCS}
			signer := a
			switch kind {
			case "other signer":
				s.Issuer, signer = a.DID, other
			case "longer":
				s.Length = 2 * statuslist.MinLength
			case "suspension":
				s.Purpose = statuslist.PurposeSuspension
			case "future":
				s.ValidFrom = blockTime.Add(6 * time.Minute)
			}
			p := signedList(t, s, signer)
			if kind == "tampered" { // a bit set after signing
				p = editJSON(t, p, func(m map[string]any) {
					enc, _ := mustBits(t, statuslist.MinLength, append(slices.Clone(set), 40)).Encode()
					m["credentialSubject"].(map[string]any)["encodedList"] = enc
				})
			}
			next := mustParseStored(t, p)
			want := kind != "tampered" && kind != "other signer" && kind != "future" &&
				(model == nil || acceptable(model, next))
			before := storedList(t, l.st, id)
			err := l.deliver(statusTx(p))
			if (err == nil) != want {
				rt.Fatalf("step %d (%s): handler %v, model accepts %v", i, kind, err, want)
			}
			after := storedList(t, l.st, id)
			if err != nil && !bytes.Equal(after, before) {
				rt.Fatalf("step %d (%s): rejected, but the list changed", i, kind)
			}
			if err == nil {
				if model != nil && slices.Contains(model.Purposes, statuslist.PurposeRevocation) &&
					!revokedKept(model.Bits, mustParseStored(t, after).Bits) {
					rt.Fatalf("step %d (%s): a revoked bit was cleared", i, kind)
				}
				model = next
			}
		}
	})
}

// acceptable is the naive successor rule: same issuer, purposes and
// length, a later validFrom, and for a revocation list every set bit
// still set, checked bit by bit.
func acceptable(prev, next *statuslist.List) bool {
	if prev.Issuer != next.Issuer || !slices.Equal(prev.Purposes, next.Purposes) ||
		prev.Bits.Len() != next.Bits.Len() || !next.ValidFrom.After(prev.ValidFrom) {
		return false
	}
	return !slices.Contains(prev.Purposes, statuslist.PurposeRevocation) || revokedKept(prev.Bits, next.Bits)
}

func revokedKept(prev, next *statuslist.Bitstring) bool {
	for i := range prev.Len() {
		was, _ := prev.Get(i)
		now, _ := next.Get(i)
		if was && !now {
			return false
		}
	}
	return true
}

// BenchmarkStatusListTx measures the per-node cost of a revocation round:
// checking and applying one new version of a list of 131,072 entries
// with 1% set (parse, decompress, resolve the issuer's did:idmesh
// document, verify the proof, compare with the stored version bit by
// bit), through the machine as DeliverTx runs it. Each iteration applies
// the same version on top of the stored one, so every one is accepted.
//
//	go test -run '^$' -bench StatusListTx ./registry/
func BenchmarkStatusListTx(b *testing.B) {
	for _, suite := range []string{dataintegrity.CryptosuiteRDFC, dataintegrity.CryptosuiteJCS} {
		b.Run(suite, func(b *testing.B) {
			l := mustLedger(b, nil)
			a := l.mustDIDIssuer(b, 1)
			id := registry.StatusListOwner(a.DID) + "bench"
			r := rand.New(rand.NewChaCha8([32]byte{1}))
			var set []int
			for range statuslist.MinLength / 100 {
				set = append(set, r.IntN(statuslist.MinLength))
			}
			l.mustDeliver(b, statusTx(signedList(b, listSpec{ID: id, Set: set[:len(set)/2], ValidFrom: blockTime.Add(-time.Hour), Suite: suite}, a)))
			tx := statusTx(signedList(b, listSpec{ID: id, Set: set, ValidFrom: blockTime.Add(-time.Minute), Suite: suite}, a))
			b.ReportAllocs()
			for b.Loop() {
				if err := l.try(tx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
			b.ReportMetric(float64(len(tx.Payload)), "payload-bytes")
		})
	}
}

package didkeys_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/idmesh/idmesh/credential"
	"github.com/idmesh/idmesh/credential/didkeys"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/key"
	"github.com/idmesh/idmesh/did/keys"
)

const chainID = "test"

type mapKV map[string][]byte

func (m mapKV) Get(k []byte) ([]byte, bool, error) { v, ok := m[string(k)]; return v, ok, nil }
func (m mapKV) Set(k, v []byte)                    { m[string(k)] = v }

// ledger applies operations to an in-memory state at increasing times.
type ledger struct {
	t   testing.TB
	kv  mapKV
	now time.Time
}

func (l *ledger) apply(op *idmesh.Operation) string {
	l.t.Helper()
	b, _ := op.Encode()
	dec, err := idmesh.Decode(b)
	if err != nil {
		l.t.Fatal(err)
	}
	l.now = l.now.Add(time.Minute)
	if err := idmesh.Apply(l.kv, idmesh.Env{ChainID: chainID, Time: l.now}, dec); err != nil {
		l.t.Fatal(err)
	}
	v, _ := op.VersionID()
	return v
}

func doc(id string, pubs ...keys.PublicKey) *did.Document {
	d := &did.Document{Context: []any{did.ContextV1, did.ContextMultikey}}
	for i, p := range pubs {
		vid := id
		if i > 0 {
			vid += "-" + string(rune('a'+i))
		}
		d.VerificationMethod = append(d.VerificationMethod, did.NewMultikey(vid, "", p))
		d.AssertionMethod = append(d.AssertionMethod, did.Ref(vid))
		d.Authentication = append(d.Authentication, did.Ref(vid))
	}
	d.CapabilityInvocation = []did.Relationship{did.Ref(id)}
	return d
}

func gen(t testing.TB, seed byte) keys.PrivateKey {
	var s [32]byte
	s[0] = seed
	k, err := keys.Generate(keys.Ed25519, rand.NewChaCha8(s))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestKeyStatusFromIndex: DIDKeys returns a current key, a retired one
// with its retirement time, and any key with Compromised once any DID
// marked its material; CachedKeys reads the status again on a hit.
func TestKeyStatusFromIndex(t *testing.T) {
	l := &ledger{t: t, kv: mapKV{}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ka, kb, shared := gen(t, 1), gen(t, 2), gen(t, 3)
	create := &idmesh.Operation{Type: idmesh.Create, Document: doc("#key-1", ka.Public(), shared.Public())}
	if err := create.SignAll(chainID, idmesh.Signer{VM: "#key-1", Key: ka}, idmesh.Signer{VM: "#key-1-b", Key: shared}); err != nil {
		t.Fatal(err)
	}
	v1 := l.apply(create)
	a, _ := create.SubjectDID()
	// A drops the shared key (#key-1-b): retired.
	upd := &idmesh.Operation{Type: idmesh.Update, DID: a, Previous: v1, Document: doc("#key-1", ka.Public())}
	if err := upd.Sign(chainID, "#key-1", ka); err != nil {
		t.Fatal(err)
	}
	l.apply(upd)
	retiredAt := l.now

	r := &idmesh.Resolver{State: l.kv}
	methods := did.Methods{idmesh.Method: r, "key": key.Resolver{}}
	dk := didkeys.DIDKeys{Resolver: methods}
	cached := &didkeys.CachedKeys{Next: dk}
	ctx := context.Background()
	sharedDK := key.New(shared.Public())
	sharedDKID := sharedDK + "#" + shared.Public().Multibase()

	cur, err := dk.ResolveKey(ctx, a+"#key-1", credential.PurposeAssertion)
	if err != nil || cur.Compromised || !cur.RetiredAt.IsZero() {
		t.Fatalf("current key: %+v %v", cur, err)
	}
	old, err := dk.ResolveKey(ctx, a+"#key-1-b", credential.PurposeAssertion)
	if err != nil || old.Compromised || !old.RetiredAt.Equal(retiredAt) || !old.Public.Equal(shared.Public()) {
		t.Fatalf("retired key: %+v %v", old, err)
	}
	if _, err := (didkeys.DIDKeys{Resolver: methods, CurrentOnly: true}).ResolveKey(ctx, a+"#key-1-b", credential.PurposeAssertion); !errors.Is(err, credential.ErrKeyNotAuthorized) {
		t.Fatalf("retired key, current only: %v", err)
	}
	// A retired key never authenticates: a presentation answers a fresh
	// challenge, so a time it claims before the retirement is false.
	if _, err := dk.ResolveKey(ctx, a+"#key-1-b", credential.PurposeAuthentication); !errors.Is(err, credential.ErrKeyNotAuthorized) {
		t.Fatalf("retired key for authentication: %v", err)
	}
	if _, err := dk.ResolveKey(ctx, a+"#key-1", credential.PurposeAuthentication); err != nil {
		t.Fatalf("current key for authentication: %v", err)
	}
	if v, err := cached.ResolveKey(ctx, sharedDKID, credential.PurposeAssertion); err != nil || v.Compromised {
		t.Fatalf("did:key before the mark: %+v %v", v, err)
	}

	// B adds the shared key under its own id (B holds it too: proof of
	// possession) and marks it compromised.
	cb := &idmesh.Operation{Type: idmesh.Create, Document: doc("#key-1", kb.Public(), shared.Public())}
	if err := cb.SignAll(chainID, idmesh.Signer{VM: "#key-1", Key: kb}, idmesh.Signer{VM: "#key-1-b", Key: shared}); err != nil {
		t.Fatal(err)
	}
	vb := l.apply(cb)
	b, _ := cb.SubjectDID()
	mark := &idmesh.Operation{Type: idmesh.Update, DID: b, Previous: vb, Document: doc("#key-1", kb.Public()), Compromised: []string{"#key-1-b"}}
	if err := mark.Sign(chainID, "#key-1", kb); err != nil {
		t.Fatal(err)
	}
	l.apply(mark)

	for _, tc := range []struct {
		name string
		r    credential.KeyResolver
		id   string
	}{
		{"A's retired id", dk, a + "#key-1-b"},
		{"B's id", dk, b + "#key-1-b"},
		{"did:key, cached before the mark", cached, sharedDKID},
		{"A's retired id, current only", didkeys.DIDKeys{Resolver: methods, CurrentOnly: true}, a + "#key-1-b"},
	} {
		v, err := tc.r.ResolveKey(ctx, tc.id, credential.PurposeAssertion)
		if err != nil || !v.Compromised {
			t.Errorf("%s: %+v %v", tc.name, v, err)
		}
	}
	if v, err := dk.ResolveKey(ctx, a+"#key-1", credential.PurposeAssertion); err != nil || v.Compromised {
		t.Fatalf("A's other key: %+v %v", v, err)
	}
}

// BenchmarkResolveKeyHistory measures looking up the current key of a
// did:idmesh issuer with no rotation and with 200 (each retiring a key):
// the history is not read for a current key, so both cost alike.
//
//	go test -run '^$' -bench ResolveKeyHistory ./credential/didkeys/
func BenchmarkResolveKeyHistory(b *testing.B) {

	for _, n := range []int{0, 200} {
		l := &ledger{t: b, kv: mapKV{}, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		k := gen(b, 1)
		create := &idmesh.Operation{Type: idmesh.Create, Document: doc("#key-1", k.Public())}
		if err := create.Sign(chainID, "#key-1", k); err != nil {
			b.Fatal(err)
		}
		v := l.apply(create)
		d, _ := create.SubjectDID()
		id := "#key-1"
		for i := range n {
			next := gen(b, byte(i+2))
			if i+2 > 255 {
				var s [32]byte
				s[0], s[1] = byte(i), 1
				next, _ = keys.Generate(keys.Ed25519, rand.NewChaCha8(s))
			}
			// A new key needs a new id: a proof by the old id is the
			// current key's, and the new key must prove possession.
			nextID := fmt.Sprintf("#key-%d", i+2)
			op := &idmesh.Operation{Type: idmesh.Update, DID: d, Previous: v, Document: doc(nextID, next.Public())}
			if err := op.SignAll(chainID, idmesh.Signer{VM: id, Key: k}, idmesh.Signer{VM: nextID, Key: next}); err != nil {
				b.Fatal(err)
			}
			v, k, id = l.apply(op), next, nextID
		}
		dk := didkeys.DIDKeys{Resolver: did.Methods{idmesh.Method: &idmesh.Resolver{State: l.kv}}}
		b.Run(fmt.Sprintf("history-%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := dk.ResolveKey(context.Background(), d+id, credential.PurposeAssertion); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMethodType: the key says the type of the verification method it
// came from (what an Ed25519Signature2020 proof is checked against).
func TestMethodType(t *testing.T) {
	k := gen(t, 9)
	d := key.New(k.Public())
	r := didkeys.DIDKeys{Resolver: did.Methods{"key": key.Resolver{}}}
	vk, err := r.ResolveKey(t.Context(), d+"#"+k.Public().Multibase(), credential.PurposeAssertion)
	if err != nil {
		t.Fatal(err)
	}
	if vk.MethodType == "" || vk.Controller != d {
		t.Fatalf("key %+v", vk)
	}
}

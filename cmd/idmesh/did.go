package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/idmesh/idmesh/api"
	"github.com/idmesh/idmesh/did"
	"github.com/idmesh/idmesh/did/idmesh"
	"github.com/idmesh/idmesh/did/keys"
	"github.com/idmesh/idmesh/did/keystore"
)

func newDIDCmd(a *app) *cobra.Command {
	return a.groupCmd("did", "create, update, rotate, deactivate and resolve DIDs",
		newDIDCreateCmd(a), newDIDResolveCmd(a), newDIDUpdateCmd(a), newDIDRotateCmd(a),
		newDIDCompromiseCmd(a), newDIDDeactivateCmd(a))
}

// didFlags are shared by the did commands.
type didFlags struct {
	clientFlags
	keystoreFlags
}

func (f *didFlags) register(fs *pflag.FlagSet) {
	f.clientFlags.register(fs)
	f.keystoreFlags.register(fs)
}

// chainID asks the node which chain operations are signed for.
func (c *client) chainID(ctx context.Context) (string, error) {
	var st api.StatusResponse
	if _, err := c.do(ctx, "GET", "/v1/status", nil, "", &st); err != nil {
		return "", err
	}
	return st.ChainID, nil
}

// result is what the did commands print.
type result struct {
	DID         string   `json:"did"`
	VersionID   string   `json:"versionId"`
	Height      uint64   `json:"height"`
	Operation   string   `json:"operation"`
	Keys        []string `json:"keys,omitempty"`
	Compromised []string `json:"compromised,omitempty"`
	Retired     []string `json:"retired,omitempty"`
	Deactivated bool     `json:"deactivated,omitempty"`
}

func (r result) print(e env, verb string) error {
	if e.json {
		return json.NewEncoder(e.stdout).Encode(r)
	}
	fmt.Fprintf(e.stdout, "%s %s\n", verb, r.DID)
	for _, k := range r.Keys {
		fmt.Fprintf(e.stdout, "  key          %s\n", k)
	}
	for _, k := range r.Retired {
		fmt.Fprintf(e.stdout, "  retired      %s\n", k)
	}
	for _, k := range r.Compromised {
		fmt.Fprintf(e.stdout, "  compromised  %s\n", k)
	}
	fmt.Fprintf(e.stdout, "  version      %s\n  height       %d\n  operation    %s\n", r.VersionID, r.Height, r.Operation)
	return nil
}

func newDIDCreateCmd(a *app) *cobra.Command {
	var f didFlags
	var keyType string
	var services multiFlag
	c := a.command("create [--node URL] [--keystore FILE] [--key-type Ed25519|P-256] [--service TYPE=URL]",
		"create a did:idmesh DID; its key stays in the keystore", func(ctx context.Context, e env, pos []string) error {
			return didCreate(ctx, e, f, keyType, services, pos)
		})
	fs := c.Flags()
	f.register(fs)
	fs.StringVar(&keyType, "key-type", "Ed25519", "key type: Ed25519 or P-256")
	fs.Var(&services, "service", "add a service TYPE=URL (repeatable)")
	return c
}

func didCreate(ctx context.Context, e env, f didFlags, keyType string, services multiFlag, pos []string) error {
	if len(pos) != 0 {
		return usageError("did create takes no arguments")
	}
	kt, err := parseKeyType(keyType)
	if err != nil {
		return err
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	chainID, err := c.chainID(ctx)
	if err != nil {
		return err
	}
	ks, err := f.open(e, true)
	if err != nil {
		return err
	}
	defer ks.Close()
	// The DID depends on the key, so the key is generated under a
	// temporary name, then stored under the DID's key ID before submitting.
	tmp, err := keys.Generate(kt, randReader)
	if err != nil {
		return err
	}
	var svcs []did.Service
	for i, s := range services {
		svc, err := parseService(s, fmt.Sprintf("#service-%d", i+1))
		if err != nil {
			return err
		}
		svcs = append(svcs, svc)
	}
	op, err := idmesh.NewCreate(chainID, tmp, svcs...)
	if err != nil {
		return err
	}
	subject, err := op.SubjectDID()
	if err != nil {
		return err
	}
	keyID := subject + "#key-1"
	if err := storeKey(ks, tmp, keyID, subject); err != nil {
		return err
	}
	resp, err := c.submit(ctx, op, f.timeout)
	if err != nil {
		return err
	}
	setStatus(e, ks, keyID, statusLive)
	return result{DID: subject, VersionID: resp.VersionID, Height: resp.Height, Operation: resp.Hash.String(), Keys: []string{keyID + " (" + string(kt) + ")"}}.print(e, "created")
}

// current resolves d's latest version for an update, and returns the
// document, its versionId and the number the next version will have.
func current(ctx context.Context, c *client, d string) (*did.Document, string, uint64, error) {
	if err := idmesh.ValidateDID(d); err != nil {
		return nil, "", 0, usageError(err.Error())
	}
	res, err := c.resolve(ctx, d, nil)
	if err != nil {
		return nil, "", 0, err
	}
	md := res.DIDDocumentMetadata
	if md.Deactivated {
		return nil, "", 0, fmt.Errorf("%s is deactivated", d)
	}
	n, ok := md.Extra["versionNumber"].(float64)
	if !ok {
		return nil, "", 0, fmt.Errorf("resolve %s: the node did not report versionNumber", d)
	}
	return res.DIDDocument, md.VersionID, uint64(n) + 1, nil
}

// signingKey finds a key in the keystore that may change doc: a
// capabilityInvocation key of the DID itself or of one of its controllers.
func signingKey(ctx context.Context, c *client, ks *keystore.Store, doc *did.Document) (string, keys.PrivateKey, error) {
	for _, ctl := range doc.ControllerDIDs() {
		cdoc := doc
		if ctl != doc.ID {
			res, err := c.resolve(ctx, ctl, nil)
			if err != nil {
				continue
			}
			cdoc = res.DIDDocument
		}
		for _, vm := range cdoc.Methods(did.RelCapabilityInvocation) {
			id := did.AbsoluteRef(cdoc.ID, vm.ID)
			if k, err := loadKey(ks, id); err == nil {
				return id, k, nil
			}
		}
	}
	return "", keys.PrivateKey{}, fmt.Errorf("the keystore holds no capabilityInvocation key of %s or of its controllers", doc.ID)
}

func newDIDUpdateCmd(a *app) *cobra.Command {
	var f didFlags
	var add, remove multiFlag
	c := a.command("update DID --add-service TYPE=URL [--remove-service ID]", "add or remove services of a DID",
		func(ctx context.Context, e env, pos []string) error { return didUpdate(ctx, e, f, add, remove, pos) })
	fs := c.Flags()
	f.register(fs)
	fs.Var(&add, "add-service", "add a service TYPE=URL (repeatable)")
	fs.Var(&remove, "remove-service", "remove the service with this id or #fragment (repeatable)")
	return c
}

func didUpdate(ctx context.Context, e env, f didFlags, add, remove multiFlag, pos []string) error {
	if len(pos) != 1 {
		return usageError("did update takes one DID")
	}
	if len(add) == 0 && len(remove) == 0 {
		return usageError("did update: nothing to change (use --add-service or --remove-service)")
	}
	return change(ctx, e, f, pos[0], "updated", func(doc *did.Document, _ *keystore.Store, _ uint64) (*idmesh.Operation, []string, error) {
		for _, r := range remove {
			i := indexService(doc, r)
			if i < 0 {
				return nil, nil, fmt.Errorf("%s has no service %s", doc.ID, r)
			}
			doc.Service = append(doc.Service[:i], doc.Service[i+1:]...)
		}
		for _, a := range add {
			n := len(doc.Service) + 1
			for indexService(doc, fmt.Sprintf("#service-%d", n)) >= 0 {
				n++
			}
			svc, err := parseService(a, fmt.Sprintf("#service-%d", n))
			if err != nil {
				return nil, nil, err
			}
			doc.Service = append(doc.Service, svc)
		}
		return &idmesh.Operation{Type: idmesh.Update, Document: doc}, nil, nil
	})
}

func newDIDRotateCmd(a *app) *cobra.Command {
	var f didFlags
	var compromised bool
	var keyType string
	c := a.command("rotate DID [--compromised] [--key-type Ed25519|P-256]", "replace the DID's keys; old ones are retired or compromised",
		func(ctx context.Context, e env, pos []string) error {
			return didRotate(ctx, e, f, compromised, keyType, pos)
		})
	fs := c.Flags()
	f.register(fs)
	fs.BoolVar(&compromised, "compromised", false, "mark the replaced keys compromised, not retired: credentials they signed stop verifying")
	fs.StringVar(&keyType, "key-type", "", "type of the new key (default: the type of the old one)")
	return c
}

func didRotate(ctx context.Context, e env, f didFlags, compromised bool, keyType string, pos []string) error {
	if len(pos) != 1 {
		return usageError("did rotate takes one DID")
	}
	var oldIDs, newIDs []string
	err := change(ctx, e, f, pos[0], "rotated", func(doc *did.Document, ks *keystore.Store, next uint64) (*idmesh.Operation, []string, error) {
		kt := keys.Type("")
		for _, vm := range doc.AllMethods() {
			oldIDs = append(oldIDs, vm.ID)
			if pub, err := vm.PublicKey(); err == nil && kt == "" {
				kt = pub.Type()
			}
		}
		if keyType != "" {
			var err error
			if kt, err = parseKeyType(keyType); err != nil {
				return nil, nil, err
			}
		}
		if kt == "" || kt == keys.X25519 {
			kt = keys.Ed25519
		}
		newID := fmt.Sprintf("%s#key-%d", doc.ID, next)
		k, err := newKey(ks, kt, newID, doc.ID)
		if err != nil {
			return nil, nil, err
		}
		newIDs = append(newIDs, newID)
		ref := []did.Relationship{did.Ref(newID)}
		doc.VerificationMethod = []did.VerificationMethod{did.NewMultikey(newID, doc.ID, k.Public())}
		doc.Authentication, doc.AssertionMethod, doc.CapabilityInvocation, doc.CapabilityDelegation = ref, ref, ref, ref
		doc.KeyAgreement = nil
		op := &idmesh.Operation{Type: idmesh.Update, Document: doc}
		if compromised {
			op.Compromised = oldIDs
		}
		return op, []string{newID + " (" + string(kt) + ")"}, nil
	}, func(ks *keystore.Store, r *result) {
		status := "retired"
		if compromised {
			status = "compromised"
			r.Compromised = oldIDs
		} else {
			r.Retired = oldIDs
		}
		for _, id := range oldIDs {
			setStatus(e, ks, id, status)
		}
		for _, id := range newIDs {
			setStatus(e, ks, id, statusLive)
		}
	})
	return err
}

// didCompromise marks keys compromised: a key of the current version is
// removed from the document (a rotation), a key of an earlier version is
// only marked. Nothing the keys signed verifies afterwards, under any id.
func newDIDCompromiseCmd(a *app) *cobra.Command {
	var f didFlags
	c := a.command("compromise DID KEYID...", "mark keys compromised: current ones (removed) or of earlier versions",
		func(ctx context.Context, e env, pos []string) error { return didCompromise(ctx, e, f, pos) })
	c.Long = "Mark keys compromised. KEYID is a #fragment or an absolute method id, of the current\nversion (the key is removed) or of an earlier one. Nothing the keys signed verifies afterwards."
	f.register(c.Flags())
	return c
}

func didCompromise(ctx context.Context, e env, f didFlags, pos []string) error {
	if len(pos) < 2 {
		return usageError("did compromise takes a DID and at least one key id")
	}
	d := pos[0]
	var ids []string
	for _, id := range pos[1:] {
		switch {
		case strings.HasPrefix(id, "#"):
			id = d + id
		case !strings.HasPrefix(id, d+"#"):
			return usageError(fmt.Sprintf("did compromise: %s is not a key id of %s (use #fragment or %s#fragment)", id, d, d))
		}
		ids = append(ids, id)
	}
	return change(ctx, e, f, d, "compromised keys of", func(doc *did.Document, _ *keystore.Store, _ uint64) (*idmesh.Operation, []string, error) {
		for _, id := range ids {
			removeMethod(doc, id)
		}
		return &idmesh.Operation{Type: idmesh.Update, Document: doc, Compromised: ids}, nil, nil
	}, func(ks *keystore.Store, r *result) {
		r.Compromised = ids
		for _, id := range ids {
			setStatus(e, ks, id, "compromised")
		}
	})
}

// removeMethod removes the method id (absolute) from doc: the top-level
// method, references to it and embedded methods with that id.
func removeMethod(doc *did.Document, id string) {
	is := func(ref string) bool { return did.AbsoluteRef(doc.ID, ref) == id }
	doc.VerificationMethod = slices.DeleteFunc(doc.VerificationMethod, func(vm did.VerificationMethod) bool { return is(vm.ID) })
	for _, rel := range []*[]did.Relationship{&doc.Authentication, &doc.AssertionMethod, &doc.KeyAgreement, &doc.CapabilityInvocation, &doc.CapabilityDelegation} {
		*rel = slices.DeleteFunc(*rel, func(r did.Relationship) bool {
			if r.Embedded != nil {
				return is(r.Embedded.ID)
			}
			return is(r.Reference)
		})
		if len(*rel) == 0 {
			*rel = nil
		}
	}
}

// possessionSigners returns, for every signing key that next adds to
// prev (idmesh.NewSigningKeys), its private key from the keystore: the
// chain refuses a key added without a proof by it. A key that signer
// already is needs no second proof.
func possessionSigners(ks *keystore.Store, d string, prev, next *did.Document, signer keys.PublicKey) ([]idmesh.Signer, error) {
	var out []idmesh.Signer
	for _, vm := range idmesh.NewSigningKeys(prev, next) {
		pub, err := vm.PublicKey()
		if err != nil {
			return nil, err
		}
		if pub.Equal(signer) {
			continue
		}
		id := did.AbsoluteRef(d, vm.ID)
		k, err := loadKey(ks, id)
		if err != nil || !k.Public().Equal(pub) {
			return nil, fmt.Errorf("the keystore holds no private key of %s, which the change adds: the chain needs a proof of possession by it", id)
		}
		out = append(out, idmesh.Signer{VM: id, Key: k})
	}
	return out, nil
}

func newDIDDeactivateCmd(a *app) *cobra.Command {
	var f didFlags
	c := a.command("deactivate DID", "deactivate the DID for good",
		func(ctx context.Context, e env, pos []string) error { return didDeactivate(ctx, e, f, pos) })
	f.register(c.Flags())
	return c
}

func didDeactivate(ctx context.Context, e env, f didFlags, pos []string) error {
	if len(pos) != 1 {
		return usageError("did deactivate takes one DID")
	}
	return change(ctx, e, f, pos[0], "deactivated", func(doc *did.Document, _ *keystore.Store, _ uint64) (*idmesh.Operation, []string, error) {
		return &idmesh.Operation{Type: idmesh.Deactivate}, nil, nil
	}, func(_ *keystore.Store, r *result) { r.Deactivated = true })
}

// change runs an update or deactivate: resolve the current version, let
// build edit it, sign with a key from the keystore, submit and wait.
func change(ctx context.Context, e env, f didFlags, d, verb string,
	build func(doc *did.Document, ks *keystore.Store, nextVersion uint64) (*idmesh.Operation, []string, error),
	after ...func(*keystore.Store, *result)) error {
	c, err := f.client()
	if err != nil {
		return err
	}
	chainID, err := c.chainID(ctx)
	if err != nil {
		return err
	}
	doc, prev, next, err := current(ctx, c, d)
	if err != nil {
		return err
	}
	ks, err := f.open(e, false)
	if err != nil {
		return err
	}
	defer ks.Close()
	signerID, k, err := signingKey(ctx, c, ks, doc)
	if err != nil {
		return err
	}
	op, newKeys, err := build(doc.Clone(), ks, next)
	if err != nil {
		return err
	}
	op.DID, op.Previous = d, prev
	signers, err := possessionSigners(ks, d, doc, op.Document, k.Public())
	if err != nil {
		return err
	}
	if err := op.SignAll(chainID, append([]idmesh.Signer{{VM: signerID, Key: k}}, signers...)...); err != nil {
		return err
	}
	resp, err := c.submit(ctx, op, f.timeout)
	if err != nil {
		return err
	}
	r := result{DID: d, VersionID: resp.VersionID, Height: resp.Height, Operation: resp.Hash.String(), Keys: newKeys}
	for _, a := range after {
		a(ks, &r)
	}
	return r.print(e, verb)
}

func newDIDResolveCmd(a *app) *cobra.Command {
	var f clientFlags
	var versionID, versionTime string
	c := a.command("resolve DID|DID-URL [--version-id ID] [--version-time TIME]", "resolve any supported DID (idmesh, key, jwk, web), or dereference a DID URL (DID#fragment, DID?service=ID&relativeRef=REF)",
		func(ctx context.Context, e env, pos []string) error {
			return didResolve(ctx, e, f, versionID, versionTime, pos)
		})
	fs := c.Flags()
	f.register(fs)
	fs.StringVar(&versionID, "version-id", "", "resolve this version")
	fs.StringVar(&versionTime, "version-time", "", "resolve the version current at this time (RFC 3339)")
	return c
}

func didResolve(ctx context.Context, e env, f clientFlags, versionID, versionTime string, pos []string) error {
	if len(pos) != 1 {
		return usageError("did resolve takes one DID or DID URL")
	}
	c, err := f.client()
	if err != nil {
		return err
	}
	q := url.Values{}
	if versionID != "" {
		q.Set("versionId", versionID)
	}
	if versionTime != "" {
		q.Set("versionTime", versionTime)
	}
	if strings.ContainsAny(pos[0], "#?") {
		return didDereference(ctx, e, c, pos[0], q)
	}
	res, err := c.resolve(ctx, pos[0], q)
	if err != nil {
		return err
	}
	if e.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	return printResolution(e, res)
}

// didDereference prints what a DID URL dereferences to: with --json the
// whole dereferencing result; else a service endpoint URL on one line, or
// the verification method, service or document as indented JSON. A
// deactivated DID is said on stderr, and is an error when its document
// has nothing at the URL.
func didDereference(ctx context.Context, e env, c *client, u string, q url.Values) error {
	if _, err := did.ParseURL(u); err != nil {
		return usageError(err.Error())
	}
	res, err := c.dereference(ctx, u, q)
	if err != nil {
		return err
	}
	gone := res.ContentMetadata.Deactivated
	if e.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	if gone && (len(res.ContentStream) == 0 || string(res.ContentStream) == "null") {
		return fmt.Errorf("dereference %s: the DID is deactivated", u)
	}
	if gone {
		fmt.Fprintf(e.stderr, "idmesh: %s: the DID is deactivated\n", u)
	}
	var s string
	if res.DereferencingMetadata.ContentType == did.MediaTypeURIList && json.Unmarshal(res.ContentStream, &s) == nil {
		_, err := fmt.Fprintln(e.stdout, s)
		return err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, res.ContentStream, "", "  "); err != nil {
		return fmt.Errorf("dereference %s: the node's content is not JSON: %w", u, err)
	}
	out.WriteByte('\n')
	_, err = e.stdout.Write(out.Bytes())
	return err
}

func printResolution(e env, res *did.ResolutionResult) error {
	doc, md := res.DIDDocument, res.DIDDocumentMetadata
	w := e.stdout
	fmt.Fprintf(w, "%s\n", doc.ID)
	if md.VersionID != "" {
		fmt.Fprintf(w, "  version      %s\n", md.VersionID)
	}
	if md.Created != "" {
		fmt.Fprintf(w, "  created      %s\n", md.Created)
	}
	if md.Updated != "" {
		fmt.Fprintf(w, "  updated      %s\n", md.Updated)
	}
	if md.NextVersionID != "" {
		fmt.Fprintf(w, "  next version %s\n", md.NextVersionID)
	}
	if md.Deactivated {
		fmt.Fprintf(w, "  DEACTIVATED\n")
	}
	for _, vm := range doc.VerificationMethod {
		kt := ""
		if pub, err := vm.PublicKey(); err == nil {
			kt = string(pub.Type())
		}
		fmt.Fprintf(w, "  key          %s (%s %s)\n", vm.ID, vm.Type, kt)
	}
	for _, s := range doc.Service {
		fmt.Fprintf(w, "  service      %s %s %s\n", s.ID, strings.Join(s.Type, ","), string(s.ServiceEndpoint))
	}
	if n, ok := md.Extra["rotatedKeysTotal"].(float64); ok {
		fmt.Fprintf(w, "  key events   %d (the newest %d below)\n", int(n), min(int(n), idmesh.MaxListedRotatedKeys))
	}
	if rk, ok := md.Extra["rotatedKeys"].([]any); ok {
		for _, x := range rk {
			if m, ok := x.(map[string]any); ok {
				fmt.Fprintf(w, "  %-12s %v (in version %v)\n", m["status"], m["id"], m["versionId"])
			}
		}
	}
	return nil
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
func (m *multiFlag) Type() string       { return "stringArray" }

func parseService(s, id string) (did.Service, error) {
	typ, endpoint, ok := strings.Cut(s, "=")
	if !ok || typ == "" || endpoint == "" {
		return did.Service{}, usageError(fmt.Sprintf("service %q is not TYPE=URL", s))
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme == "" {
		return did.Service{}, usageError(fmt.Sprintf("service endpoint %q is not an absolute URL", endpoint))
	}
	ep, _ := json.Marshal(endpoint)
	return did.Service{ID: id, Type: did.StringSet{typ}, ServiceEndpoint: ep}, nil
}

func indexService(doc *did.Document, id string) int {
	for i, s := range doc.Service {
		if s.ID == id || did.AbsoluteRef(doc.ID, s.ID) == did.AbsoluteRef(doc.ID, id) {
			return i
		}
	}
	return -1
}

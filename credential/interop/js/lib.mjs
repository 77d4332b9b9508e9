// Shared pieces of the interop scripts: an offline JSON-LD document loader,
// did:key (Ed25519 Multikey) resolution, keys from a seed, and stdin/stdout.
//
// Nothing here touches the network: the document loader serves the bundled
// contexts and did:key documents, and throws on every other URL.

import {readFileSync} from 'node:fs';
import {createPrivateKey} from 'node:crypto';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');

const DID_V1 = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_V1 = 'https://w3id.org/security/multikey/v1';

// The contexts are the files of credential/ld/contexts, the ones the Go
// side embeds; contexts.json maps each context URL to its file there (the
// Go test checks that it matches ld.Known and ld.Context byte for byte).
// IDMESH_CONTEXTS_DIR overrides the folder: it must then hold its own
// index.json in the same form.
export function contextsIndex() {
  const dir = process.env.IDMESH_CONTEXTS_DIR;
  if(dir) {
    return {dir, index: join(dir, 'index.json')};
  }
  return {dir: join(repoRoot, 'credential', 'ld', 'contexts'), index: join(here, 'contexts.json')};
}

// loadContexts reads every context of the index into a map URL -> document.
export function loadContexts({dir, index} = contextsIndex()) {
  const files = JSON.parse(readFileSync(index, 'utf8'));
  const contexts = new Map();
  for(const [url, file] of Object.entries(files)) {
    contexts.set(url, JSON.parse(readFileSync(resolve(dir, file), 'utf8')));
  }
  return contexts;
}

// didKeyMethod returns the Multikey verification method of an Ed25519
// did:key (the method ID is DID#fingerprint).
export function didKeyMethod(did) {
  const fingerprint = did.slice('did:key:'.length);
  if(!/^z6Mk[1-9A-HJ-NP-Za-km-z]+$/.test(fingerprint)) {
    throw new Error(`not an Ed25519 did:key: ${did}`);
  }
  // from() checks the multicodec header and the key length.
  const vm = {
    '@context': MULTIKEY_V1,
    id: `${did}#${fingerprint}`,
    type: 'Multikey',
    controller: did,
    publicKeyMultibase: fingerprint,
  };
  return vm;
}

// didKeyDocument returns the DID document of an Ed25519 did:key.
export function didKeyDocument(did) {
  const vm = didKeyMethod(did);
  const {'@context': _, ...method} = vm;
  return {
    '@context': [DID_V1, MULTIKEY_V1],
    id: did,
    verificationMethod: [method],
    authentication: [vm.id],
    assertionMethod: [vm.id],
    capabilityDelegation: [vm.id],
    capabilityInvocation: [vm.id],
  };
}

// resolveDIDKey dereferences a did:key DID or DID URL: the DID document for a
// DID, the verification method for DID#fingerprint.
export async function resolveDIDKey(url) {
  const [did, fragment] = url.split('#');
  const doc = didKeyDocument(did);
  if(fragment === undefined) {
    return doc;
  }
  const vm = didKeyMethod(did);
  if(vm.id !== url) {
    throw new Error(`no verification method ${url}`);
  }
  await Ed25519Multikey.from(vm); // rejects a malformed key
  return vm;
}

// documentLoader returns a jsonld document loader over the bundled contexts
// and did:key. Any other URL throws: the scripts never fetch.
export function documentLoader({contexts = loadContexts()} = {}) {
  return async url => {
    if(contexts.has(url)) {
      return {contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url))};
    }
    if(url.startsWith('did:key:')) {
      return {contextUrl: null, documentUrl: url, document: await resolveDIDKey(url)};
    }
    throw new Error(`offline document loader: unknown URL ${url}`);
  };
}

// keyFromSeed derives the Ed25519 Multikey pair of a 32-byte hex seed, with
// its did:key DID and verification method ID.
export async function keyFromSeed(seedHex) {
  const seed = Buffer.from(seedHex, 'hex');
  if(seed.length !== 32 || seed.toString('hex') !== seedHex.toLowerCase()) {
    throw new Error('seed must be 32 bytes of hex');
  }
  const key = await Ed25519Multikey.generate({seed});
  const did = `did:key:${key.publicKeyMultibase}`;
  key.controller = did;
  key.id = `${did}#${key.publicKeyMultibase}`;
  // The same key as a node KeyObject, for jose (PKCS#8 of the seed).
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const keyObject = createPrivateKey({key: pkcs8, format: 'der', type: 'pkcs8'});
  return {key, did, methodID: key.id, keyObject};
}

export async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function readJSON() {
  return JSON.parse(await readStdin());
}

export function writeJSON(v) {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}

// errorText flattens a jsonld-signatures / vc error into one message.
export function errorText(err) {
  if(!err) {
    return null;
  }
  if(Array.isArray(err)) {
    return err.map(errorText).join('; ');
  }
  if(err.errors) {
    return errorText(err.errors);
  }
  return err.message || String(err);
}

// main runs fn and turns a thrown error into a message and exit code 1.
export function main(fn) {
  fn().catch(err => {
    process.stderr.write(`${err && err.stack || err}\n`);
    process.exitCode = 1;
  });
}

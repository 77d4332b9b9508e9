// jwt-verify: verifies an application/vc+jwt with the jose package.
//
// stdin:  the compact JWS
// stdout: {"verified": bool, "error": string|null, "header": {...}, "payload": {...}}
//
// The key is the did:key verification method named by the kid header; jose
// checks the signature with it, alg EdDSA (or its fully specified name
// Ed25519), typ vc+jwt, and the JWT time claims if the payload has any.

import {createPublicKey} from 'node:crypto';

import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {decodeProtectedHeader, jwtVerify} from 'jose';

import {main, readStdin, resolveDIDKey, writeJSON} from './lib.mjs';

async function keyOf(kid) {
  if(typeof kid !== 'string' || !kid.startsWith('did:key:') || !kid.includes('#')) {
    throw new Error(`kid is not a did:key verification method: ${kid}`);
  }
  const vm = await resolveDIDKey(kid);
  const jwk = await Ed25519Multikey.toJwk({keyPair: await Ed25519Multikey.from(vm)});
  return createPublicKey({key: jwk, format: 'jwk'});
}

main(async () => {
  const token = (await readStdin()).trim();
  let header = null;
  try {
    header = decodeProtectedHeader(token);
    const {payload} = await jwtVerify(token, await keyOf(header.kid), {
      algorithms: ['EdDSA', 'Ed25519'],
      typ: 'vc+jwt',
    });
    writeJSON({verified: true, error: null, header, payload});
  } catch(err) {
    writeJSON({verified: false, error: `${err.code ? err.code + ': ' : ''}${err.message}`, header});
  }
});

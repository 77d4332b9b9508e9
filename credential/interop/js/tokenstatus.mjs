// tokenstatus: IETF Token Status List with @sd-jwt/jwt-status-list.
//
//   node tokenstatus.mjs read     stdin {"token", "publicJwk"}
//     stdout {"verified", "error", "sub", "bits", "length", "set"}: the
//     Status List Token's signature checked with the issuer's public JWK
//     (Ed25519, EdDSA; node:crypto) and its typ; then the list read by
//     getListFromStatusListJWT, "set" the [index, value] pairs of its
//     entries other than 0.
//   node tokenstatus.mjs create   stdin [{"length", "bits", "set"}]
//     stdout [{"lst"}]: lists made with StatusList.setStatus and
//     compressStatusList.

import {createPublicKey, verify} from 'node:crypto';

import {StatusList, getListFromStatusListJWT} from '@sd-jwt/jwt-status-list';

import {errorText, main, readJSON, writeJSON} from './lib.mjs';

function read({token, publicJwk}) {
  try {
    const [h, p, s] = token.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url'));
    if(header.typ !== 'statuslist+jwt' || header.alg !== 'EdDSA') {
      throw new Error(`header ${JSON.stringify(header)}`);
    }
    const key = createPublicKey({key: publicJwk, format: 'jwk'});
    if(!verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'))) {
      throw new Error('bad signature');
    }
    const payload = JSON.parse(Buffer.from(p, 'base64url'));
    const list = getListFromStatusListJWT(token);
    const set = [];
    const length = list.statusList.length;
    for(let i = 0; i < length; i++) {
      const v = list.getStatus(i);
      if(v !== 0) {
        set.push([i, v]);
      }
    }
    return {verified: true, error: null, sub: payload.sub, bits: list.getBitsPerStatus(), length, set};
  } catch(err) {
    return {verified: false, error: errorText(err)};
  }
}

function create({length, bits, set}) {
  const list = new StatusList(new Array(length).fill(0), bits);
  for(const [i, v] of set) {
    list.setStatus(i, v);
  }
  return {lst: list.compressStatusList()};
}

main(async () => {
  const cmd = process.argv[2];
  const input = await readJSON();
  switch(cmd) {
  case 'read':
    writeJSON(read(input));
    break;
  case 'create':
    writeJSON(input.map(create));
    break;
  default:
    throw new Error(`unknown command ${cmd}`);
  }
});

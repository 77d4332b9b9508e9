// jwt-sign: secures a credential as application/vc+jwt (VC-JOSE-COSE).
//
// stdin:  {"credential": {...}, "seed": "<hex Ed25519 seed>", "typ": optional}
// stdout: the compact JWS: protected header {alg: EdDSA, typ: vc+jwt,
//         kid: the did:key verification method of the seed}, payload the
//         credential itself, signed with the jose package. "typ" replaces
//         the header's typ (for negative tests).

import {CompactSign} from 'jose';

import {keyFromSeed, main, readJSON} from './lib.mjs';

main(async () => {
  const input = await readJSON();
  const {methodID, keyObject} = await keyFromSeed(input.seed);
  const payload = new TextEncoder().encode(JSON.stringify(input.credential));
  const token = await new CompactSign(payload)
    .setProtectedHeader({alg: 'EdDSA', typ: input.typ ?? 'vc+jwt', kid: methodID})
    .sign(keyObject);
  process.stdout.write(token + '\n');
});

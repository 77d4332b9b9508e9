// di-sign: signs a credential with a Data Integrity proof.
//
// stdin:  {"credential": {...}, "seed": "<hex Ed25519 seed>", "created": "<XML datetime>",
//          "cryptosuite": "eddsa-rdfc-2022" (default) | "eddsa-jcs-2022"}
// stdout: the signed credential. The verification method is the did:key of the seed.
// Signing goes through @digitalbazaar/vc issue(), the reference issuer.

import * as vc from '@digitalbazaar/vc';

import {documentLoader, keyFromSeed, main, readJSON, writeJSON} from './lib.mjs';
import {RDFC, signSuite} from './suites.mjs';

main(async () => {
  const input = await readJSON();
  const {key} = await keyFromSeed(input.seed);
  const suite = signSuite(input.cryptosuite || RDFC, {key, date: input.created});
  const signed = await vc.issue({
    credential: input.credential,
    suite,
    documentLoader: documentLoader(),
  });
  writeJSON(signed);
});

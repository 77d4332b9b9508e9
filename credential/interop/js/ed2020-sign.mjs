// ed2020-sign: signs a credential with an Ed25519Signature2020 proof, the
// legacy suite of @digitalbazaar/ed25519-signature-2020 (verification only on
// the Go side).
//
// stdin:  {"credential": {...}, "seed": "<hex Ed25519 seed>", "created": "<XML datetime>"}
// stdout: the signed credential. The verification method is the did:key of the
//         seed (a Multikey, as lib.mjs resolves it); the credential's @context
//         must name https://w3id.org/security/suites/ed25519-2020/v1 (the
//         suite adds it when it is missing).
// Signing goes through @digitalbazaar/vc issue(), the reference issuer.

import * as vc from '@digitalbazaar/vc';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';

import {documentLoader, keyFromSeed, main, readJSON, writeJSON} from './lib.mjs';

main(async () => {
  const input = await readJSON();
  const {key} = await keyFromSeed(input.seed);
  const suite = new Ed25519Signature2020({signer: key.signer(), date: input.created});
  suite.verificationMethod = key.id;
  const signed = await vc.issue({
    credential: input.credential,
    suite,
    documentLoader: documentLoader(),
  });
  writeJSON(signed);
});

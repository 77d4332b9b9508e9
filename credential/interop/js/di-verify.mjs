// di-verify: verifies the Data Integrity proof of a credential.
//
// stdin:  a secured credential (eddsa-rdfc-2022 or eddsa-jcs-2022 proof)
// stdout: {"verified": bool, "error": string|null,
//          "credential": {"verified": bool, "error": string|null}}
// With --batch, stdin is an array of credentials and stdout an array of
// verdicts, in order.
//
// "verified" is the proof check of jsonld-signatures with the assertionMethod
// purpose: the signature, the key resolved from the did:key verification
// method, and that the controller document lists it under assertionMethod.
// "credential" is the whole @digitalbazaar/vc verifyCredential check, which
// adds the credential's own rules (issuer = the method's controller, dates).

import jsigs from 'jsonld-signatures';
import * as vc from '@digitalbazaar/vc';

import {documentLoader, errorText, main, readJSON, writeJSON} from './lib.mjs';
import {verifySuites} from './suites.mjs';

const {purposes: {AssertionProofPurpose}} = jsigs;

async function verify(credential, loader) {
  const proof = await jsigs.verify(structuredClone(credential), {
    suite: verifySuites(),
    purpose: new AssertionProofPurpose(),
    documentLoader: loader,
  });
  const full = await vc.verifyCredential({
    credential: structuredClone(credential),
    suite: verifySuites(),
    documentLoader: loader,
  });
  return {
    verified: proof.verified,
    error: errorText(proof.error),
    credential: {verified: full.verified, error: errorText(full.error)},
  };
}

main(async () => {
  const input = await readJSON();
  const loader = documentLoader();
  if(!process.argv.includes('--batch')) {
    writeJSON(await verify(input, loader));
    return;
  }
  const out = [];
  for(const credential of input) {
    out.push(await verify(credential, loader));
  }
  writeJSON(out);
});

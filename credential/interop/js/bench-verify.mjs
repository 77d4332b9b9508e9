// bench-verify: how many eddsa-rdfc-2022 proofs per second the reference
// verifier checks.
//
// stdin:  a credential with an eddsa-rdfc-2022 proof
// args:   [N] verifications (default 200), after N/10 (at least 5) warm-up ones
// stdout: {"n": N, "seconds": s, "perSecond": N/s, "mode": "sequential"}
//
// The reference is async; each verification is awaited before the next
// starts (sequential), which is what one caller verifying one credential
// sees. Every run must verify, or the script fails.

import jsigs from 'jsonld-signatures';
import {cryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';

import {documentLoader, errorText, main, readJSON, writeJSON} from './lib.mjs';

const {purposes: {AssertionProofPurpose}} = jsigs;

main(async () => {
  const credential = await readJSON();
  const n = Number(process.argv[2] || 200);
  const loader = documentLoader();
  const once = async () => {
    const result = await jsigs.verify(structuredClone(credential), {
      suite: new DataIntegrityProof({cryptosuite}),
      purpose: new AssertionProofPurpose(),
      documentLoader: loader,
    });
    if(!result.verified) {
      throw new Error(`verification failed: ${errorText(result.error)}`);
    }
  };
  for(let i = 0; i < Math.max(5, Math.floor(n / 10)); i++) {
    await once();
  }
  const start = process.hrtime.bigint();
  for(let i = 0; i < n; i++) {
    await once();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  writeJSON({n, seconds, perSecond: n / seconds, mode: 'sequential'});
});

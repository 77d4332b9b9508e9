// The reference cryptosuites by name, for signing and for verifying.

import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as rdfc} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {
  createSignCryptosuite as jcsSign,
  createVerifyCryptosuite as jcsVerify,
} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';

export const RDFC = 'eddsa-rdfc-2022';
export const JCS = 'eddsa-jcs-2022';

// signSuite returns a DataIntegrityProof that signs with key (a Multikey pair
// with a secret key) at date.
export function signSuite(name, {key, date}) {
  const signer = key.signer();
  switch(name) {
  case RDFC:
    return new DataIntegrityProof({signer, date, cryptosuite: rdfc});
  case JCS:
    return new DataIntegrityProof({signer, date, cryptosuite: jcsSign()});
  }
  throw new Error(`unknown cryptosuite ${name}`);
}

// verifySuites returns one verifying DataIntegrityProof per cryptosuite.
export function verifySuites() {
  return [
    new DataIntegrityProof({cryptosuite: rdfc}),
    new DataIntegrityProof({cryptosuite: jcsVerify()}),
  ];
}

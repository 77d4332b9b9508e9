// sdjwt: SD-JWT VC (application/dc+sd-jwt) with @sd-jwt/sd-jwt-vc.
//
//   node sdjwt.mjs verify   stdin {"token", "issuerJwk", "nonce", "now"}
//     stdout {"verified", "error", "payload", "kb"}: the SD-JWT VC checked
//     with the issuer's public JWK (Ed25519, EdDSA), its Disclosures, and,
//     when nonce is set, its key-binding JWT against cnf.jwk.
//   node sdjwt.mjs issue    stdin {"claims", "frame", "issuerJwk", "kid",
//     "holderJwk", "present", "nonce", "aud", "iat"}
//     stdout {"issued", "presented"}: claims issued with the disclosure
//     frame by the issuer's private JWK, then presented with the
//     presentation frame and a key-binding JWT by the holder's private JWK.
//
// Keys are Ed25519 JWKs (private ones with "d"); signatures come from
// node:crypto, digests and salts from @sd-jwt/crypto-nodejs.

import {createPrivateKey, createPublicKey, sign, verify} from 'node:crypto';

import {digest, generateSalt} from '@sd-jwt/crypto-nodejs';
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';

import {main, readStdin, writeJSON} from './lib.mjs';

const b64url = buf => Buffer.from(buf).toString('base64url');

function signerOf(privateJwk) {
  const key = createPrivateKey({key: privateJwk, format: 'jwk'});
  return data => b64url(sign(null, Buffer.from(data), key));
}

function verifierOf(publicJwk) {
  const key = createPublicKey({key: publicJwk, format: 'jwk'});
  return (data, sig) => verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
}

// kbVerifier checks a key-binding JWT with the credential's cnf.jwk.
function kbVerifier(data, sig, payload) {
  const jwk = payload?.cnf?.jwk;
  if(!jwk) {
    throw new Error('no cnf.jwk');
  }
  return verifierOf(jwk)(data, sig);
}

async function runVerify(input) {
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    verifier: verifierOf(input.issuerJwk),
    kbVerifier,
  });
  try {
    const res = await sdjwt.verify(input.token, {
      currentDate: input.now,
      keyBindingNonce: input.nonce || undefined,
    });
    return {verified: true, error: null, payload: res.payload, kb: res.kb ?? null};
  } catch(err) {
    return {verified: false, error: `${err.name}: ${err.message}`};
  }
}

async function runIssue(input) {
  const publicJwk = ({kty, crv, x}) => ({kty, crv, x});
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    saltGenerator: generateSalt,
    signer: signerOf(input.issuerJwk),
    signAlg: 'EdDSA',
    verifier: verifierOf(publicJwk(input.issuerJwk)),
    kbSigner: signerOf(input.holderJwk),
    kbSignAlg: 'EdDSA',
    kbVerifier,
  });
  const claims = {...input.claims, cnf: {jwk: publicJwk(input.holderJwk)}};
  const issued = await sdjwt.issue(claims, input.frame, {header: {kid: input.kid}});
  const presented = await sdjwt.present(issued, input.present, {
    kb: {payload: {iat: input.iat, aud: input.aud, nonce: input.nonce}},
  });
  return {issued, presented};
}

main(async () => {
  const input = JSON.parse(await readStdin());
  switch(process.argv[2]) {
  case 'verify':
    writeJSON(await runVerify(input));
    break;
  case 'issue':
    writeJSON(await runIssue(input));
    break;
  default:
    throw new Error(`usage: sdjwt.mjs verify|issue`);
  }
});

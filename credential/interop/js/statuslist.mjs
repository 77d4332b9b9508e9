// statuslist: Bitstring Status List with the reference implementation,
// @digitalbazaar/vc-bitstring-status-list (and @digitalbazaar/bitstring).
//
// node statuslist.mjs decode
//   stdin:  an array of BitstringStatusListCredentials
//   stdout: an array of {"length": bits, "set": [indexes of set bits]}, in
//           order: credentialSubject.encodedList decoded by decodeList and
//           read bit by bit with getStatus.
//
// node statuslist.mjs create
//   stdin:  an array of {"length": bits, "set": [indexes], and, to also
//           issue a list credential, "id", "statusPurpose", "seed" (hex
//           Ed25519 seed), "created" (XML datetime)}
//   stdout: an array of {"encodedList": "u…", "credential": {...}|null}:
//           the list made with createList and setStatus; the credential is
//           createCredential's, with the seed's did:key as issuer, issued by
//           @digitalbazaar/vc with an eddsa-rdfc-2022 proof.
//
// node statuslist.mjs check
//   stdin:  {"lists": {"<URL>": <list credential>, ...},
//            "credentials": [<credential with a BitstringStatusListEntry>, ...]}
//   stdout: an array of {"verified": bool, "status": bool|null,
//           "error": string|null}, one per credential: checkStatus with the
//           lists served by the offline document loader under their URLs,
//           which verifies each list credential's proof (eddsa-rdfc-2022 or
//           eddsa-jcs-2022) and that its issuer is the credential's.

import * as vc from '@digitalbazaar/vc';
import {
  checkStatus, createCredential, createList, decodeList,
} from '@digitalbazaar/vc-bitstring-status-list';

import {documentLoader, errorText, keyFromSeed, main, readJSON, writeJSON} from './lib.mjs';
import {RDFC, signSuite, verifySuites} from './suites.mjs';

async function decode(listCredential) {
  const list = await decodeList({encodedList: listCredential.credentialSubject.encodedList});
  const set = [];
  for(let i = 0; i < list.length; i++) {
    if(list.getStatus(i)) {
      set.push(i);
    }
  }
  return {length: list.length, set};
}

async function create(input, loader) {
  const list = await createList({length: input.length});
  for(const i of input.set) {
    list.setStatus(i, true);
  }
  const encodedList = await list.encode();
  if(!input.seed) {
    return {encodedList, credential: null};
  }
  const {key, did} = await keyFromSeed(input.seed);
  const unsigned = await createCredential({id: input.id, list, statusPurpose: input.statusPurpose});
  unsigned.issuer = did;
  const credential = await vc.issue({
    credential: unsigned,
    suite: signSuite(RDFC, {key, date: input.created}),
    documentLoader: loader,
  });
  return {encodedList, credential};
}

async function check(credential, loader) {
  const result = await checkStatus({credential, documentLoader: loader, suite: verifySuites()});
  const first = result.results && result.results[0];
  return {
    verified: result.verified,
    status: first && typeof first.status === 'boolean' ? first.status : null,
    error: causes(result.error || (first && first.error)),
  };
}

// causes is errorText of err followed by those of its chain of causes.
function causes(err) {
  const texts = [];
  for(let e = err; e && texts.length < 4; e = e.cause) {
    texts.push(errorText(e));
  }
  return texts.length ? texts.join(': ') : null;
}

main(async () => {
  const mode = process.argv[2];
  const input = await readJSON();
  const base = documentLoader();
  const out = [];
  switch(mode) {
  case 'decode':
    for(const listCredential of input) {
      out.push(await decode(listCredential));
    }
    break;
  case 'create':
    for(const list of input) {
      out.push(await create(list, base));
    }
    break;
  case 'check': {
    const lists = new Map(Object.entries(input.lists));
    const loader = async url => {
      if(lists.has(url)) {
        return {contextUrl: null, documentUrl: url, document: structuredClone(lists.get(url))};
      }
      return base(url);
    };
    for(const credential of input.credentials) {
      out.push(await check(credential, loader));
    }
    break;
  }
  default:
    throw new Error(`usage: statuslist.mjs decode|create|check (got ${mode})`);
  }
  writeJSON(out);
});

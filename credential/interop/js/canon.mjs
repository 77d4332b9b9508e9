// canon: the RDFC-1.0 canonical N-Quads of a JSON-LD document.
//
// stdin:  a JSON-LD document
// stdout: its canonical N-Quads, exactly as eddsa-rdfc-2022 hashes them
//
// The options are those of @digitalbazaar/eddsa-rdfc-2022-cryptosuite's
// canonize: jsonld toRDF in safe mode (an undefined term or relative IRI is
// an error), base null, rdfDirection i18n-datatype, then rdf-canonize with
// algorithm RDFC-1.0. Flags: --unsafe turns safe mode off; --batch reads a
// JSON array of documents and writes a JSON array of {"nquads": string} or
// {"error": string}, one per document, in one process; --max-work-factor=N
// replaces rdf-canonize's bound on N-degree hashing (default 1, as the
// cryptosuite runs it: at most (non-unique blank nodes)^N deep iterations;
// "Infinity" for none).

import jsonld from 'jsonld';
import * as rdfCanonize from 'rdf-canonize';

import {documentLoader, main, readJSON, writeJSON} from './lib.mjs';

async function canonize(doc, {safe, maxWorkFactor}) {
  const dataset = await jsonld.toRDF(doc, {
    base: null,
    safe,
    rdfDirection: 'i18n-datatype',
    produceGeneralizedRdf: false,
    documentLoader: documentLoader(),
  });
  return rdfCanonize.canonize(dataset, {
    algorithm: 'RDFC-1.0',
    format: 'application/n-quads',
    maxWorkFactor,
  });
}

main(async () => {
  const input = await readJSON();
  const safe = !process.argv.includes('--unsafe');
  const work = process.argv.find(a => a.startsWith('--max-work-factor='));
  const maxWorkFactor = work ? Number(work.split('=')[1]) : 1;
  if(!process.argv.includes('--batch')) {
    process.stdout.write(await canonize(input, {safe, maxWorkFactor}));
    return;
  }
  const out = [];
  for(const doc of input) {
    try {
      out.push({nquads: await canonize(doc, {safe, maxWorkFactor})});
    } catch(err) {
      out.push({error: `${err.name}: ${err.message}`});
    }
  }
  writeJSON(out);
});

// canon: the RDFC-1.0 canonical N-Quads of a JSON-LD document.
//
// stdin:  a JSON-LD document
// stdout: its canonical N-Quads, exactly as eddsa-rdfc-2022 hashes them
//
// The options are those of @digitalbazaar/eddsa-rdfc-2022-cryptosuite's
// canonize: jsonld toRDF in safe mode (an undefined term or relative IRI is
// an error), base null, rdfDirection i18n-datatype, then rdf-canonize with
// algorithm RDFC-1.0. Flags: --unsafe turns safe mode off.

import jsonld from 'jsonld';
import * as rdfCanonize from 'rdf-canonize';

import {documentLoader, main, readJSON} from './lib.mjs';

main(async () => {
  const doc = await readJSON();
  const safe = !process.argv.includes('--unsafe');
  const dataset = await jsonld.toRDF(doc, {
    base: null,
    safe,
    rdfDirection: 'i18n-datatype',
    produceGeneralizedRdf: false,
    documentLoader: documentLoader(),
  });
  const nquads = await rdfCanonize.canonize(dataset, {
    algorithm: 'RDFC-1.0',
    format: 'application/n-quads',
  });
  process.stdout.write(nquads);
});

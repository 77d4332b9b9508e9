// The UI's entry: a hash router over the four pages. Every page writes
// text with textContent only: nothing a node or a credential says is
// ever parsed as HTML.
import * as explorer from './explorer.js';
import * as didPage from './did.js';
import * as verify from './verify.js';
import * as issuer from './issuer.js';

const pages = { explorer, did: didPage, verify, issuer };
const routes = { '': 'explorer', '/': 'explorer', '/did': 'did', '/verify': 'verify', '/issuer': 'issuer' };
let current = null;

function route() {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const name = routes[path] || 'explorer';
  if (current && current !== name) pages[current].leave?.();
  for (const [n] of Object.entries(pages)) {
    document.getElementById('page-' + n).hidden = n !== name;
  }
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const changed = current !== null && current !== name;
  current = name;
  pages[name].enter(new URLSearchParams(query || ''));
  if (changed) document.getElementById('main').focus({ preventScroll: true });
}

for (const p of Object.values(pages)) p.init();
addEventListener('hashchange', route);
route();

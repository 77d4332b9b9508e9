// The DID page: a DID's document, its metadata and its version history,
// read from the resolver (GET /1.0/identifiers/{did} with versionId and
// versionTime).
import { api, el, clear, showError, pretty, short } from './util.js';

// MAX_VERSIONS bounds the resolutions one history makes.
const MAX_VERSIONS = 50;
const RESULT = 'application/did-resolution';
let seq = 0;

export function init() {
  document.getElementById('did-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const d = document.getElementById('did-input').value.trim();
    if (d) location.hash = '#/did?did=' + encodeURIComponent(d);
  });
}

export function enter(q) {
  const d = q.get('did');
  if (d) {
    document.getElementById('did-input').value = d;
    lookUp(d, q.get('versionId'));
  }
}

async function resolve(d, params) {
  const qs = new URLSearchParams(params || {}).toString();
  const { data } = await api('/1.0/identifiers/' + encodeURIComponent(d) + (qs ? '?' + qs : ''), { accept: RESULT, ok: [200, 410] });
  if (!data || typeof data !== 'object' || !data.didDocumentMetadata) throw new Error('the node gave no resolution result');
  return data;
}

async function lookUp(d, versionId) {
  const my = ++seq;
  showError('did-error', '');
  document.getElementById('did-out').hidden = true;
  let latest, shown;
  try {
    latest = await resolve(d);
    shown = versionId ? await resolve(d, { versionId }) : latest;
  } catch (e) {
    if (my === seq) showError('did-error', 'Cannot resolve ' + d + ': ' + (e.body?.didResolutionMetadata?.error || e.message));
    return;
  }
  if (my !== seq) return;
  const md = shown.didDocumentMetadata;
  document.getElementById('did-version').textContent = (md.versionNumber ?? '?') + (md.versionId ? ' (' + short(md.versionId, 8) + ')' : '');
  document.getElementById('did-created').textContent = md.created || '–';
  document.getElementById('did-updated').textContent = md.updated || '–';
  document.getElementById('did-state').textContent = latest.didDocumentMetadata.deactivated ? 'deactivated' : 'active';
  document.getElementById('did-doc').textContent = pretty(shown.didDocument);
  document.getElementById('did-out').hidden = false;
  history(d, latest, shown, my);
}

// history walks the versions forward: the one at the creation time,
// then each nextVersionId, at most MAX_VERSIONS. versionTime selects at
// the second, so versions made in the second of the creation before the
// one it selects are found backward (earlier).
async function history(d, latest, shown, my) {
  const list = document.getElementById('did-history');
  const note = document.getElementById('did-history-note');
  clear(list);
  note.hidden = true;
  const md = latest.didDocumentMetadata;
  let res;
  try {
    res = md.created ? await resolve(d, { versionTime: md.created }) : latest;
  } catch {
    res = latest;
  }
  const versions = [];
  while (res && my === seq && versions.length < MAX_VERSIONS) {
    versions.push(res.didDocumentMetadata);
    const next = res.didDocumentMetadata.nextVersionId;
    if (!next) break;
    try {
      res = await resolve(d, { versionId: next });
    } catch {
      break;
    }
  }
  if (my !== seq) return;
  await earlier(d, versions, my);
  if (my !== seq) return;
  const first = versions[0]?.versionNumber;
  const notes = [];
  if (first > 1) notes.push(`Versions 1 to ${first - 1} could not be read.`);
  if (versions.length === MAX_VERSIONS && versions[versions.length - 1].nextVersionId) notes.push(`Only the first ${MAX_VERSIONS} versions are listed.`);
  if (notes.length) {
    note.textContent = notes.join(' ');
    note.hidden = false;
  }
  for (const v of versions) {
    const li = el('li', null, { 'data-version': String(v.versionNumber ?? '') });
    const a = el('a', 'Version ' + (v.versionNumber ?? '?'), { href: '#/did?did=' + encodeURIComponent(d) + '&versionId=' + encodeURIComponent(v.versionId || '') });
    if (v.versionId === shown.didDocumentMetadata.versionId) a.setAttribute('aria-current', 'true');
    li.append(a, document.createTextNode(' · ' + (v.updated || v.created || '') + ' · block ' + (v.blockHeight ?? '?') + ' · ' + short(v.versionId || '', 8)));
    list.append(li);
  }
}

// earlier adds, in place, the versions before the earliest of versions
// that versionTime could not reach: the operations of the DID in the
// block of that version name the versions they replaced (previous),
// which resolve by versionId. Bounded by MAX_VERSIONS resolutions.
async function earlier(d, versions, my) {
  const known = new Set(versions.map((v) => v.versionId));
  let budget = MAX_VERSIONS;
  while (versions.length && versions[0].versionNumber > 1 && budget > 0 && my === seq) {
    let block;
    try {
      ({ data: block } = await api('/v1/blocks/' + encodeURIComponent(versions[0].blockHeight)));
    } catch {
      return;
    }
    const found = [];
    for (const tx of block.txs || []) {
      const p = tx.payload;
      if (!p || typeof p !== 'object' || p.did !== d || typeof p.previous !== 'string' || known.has(p.previous) || budget-- <= 0) continue;
      known.add(p.previous);
      try {
        found.push((await resolve(d, { versionId: p.previous })).didDocumentMetadata);
      } catch {
        // not resolvable: left out
      }
    }
    if (!found.length) return;
    versions.unshift(...found);
    versions.sort((a, b) => (a.versionNumber ?? 0) - (b.versionNumber ?? 0));
  }
}

// The issuer console, behind the API token: the token is kept in this
// tab's sessionStorage and sent as a bearer header (no cookies). It
// issues from a form generated from a bundled JSON Schema, lists what an
// issuer issued, revokes and suspends, and shows OpenID4VCI offers as QR
// codes.
import { api, el, clear, showError, pretty, short } from './util.js';

const KEY = 'idmesh.token';
const V2 = 'https://www.w3.org/ns/credentials/v2';
const EXAMPLES = 'https://www.w3.org/ns/credentials/examples/v2';
const MAX_DEPTH = 3;
let schema = null; // the chosen schema
let issuers = [];
let next = '';

const token = () => sessionStorage.getItem(KEY) || '';
const $ = (id) => document.getElementById(id);

export function init() {
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, $('token-input').value.trim());
    $('token-input').value = '';
    load();
  });
  $('token-forget').addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    $('iss-body').hidden = true;
    showError('iss-error', '');
  });
  $('iss-select').addEventListener('change', () => listIssued(true));
  $('iss-create').addEventListener('click', createIssuer);
  $('schema-select').addEventListener('change', () => pickSchema($('schema-select').value));
  $('issue-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    issue();
  });
  $('offer-make').addEventListener('click', offer);
  $('issued-more').addEventListener('click', () => listIssued(false));
}

export function enter() {
  if (token()) load();
}

async function call(path, opts = {}) {
  try {
    return await api(path, { ...opts, token: token() });
  } catch (e) {
    if (e.status === 401) showError('iss-error', 'The token was refused: enter the node\'s API token.');
    throw e;
  }
}

async function load() {
  showError('iss-error', '');
  try {
    const { data } = await call('/v1/issuers');
    issuers = data.issuers || [];
    const sel = $('iss-select');
    const keep = sel.value;
    clear(sel);
    for (const i of issuers) sel.append(el('option', i.name + ' (' + short(i.did, 12) + ')', { value: i.name }));
    if (issuers.some((i) => i.name === keep)) sel.value = keep;
    $('iss-body').hidden = false;
    if (!$('schema-select').options.length) await loadSchemas();
    await listIssued(true);
  } catch (e) {
    if (e.status !== 401) showError('iss-error', e.message);
  }
}

async function createIssuer() {
  const name = $('iss-new').value.trim();
  if (!name) {
    showError('iss-error', 'Enter a name for the new issuer.');
    return;
  }
  showError('iss-error', '');
  try {
    await call('/v1/issuers', { method: 'POST', body: { name } });
    $('iss-new').value = '';
    $('iss-select').value = name;
    await load();
    $('iss-select').value = name;
    await listIssued(true);
  } catch (e) {
    showError('iss-error', e.message);
  }
}

function current() {
  return issuers.find((i) => i.name === $('iss-select').value);
}

async function loadSchemas() {
  const { data } = await api('/schemas');
  const sel = $('schema-select');
  clear(sel);
  for (const s of data.schemas) sel.append(el('option', s.title, { value: s.name }));
  if (data.schemas.length) await pickSchema(data.schemas[0].name);
}

async function pickSchema(name) {
  const { data } = await api('/schemas/' + encodeURIComponent(name), { accept: 'application/schema+json' });
  schema = { name, doc: data };
  const fs = $('schema-fields');
  for (const c of [...fs.children]) if (c.tagName !== 'LEGEND') c.remove();
  const subject = resolveRef(data, data.properties?.credentialSubject || {});
  fields(fs, data, subject, 'credentialSubject', 0);
  const cfg = $('offer-config');
  clear(cfg);
  for (const f of ['ldp_vc', 'jwt_vc_json', 'sd_jwt']) cfg.append(el('option', f, { value: name + '_' + f }));
}

function resolveRef(doc, s) {
  if (s && typeof s.$ref === 'string' && s.$ref.startsWith('#/$defs/')) {
    const def = doc.$defs?.[s.$ref.slice(8)] || {};
    const { $ref, ...rest } = s;
    return { ...def, ...rest };
  }
  return s || {};
}

// fields adds an input per property of an object schema (nested objects
// as fieldsets, to MAX_DEPTH), each with its label.
function fields(parent, doc, obj, path, depth) {
  const required = obj.required || [];
  for (const [k, raw] of Object.entries(obj.properties || {})) {
    const p = resolveRef(doc, raw);
    const id = 'f-' + (path + '.' + k).replace(/[^A-Za-z0-9_-]/g, '-');
    const label = k + (required.includes(k) ? ' (required)' : '');
    if (p.type === 'object' && p.properties && depth < MAX_DEPTH) {
      const sub = el('fieldset');
      sub.append(el('legend', label));
      fields(sub, doc, p, path + '.' + k, depth + 1);
      parent.append(sub);
      continue;
    }
    const wrap = el('div', null, { class: 'field' });
    wrap.append(el('label', label, { for: id }));
    let input;
    if (Array.isArray(p.enum)) {
      input = el('select', null, { id });
      if (!required.includes(k)) input.append(el('option', '—', { value: '' }));
      for (const v of p.enum) input.append(el('option', v, { value: String(v) }));
    } else if (p.const !== undefined) {
      input = el('input', null, { id, type: 'text', readonly: '' });
      input.value = JSON.stringify(p.const);
      input.dataset.const = 'true';
    } else {
      const type = p.type === 'integer' || p.type === 'number' ? 'number' : p.type === 'boolean' ? 'checkbox' : p.format === 'date' ? 'date' : 'text';
      input = el('input', null, { id, type, autocomplete: 'off' });
      if (p.maxLength) input.maxLength = p.maxLength;
    }
    input.dataset.path = path + '.' + k;
    input.dataset.kind = p.const !== undefined ? 'const' : p.type || 'string';
    if (p.description) input.setAttribute('title', p.description);
    wrap.append(input);
    parent.append(wrap);
  }
}

// subject reads the form into the credentialSubject object.
function subject() {
  const out = {};
  for (const input of $('schema-fields').querySelectorAll('[data-path]')) {
    let v;
    if (input.dataset.kind === 'const') v = JSON.parse(input.value);
    else if (input.type === 'checkbox') v = input.checked;
    else if (input.value === '') continue;
    else if (input.dataset.kind === 'integer' || input.dataset.kind === 'number') v = Number(input.value);
    else v = input.value;
    const keys = input.dataset.path.split('.').slice(1);
    let o = out;
    for (const k of keys.slice(0, -1)) o = o[k] ??= {};
    o[keys[keys.length - 1]] = v;
  }
  return out;
}

function credentialType(doc) {
  for (const c of doc.properties?.type?.allOf || []) {
    const t = c.contains?.const;
    if (t && t !== 'VerifiableCredential') return t;
  }
  return null;
}

async function issue() {
  const iss = current();
  if (!iss || !schema) {
    showError('iss-error', 'Create or choose an issuer first.');
    return;
  }
  showError('iss-error', '');
  const type = ['VerifiableCredential'];
  const t = credentialType(schema.doc);
  if (t) type.push(t);
  const credential = {
    '@context': [V2, EXAMPLES],
    type,
    issuer: iss.did,
    validFrom: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    credentialSubject: subject(),
    credentialSchema: { id: schema.doc.$id, type: 'JsonSchema' },
  };
  try {
    const { data } = await call('/credentials/issue', { method: 'POST', body: { credential } });
    $('issued-vc').textContent = pretty(data.verifiableCredential);
    $('issued-out').hidden = false;
    await listIssued(true);
  } catch (e) {
    showError('iss-error', 'Not issued: ' + e.message);
  }
}

async function offer() {
  const iss = current();
  if (!iss) return;
  showError('iss-error', '');
  const claims = subject();
  delete claims.id; // the wallet's key names the holder
  try {
    const { data } = await call('/issuers/' + encodeURIComponent(iss.name) + '/offers', { method: 'POST', body: { credential_configuration_id: $('offer-config').value, claims } });
    $('offer-qr').src = '/v1/qr?data=' + encodeURIComponent(data.uri);
    $('offer-uri').textContent = data.uri;
    $('offer-out').hidden = false;
  } catch (e) {
    showError('iss-error', 'No offer: ' + e.message);
  }
}

// listIssued shows the issuer's credentials with status entries, a page
// at a time.
async function listIssued(fresh) {
  const iss = current();
  const tbody = document.querySelector('#issued-table tbody');
  if (fresh) {
    clear(tbody);
    next = '';
  }
  if (!iss) return;
  try {
    const q = new URLSearchParams({ limit: '50' });
    if (next) q.set('after', next);
    const { data } = await call('/v1/issuers/' + encodeURIComponent(iss.name) + '/credentials?' + q);
    for (const c of data.credentials) tbody.append(row(c));
    next = data.next || '';
    $('issued-more').hidden = !next;
  } catch (e) {
    showError('iss-error', e.message);
  }
}

function state(c, purpose) {
  const e = c.entries.find((x) => x.purpose === purpose);
  if (e) return e.set === undefined ? 'unknown' : e.set ? 'yes' : 'no';
  const t = c.entries.find((x) => x.purpose === 'tokenStatusList');
  if (!t || t.value === undefined) return e || t ? 'unknown' : 'n/a';
  return (purpose === 'revocation' ? t.value === 1 : t.value === 2) ? 'yes' : 'no';
}

function row(c) {
  const tr = el('tr', null, { 'data-id': c.id });
  const revoked = state(c, 'revocation');
  const suspended = state(c, 'suspension');
  tr.append(el('td', c.id), el('td', revoked, { 'data-col': 'revoked' }), el('td', suspended, { 'data-col': 'suspended' }));
  const td = el('td');
  if (revoked === 'no') td.append(button('Revoke', c, 'revocation', true));
  if (revoked === 'no' && suspended === 'no') td.append(button('Suspend', c, 'suspension', true));
  if (revoked === 'no' && suspended === 'yes') td.append(button('Lift suspension', c, 'suspension', false));
  tr.append(td);
  return tr;
}

function button(text, c, purpose, status) {
  const b = el('button', text, { type: 'button', class: 'secondary', 'aria-label': text + ' ' + c.id });
  b.addEventListener('click', async () => {
    if (purpose === 'revocation' && !confirmRevoke(c.id)) return;
    b.disabled = true;
    try {
      // The same request changes a token status list entry.
      await call('/credentials/status', { method: 'POST', body: { credentialId: c.id, credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: purpose }, status } });
      await listIssued(true);
    } catch (e) {
      showError('iss-error', text + ': ' + e.message);
      b.disabled = false;
    }
  });
  return b;
}

// confirmRevoke asks before a revocation, which is final. A test page
// may set data-confirm="no" on <body> to skip the dialog.
function confirmRevoke(id) {
  if (document.body.dataset.confirm === 'no') return true;
  return window.confirm('Revoke ' + id + '? Revocation is final.');
}

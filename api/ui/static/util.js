// Small helpers shared by the pages.

// el makes an element with text content (never HTML) and attributes.
export function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  return e;
}

// clear removes an element's children.
export function clear(e) {
  while (e.firstChild) e.removeChild(e.firstChild);
}

// showError shows a message in an alert element, or hides it.
export function showError(id, msg) {
  const e = document.getElementById(id);
  e.textContent = msg || '';
  e.hidden = !msg;
}

// ApiError is a failed call: its message is the problem's detail.
export class ApiError extends Error {
  constructor(status, body) {
    super(problemText(status, body));
    this.status = status;
    this.body = body;
  }
}

function problemText(status, body) {
  if (body && typeof body === 'object' && (body.detail || body.title)) {
    return `${body.title || 'Error'}${body.detail ? ': ' + body.detail : ''} (${status})`;
  }
  return `The node answered ${status}`;
}

// api calls the node: JSON in and out. ok lists the statuses that are
// answers rather than errors (default 2xx).
export async function api(path, { method = 'GET', body, token, accept, ok, signal } = {}) {
  const headers = { Accept: accept || 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'omit', cache: 'no-store', signal });
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!(ok ? ok.includes(res.status) : res.ok)) throw new ApiError(res.status, data);
  return { status: res.status, data };
}

// pretty is indented JSON.
export function pretty(v) {
  return JSON.stringify(v, null, 2);
}

// short abbreviates a long identifier for display.
export function short(s, n = 16) {
  s = String(s);
  return s.length > 2 * n + 1 ? s.slice(0, n) + '…' + s.slice(-n) : s;
}

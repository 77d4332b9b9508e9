// The explorer: the chain's status, its validators and latest blocks,
// polled every two seconds while the page is shown.
import { api, el, clear, showError, short } from './util.js';

const POLL_MS = 2000;
const SHOWN = 10;
const blocks = new Map(); // height -> block view
let timer = null;
let active = false;

export function init() {
  document.addEventListener('visibilitychange', () => {
    if (active && !document.hidden) schedule(0);
  });
}

export function enter() {
  active = true;
  schedule(0);
}

export function leave() {
  active = false;
  clearTimeout(timer);
}

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(poll, ms);
}

async function poll() {
  if (!active || document.hidden) return;
  try {
    const { data: st } = await api('/v1/status');
    render(st);
    await loadBlocks(st.height);
    renderBlocks();
    showError('x-error', '');
  } catch (e) {
    showError('x-error', 'Cannot read the node: ' + e.message);
  }
  if (active) schedule(POLL_MS);
}

function render(st) {
  document.getElementById('x-chain').textContent = st.chain_id;
  document.getElementById('x-height').textContent = String(st.height);
  document.getElementById('x-peers').textContent = String((st.peers || []).length);
  document.getElementById('x-syncing').textContent = st.syncing ? 'yes' : 'no';
  const tbody = document.querySelector('#x-validators tbody');
  clear(tbody);
  for (const v of st.validators || []) {
    const tr = el('tr');
    tr.append(el('td', v.address), el('td', v.power));
    tbody.append(tr);
  }
}

// loadBlocks reads the newest blocks not read yet, one at a time (the
// node serves few block downloads at once).
async function loadBlocks(height) {
  for (let h = height; h >= 1 && h > height - SHOWN; h--) {
    if (blocks.has(h)) continue;
    const { data } = await api('/v1/blocks/' + h);
    blocks.set(h, data);
  }
  for (const h of blocks.keys()) if (h <= height - SHOWN) blocks.delete(h);
}

function renderBlocks() {
  const list = document.getElementById('x-blocks');
  clear(list);
  const hs = [...blocks.keys()].sort((a, b) => b - a);
  for (const h of hs) {
    const b = blocks.get(h);
    const li = el('li', null, { 'data-height': String(h) });
    li.append(el('strong', 'Block ' + h), document.createTextNode(' · ' + b.header.time + ' · ' + (b.txs || []).length + ' transaction(s) · id ' + short(b.block_id, 8)));
    if ((b.txs || []).length) {
      const ul = el('ul');
      for (const tx of b.txs) ul.append(el('li', tx.type + ' ' + short(tx.hash, 8) + txSummary(tx)));
      li.append(ul);
    }
    list.append(li);
  }
  // Commits per second over the blocks shown, from their header times.
  const cps = document.getElementById('x-cps');
  if (hs.length >= 2) {
    const newest = Date.parse(blocks.get(hs[0]).header.time);
    const oldest = Date.parse(blocks.get(hs[hs.length - 1]).header.time);
    const secs = (newest - oldest) / 1000;
    cps.textContent = secs > 0 ? ((hs.length - 1) / secs).toFixed(2) : '–';
  } else {
    cps.textContent = '–';
  }
}

function txSummary(tx) {
  const p = tx.payload;
  if (!p || typeof p !== 'object') return '';
  let s = typeof p.type === 'string' ? ' · ' + p.type : '';
  if (typeof p.did === 'string') s += ' ' + short(p.did, 20);
  else if (typeof p.id === 'string') s += ' ' + short(p.id, 20);
  return s;
}

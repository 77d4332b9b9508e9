// The verify page: a credential pasted, dropped, chosen as a file or
// scanned from a QR code is sent to POST /credentials/verify, and each
// check of the result is shown as a green or red line with its reason.
import { api, el, clear } from './util.js';

// MAX_INPUT bounds what the page sends (the node bounds bodies too).
const MAX_INPUT = 256 * 1024;
let stream = null;
let scanning = false;

export function init() {
  document.getElementById('verify-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    run(document.getElementById('verify-input').value);
  });
  document.getElementById('verify-file').addEventListener('change', (ev) => {
    const f = ev.target.files[0];
    if (f) readFile(f);
  });
  const drop = document.getElementById('drop');
  drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    const f = ev.dataTransfer.files[0];
    if (f) readFile(f);
  });
  document.getElementById('scan-start').addEventListener('click', startScan);
  document.getElementById('scan-stop').addEventListener('click', stopScan);
}

export function enter() {}

export function leave() {
  stopScan();
}

async function readFile(f) {
  if (f.size > MAX_INPUT) {
    message(`The file is ${f.size} bytes; at most ${MAX_INPUT} are verified.`);
    return;
  }
  const text = await f.text();
  document.getElementById('verify-input').value = text;
  run(text);
}

function message(text) {
  document.getElementById('scan-msg').textContent = text;
}

// parse turns the input into what the endpoint takes: a JSON object,
// or a compact token (or data: URL) as a string.
function parse(text) {
  const t = text.trim();
  if (t.startsWith('{')) return JSON.parse(t);
  if (t.startsWith('"')) return JSON.parse(t);
  return t;
}

async function run(text) {
  if (!text.trim()) {
    message('Paste a credential first.');
    return;
  }
  if (text.length > MAX_INPUT) {
    message(`The credential is over ${MAX_INPUT} bytes.`);
    return;
  }
  let vc;
  try {
    vc = parse(text);
  } catch (e) {
    show(null, 'The input is not JSON: ' + e.message);
    return;
  }
  try {
    const { data } = await api('/credentials/verify', { method: 'POST', body: { verifiableCredential: vc }, ok: [200, 400] });
    if (data && Array.isArray(data.results)) show(data);
    else show(null, (data && (data.detail || data.title)) || 'The node gave no verification result.');
  } catch (e) {
    show(null, e.message);
  }
}

// show renders a verification result: one line per check.
function show(res, failure) {
  const out = document.getElementById('verify-out');
  const sum = document.getElementById('verify-summary');
  const list = document.getElementById('verify-checks');
  const warns = document.getElementById('verify-warnings');
  clear(list);
  clear(warns);
  out.hidden = false;
  if (!res) {
    sum.textContent = 'Not verified';
    list.append(el('li', failure, { class: 'fail', 'data-check': 'request' }));
    return;
  }
  sum.textContent = res.verified ? 'Verified' : 'Not verified';
  sum.dataset.verified = String(res.verified);
  for (const r of res.results) {
    const reason = r.problem ? `${r.problem.title || r.problem.type}${r.problem.detail ? ': ' + r.problem.detail : ''}` : 'passed';
    const li = el('li', null, { class: r.verified ? 'pass' : 'fail', 'data-check': r.check });
    li.append(el('strong', (r.verified ? '✓ ' : '✗ ') + r.check), document.createTextNode(' — ' + reason));
    list.append(li);
  }
  for (const w of res.warnings || []) {
    warns.append(el('li', '⚠ ' + (w.title || w.type) + (w.detail ? ': ' + w.detail : ''), { class: 'warn' }));
  }
}

async function startScan() {
  if (!('BarcodeDetector' in window)) {
    message('This browser has no QR code scanner (BarcodeDetector): paste the credential or choose a file instead.');
    return;
  }
  if (!navigator.mediaDevices?.getUserMedia) {
    message('This browser gives the page no camera (it needs HTTPS or localhost).');
    return;
  }
  let detector;
  try {
    const formats = await window.BarcodeDetector.getSupportedFormats();
    if (!formats.includes('qr_code')) {
      message('This browser\'s BarcodeDetector reads no QR codes: paste the credential instead.');
      return;
    }
    detector = new window.BarcodeDetector({ formats: ['qr_code'] });
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
  } catch (e) {
    message('The camera could not be started: ' + e.message);
    return;
  }
  const video = document.getElementById('scan-video');
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  document.getElementById('scan-stop').hidden = false;
  message('Point the camera at the QR code.');
  scanning = true;
  const tick = async () => {
    if (!scanning) return;
    try {
      const codes = await detector.detect(video);
      if (codes.length) {
        const text = codes[0].rawValue;
        stopScan();
        document.getElementById('verify-input').value = text;
        message('Scanned a QR code.');
        run(text);
        return;
      }
    } catch {
      // a frame that could not be read: try the next
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

function stopScan() {
  scanning = false;
  if (stream) for (const t of stream.getTracks()) t.stop();
  stream = null;
  const video = document.getElementById('scan-video');
  video.srcObject = null;
  video.hidden = true;
  document.getElementById('scan-stop').hidden = true;
}

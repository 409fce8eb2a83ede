// ngx_bubble playground: a spec editor whose preview is the chart's GET URL.
//
// Every edit (debounced) minifies the spec, builds its compact URL
// /chart/<base64url(raw deflate(JSON))>.png with bubble-url.js and sets it
// as the <img> source: the real GET path, ETag and cache included.  When
// the image fails, the same URL is fetched again for the server's JSON
// error, whose path (or byte offset) puts the message next to the field.

import { bubbleUrl } from './bubble-url.js';
import { jsonPaths, locatePath, byteToIndex, setMember }
  from './json-paths.js';

const $ = (id) => document.getElementById(id);

const editor = $('spec');
const backdrop = $('backdrop');
const bubble = $('inline-error');
const img = $('preview');
const status = $('status');
const format = $('format');
const fields = [...document.querySelectorAll('.fields input')];

const DEBOUNCE_MS = 250;         // typing pause before a new preview
const PAD = 6;                   // the editor's top/left padding, CSS px
const FORMATS = ['png', 'svg', 'pdf'];

let gen = 0;                     // the newest preview; older ones are dropped
let timer = 0;
let shown = null;                // the error on display: { err, sent }
let exampleName = 'chart';
let lastGood = '';               // the newest preview that rendered

// The spec as sent: whitespace outside strings removed, every other byte
// kept (so "800.0" still reaches the server's check), with each character's
// index in the editor's text, to map the server's offsets back.
function minify(text) {
  const out = [];
  const orig = [];
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      if (c === '\\' && i + 1 < text.length) {
        out.push(c); orig.push(i);
        i++;
      } else if (c === '"') {
        inStr = false;
      }
    } else if (c === '"') {
      inStr = true;
    } else if (c === ' ' || c === '\n' || c === '\r' || c === '\t') {
      continue;
    }
    out.push(text[i]);
    orig.push(i);
  }
  orig.push(text.length);
  return { body: out.join(''), orig };
}

function schedule(delay = DEBOUNCE_MS) {
  clearTimeout(timer);
  timer = setTimeout(update, delay);
}

async function update() {
  const my = ++gen;
  const text = editor.value;
  const sent = { text, ...minify(text) };
  const fmt = format.value;
  const urls = {};

  syncFields(text);

  for (const f of FORMATS) {
    urls[f] = await bubbleUrl(sent.body, { base: '/chart', format: f });
  }
  const signedPath = await bubbleUrl(sent.body,
    { base: '/signed/chart', format: fmt });
  if (my !== gen) return;

  for (const f of FORMATS) {
    $(`dl-${f}`).href = urls[f];
    $(`dl-${f}`).download = `${exampleName}.${f}`;
  }
  setUrl('static', location.origin + urls[fmt]);
  sign(my, sent.body, fmt, location.origin + signedPath);

  const t0 = performance.now();
  img.classList.add('stale');
  img.dataset.state = 'loading';
  img.dataset.url = urls.png;
  img.onload = () => {
    if (my !== gen) return;
    const ms = Math.round(performance.now() - t0);
    lastGood = img.src;
    img.classList.remove('stale');
    img.dataset.state = 'loaded';
    img.dataset.gen = my;
    clearError();
    status.className = 'status';
    // the chart URL is immutable: a spec seen before comes from the cache
    const hit = performance.getEntriesByName(img.src).pop();
    const how = hit && hit.transferSize === 0 ? 'from the browser cache'
      : `in ${ms} ms`;
    status.textContent = `${img.naturalWidth}×${img.naturalHeight} px PNG` +
      ` ${how} · GET ${urls.png.length} B URL` +
      ` (spec ${new TextEncoder().encode(sent.body).length} B)`;
  };
  img.onerror = () => {
    if (my === gen) explain(my, urls.png, sent);
  };
  img.src = urls.png;
}

// The image failed: GET the URL again for the JSON error body.
async function explain(my, url, sent) {
  let err;
  try {
    const res = await fetch(url);
    const type = res.headers.get('Content-Type') || '';
    err = type.includes('json') ? await res.json()
      : { error: `HTTP ${res.status}`, message: res.statusText, path: '' };
    err.status = res.status;
  } catch (e) {
    err = { error: 'network', message: String(e), path: '' };
  }
  if (my !== gen) return;
  // keep the last chart that rendered on view, dimmed (it is cached)
  img.onload = img.onerror = null;
  if (lastGood) img.src = lastGood;
  img.dataset.state = 'error';
  img.dataset.gen = my;
  showError(err, sent);
}

// Where in the editor the error points: the field its path names, else
// the byte offset of a JSON syntax error, else nowhere (the spec as a whole).
function locate(err, sent) {
  if (err.path && err.path !== 'spec') {
    const map = jsonPaths(sent.text);
    const at = map && locatePath(map, err.path);
    if (at) {
      return { path: at.path, from: at.key >= 0 ? at.key : at.start,
               to: at.end };
    }
  }
  if (typeof err.offset === 'number') {
    const k = byteToIndex(sent.body, err.offset);
    const from = sent.orig[Math.min(k, sent.orig.length - 1)];
    return { path: '', from, to: Math.min(from + 1, sent.text.length) };
  }
  return null;
}

function showError(err, sent) {
  const at = locate(err, sent);
  shown = { err, sent, at };

  status.className = 'status error';
  status.textContent = `${err.status ?? ''} ${err.error}: ${err.message}`;

  for (const span of document.querySelectorAll('.field-error')) {
    const mine = at && at.path === span.dataset.for;
    span.textContent = mine ? err.message : '';
    const input = document.querySelector(
      `.fields input[data-field="${span.dataset.for}"]`);
    input.classList.toggle('invalid', Boolean(mine));
  }

  const text = sent.text;
  if (at) {
    const ls = text.lastIndexOf('\n', at.from - 1) + 1;
    let le = text.indexOf('\n', at.from);
    if (le < 0) le = text.length;
    const to = Math.min(Math.max(at.to, at.from), le);
    backdrop.innerHTML = esc(text.slice(0, ls)) + '<span class="err-line">' +
      esc(text.slice(ls, at.from)) + '<mark>' + esc(text.slice(at.from, to)) +
      '</mark>' + esc(text.slice(to, le)) + '</span>' + esc(text.slice(le));
  } else {
    backdrop.textContent = '';
  }

  bubble.textContent = err.message;
  bubble.dataset.path = at ? at.path : '';
  bubble.hidden = false;
  placeBubble();
}

// The message just under the field, at its column, scrolled with the text.
function placeBubble() {
  if (!shown || bubble.hidden) return;
  const { at, sent } = shown;
  const lh = parseFloat(getComputedStyle(editor).lineHeight);
  let top = 4;
  let left = PAD;
  if (at) {
    const before = sent.text.slice(0, at.from);
    const line = before.split('\n').length - 1;
    const col = at.from - (before.lastIndexOf('\n') + 1);
    top = PAD + (line + 1) * lh - editor.scrollTop + 2;
    left = PAD + col * charWidth() - editor.scrollLeft;
  }
  const box = editor.clientWidth;
  bubble.style.right = 'auto';
  bubble.style.top = `${Math.max(2, Math.min(top, editor.clientHeight - 20))}px`;
  bubble.style.left = `${Math.max(4, Math.min(left,
    box - bubble.offsetWidth - 4))}px`;
}

let cw = 0;
function charWidth() {
  if (!cw) {
    const c = document.createElement('canvas').getContext('2d');
    c.font = getComputedStyle(editor).font;
    cw = c.measureText('0000000000').width / 10;
  }
  return cw;
}

function clearError() {
  shown = null;
  bubble.hidden = true;
  bubble.textContent = '';
  backdrop.textContent = '';
  for (const span of document.querySelectorAll('.field-error')) {
    span.textContent = '';
  }
  for (const input of fields) input.classList.remove('invalid');
}

function esc(s) {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
}

function setUrl(which, url) {
  $(`url-${which}`).value = url;
  $(`open-${which}`).href = url;
}

// Demo only: the server signs; the secret never reaches this page.
async function sign(my, body, fmt, url) {
  try {
    const res = await fetch(`sign?ext=${fmt}`, { method: 'POST', body });
    const r = await res.json();
    if (my !== gen) return;
    if (!res.ok) throw new Error(r.message || res.status);
    setUrl('signed', `${url}?sig=${r.sig}`);
  } catch (e) {
    if (my === gen) setUrl('signed', `(no signer: ${e.message})`);
  }
}

// The quick fields mirror top-level members of the spec, both ways.
function syncFields(text) {
  const map = jsonPaths(text);
  for (const input of fields) {
    if (!map || document.activeElement === input) continue;
    const at = map.get(input.dataset.field);
    let v = '';
    if (at) {
      const val = JSON.parse(text.slice(at.start, at.end));
      if (typeof val !== 'object') v = String(val);
    }
    input.value = v;
  }
}

function editField(input) {
  const v = input.value;
  const literal = input.dataset.kind === 'number' ? v.trim()
    : JSON.stringify(v);
  if (literal === '') return;
  const next = setMember(editor.value, input.dataset.field, literal);
  const span = document.querySelector(
    `.field-error[data-for="${input.dataset.field}"]`);
  if (next === null) {
    span.textContent = 'the spec is not JSON: fix it in the editor first';
    return;
  }
  editor.value = next;
  schedule();
}

async function loadExample(name) {
  const res = await fetch(`/examples/${encodeURIComponent(name)}`);
  editor.value = await res.text();
  exampleName = name.replace(/\.json$/, '');
  editor.scrollTop = 0;
  history.replaceState(null, '', `#${encodeURIComponent(name)}`);
  schedule(0);
}

async function init() {
  const list = await (await fetch('/examples/')).json();
  const names = list.filter((e) => e.type === 'file' && /\.json$/.test(e.name))
    .map((e) => e.name).sort();
  const select = $('example');
  select.innerHTML = '';
  for (const n of names) select.add(new Option(n.replace(/\.json$/, ''), n));

  const want = decodeURIComponent(location.hash.slice(1));
  select.value = names.includes(want) ? want
    : names.includes('gapminder-log10.json') ? 'gapminder-log10.json'
      : names[0];

  select.addEventListener('change', () => loadExample(select.value));
  editor.addEventListener('input', () => schedule());
  editor.addEventListener('scroll', () => {
    backdrop.scrollTop = editor.scrollTop;
    backdrop.scrollLeft = editor.scrollLeft;
    placeBubble();
  });
  format.addEventListener('change', () => schedule(0));
  for (const input of fields) {
    input.addEventListener('input', () => editField(input));
  }
  for (const b of document.querySelectorAll('button[data-copy]')) {
    b.addEventListener('click', async () => {
      const input = $(b.dataset.copy);
      input.select();
      try {
        await navigator.clipboard.writeText(input.value);
      } catch (e) {
        document.execCommand('copy');
      }
      b.textContent = 'copied';
      setTimeout(() => { b.textContent = 'copy'; }, 1200);
    });
  }

  await loadExample(select.value);
}

init().catch((e) => {
  status.className = 'status error';
  status.textContent = `playground: ${e.message}`;
});

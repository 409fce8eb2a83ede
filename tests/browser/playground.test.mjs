// The playground in headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core): loads the page, picks an example, edits fields, and
// checks the preview's natural size, the URLs it offers, and that invalid
// specs show the server's own message next to the field it names.
//
//   node tests/browser/playground.test.mjs http://127.0.0.1:PORT
//
// Run from the repository root (tests/browser/run.sh does); writes
// playground.png and playground-error.png into $SHOT_DIR.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const base = process.argv[2];
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = 15000;           // one preview, on a loaded 2-core machine
const SHOTS = process.env.SHOT_DIR || '.';      // where screenshots go

let failures = 0;
let step = 0;
const t0 = Date.now();

async function check(name, fn) {
  step++;
  const t = Date.now();
  try {
    await fn();
    console.log(`ok ${step} - ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    failures++;
    console.log(`not ok ${step} - ${name}\n  ${String(e.stack || e)
      .split('\n').slice(0, 6).join('\n  ')}`);
  }
}

function example(name) {
  return readFileSync(`examples/${name}`, 'utf8');
}

// What the server must draw: width*scale x height*scale (docs/spec.md).
function expectedSize(spec) {
  const s = spec.scale ?? 1;
  return [Math.round((spec.width ?? 800) * s),
          Math.round((spec.height ?? 600) * s)];
}

// The server's own answer to a spec, asked directly (POST, not the page).
async function serverError(text) {
  const res = await fetch(`${base}/chart.png`, {
    method: 'POST', body: text,
    headers: { 'Content-Type': 'application/json' },
  });
  assert.ok(res.status >= 400 && res.status < 500,
    `the server accepts the invalid spec (${res.status})`);
  return res.json();
}

// Wait for the preview of the next spec: rendered (its URL in src) or
// failed (the last good chart kept, dimmed).
async function nextPreview(page, before) {
  await page.waitForFunction((prev) => {
    const img = document.getElementById('preview');
    return img.dataset.gen && img.dataset.gen !== prev
      && (img.dataset.state === 'loaded' || img.dataset.state === 'error');
  }, before, { timeout: WAIT_MS });
  return page.evaluate(async () => {
    const img = document.getElementById('preview');
    await img.decode().catch(() => {});     // a restored src decodes anew
    return { src: img.src, url: img.dataset.url, state: img.dataset.state,
             w: img.naturalWidth, h: img.naturalHeight,
             stale: img.classList.contains('stale'),
             status: document.getElementById('status').textContent };
  });
}

// The preview generation on display, to wait for the next one.
async function src(page) {
  return page.evaluate(() => document.getElementById('preview').dataset.gen
    || '');
}

// The error the page shows in the editor: the bubble's text and path, the
// marked text, and whether the bubble sits just under the marked line.
async function inlineError(page) {
  await page.waitForSelector('#inline-error:not([hidden])',
    { timeout: WAIT_MS });
  return page.evaluate(() => {
    const b = document.getElementById('inline-error');
    const mark = document.querySelector('#backdrop mark');
    const rb = b.getBoundingClientRect();
    const rm = mark ? mark.getBoundingClientRect() : null;
    return {
      message: b.textContent, path: b.dataset.path,
      marked: mark ? mark.textContent : null,
      // the bubble's top edge within 6 px of the marked text's bottom
      under: rm ? Math.abs(rb.top - rm.bottom) <= 6 : false,
    };
  });
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  // as root in CI Chromium's sandbox cannot start
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});

try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  await check('the page loads with the default example', async () => {
    await page.goto(`${base}/`);
    assert.match(page.url(), /\/playground\/$/);
    const p = await nextPreview(page, '');
    assert.equal(p.state, 'loaded', p.status);
    const spec = JSON.parse(example('gapminder-log10.json'));
    assert.deepEqual([p.w, p.h], expectedSize(spec));
    const n = await page.locator('#example option').count();
    assert.ok(n >= 10, `${n} examples listed`);
  });

  await check('picking an example previews it at its size', async () => {
    const before = await src(page);
    await page.selectOption('#example', 'theme-dark.json');
    const p = await nextPreview(page, before);
    assert.equal(p.state, 'loaded', p.status);
    const text = example('theme-dark.json');
    assert.equal(await page.inputValue('#spec'), text);
    assert.deepEqual([p.w, p.h], expectedSize(JSON.parse(text)));
    assert.match(p.src, /\/chart\/[A-Za-z0-9_-]{16,}\.png$/);
    assert.equal(new URL(p.src).pathname, p.url);
  });

  await check('editing a field in the JSON changes the preview', async () => {
    const before = await src(page);
    const text = (await page.inputValue('#spec'))
      .replace(/"height":\s*\d+/, '"height": 300');
    await page.fill('#spec', text);
    const p = await nextPreview(page, before);
    assert.equal(p.state, 'loaded', p.status);
    assert.deepEqual([p.w, p.h], [640, 300]);
    assert.equal(await page.inputValue('#f-height'), '300');
  });

  await check('the width field edits the spec and the preview', async () => {
    const before = await src(page);
    await page.fill('#f-width', '480');
    const p = await nextPreview(page, before);
    assert.equal(p.state, 'loaded', p.status);
    assert.deepEqual([p.w, p.h], [480, 300]);
    assert.match(await page.inputValue('#spec'), /"width": 480,/);
  });

  await check('the static URL, the downloads and the signed URL', async () => {
    const url = await page.inputValue('#url-static');
    assert.ok(url.startsWith(`${base}/chart/`), url);
    let res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/png');

    for (const [f, type, magic] of [['svg', 'image/svg+xml', '<'],
                                    ['pdf', 'application/pdf', '%PDF']]) {
      const href = await page.getAttribute(`#dl-${f}`, 'href');
      res = await fetch(new URL(href, base));
      assert.equal(res.status, 200, `${f}: ${res.status}`);
      assert.equal(res.headers.get('content-type'), type);
      assert.ok((await res.text()).trimStart().startsWith(magic), f);
    }

    await page.waitForFunction(() =>
      /\?sig=[A-Za-z0-9_-]{22}$/.test(
        document.getElementById('url-signed').value), null,
      { timeout: WAIT_MS });
    const signed = await page.inputValue('#url-signed');
    assert.ok(signed.startsWith(`${base}/signed/chart/`), signed);
    res = await fetch(signed);
    assert.equal(res.status, 200, 'the signed URL is served');
    const bytes = new Uint8Array(await res.arrayBuffer());
    // the PNG's IHDR: width and height, big-endian at bytes 16 and 20
    const dv = new DataView(bytes.buffer);
    assert.deepEqual([dv.getUint32(16), dv.getUint32(20)], [480, 300]);
    // the same URL without its signature, or with another one: refused
    res = await fetch(signed.replace(/\?sig=.*/, ''));
    assert.equal(res.status, 403);
    res = await fetch(signed.replace(/sig=./, (s) =>
      s.endsWith('A') ? 'sig=B' : 'sig=A'));
    assert.equal(res.status, 403);
  });

  await check('an invalid width shows the server message by the field',
    async () => {
      const before = await src(page);
      await page.fill('#f-width', '5');
      const p = await nextPreview(page, before);
      assert.equal(p.state, 'error');
      // the last chart stays, dimmed: 480x300
      assert.ok(p.stale);
      assert.deepEqual([p.w, p.h], [480, 300]);
      const err = await serverError(await page.inputValue('#spec'));
      assert.equal(err.path, 'width');
      // next to the width input, and under "width" in the editor
      assert.equal(
        await page.textContent('.field-error[data-for="width"]'),
        err.message);
      const e = await inlineError(page);
      assert.equal(e.message, err.message);
      assert.equal(e.path, 'width');
      assert.match(e.marked, /^"width"/);
      assert.ok(e.under, 'the message sits under the field');
      assert.match(p.status, new RegExp(err.error));
    });

  await check('a bad value deep in the data is marked where it is',
    async () => {
      const before = await src(page);
      const text = (await page.inputValue('#spec'))
        .replace('"width": 5,', '"width": 480,')
        .replace(/("x": \[[^,]+, )[^,]+/, '$1"oops"');
      await page.fill('#spec', text);
      const p = await nextPreview(page, before);
      assert.equal(p.state, 'error');
      const err = await serverError(text);
      assert.equal(err.path, 'data.x[1]');
      const e = await inlineError(page);
      assert.equal(e.message, err.message);
      assert.equal(e.path, 'data.x[1]');
      assert.equal(e.marked, '"oops"');
      assert.ok(e.under, 'the message sits under the value');
      assert.equal(
        await page.textContent('.field-error[data-for="width"]'), '');
    });

  await check('a JSON syntax error is placed at the server\'s offset',
    async () => {
      const before = await src(page);
      const good = example('theme-dark.json');
      // a missing comma after "theme": "dark"
      const bad = good.replace('"theme": "dark",', '"theme": "dark"');
      await page.fill('#spec', bad);
      const p = await nextPreview(page, before);
      assert.equal(p.state, 'error');
      const err = await serverError(bad);
      assert.equal(err.error, 'invalid_json');
      assert.equal(typeof err.offset, 'number');
      const e = await inlineError(page);
      assert.equal(e.message, err.message);
      // yajl stops at the token after "dark": the next line's "title"
      const line = bad.split('\n').findIndex((l) => l.includes('"title"'));
      assert.ok(e.marked !== null, 'a character is marked');
      const at = await page.evaluate(() => {
        const r = document.createRange();
        r.setStart(document.getElementById('backdrop'), 0);
        r.setEndBefore(document.querySelector('#backdrop .err-line'));
        return r.toString().split('\n').length - 1;
      });
      assert.ok(Math.abs(at - line) <= 1, `marked line ${at}, "title" on ${line}`);
    });

  await check('the screenshot: the Gapminder example', async () => {
    const before = await src(page);
    await page.selectOption('#example', 'gapminder-log10.json');
    const p = await nextPreview(page, before);
    assert.equal(p.state, 'loaded', p.status);
    await page.screenshot({ path: `${SHOTS}/playground.png` });
  });

  await check('the screenshot: an error next to its value', async () => {
    const before = await src(page);
    const text = (await page.inputValue('#spec'))
      .replace('"lifeExp": [43.828, 76.423,', '"lifeExp": [43.828, "n/a",');
    await page.fill('#spec', text);
    const p = await nextPreview(page, before);
    assert.equal(p.state, 'error');
    const e = await inlineError(page);
    assert.equal(e.path, 'data.lifeExp[1]');
    assert.equal(e.marked, '"n/a"');
    await page.screenshot({ path: `${SHOTS}/playground-error.png` });
  });

  await check('no script errors in the page', async () => {
    assert.deepEqual(pageErrors, []);
  });
} finally {
  await browser.close();
}

console.log(`1..${step}\n# ${failures ? 'FAILED' : 'passed'}: ` +
  `${step - failures}/${step} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(failures ? 1 : 0);

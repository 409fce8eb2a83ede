// ngxbubble's Shiny output in headless Chromium (Debian's /usr/bin/chromium,
// driven by the playwright-core that tests/browser installs): the app in
// tests/r/shiny-app shows a chart whose <img> src is a chart URL on nginx,
// at the element's size times the screen's pixel ratio; the browser fetches
// it from nginx; a changed input gives a new URL; what the server cannot
// draw shows as the output's error.
//
//   node tests/r/shiny.test.mjs APP_URL CHART_SERVER
//
// Prints TAP ("ok N - ...", "not ok N - ..."); t/016_r_client.t starts
// nginx and the app and runs this.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'browser', 'package.json'));
const { chromium } = require('playwright-core');

const [app, server] = process.argv.slice(2);
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = 20000;
const DPR = 2;

let step = 0;
let failures = 0;

async function check(name, fn) {
  step++;
  try {
    await fn();
    console.log(`ok ${step} - ${name}`);
  } catch (e) {
    failures++;
    console.log(`not ok ${step} - ${name}\n# ${String(e.stack || e)
      .split('\n').slice(0, 6).join('\n# ')}`);
  }
}

// The chart <img> once it shows a loaded image other than `before`.
async function chart(page, id, before) {
  await page.waitForFunction(([id, prev]) => {
    const img = document.querySelector(`#${id} img.ngxbubble`);
    return img && img.src && img.src !== prev && img.complete && img.naturalWidth > 0;
  }, [id, before || ''], { timeout: WAIT_MS });
  return page.evaluate((id) => {
    const img = document.querySelector(`#${id} img.ngxbubble`);
    return { src: img.src, alt: img.alt, w: img.naturalWidth, h: img.naturalHeight,
             cssW: img.getBoundingClientRect().width,
             cssH: img.getBoundingClientRect().height };
  }, id);
}

const browser = await chromium.launch({
  executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const context = await browser.newContext({ deviceScaleFactor: DPR });
  const page = await context.newPage();
  const images = [];
  page.on('response', (r) => {
    if (r.url().startsWith(server)) {
      images.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] });
    }
  });
  await page.goto(app);

  let first;
  await check('the chart shows, its src a chart URL on nginx', async () => {
    first = await chart(page, 'chart');
    assert.ok(first.src.startsWith(server + '/'), first.src);
    assert.match(first.src, /\/[A-Za-z0-9_-]+\.png$/);
    assert.equal(first.alt, '32 cars');
  });

  await check(`the image is the element's 640 x 400 at pixel ratio ${DPR}`, async () => {
    assert.deepEqual([first.w, first.h], [640 * DPR, 400 * DPR]);
    assert.deepEqual([first.cssW, first.cssH], [640, 400]);
  });

  await check('the browser fetched it from nginx: 200 image/png', async () => {
    const r = images.find((i) => i.url === first.src);
    assert.ok(r, `no response for ${first.src}: ${JSON.stringify(images)}`);
    assert.equal(r.status, 200);
    assert.equal(r.type, 'image/png');
  });

  await check('a changed input draws a new chart URL', async () => {
    await page.fill('#n', '10');
    await page.press('#n', 'Tab');
    const next = await chart(page, 'chart', first.src);
    assert.notEqual(next.src, first.src);
    assert.equal(next.alt, '10 cars');
    assert.ok(next.src.startsWith(server + '/'));
    assert.deepEqual([next.w, next.h], [640 * DPR, 400 * DPR]);
    const r = images.find((i) => i.url === next.src);
    assert.ok(r && r.status === 200, JSON.stringify(images));
  });

  await check('a plot the server cannot draw shows the error naming the layer', async () => {
    await page.waitForFunction(() => {
      const el = document.getElementById('unsupported');
      return el.classList.contains('shiny-output-error') && el.textContent.length > 0;
    }, null, { timeout: WAIT_MS });
    const text = await page.textContent('#unsupported');
    assert.match(text, /cannot draw this ggplot/);
    assert.match(text, /layer 2, geom_line\(\)/);
    assert.equal(await page.$('#unsupported img.ngxbubble'), null);
  });
} finally {
  await browser.close();
}

console.log(`1..${step}`);
process.exit(failures ? 1 : 0);

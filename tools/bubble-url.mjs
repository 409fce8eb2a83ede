#!/usr/bin/env node
// Command-line wrapper of conf/www/bubble-url.js, for tests:
//   node tools/bubble-url.mjs SPEC.json [--readable] [--format F] [--secret S]
import { readFileSync } from 'node:fs';
import { bubbleUrl } from '../conf/www/bubble-url.js';

const args = process.argv.slice(2);
const opts = { base: '/chart' };
let file;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--readable') opts.readable = true;
  else if (args[i] === '--format') opts.format = args[++i];
  else if (args[i] === '--secret') opts.secret = args[++i];
  else if (args[i] === '--base') opts.base = args[++i];
  else file = args[i];
}
// the same compact JSON text as tools/bubble-url
const spec = JSON.parse(readFileSync(file, 'utf8'));
console.log(await bubbleUrl(JSON.stringify(spec), opts));

// ngx_bubble chart URLs in the browser (and Node >= 18).
//
//   const url = await bubbleUrl(spec, { base: '/chart', format: 'png' });
//   const signed = await bubbleUrl(spec, { secret: '...' });  // server-side only!
//
// Compact form: BASE/<base64url(raw deflate(JSON))>.FORMAT, the same bytes
// tools/bubble-url builds.  Never ship a signing secret to a browser: sign
// on a server and hand out the URL.

const SIG_LEN = 22;

function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  const b64 = typeof btoa === 'function'
    ? btoa(s) : Buffer.from(bytes).toString('base64');
  return b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function deflateRaw(bytes) {
  if (typeof CompressionStream === 'function') {
    try {
      const cs = new CompressionStream('deflate-raw');
      const out = new Response(new Blob([bytes]).stream().pipeThrough(cs));
      return new Uint8Array(await out.arrayBuffer());
    } catch (e) {
      // older runtimes know only 'deflate' and 'gzip'
    }
  }
  const zlib = await import('node:zlib');
  return new Uint8Array(zlib.deflateRawSync(bytes, { level: 9 }));
}

async function hmacSha256(secret, message) {
  const enc = new TextEncoder();
  // Node 18 (Debian 12's) has Web Crypto only as node:crypto's webcrypto
  const subtle = globalThis.crypto?.subtle
    ?? (await import('node:crypto')).webcrypto.subtle;
  const key = await subtle.importKey(
    'raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false,
    ['sign']);
  return new Uint8Array(await subtle.sign('HMAC', key, message));
}

export async function bubbleUrl(spec, opts = {}) {
  const base = opts.base ?? '/chart';
  const format = opts.format ?? 'png';
  const body = new TextEncoder().encode(
    typeof spec === 'string' ? spec : JSON.stringify(spec));
  let url;
  let sep;

  if (opts.readable) {
    url = `${base}.${format}?spec=${encodeURIComponent(new TextDecoder().decode(body))}`;
    sep = '&';
  } else {
    url = `${base.replace(/\/$/, '')}/${b64url(await deflateRaw(body))}.${format}`;
    sep = '?';
  }

  if (opts.secret) {
    const prefix = new TextEncoder().encode(`${format}:`);
    const msg = new Uint8Array(prefix.length + body.length);
    msg.set(prefix);
    msg.set(body, prefix.length);
    url += `${sep}sig=${b64url(await hmacSha256(opts.secret, msg)).slice(0, SIG_LEN)}`;
  }

  return url;
}

// ngx_bubble demo: the playground's URL signer (njs, demo only).
//
//   POST /playground/sign?ext=png   body: the spec's JSON, as it goes into
//                                   the URL   ->  {"ext":"png","sig":"..."}
//
// The same scheme as bubble_url_secret checks (ngx_http_bubble_url.c) and
// tools/bubble-url builds: base64url(HMAC-SHA256(secret, "ext:" JSON)),
// first 22 characters (128 bits).  The secret stays in nginx; the browser
// sees signatures only.

import crypto from 'crypto';

const SIG_LEN = 22;
const EXTS = ['png', 'svg', 'pdf'];

function reply(r, status, obj) {
    r.headersOut['Content-Type'] = 'application/json';
    r.headersOut['Cache-Control'] = 'no-store';
    r.return(status, JSON.stringify(obj) + '\n');
}

function sign(r) {
    const ext = r.args.ext || 'png';
    const body = r.requestBuffer;

    if (r.method !== 'POST') {
        return reply(r, 405, { error: 'method', message: 'POST the spec' });
    }

    if (EXTS.indexOf(ext) < 0) {
        return reply(r, 400, { error: 'invalid_ext', path: 'ext',
                               message: 'ext: one of png, svg, pdf' });
    }

    if (!body || body.length === 0) {
        return reply(r, 400, { error: 'invalid_spec', path: 'spec',
                               message: 'spec: POST the JSON to sign' });
    }

    const mac = crypto.createHmac('sha256', r.variables.bubble_demo_secret);
    mac.update(ext + ':');
    mac.update(body);

    reply(r, 200, { ext: ext, sig: mac.digest('base64url').slice(0, SIG_LEN) });
}

export default { sign };

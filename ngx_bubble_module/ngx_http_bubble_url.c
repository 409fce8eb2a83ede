
/*
 * ngx_bubble: charts as static-style URLs.
 *
 *   GET /chart.png?spec=<percent-encoded JSON>          readable
 *   GET /chart/<base64url(raw deflate(JSON))>.png        compact
 *   ...&sig=<base64url(HMAC-SHA256(secret, "png:" JSON))[0..22]>
 *
 * A chart URL behaves like a file: a strong ETag from the chart's
 * canonical content and the renderer's versions, 304 without rendering,
 * and a long immutable Cache-Control.
 */


#include "ngx_http_bubble_module.h"
#include "bubble_gchart.h"

#include <zlib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>


#define NGX_HTTP_BUBBLE_SIG_LEN    22        /* base64url chars: 128 bits */


static ngx_int_t ngx_http_bubble_compact(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_str_t *blob, ngx_str_t *json);
static ngx_int_t ngx_http_bubble_inflate(ngx_http_bubble_ctx_t *ctx,
    ngx_str_t *in, size_t max, ngx_str_t *out);
static ngx_int_t ngx_http_bubble_verify(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_str_t *json);
static ngx_int_t ngx_http_bubble_sign(ngx_pool_t *pool, ngx_str_t *secret,
    ngx_str_t *ext, ngx_str_t *json, u_char *sig);
static voidpf ngx_http_bubble_zalloc(voidpf opaque, uInt items, uInt size);
static void ngx_http_bubble_zfree(voidpf opaque, voidpf address);


/*
 * The spec of a GET: from ?spec= or from the last path segment.  Fills
 * json with the spec's bytes, or ctx->err (400, 403, 414).
 */

ngx_int_t
ngx_http_bubble_url_spec(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    ngx_str_t *json)
{
    u_char                      *dst, *src, *p, *last;
    ngx_str_t                    value, blob;
    bubble_str_t                 legacy;
    ngx_http_bubble_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    if (r->unparsed_uri.len > blcf->max_url_length) {
        bubble_error_set(&ctx->err, NGX_HTTP_REQUEST_URI_TOO_LARGE,
                         "uri_too_long", "", "chart URL of %zu bytes, the "
                         "limit is %zu: POST the spec as JSON instead",
                         r->unparsed_uri.len, blcf->max_url_length);
        return NGX_ERROR;
    }

    /*
     * A legacy Google Image Charts URL (cht=): its parameters become a
     * spec's JSON, signed (if at all) like any other spec's JSON.
     */
    if (bubble_gchart_detect(r->args.data, r->args.len)) {
        if (bubble_gchart_to_json(&ctx->alloc, &ctx->limits, r->args.data,
                                  r->args.len, &legacy, &ctx->err)
            != 0)
        {
            return NGX_ERROR;
        }

        json->data = (u_char *) legacy.data;
        json->len = legacy.len;

        return ngx_http_bubble_verify(r, ctx, json);
    }

    if (ngx_http_arg(r, (u_char *) "spec", 4, &value) == NGX_OK
        && value.len)
    {
        dst = ngx_pnalloc(ctx->pool, 2 * value.len);
        if (dst == NULL) {
            goto nomem;
        }

        /*
         * "+" is a space, as HTML forms, URLSearchParams and PHP's
         * urlencode() write it; "%2B" stays a "+"
         */
        src = dst + value.len;

        for (p = value.data, last = value.data + value.len; p < last; p++) {
            *src++ = (*p == '+') ? ' ' : *p;
        }

        src = dst + value.len;
        json->data = dst;
        ngx_unescape_uri(&dst, &src, value.len, 0);
        json->len = dst - json->data;

        return ngx_http_bubble_verify(r, ctx, json);
    }

    /* compact: the last segment without its extension */

    last = r->uri.data + r->uri.len;
    if (r->exten.len) {
        last -= r->exten.len + 1;
    }

    for (p = last; p > r->uri.data && p[-1] != '/'; p--) {
        /* void */
    }

    blob.data = p;
    blob.len = last - p;

    /* "/chart.png" alone names no chart */
    if (blob.len < 8) {
        bubble_error_set(&ctx->err, NGX_HTTP_BAD_REQUEST, "invalid_spec",
                         "spec", "spec: required: GET /chart.png?spec=<JSON>"
                         ", GET /chart/<base64url(deflate(JSON))>.png, or "
                         "POST the JSON");
        return NGX_ERROR;
    }

    /* "/chart.svg/<blob>": the format is the blob's extension, or none */
    if (r->exten.len == 0) {
        bubble_error_set(&ctx->err, NGX_HTTP_BAD_REQUEST, "bad_request",
                         "format", "format: a compact chart URL ends in "
                         ".png, .svg or .pdf: /chart/<blob>.png");
        return NGX_ERROR;
    }

    if (ngx_http_bubble_compact(r, ctx, &blob, json) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_bubble_verify(r, ctx, json);

nomem:

    bubble_error_set(&ctx->err, NGX_HTTP_INTERNAL_SERVER_ERROR, "internal",
                     "", "out of memory");
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_bubble_compact(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    ngx_str_t *blob, ngx_str_t *json)
{
    ngx_str_t                    raw;
    ngx_http_bubble_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    raw.data = ngx_pnalloc(ctx->pool, ngx_base64_decoded_length(blob->len));
    if (raw.data == NULL) {
        bubble_error_set(&ctx->err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                         "internal", "", "out of memory");
        return NGX_ERROR;
    }

    if (ngx_decode_base64url(&raw, blob) != NGX_OK) {
        bubble_error_set(&ctx->err, NGX_HTTP_BAD_REQUEST, "invalid_url",
                         "spec", "the chart URL is not base64url "
                         "(A-Z a-z 0-9 - _)");
        return NGX_ERROR;
    }

    return ngx_http_bubble_inflate(ctx, &raw, blcf->max_body_size, json);
}


/* raw deflate -> JSON, bounded like a POSTed body */

static ngx_int_t
ngx_http_bubble_inflate(ngx_http_bubble_ctx_t *ctx, ngx_str_t *in, size_t max,
    ngx_str_t *out)
{
    int        rc;
    size_t     size;
    u_char    *buf, *next;
    z_stream   zs;

    ngx_memzero(&zs, sizeof(z_stream));
    zs.zalloc = ngx_http_bubble_zalloc;
    zs.zfree = ngx_http_bubble_zfree;
    zs.opaque = ctx->pool;

    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
        goto nomem;
    }

    /* JSON of numbers compresses 3-10x: start there, double as needed */
    size = ngx_min(ngx_max(in->len * 8, 1024), max + 1);

    buf = ngx_pnalloc(ctx->pool, size);
    if (buf == NULL) {
        inflateEnd(&zs);
        goto nomem;
    }

    zs.next_in = in->data;
    zs.avail_in = in->len;
    zs.next_out = buf;
    zs.avail_out = size;

    for ( ;; ) {
        rc = inflate(&zs, Z_FINISH);

        if (rc == Z_STREAM_END) {
            break;
        }

        if (rc != Z_BUF_ERROR && rc != Z_OK) {
            inflateEnd(&zs);
            bubble_error_set(&ctx->err, NGX_HTTP_BAD_REQUEST, "invalid_url",
                             "spec", "the chart URL is not raw deflate: %s",
                             zs.msg ? zs.msg : "corrupt data");
            return NGX_ERROR;
        }

        if (zs.avail_in == 0 && zs.avail_out != 0) {
            inflateEnd(&zs);
            bubble_error_set(&ctx->err, NGX_HTTP_BAD_REQUEST, "invalid_url",
                             "spec", "the chart URL's deflate stream is "
                             "truncated");
            return NGX_ERROR;
        }

        if (zs.total_out > max) {
            inflateEnd(&zs);
            bubble_error_set(&ctx->err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                             "too_large", "spec", "the chart URL inflates "
                             "past %zu bytes (bubble_max_body_size)", max);
            return NGX_ERROR;
        }

        /* out of room: a bomb stops at max + 1 bytes, checked above */
        next = ngx_pnalloc(ctx->pool, ngx_min(size * 2, max + 1));
        if (next == NULL) {
            inflateEnd(&zs);
            goto nomem;
        }

        ngx_memcpy(next, buf, zs.total_out);
        (void) ngx_pfree(ctx->pool, buf);
        buf = next;
        size = ngx_min(size * 2, max + 1);

        zs.next_out = buf + zs.total_out;
        zs.avail_out = size - zs.total_out;
    }

    out->data = buf;
    out->len = zs.total_out;

    inflateEnd(&zs);

    if (out->len > max) {
        bubble_error_set(&ctx->err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                         "too_large", "spec", "the chart URL inflates past "
                         "%zu bytes (bubble_max_body_size)", max);
        return NGX_ERROR;
    }

    return NGX_OK;

nomem:

    bubble_error_set(&ctx->err, NGX_HTTP_INTERNAL_SERVER_ERROR, "internal",
                     "", "out of memory");
    return NGX_ERROR;
}


/*
 * Signed URLs: with bubble_url_secret, a GET must carry sig=, the HMAC of
 * "<ext>:<JSON>" with the current or the previous secret (rotation).
 * The JSON is signed as decoded, so re-encoding a URL keeps it valid.
 */

static ngx_int_t
ngx_http_bubble_verify(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    ngx_str_t *json)
{
    ngx_http_bubble_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    if (blcf->secrets == NULL) {
        return NGX_OK;
    }

    return ngx_http_bubble_verify_sig(r, ctx, json, blcf->secrets);
}


ngx_int_t
ngx_http_bubble_verify_sig(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    ngx_str_t *json, ngx_array_t *secrets)
{
    u_char      sig[NGX_HTTP_BUBBLE_SIG_LEN];
    ngx_str_t   given, *secret;
    ngx_uint_t  i;

    if (ngx_http_arg(r, (u_char *) "sig", 3, &given) != NGX_OK
        || given.len == 0)
    {
        bubble_error_set(&ctx->err, NGX_HTTP_FORBIDDEN, "forbidden", "sig",
                         "this location serves signed chart URLs only: "
                         "sig is missing");
        return NGX_ERROR;
    }

    secret = secrets->elts;

    for (i = 0; i < secrets->nelts; i++) {
        if (ngx_http_bubble_sign(ctx->pool, &secret[i], &r->exten, json, sig)
            != NGX_OK)
        {
            bubble_error_set(&ctx->err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                             "internal", "", "HMAC failed");
            return NGX_ERROR;
        }

        /* both are public-length strings: compare in constant time */
        if (given.len == NGX_HTTP_BUBBLE_SIG_LEN
            && CRYPTO_memcmp(given.data, sig, NGX_HTTP_BUBBLE_SIG_LEN) == 0)
        {
            return NGX_OK;
        }
    }

    bubble_error_set(&ctx->err, NGX_HTTP_FORBIDDEN, "forbidden", "sig",
                     "the chart URL's signature does not match");
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_bubble_sign(ngx_pool_t *pool, ngx_str_t *secret, ngx_str_t *ext,
    ngx_str_t *json, u_char *sig)
{
    u_char        mac[EVP_MAX_MD_SIZE], b64[64], *msg, *p;
    ngx_str_t     src, dst;
    unsigned int  len;

    /* HMAC() is the one HMAC call OpenSSL 1.1 and 3.x both keep undeprecated */
    msg = ngx_pnalloc(pool, ext->len + 1 + json->len);
    if (msg == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(msg, ext->data, ext->len);
    *p++ = ':';
    p = ngx_cpymem(p, json->data, json->len);

    if (HMAC(EVP_sha256(), secret->data, (int) secret->len, msg, p - msg,
             mac, &len)
        == NULL)
    {
        return NGX_ERROR;
    }

    (void) ngx_pfree(pool, msg);

    src.data = mac;
    src.len = len;
    dst.data = b64;
    ngx_encode_base64url(&dst, &src);

    ngx_memcpy(sig, b64, NGX_HTTP_BUBBLE_SIG_LEN);

    return NGX_OK;
}


static voidpf
ngx_http_bubble_zalloc(voidpf opaque, uInt items, uInt size)
{
    return ngx_palloc(opaque, (size_t) items * size);
}


static void
ngx_http_bubble_zfree(voidpf opaque, voidpf address)
{
    (void) ngx_pfree(opaque, address);
}


/*
 * bubble_url_secret SECRET [PREVIOUS];  "env:NAME" reads the master's
 * environment at configuration time, so secrets stay out of nginx.conf.
 */

char *
ngx_http_bubble_url_secret(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bubble_loc_conf_t  *blcf = conf;

    char        *env;
    ngx_str_t   *value, *secret;
    ngx_uint_t   i;

    if (blcf->secrets != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        blcf->secrets = NULL;
        return NGX_CONF_OK;
    }

    blcf->secrets = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
    if (blcf->secrets == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {
        secret = ngx_array_push(blcf->secrets);
        if (secret == NULL) {
            return NGX_CONF_ERROR;
        }

        *secret = value[i];

        if (ngx_strncmp(value[i].data, "env:", 4) == 0) {
            env = getenv((char *) value[i].data + 4);

            if (env == NULL || *env == '\0') {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\": environment variable \"%s\" is "
                                   "not set", &cmd->name, value[i].data + 4);
                return NGX_CONF_ERROR;
            }

            secret->data = (u_char *) env;
            secret->len = ngx_strlen(env);
        }

        /* HMAC-SHA256 keys shorter than 16 bytes are guessable */
        if (secret->len < 16) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": a secret needs at least 16 bytes",
                               &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}

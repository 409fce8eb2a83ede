
/*
 * ngx_bubble: a chart's ETag, and If-None-Match against it.
 *
 * The ETag names the chart, not the bytes of one answer: SHA-256 of the
 * renderer's id (library and font versions) and the chart's canonical
 * digest, so a GET and a POST of the same chart share it, and an upgrade
 * that changes pixels changes it.
 */


#include "ngx_http_bubble_module.h"

#include <openssl/evp.h>


#define NGX_HTTP_BUBBLE_ETAG_LEN  32        /* hex chars: 128 bits */


static void ngx_http_bubble_digest_update(void *ctx, const void *data,
    size_t len);


/*
 * Strong ETag: SHA-256 of the renderer's id and the chart's canonical
 * digest, 128 bits in hex.
 */

ngx_int_t
ngx_http_bubble_set_etag(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    u_char        md[EVP_MAX_MD_SIZE], *p, *etag;
    const char   *id;
    unsigned int  len;
    EVP_MD_CTX   *sha;

    sha = EVP_MD_CTX_new();
    if (sha == NULL) {
        return NGX_ERROR;
    }

    id = bubble_renderer_id();

    if (EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(sha);
        return NGX_ERROR;
    }

    EVP_DigestUpdate(sha, id, ngx_strlen(id));
    bubble_chart_digest(ctx->chart, ngx_http_bubble_digest_update, sha);

    /* a strong ETag names bytes: zlib's PNG of the chart is another */
    if (ctx->chart->format == BUBBLE_FORMAT_PNG && ctx->chart->png_small) {
        EVP_DigestUpdate(sha, "png:small", sizeof("png:small") - 1);
    }
    EVP_DigestFinal_ex(sha, md, &len);
    EVP_MD_CTX_free(sha);

    etag = ngx_pnalloc(r->pool, NGX_HTTP_BUBBLE_ETAG_LEN + 2);
    if (etag == NULL) {
        return NGX_ERROR;
    }

    p = etag;
    *p++ = '"';
    p = ngx_hex_dump(p, md, NGX_HTTP_BUBBLE_ETAG_LEN / 2);
    *p++ = '"';

    return ngx_http_bubble_etag_header(r, etag, p - etag);
}


static void
ngx_http_bubble_digest_update(void *ctx, const void *data, size_t len)
{
    EVP_DigestUpdate(ctx, data, len);
}


/*
 * If-None-Match against our ETag (weak comparison, RFC 9110 13.1.2):
 * "*" or any listed tag equal to ours, W/ ignored.
 */

ngx_int_t
ngx_http_bubble_not_modified(ngx_http_request_t *r)
{
    u_char     *p, *last, *tag;
    size_t      len;
    ngx_str_t  *etag;

    if (r->headers_in.if_none_match == NULL || r->headers_out.etag == NULL) {
        return 0;
    }

    etag = &r->headers_out.etag->value;
    p = r->headers_in.if_none_match->value.data;
    last = p + r->headers_in.if_none_match->value.len;

    while (p < last) {
        while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
            p++;
        }

        if (p < last && *p == '*') {
            return 1;
        }

        if (last - p > 2 && p[0] == 'W' && p[1] == '/') {
            p += 2;
        }

        tag = p;
        while (p < last && *p != ',') {
            p++;
        }

        len = p - tag;
        while (len && (tag[len - 1] == ' ' || tag[len - 1] == '\t')) {
            len--;
        }

        if (len == etag->len && ngx_strncmp(tag, etag->data, len) == 0) {
            return 1;
        }
    }

    return 0;
}

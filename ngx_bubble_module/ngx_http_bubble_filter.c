
/*
 * ngx_bubble: nginx's own 413 as SPEC.md's JSON.
 *
 * A body over client_max_body_size is refused by nginx itself (before the
 * content handler, or while reading a chunked body) with an HTML page.  In
 * bubble locations these filters swap that page for the JSON error every
 * other refusal of the module gives, so clients parse one format.
 */


#include "ngx_http_bubble_module.h"


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_int_t
ngx_http_bubble_header_filter(ngx_http_request_t *r)
{
    ngx_buf_t                   *b;
    bubble_error_t               err;
    ngx_http_bubble_ctx_t       *ctx;
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_bubble_loc_conf_t  *blcf;

    if (r->headers_out.status != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
        || r != r->main)
    {
        return ngx_http_next_header_filter(r);
    }

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_bubble_module);

    /* our own 413s are JSON already (they carry a ctx) */
    if (!blcf->enable || ctx != NULL) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_bubble_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    ngx_memzero(&err, sizeof(bubble_error_t));
    err.offset = -1;
    bubble_error_set(&err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large", "",
                     "body over %" PRId64 " bytes (client_max_body_size)",
                     (int64_t) clcf->client_max_body_size);

    b = ngx_http_bubble_error_buf(r, &err);
    if (b == NULL) {
        return NGX_ERROR;
    }

    ctx->rewrite = b;
    ngx_http_set_ctx(r, ctx, ngx_http_bubble_module);

    ngx_http_clear_content_length(r);

    if (ngx_http_bubble_error_headers(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                                      b->last - b->pos)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_bubble_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_uint_t              last;
    ngx_chain_t            *cl, out;
    ngx_http_bubble_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_bubble_module);

    if (ctx == NULL || ctx->rewrite == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    /* swallow nginx's HTML, send the JSON with its last buffer */

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;

        if (cl->buf->last_buf) {
            last = 1;
        }
    }

    if (!last) {
        return NGX_OK;
    }

    out.buf = ctx->rewrite;
    out.next = NULL;
    ctx->rewrite = NULL;

    return ngx_http_next_body_filter(r, &out);
}


ngx_int_t
ngx_http_bubble_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_bubble_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_bubble_body_filter;

    return NGX_OK;
}

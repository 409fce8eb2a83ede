
/*
 * ngx_bubble: nginx's own 413 and 400 as docs/spec.md's JSON errors.
 *
 * A body over client_max_body_size is refused by nginx itself (before the
 * content handler, or while reading a chunked body) with an HTML page, and
 * so is a malformed chunked body (400).  In bubble locations these filters
 * swap that page for the JSON error every other refusal of the module
 * gives, so clients parse one format.
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

    if ((r->headers_out.status != NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
         && r->headers_out.status != NGX_HTTP_BAD_REQUEST)
        || r != r->main)
    {
        return ngx_http_next_header_filter(r);
    }

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_bubble_module);

    /*
     * Our own errors are JSON already.  nginx's pages are text/html, and
     * may come after the handler made its ctx: a chunked body goes over
     * client_max_body_size or breaks its framing while being read.
     */
    if (!blcf->enable
        || (r->headers_out.content_type.len == sizeof("application/json") - 1
            && ngx_strncasecmp(r->headers_out.content_type.data,
                               (u_char *) "application/json",
                               sizeof("application/json") - 1)
               == 0))
    {
        return ngx_http_next_header_filter(r);
    }

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_bubble_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ctx->reject_reason = NGX_DECLINED;

        ngx_http_set_ctx(r, ctx, ngx_http_bubble_module);
    }

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    ngx_memzero(&err, sizeof(bubble_error_t));
    err.offset = -1;

    if (r->headers_out.status == NGX_HTTP_BAD_REQUEST) {
        bubble_error_set(&err, NGX_HTTP_BAD_REQUEST, "bad_request", "",
                         "malformed request (a broken chunked body?): "
                         "nginx refused it");

    } else {
        bubble_error_set(&err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large",
                         "", "body over %" PRId64 " bytes "
                         "(client_max_body_size)",
                         (int64_t) clcf->client_max_body_size);
    }

    b = ngx_http_bubble_error_buf(r, &err);
    if (b == NULL) {
        return NGX_ERROR;
    }

    ctx->rewrite = b;

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

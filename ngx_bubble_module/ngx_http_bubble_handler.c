
/*
 * ngx_bubble: the content handler.
 *
 * POST: the body is read by nginx, then fed to the streaming spec parser
 * chunk by chunk (from memory or from the temp file).  GET/HEAD: the spec
 * comes from the "spec" argument.  Each request owns one pool for its
 * render, destroyed by a cleanup on r->pool whatever happens.
 */


#include "ngx_http_bubble_module.h"
#include "ngx_http_bubble_metrics.h"
#include "ngx_http_bubble_cache.h"


#define NGX_HTTP_BUBBLE_FILE_CHUNK  65536    /* bytes read per temp-file read */


static ngx_http_bubble_ctx_t *ngx_http_bubble_create_ctx(
    ngx_http_request_t *r);
static void ngx_http_bubble_cleanup(void *data);
static ngx_int_t ngx_http_bubble_content_type_ok(ngx_http_request_t *r);
static void ngx_http_bubble_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_bubble_body_size(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, size_t *size);
static ngx_int_t ngx_http_bubble_signed_body(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, size_t size, ngx_str_t *body);
static ngx_int_t ngx_http_bubble_parse_body(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
static ngx_int_t ngx_http_bubble_process(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
static ngx_int_t ngx_http_bubble_resume(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
static ngx_int_t ngx_http_bubble_run(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
static ngx_int_t ngx_http_bubble_refuse(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);


ngx_int_t
ngx_http_bubble_handler(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_str_t                    json;
    bubble_error_t               err;
    ngx_http_bubble_ctx_t       *ctx;
    ngx_http_bubble_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_POST))) {
        ngx_memzero(&err, sizeof(bubble_error_t));
        err.offset = -1;
        bubble_error_set(&err, NGX_HTTP_NOT_ALLOWED, "method_not_allowed",
                         "", "use GET or HEAD with a chart URL, or POST a "
                         "JSON spec");
        ngx_http_discard_request_body(r);
        return ngx_http_bubble_send_error(r, &err);
    }

    ctx = ngx_http_bubble_create_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* "/chart.gif", "/chart.svg;x=1": no format of ours, never a PNG */
    if (r->exten.len && ctx->format < 0) {
        bubble_error_set(&ctx->err, NGX_HTTP_BAD_REQUEST, "bad_request",
                         "format", "format: the URL ends in \".%.*s\": "
                         "expected .png, .svg or .pdf",
                         (int) ngx_min(r->exten.len, 32), r->exten.data);
        ngx_http_discard_request_body(r);
        return ngx_http_bubble_refuse(r, ctx);
    }

    if (r->method & NGX_HTTP_POST) {

        if (ngx_http_bubble_content_type_ok(r) != NGX_OK) {
            bubble_error_set(&ctx->err, NGX_HTTP_UNSUPPORTED_MEDIA_TYPE,
                             "unsupported_media_type", "",
                             "send the spec as application/json");
            ngx_http_discard_request_body(r);
            return ngx_http_bubble_refuse(r, ctx);
        }

        /* refuse before reading a byte when the length is declared */
        if (r->headers_in.content_length_n > (off_t) blcf->max_body_size) {
            bubble_error_set(&ctx->err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                             "too_large", "", "body of %" PRId64 " bytes, "
                             "the limit is %zu (bubble_max_body_size)",
                             (int64_t) r->headers_in.content_length_n,
                             blcf->max_body_size);
            ngx_http_discard_request_body(r);
            return ngx_http_bubble_refuse(r, ctx);
        }

        rc = ngx_http_read_client_request_body(r,
                                               ngx_http_bubble_body_handler);
        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    /* a cached image is sent before the URL is even decoded */
    rc = ngx_http_bubble_cache_url(r, ctx);
    if (rc != NGX_DECLINED) {
        return rc;
    }

    if (ngx_http_bubble_url_spec(r, ctx, &json) != NGX_OK) {
        return ngx_http_bubble_refuse(r, ctx);
    }

    ctx->chart = bubble_spec_parse(&ctx->alloc, &ctx->limits, json.data,
                                   json.len, &ctx->err);
    if (ctx->chart == NULL) {
        return ngx_http_bubble_refuse(r, ctx);
    }

    return ngx_http_bubble_process(r, ctx);
}


static ngx_http_bubble_ctx_t *
ngx_http_bubble_create_ctx(ngx_http_request_t *r)
{
    ngx_pool_t                  *pool;
    ngx_http_bubble_ctx_t       *ctx;
    ngx_pool_cleanup_t          *cln;
    ngx_http_bubble_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_bubble_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    /*
     * The render's own pool: a render thread may use it while the event
     * loop uses r->pool.  It dies with the request, whatever the path.
     */
    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, r->connection->log);
    if (pool == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_bubble_cleanup;
    cln->data = pool;

    ctx->pool = pool;
    ngx_http_bubble_pool_allocator(&ctx->alloc, pool);
    ctx->err.offset = -1;

    bubble_limits_default(&ctx->limits);
    ctx->limits.max_points = blcf->max_points;
    ctx->limits.max_pixels = blcf->max_pixels;

    ctx->format = -1;
    ctx->reject_reason = NGX_DECLINED;

    if (r->exten.len == 3) {
        if (ngx_strncasecmp(r->exten.data, (u_char *) "png", 3) == 0) {
            ctx->format = BUBBLE_FORMAT_PNG;

        } else if (ngx_strncasecmp(r->exten.data, (u_char *) "svg", 3) == 0) {
            ctx->format = BUBBLE_FORMAT_SVG;

        } else if (ngx_strncasecmp(r->exten.data, (u_char *) "pdf", 3) == 0) {
            ctx->format = BUBBLE_FORMAT_PDF;
        }
    }

    ngx_http_set_ctx(r, ctx, ngx_http_bubble_module);

    return ctx;
}


static void
ngx_http_bubble_cleanup(void *data)
{
    ngx_http_bubble_pool_destroy(data);
}


static ngx_int_t
ngx_http_bubble_content_type_ok(ngx_http_request_t *r)
{
    u_char  *p, *last;
    size_t   len;

    if (r->headers_in.content_type == NULL) {
        return NGX_OK;
    }

    p = r->headers_in.content_type->value.data;
    last = p + r->headers_in.content_type->value.len;

    for (len = 0; p + len < last && p[len] != ';' && p[len] != ' '; len++) {
        /* void */
    }

    if ((len == 16 && ngx_strncasecmp(p, (u_char *) "application/json", 16)
                      == 0)
        || (len == 9 && ngx_strncasecmp(p, (u_char *) "text/json", 9) == 0)
        || (len > 5 && ngx_strncasecmp(p + len - 5, (u_char *) "+json", 5)
                       == 0))
    {
        return NGX_OK;
    }

    return NGX_DECLINED;
}


static void
ngx_http_bubble_body_handler(ngx_http_request_t *r)
{
    ngx_http_bubble_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_bubble_module);

    if (ngx_http_bubble_parse_body(r, ctx) != NGX_OK) {
        ngx_http_finalize_request(r,
                                  ngx_http_bubble_refuse(r, ctx));
        return;
    }

    ngx_http_finalize_request(r, ngx_http_bubble_process(r, ctx));
}


/*
 * The size of the body as read, in bytes: a chunked body declares no
 * length, so the limit is checked here too, once, before a byte is parsed.
 */

static ngx_int_t
ngx_http_bubble_body_size(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    size_t *size)
{
    off_t                        total;
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl;
    ngx_http_bubble_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    total = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl;
         cl = cl->next)
    {
        b = cl->buf;
        total += ngx_buf_in_memory(b) ? b->last - b->pos
                                      : b->file_last - b->file_pos;
    }

    if (total > (off_t) blcf->max_body_size) {
        bubble_error_set(&ctx->err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                         "too_large", "", "body over %zu bytes "
                         "(bubble_max_body_size)", blcf->max_body_size);
        return NGX_ERROR;
    }

    *size = (size_t) total;

    return NGX_OK;
}


/*
 * bubble_sign_post on: the body must carry ?sig=, the HMAC of "FORMAT:" and
 * the body, as a GET's is of its spec.  The body is gathered into one
 * buffer of SIZE bytes (bubble_max_body_size at most) and checked before
 * the parser sees a byte of it.
 */

static ngx_int_t
ngx_http_bubble_signed_body(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    size_t size, ngx_str_t *body)
{
    u_char                      *p;
    ssize_t                      n;
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl;
    ngx_http_bubble_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    body->data = ngx_pnalloc(ctx->pool, size ? size : 1);
    if (body->data == NULL) {
        bubble_error_set(&ctx->err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                         "internal", "", "out of memory");
        return NGX_ERROR;
    }

    p = body->data;

    for (cl = r->request_body ? r->request_body->bufs : NULL; cl;
         cl = cl->next)
    {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        if (b->in_file && b->file_last > b->file_pos) {
            n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                              b->file_pos);
            if (n != b->file_last - b->file_pos) {
                bubble_error_set(&ctx->err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                 "internal", "", "reading the body's temp "
                                 "file failed");
                return NGX_ERROR;
            }

            p += n;
        }
    }

    body->len = p - body->data;

    return ngx_http_bubble_verify_sig(r, ctx, body, blcf->secrets);
}


/* feed the body to the parser as it lies: memory buffers, or the file */

static ngx_int_t
ngx_http_bubble_parse_body(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    off_t                        offset;
    u_char                      *chunk;
    size_t                       len, size;
    ssize_t                      n;
    ngx_str_t                    body;
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl;
    bubble_spec_parser_t        *parser;
    ngx_http_bubble_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    if (ngx_http_bubble_body_size(r, ctx, &size) != NGX_OK) {
        return NGX_ERROR;
    }

    parser = bubble_spec_parser_create(&ctx->alloc, &ctx->limits, &ctx->err);
    if (parser == NULL) {
        bubble_error_set(&ctx->err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                         "internal", "", "out of memory");
        return NGX_ERROR;
    }

    if (blcf->sign_post) {
        if (ngx_http_bubble_signed_body(r, ctx, size, &body) != NGX_OK
            || bubble_spec_parser_feed(parser, body.data, body.len) != 0)
        {
            goto failed;
        }

        goto done;
    }

    chunk = NULL;

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl;
         cl = cl->next)
    {
        b = cl->buf;

        len = ngx_buf_in_memory(b) ? (size_t) (b->last - b->pos)
                                   : (size_t) (b->file_last - b->file_pos);

        if (ngx_buf_in_memory(b)) {
            if (bubble_spec_parser_feed(parser, b->pos, len) != 0) {
                goto failed;
            }

            continue;
        }

        if (!b->in_file) {
            continue;
        }

        if (chunk == NULL) {
            chunk = ngx_palloc(ctx->pool, NGX_HTTP_BUBBLE_FILE_CHUNK);
            if (chunk == NULL) {
                goto nomem;
            }
        }

        for (offset = b->file_pos; offset < b->file_last; offset += n) {
            len = ngx_min(NGX_HTTP_BUBBLE_FILE_CHUNK,
                          (size_t) (b->file_last - offset));

            n = ngx_read_file(b->file, chunk, len, offset);
            if (n <= 0) {
                bubble_error_set(&ctx->err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                                 "internal", "", "reading the body's temp "
                                 "file failed");
                goto failed;
            }

            if (bubble_spec_parser_feed(parser, chunk, n) != 0) {
                goto failed;
            }
        }
    }

done:

    ctx->chart = bubble_spec_parser_finish(parser);
    bubble_spec_parser_destroy(parser);

    return ctx->chart ? NGX_OK : NGX_ERROR;

nomem:

    bubble_error_set(&ctx->err, NGX_HTTP_INTERNAL_SERVER_ERROR, "internal",
                     "", "out of memory");

failed:

    bubble_spec_parser_destroy(parser);
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_bubble_process(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    ngx_int_t                    rc;
    ngx_http_bubble_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    /* docs/spec.md: a URL extension wins over the "format" field */
    if (ctx->format >= 0) {
        ctx->chart->format = ctx->format;
    }

    /* bubble_png_compression small: zlib, not bubble_png_fast.c */
    ctx->chart->png_small = (blcf->png_compression
                             == NGX_HTTP_BUBBLE_PNG_SMALL);

    if (ngx_http_bubble_set_etag(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a POSTed chart is looked up by its ETag: the body had to be read */
    if (r->method & NGX_HTTP_POST) {

        /* RFC 9110 13.1.2: If-None-Match that matches fails a POST */
        if (ngx_http_bubble_not_modified(r)) {
            bubble_error_set(&ctx->err, NGX_HTTP_PRECONDITION_FAILED,
                             "precondition_failed", "", "If-None-Match "
                             "matches this chart's ETag: not rendered");
            return ngx_http_bubble_refuse(r, ctx);
        }

        rc = ngx_http_bubble_cache_content(r, ctx);
        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    /*
     * A chart URL is a file: revalidation does not draw, but it answers
     * 304 only for a chart that would draw, so its layout runs first (a
     * chart with no room for its panel is a 400 whatever the ETag).  HEAD
     * renders as GET does: the same status and headers, Content-Length
     * included.
     */

    if ((r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))
        && ngx_http_bubble_not_modified(r))
    {
        if (bubble_render_check(&ctx->alloc, ctx->chart, &ctx->err) != 0) {
            return ngx_http_bubble_refuse(r, ctx);
        }

        return ngx_http_bubble_send_not_modified(r);
    }

    /*
     * Reserve the render's estimated peak in the zone, or wait for it in
     * the queue (resumed by admit.c), or 413/503.
     */

    rc = ngx_http_bubble_admit(r, ctx, ngx_http_bubble_resume);

    if (rc == NGX_AGAIN) {
        return NGX_DONE;
    }

    if (rc == NGX_DECLINED) {
        return ngx_http_bubble_refuse(r, ctx);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_bubble_run(r, ctx);
}


/* after a wait in the admission queue: admitted, or refused (ctx->err) */

static ngx_int_t
ngx_http_bubble_resume(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    if (ctx->err.status) {
        return ngx_http_bubble_refuse(r, ctx);
    }

    return ngx_http_bubble_run(r, ctx);
}


/* admitted: the render, in a thread or inline */

static ngx_int_t
ngx_http_bubble_run(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
#if (NGX_THREADS)
    ngx_int_t  rc;

    rc = ngx_http_bubble_thread_post(r, ctx, ngx_http_bubble_render,
                                     ngx_http_bubble_finish);

    if (rc == NGX_DONE) {
        return NGX_DONE;
    }

    if (rc == NGX_ERROR) {
        return ngx_http_bubble_refuse(r, ctx);
    }

    /* NGX_DECLINED: no thread pool here, render inline */
#endif

    ngx_http_bubble_render(ctx);

    return ngx_http_bubble_finish(r, ctx);
}


/* the render itself: touches only ctx and its pool, so a thread may run it */

void
ngx_http_bubble_render(ngx_http_bubble_ctx_t *ctx)
{
    uint64_t  start;

    /* a thread has no ngx_current_msec of its own: the clock, in us */
    start = ngx_http_bubble_now_us();

    ctx->render_rc = bubble_render(&ctx->alloc, ctx->chart, &ctx->out,
                                   &ctx->err);

    ctx->render_us = ngx_http_bubble_now_us() - start;
    ctx->rendered = 1;
}


/* back on the event loop: the image, or the error the render met */

ngx_int_t
ngx_http_bubble_finish(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    if (!ctx->rendered) {
        /* cancelled before a thread took it: its client is gone */
        return NGX_ERROR;
    }

    /* counted before a byte is sent: a client that has it can scrape it */
    ngx_http_bubble_count_render(r, ctx);

    /* the reservation shrinks to what the request still holds */
    ngx_http_bubble_rendered(r, ctx);

    if (r->connection->error) {
        /*
         * The client went away while a thread rendered: nothing to send;
         * a complete image is kept by the cache all the same (never a
         * failed one), and the reservation goes with the request, now.
         */
        ngx_http_bubble_cache_store(r, ctx);
        return NGX_ERROR;
    }

    if (ctx->render_rc != 0) {
        return ngx_http_bubble_refuse(r, ctx);
    }

    /* a miss keeps the image (never a degraded one, nor an error) */
    ngx_http_bubble_cache_store(r, ctx);

    /* a degraded image is not the chart the URL names: never cached */
    return ngx_http_bubble_send_image(r, ctx->chart->format, ctx->out.data,
                                      ctx->out.len, ctx->out.dropped_rows,
                                      (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))
                                      && !ctx->degraded);
}


/* ctx->err as JSON; a client's error is no cache miss (cache.c) */

static ngx_int_t
ngx_http_bubble_refuse(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    if (ctx->err.status < NGX_HTTP_INTERNAL_SERVER_ERROR) {
        ngx_http_bubble_cache_forget(r, ctx);
    }

    return ngx_http_bubble_send_error(r, &ctx->err);
}


/*
 * ngx_bubble: the response layer, at the bottom of the glue.
 */


#include "ngx_http_bubble_module.h"


static ngx_int_t ngx_http_bubble_chart_cache_control(ngx_http_request_t *r);
static ngx_int_t ngx_http_bubble_send_body(ngx_http_request_t *r,
    ngx_buf_t *b);
static u_char *ngx_http_bubble_json_string(u_char *p, u_char *last,
    const char *s);


ngx_str_t  ngx_http_bubble_format_types[NGX_HTTP_BUBBLE_FORMATS] = {
    ngx_string("image/png"),            /* BUBBLE_FORMAT_PNG */
    ngx_string("image/svg+xml"),        /* BUBBLE_FORMAT_SVG */
    ngx_string("application/pdf")       /* BUBBLE_FORMAT_PDF */
};


const char  *ngx_http_bubble_formats[NGX_HTTP_BUBBLE_FORMATS] = {
    "png", "svg", "pdf"
};


/* adds "key: value"; both must live as long as the request */

ngx_table_elt_t *
ngx_http_bubble_add_header(ngx_http_request_t *r, ngx_str_t *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    h->hash = 1;
    h->key = *key;
    h->value = *value;
    h->lowcase_key = NULL;

#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return h;
}


/*
 * Replaces any Cache-Control already set (by this module, or by "expires"
 * before it) with one line, registered where "expires", "add_header" and
 * other modules look for it.
 */

ngx_int_t
ngx_http_bubble_set_cache_control(ngx_http_request_t *r, ngx_str_t *value)
{
    ngx_table_elt_t   *h;

    static ngx_str_t   key = ngx_string("Cache-Control");

#if (nginx_version >= 1023000)

    for (h = r->headers_out.cache_control; h; h = h->next) {
        h->hash = 0;
    }

    h = ngx_http_bubble_add_header(r, &key, value);
    if (h == NULL) {
        return NGX_ERROR;
    }

    r->headers_out.cache_control = h;

#else

    ngx_uint_t         i;
    ngx_table_elt_t  **ccp;

    ccp = r->headers_out.cache_control.elts;

    if (ccp == NULL) {
        if (ngx_array_init(&r->headers_out.cache_control, r->pool, 1,
                           sizeof(ngx_table_elt_t *))
            != NGX_OK)
        {
            return NGX_ERROR;
        }

    } else {
        for (i = 0; i < r->headers_out.cache_control.nelts; i++) {
            ccp[i]->hash = 0;
        }

        r->headers_out.cache_control.nelts = 0;
    }

    h = ngx_http_bubble_add_header(r, &key, value);
    if (h == NULL) {
        return NGX_ERROR;
    }

    ccp = ngx_array_push(&r->headers_out.cache_control);
    if (ccp == NULL) {
        return NGX_ERROR;
    }

    *ccp = h;

#endif

    return NGX_OK;
}


/* errors, refusals, status pages and degraded images: never cached */

ngx_int_t
ngx_http_bubble_no_store(ngx_http_request_t *r)
{
    static ngx_str_t  no_store = ngx_string("no-store");

    return ngx_http_bubble_set_cache_control(r, &no_store);
}


/* data: the quoted strong validator, living as long as the request */

ngx_int_t
ngx_http_bubble_etag_header(ngx_http_request_t *r, u_char *data, size_t len)
{
    ngx_str_t          value;
    ngx_table_elt_t   *h;

    static ngx_str_t   key = ngx_string("ETag");

    ngx_http_bubble_clear_etag(r);

    value.data = data;
    value.len = len;

    h = ngx_http_bubble_add_header(r, &key, &value);
    if (h == NULL) {
        return NGX_ERROR;
    }

    r->headers_out.etag = h;

    return NGX_OK;
}


/* an answer that is not the chart (an error, a degraded image) has none */

void
ngx_http_bubble_clear_etag(ngx_http_request_t *r)
{
    if (r->headers_out.etag) {
        r->headers_out.etag->hash = 0;
        r->headers_out.etag = NULL;
    }
}


/* Cache-Control of a chart URL's 200 and 304 (bubble_cache_control) */

static ngx_int_t
ngx_http_bubble_chart_cache_control(ngx_http_request_t *r)
{
    ngx_http_bubble_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    if (blcf->cache_control.len == 0) {
        return NGX_OK;
    }

    /* registered where nginx's "expires" finds it, and then replaces it */
    return ngx_http_bubble_set_cache_control(r, &blcf->cache_control);
}


/*
 * An image's 200, rendered or from the cache: LEN bytes at DATA, which
 * live as long as the request (NULL: headers only, for HEAD).  chart_url:
 * the chart's own URL (GET, HEAD), which gets bubble_cache_control; a
 * POST's answer and a degraded image do not.
 */

ngx_int_t
ngx_http_bubble_send_image(ngx_http_request_t *r, ngx_uint_t format,
    u_char *data, size_t len, size_t dropped_rows, ngx_uint_t chart_url)
{
    ngx_str_t          value;
    ngx_buf_t         *b;

    static ngx_str_t   key = ngx_string("X-Bubble-Dropped-Rows");

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = ngx_http_bubble_format_types[format];
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = len;

    /* rows left out: non-finite, or off a log axis */
    value.data = ngx_pnalloc(r->pool, NGX_SIZE_T_LEN);
    if (value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.len = ngx_sprintf(value.data, "%uz", dropped_rows) - value.data;

    if (ngx_http_bubble_add_header(r, &key, &value) == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (chart_url && ngx_http_bubble_chart_cache_control(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (data == NULL) {
        r->header_only = 1;
        return ngx_http_send_header(r);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;

    return ngx_http_bubble_send_body(r, b);
}


/* a chart URL's 304: its ETag is set, and If-None-Match matched it */

ngx_int_t
ngx_http_bubble_send_not_modified(ngx_http_request_t *r)
{
    r->headers_out.status = NGX_HTTP_NOT_MODIFIED;
    r->header_only = 1;
    ngx_http_clear_content_length(r);

    if (ngx_http_bubble_chart_cache_control(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_send_header(r);
}


/*
 * docs/spec.md's error body:
 * {"error": "...", "message": "...", "path": "...", "offset": N | null}
 */

ngx_int_t
ngx_http_bubble_send_error(ngx_http_request_t *r, bubble_error_t *err)
{
    ngx_buf_t   *b;
    ngx_uint_t   level;

    if (err->code == NULL) {
        bubble_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR, "internal", "",
                         "unknown error");
    }

    level = (err->status >= NGX_HTTP_INTERNAL_SERVER_ERROR) ? NGX_LOG_ERR
                                                            : NGX_LOG_INFO;

    ngx_log_error(level, r->connection->log, 0, "bubble: %s: %s",
                  err->code, err->message);

    b = ngx_http_bubble_error_buf(r, err);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = err->status;

    if (ngx_http_bubble_error_headers(r, err->status, b->last - b->pos)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_bubble_send_body(r, b);
}


ngx_buf_t *
ngx_http_bubble_error_buf(ngx_http_request_t *r, bubble_error_t *err)
{
    size_t      len;
    u_char     *p, *last;
    ngx_buf_t  *b;

    /* every byte escaped as \u00XX at worst */
    len = sizeof("{\"error\":\"\",\"message\":\"\",\"path\":\"\","
                 "\"offset\":}\n") + NGX_OFF_T_LEN
          + 6 * (ngx_strlen(err->code) + ngx_strlen(err->message)
                 + ngx_strlen(err->path));

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NULL;
    }

    p = b->pos;
    last = b->end;

    p = ngx_cpymem(p, "{\"error\":", 9);
    p = ngx_http_bubble_json_string(p, last, err->code);
    p = ngx_cpymem(p, ",\"message\":", 11);
    p = ngx_http_bubble_json_string(p, last, err->message);
    p = ngx_cpymem(p, ",\"path\":", 8);
    p = ngx_http_bubble_json_string(p, last, err->path);

    if (err->offset >= 0) {
        p = ngx_sprintf(p, ",\"offset\":%l}\n", err->offset);
    } else {
        p = ngx_cpymem(p, ",\"offset\":null}\n", 16);
    }

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    return b;
}


/*
 * An error's headers: JSON, never stored, and no ETag (the answer is not
 * the chart the URL names).  Also for nginx's own 413 and 405, which the
 * body filter rewrites (ngx_http_bubble_filter.c).
 */

ngx_int_t
ngx_http_bubble_error_headers(ngx_http_request_t *r, ngx_uint_t status,
    size_t len)
{
    static ngx_str_t  retry_after = ngx_string("Retry-After");
    static ngx_str_t  retry_after_value = ngx_string("1");
    static ngx_str_t  allow = ngx_string("Allow");
    static ngx_str_t  allow_value = ngx_string("GET, HEAD, POST");

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = len;

    ngx_http_bubble_clear_etag(r);

    /* errors are about this request: never cache them */
    if (ngx_http_bubble_no_store(r) != NGX_OK) {
        return NGX_ERROR;
    }

    /* refusals are about load: worth retrying soon, in seconds */
    if (status == NGX_HTTP_SERVICE_UNAVAILABLE
        && ngx_http_bubble_add_header(r, &retry_after, &retry_after_value)
           == NULL)
    {
        return NGX_ERROR;
    }

    if (status == NGX_HTTP_NOT_ALLOWED
        && ngx_http_bubble_add_header(r, &allow, &allow_value) == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* a status page's or readiness answer: B holds it all, never stored */

ngx_int_t
ngx_http_bubble_send_buf(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_buf_t *b)
{
    r->headers_out.status = status;
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = b->last - b->pos;

    if (ngx_http_bubble_no_store(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_bubble_send_body(r, b);
}


static ngx_int_t
ngx_http_bubble_send_body(ngx_http_request_t *r, ngx_buf_t *b)
{
    ngx_int_t    rc;
    ngx_chain_t  out;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static u_char *
ngx_http_bubble_json_string(u_char *p, u_char *last, const char *s)
{
    u_char  c;

    *p++ = '"';

    while (*s && p < last - 8) {
        c = (u_char) *s++;

        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = c;

        } else if (c < 0x20) {
            p = ngx_sprintf(p, "\\u%04xd", (ngx_uint_t) c);

        } else {
            *p++ = c;
        }
    }

    *p++ = '"';

    return p;
}

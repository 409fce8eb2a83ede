
/*
 * ngx_bubble: the response layer, headers first.
 */


#include "ngx_http_bubble_response.h"


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
 * Replaces any Cache-Control already set (by this module or by "expires"
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


void
ngx_http_bubble_clear_etag(ngx_http_request_t *r)
{
    if (r->headers_out.etag) {
        r->headers_out.etag->hash = 0;
        r->headers_out.etag = NULL;
    }
}


/* X-Bubble-Dropped-Rows: rows left out (non-finite, or off a log axis) */

ngx_int_t
ngx_http_bubble_dropped_rows_header(ngx_http_request_t *r, size_t rows)
{
    ngx_str_t         value;

    static ngx_str_t  key = ngx_string("X-Bubble-Dropped-Rows");

    value.data = ngx_pnalloc(r->pool, NGX_SIZE_T_LEN);
    if (value.data == NULL) {
        return NGX_ERROR;
    }

    value.len = ngx_sprintf(value.data, "%uz", rows) - value.data;

    if (ngx_http_bubble_add_header(r, &key, &value) == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}

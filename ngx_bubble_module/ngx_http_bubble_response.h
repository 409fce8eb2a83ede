
/*
 * ngx_bubble: the response layer, at the bottom of the glue.
 *
 * Every response the module sends, and every header it adds, goes
 * through here: images (rendered or cached), 304s, JSON errors and the
 * status pages' buffers.  Each nginx version sees the header set it
 * expects: from 1.23.0 on, multi-valued headers are chained through
 * h->next, and headers_out.cache_control points to the first
 * Cache-Control line (before, an array of them).
 */


#ifndef _NGX_HTTP_BUBBLE_RESPONSE_H_INCLUDED_
#define _NGX_HTTP_BUBBLE_RESPONSE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bubble.h"


/* per BUBBLE_FORMAT_*: the media type, and the name metrics label it by */
#define NGX_HTTP_BUBBLE_FORMATS  3

extern ngx_str_t    ngx_http_bubble_format_types[NGX_HTTP_BUBBLE_FORMATS];
extern const char  *ngx_http_bubble_formats[NGX_HTTP_BUBBLE_FORMATS];


ngx_table_elt_t *ngx_http_bubble_add_header(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *value);
ngx_int_t ngx_http_bubble_set_cache_control(ngx_http_request_t *r,
    ngx_str_t *value);
ngx_int_t ngx_http_bubble_no_store(ngx_http_request_t *r);
ngx_int_t ngx_http_bubble_etag_header(ngx_http_request_t *r, u_char *data,
    size_t len);
void ngx_http_bubble_clear_etag(ngx_http_request_t *r);

ngx_int_t ngx_http_bubble_send_image(ngx_http_request_t *r,
    ngx_uint_t format, u_char *data, size_t len, size_t dropped_rows,
    ngx_uint_t chart_url);
ngx_int_t ngx_http_bubble_send_not_modified(ngx_http_request_t *r);
ngx_int_t ngx_http_bubble_send_error(ngx_http_request_t *r,
    bubble_error_t *err);
ngx_buf_t *ngx_http_bubble_error_buf(ngx_http_request_t *r,
    bubble_error_t *err);
ngx_int_t ngx_http_bubble_error_headers(ngx_http_request_t *r,
    ngx_uint_t status, size_t len);
ngx_int_t ngx_http_bubble_send_buf(ngx_http_request_t *r, ngx_uint_t status,
    ngx_str_t *type, ngx_buf_t *b);


#endif /* _NGX_HTTP_BUBBLE_RESPONSE_H_INCLUDED_ */

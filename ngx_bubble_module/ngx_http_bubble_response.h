
/*
 * ngx_bubble: the response layer, headers first.
 *
 * Every header the module adds goes through here, so each nginx version
 * sees the header set it expects: from 1.23.0 on, multi-valued headers are
 * chained through h->next, and headers_out.cache_control is a pointer to
 * the first Cache-Control line (before, an array of them).
 */


#ifndef _NGX_HTTP_BUBBLE_RESPONSE_H_INCLUDED_
#define _NGX_HTTP_BUBBLE_RESPONSE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


ngx_table_elt_t *ngx_http_bubble_add_header(ngx_http_request_t *r,
    ngx_str_t *key, ngx_str_t *value);
ngx_int_t ngx_http_bubble_set_cache_control(ngx_http_request_t *r,
    ngx_str_t *value);
ngx_int_t ngx_http_bubble_no_store(ngx_http_request_t *r);
ngx_int_t ngx_http_bubble_etag_header(ngx_http_request_t *r, u_char *data,
    size_t len);
void ngx_http_bubble_clear_etag(ngx_http_request_t *r);
ngx_int_t ngx_http_bubble_dropped_rows_header(ngx_http_request_t *r,
    size_t rows);


#endif /* _NGX_HTTP_BUBBLE_RESPONSE_H_INCLUDED_ */


/*
 * ngx_bubble: bubble charts rendered inside nginx workers.
 * The glue's shared declarations.
 */


#ifndef _NGX_HTTP_BUBBLE_MODULE_H_INCLUDED_
#define _NGX_HTTP_BUBBLE_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "bubble.h"


typedef struct {
    ngx_flag_t                enable;
    size_t                    max_body_size;    /* bytes */
    ngx_uint_t                max_points;       /* rows */
    size_t                    max_pixels;       /* width*height*scale^2 */
#if (NGX_THREADS)
    ngx_thread_pool_t        *thread_pool;      /* NULL: render inline */
#endif
    size_t                    max_url_length;   /* bytes, 414 past it */
    ngx_array_t              *secrets;          /* ngx_str_t; NULL: unsigned */
    ngx_str_t                 cache_control;    /* GET 200/304; "" = none */
} ngx_http_bubble_loc_conf_t;


typedef struct {
    ngx_pool_t               *pool;         /* the render's own pool */
    bubble_allocator_t        alloc;
    bubble_limits_t           limits;
    bubble_error_t            err;
    bubble_chart_t           *chart;
    bubble_output_t           out;
    ngx_int_t                 format;       /* from the URL, or -1 */
    ngx_buf_t                *rewrite;      /* JSON for nginx's own 413 */
    int                       render_rc;    /* bubble_render()'s result */
    const char               *reject_reason;    /* "memory", "queue", ... */
} ngx_http_bubble_ctx_t;


extern ngx_module_t  ngx_http_bubble_module;


ngx_int_t ngx_http_bubble_handler(ngx_http_request_t *r);
void ngx_http_bubble_render(ngx_http_bubble_ctx_t *ctx);
ngx_int_t ngx_http_bubble_finish(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
ngx_int_t ngx_http_bubble_send_error(ngx_http_request_t *r,
    bubble_error_t *err);
ngx_buf_t *ngx_http_bubble_error_buf(ngx_http_request_t *r,
    bubble_error_t *err);
ngx_int_t ngx_http_bubble_error_headers(ngx_http_request_t *r,
    ngx_uint_t status, size_t len);
ngx_int_t ngx_http_bubble_filter_init(ngx_conf_t *cf);

ngx_int_t ngx_http_bubble_url_spec(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_str_t *json);
ngx_int_t ngx_http_bubble_verify_sig(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_str_t *json, ngx_array_t *secrets);
ngx_int_t ngx_http_bubble_set_etag(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
ngx_int_t ngx_http_bubble_not_modified(ngx_http_request_t *r);
char *ngx_http_bubble_url_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

#if (NGX_THREADS)
ngx_int_t ngx_http_bubble_thread_post(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
char *ngx_http_bubble_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
#endif


#endif /* _NGX_HTTP_BUBBLE_MODULE_H_INCLUDED_ */


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
#include "ngx_http_bubble_response.h"
#include "ngx_http_bubble_pool.h"


/*
 * glibc's allocator takes tunables (mallopt) and gives free pages back on
 * request (malloc_trim); musl's has neither, and bubble_malloc_tuning then
 * keeps large blocks between renders in the module instead
 * (ngx_http_bubble_keep.c), with a notice at start (init_process).  __GLIBC__ is set by <features.h>, which <ngx_config.h>
 * has already included.
 */
#if (defined __GLIBC__)
#define NGX_HTTP_BUBBLE_GLIBC_MALLOC  1
#else
#define NGX_HTTP_BUBBLE_GLIBC_MALLOC  0
#endif


/* bubble_memory_limit */
#define NGX_HTTP_BUBBLE_LIMIT_AUTO   0      /* a percentage of the cgroup's */
#define NGX_HTTP_BUBBLE_LIMIT_SIZE   1      /* bytes, given */
#define NGX_HTTP_BUBBLE_LIMIT_OFF    2      /* account, never refuse */

/* bubble_png_compression */
#define NGX_HTTP_BUBBLE_PNG_FAST     0      /* core/bubble_png_fast.c */
#define NGX_HTTP_BUBBLE_PNG_SMALL    1      /* zlib */

/*
 * bubble_memory_limit auto: 15% of the limit stays for what no
 * reservation covers (the zone, first-use font caches, estimate error,
 * 100 ms between samples); the OOM test asserts usage peaks under 90%
 */
#define NGX_HTTP_BUBBLE_PERCENT      85
/* bubble_ready_threshold: unready at 75% of what admission refuses at */
#define NGX_HTTP_BUBBLE_READY_PERCENT  75


typedef struct {
    ngx_shm_zone_t           *shm_zone;         /* bubble_zone, or NULL */
    ngx_int_t                 limit_mode;       /* NGX_HTTP_BUBBLE_LIMIT_* */
    ngx_uint_t                limit_percent;    /* auto: % of the limit */
    size_t                    limit_size;       /* bytes, SIZE */
    ngx_flag_t                status;           /* bubble_status is used */
    ngx_flag_t                malloc_tuning;    /* mallopt(), idle trims */
    ngx_flag_t                ready;            /* bubble_ready is used */
    ngx_uint_t                ready_threshold;  /* percent of the budget */
    ngx_uint_t                queue;            /* bubble_queue: places */

    /* the response cache: ngx_http_bubble_cache.c */
    ngx_shm_zone_t           *cache_zone;       /* bubble_cache_zone, or NULL */
    size_t                    cache_max_entry;  /* bytes */
    time_t                    cache_valid;      /* seconds; 0: for ever */
} ngx_http_bubble_main_conf_t;


typedef struct ngx_http_bubble_reservation_s  ngx_http_bubble_reservation_t;


typedef struct {
    ngx_flag_t                enable;
    size_t                    max_body_size;    /* bytes */
    ngx_uint_t                max_points;       /* rows */
    size_t                    max_pixels;       /* width*height*scale^2 */
    ngx_uint_t                png_compression;  /* NGX_HTTP_BUBBLE_PNG_* */
#if (NGX_THREADS)
    ngx_thread_pool_t        *thread_pool;      /* NULL: render inline */
#endif
    size_t                    max_url_length;   /* bytes, 414 past it */
    ngx_array_t              *secrets;          /* ngx_str_t; NULL: unsigned */
    ngx_flag_t                sign_post;        /* POSTs need ?sig= too */
    ngx_str_t                 cache_control;    /* GET 200/304; "" = none */
    ngx_flag_t                degrade;          /* scale 2 -> 1 over budget */
    ngx_flag_t                cache;            /* bubble_cache */
    ngx_flag_t                cache_header;     /* X-Bubble-Cache */
    ngx_msec_t                queue_timeout;    /* ms a render may wait */
    ngx_msec_t                max_render_time;  /* ms; 0: no time budget */
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
    ngx_int_t                 reject_reason;    /* REASON_*; NGX_DECLINED */
    ngx_http_bubble_reservation_t  *reservation;   /* in the zone, or NULL */
    size_t                    reserved;     /* bytes, at admission */
    uint64_t                  render_us;    /* bubble_render() took, us */
    uint64_t                  estimate_us;  /* bubble_estimate()'s time */
    ngx_msec_t                waited;       /* ms in the admission queue */
    void                     *waiter;       /* while queued: admit.c's */
    void                     *task;         /* a thread's: thread.c's */
    unsigned                  degraded:1;   /* rendered at scale 1 */
    unsigned                  rendered:1;   /* bubble_render() ran */
    unsigned                  queued:1;     /* waited for memory */

    /* the response cache: ngx_http_bubble_cache.c */
    unsigned                  cache_store:1;    /* a miss: store the image */
    ngx_uint_t                cache_status;     /* NGX_HTTP_BUBBLE_CACHE_* */
    ngx_table_elt_t          *cache_header;     /* X-Bubble-Cache, or NULL */
    u_char                    cache_key[32];    /* SHA-256 */
} ngx_http_bubble_ctx_t;


extern ngx_module_t  ngx_http_bubble_module;


ngx_int_t ngx_http_bubble_handler(ngx_http_request_t *r);
void ngx_http_bubble_render(ngx_http_bubble_ctx_t *ctx);
ngx_int_t ngx_http_bubble_finish(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
ngx_int_t ngx_http_bubble_filter_init(ngx_conf_t *cf);

ngx_int_t ngx_http_bubble_url_spec(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_str_t *json);
ngx_int_t ngx_http_bubble_verify_sig(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_str_t *json, ngx_array_t *secrets);
char *ngx_http_bubble_url_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

ngx_int_t ngx_http_bubble_set_etag(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
ngx_int_t ngx_http_bubble_not_modified(ngx_http_request_t *r);

char *ngx_http_bubble_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_bubble_zone_init_process(ngx_cycle_t *cycle);
void ngx_http_bubble_zone_exit_process(ngx_cycle_t *cycle);
char *ngx_http_bubble_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

typedef void (*ngx_http_bubble_render_pt)(ngx_http_bubble_ctx_t *ctx);
typedef ngx_int_t (*ngx_http_bubble_done_pt)(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);

/*
 * Admission (ngx_http_bubble_admit.c): NGX_OK, admitted; NGX_DECLINED,
 * refused (ctx->err); NGX_ERROR; NGX_AGAIN, waiting in the queue: then
 * RESUME runs on the event loop once it is admitted, or refused past
 * bubble_queue_timeout (ctx->err set), and its result finalizes the
 * request.
 */
ngx_int_t ngx_http_bubble_admit(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_done_pt resume);
void ngx_http_bubble_rendered(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
void ngx_http_bubble_release_now(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
void ngx_http_bubble_admit_init_process(ngx_cycle_t *cycle);

#if (NGX_THREADS)
ngx_int_t ngx_http_bubble_thread_post(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_render_pt render,
    ngx_http_bubble_done_pt done);
char *ngx_http_bubble_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
#endif


#endif /* _NGX_HTTP_BUBBLE_MODULE_H_INCLUDED_ */

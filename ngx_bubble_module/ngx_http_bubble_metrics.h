
/*
 * ngx_bubble: metrics, readiness and log variables (issue 7).
 *
 * The counters live in the shared zone (ngx_http_bubble_zone.h embeds
 * ngx_http_bubble_metrics_t), so every worker adds to the same words and
 * a reload, which adopts the zone, keeps them.  A log-phase handler counts
 * each request of a "bubble" location once, when it ends:
 *
 *   rendered         renders{format, outcome}, the duration histogram
 *   refused (4xx, 503)  refusals{reason}
 *
 * ngx_http_bubble_status.c exposes them (Prometheus text, JSON);
 * ngx_http_bubble_ready.c answers readiness probes.
 */


#ifndef _NGX_HTTP_BUBBLE_METRICS_H_INCLUDED_
#define _NGX_HTTP_BUBBLE_METRICS_H_INCLUDED_


#include "ngx_http_bubble_module.h"



/* refusal reasons, the label values of bubble_refusals_total */
#define NGX_HTTP_BUBBLE_REASON_MEMORY       0   /* the budget, or no slot */
#define NGX_HTTP_BUBBLE_REASON_WORKING_SET  1   /* the cgroup's ceiling */
#define NGX_HTTP_BUBBLE_REASON_QUEUE        2   /* bubble_queue full, its
                                                   timeout; max_queue */
#define NGX_HTTP_BUBBLE_REASON_LIMITS       3   /* 413 (time too), 414 */
#define NGX_HTTP_BUBBLE_REASON_BAD_INPUT    4   /* other 4xx */
#define NGX_HTTP_BUBBLE_REASONS             5

/*
 * Render durations: upper bounds in microseconds, and one more bucket
 * past the last (Prometheus' "+Inf").  W2 renders in ~6 ms, W1 in ~70 ms,
 * W3 in ~600 ms (docs/memory.md); 10 s is a pathological chart.
 */
#define NGX_HTTP_BUBBLE_BOUNDS       11
#define NGX_HTTP_BUBBLE_BUCKETS      (NGX_HTTP_BUBBLE_BOUNDS + 1)


typedef struct {
    /* [format][0: ok, 1: error] */
    ngx_atomic_t    renders[NGX_HTTP_BUBBLE_FORMATS][2];
    ngx_atomic_t    refusals[NGX_HTTP_BUBBLE_REASONS];

    /* renders per bucket (not cumulative), and their sum in us */
    ngx_atomic_t    duration[NGX_HTTP_BUBBLE_FORMATS]
                            [NGX_HTTP_BUBBLE_BUCKETS];
    ngx_atomic_t    duration_us[NGX_HTTP_BUBBLE_FORMATS];

    /* renders admitted after waiting in the queue: waits per bucket, us */
    ngx_atomic_t    queue_wait[NGX_HTTP_BUBBLE_BUCKETS];
    ngx_atomic_t    queue_wait_us;

    /*
     * renders dropped unstarted because their client left: waiting in
     * the admission queue [0], or in a thread pool's queue [1]
     */
    ngx_atomic_t    cancelled[2];

    /* renders that took longer than bubble_max_render_time */
    ngx_atomic_t    overruns;
} ngx_http_bubble_metrics_t;


/* why ngx_http_bubble_ready_check() finds the process unready */
typedef struct {
    const char     *reason;     /* "memory", "working_set", "no_slot", ... */
    size_t          reserved;   /* bytes, all renders of all workers */
    size_t          budget;     /* bytes */
    size_t          projected;  /* bytes, the working set with renders */
    size_t          ceiling;    /* bytes */
    ngx_uint_t      threshold;  /* percent */
} ngx_http_bubble_readiness_t;


extern const char *ngx_http_bubble_reasons[NGX_HTTP_BUBBLE_REASONS];
extern const ngx_uint_t ngx_http_bubble_bounds_us[NGX_HTTP_BUBBLE_BOUNDS];
extern const char *ngx_http_bubble_bounds[NGX_HTTP_BUBBLE_BOUNDS];


/* ngx_http_bubble_metrics.c */
ngx_int_t ngx_http_bubble_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_bubble_metrics_init(ngx_conf_t *cf);
uint64_t ngx_http_bubble_now_us(void);
ngx_int_t ngx_http_bubble_reject_reason(ngx_http_request_t *r);
void ngx_http_bubble_count_render(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
void ngx_http_bubble_count_wait(ngx_http_bubble_metrics_t *m,
    ngx_msec_t wait);

/* ngx_http_bubble_ready.c */
char *ngx_http_bubble_ready(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_bubble_ready_check(ngx_http_bubble_main_conf_t *bmcf,
    ngx_http_bubble_readiness_t *rd);


#endif /* _NGX_HTTP_BUBBLE_METRICS_H_INCLUDED_ */


/*
 * ngx_bubble: the response cache (ngx_http_bubble_cache.c).
 *
 *   bubble_cache_zone    name:size [max_entry=size] [valid=time];   (http)
 *   bubble_cache         on | off;                     (location, on)
 *   bubble_cache_header  on | off;                     (location, off)
 *   $bubble_cache_status HIT | MISS | EXPIRED | BYPASS
 *
 * Rendered images in a shared zone of their own, least recently used
 * evicted first; a hit sends the stored bytes without decoding, parsing
 * or rendering anything.
 */


#ifndef _NGX_HTTP_BUBBLE_CACHE_H_INCLUDED_
#define _NGX_HTTP_BUBBLE_CACHE_H_INCLUDED_


#include "ngx_http_bubble_module.h"


/* ctx->cache_status */
#define NGX_HTTP_BUBBLE_CACHE_NONE       0  /* no zone, or not looked up */
#define NGX_HTTP_BUBBLE_CACHE_BYPASS     1  /* "bubble_cache off" here */
#define NGX_HTTP_BUBBLE_CACHE_MISS       2
#define NGX_HTTP_BUBBLE_CACHE_EXPIRED    3  /* found, stale: rendered anew */
#define NGX_HTTP_BUBBLE_CACHE_HIT        4


/*
 * Counters since the zone was created (they survive reloads), and gauges.
 * The first five are the bubble_cache_* series of /metrics (README,
 * "Metrics").
 */
typedef struct {
    ngx_atomic_uint_t         entries;
    ngx_atomic_uint_t         bytes;            /* entries' bytes, headers in */
    ngx_atomic_uint_t         hits;             /* 200, HEAD and 304 */
    ngx_atomic_uint_t         misses;           /* EXPIRED included */
    ngx_atomic_uint_t         evictions;        /* LRU, to make room */

    ngx_atomic_uint_t         expired;          /* stale entries dropped */
    ngx_atomic_uint_t         bypasses;         /* "bubble_cache off" */
    ngx_atomic_uint_t         stores;           /* entries added */
    ngx_atomic_uint_t         too_large;        /* not stored: > max_entry */
    ngx_atomic_uint_t         no_room;          /* not stored: zone full */
    ngx_atomic_uint_t         size;             /* the zone's bytes */
    ngx_atomic_uint_t         max_entry;        /* bytes */

    /*
     * Entries being sent.  held: bytes of evicted entries kept for the
     * requests still sending them (a dead worker's stay here until the
     * sweep gives them back); reclaimed: pins of dead workers swept.
     */
    ngx_atomic_uint_t         pins;
    ngx_atomic_uint_t         held;             /* bytes */
    ngx_atomic_uint_t         reclaimed_pins;
    ngx_atomic_uint_t         reclaimed_bytes;  /* freed by those sweeps */
} ngx_http_bubble_cache_stats_t;


/* zeroes st when there is no cache zone */
void ngx_http_bubble_cache_stats(ngx_http_bubble_main_conf_t *bmcf,
    ngx_http_bubble_cache_stats_t *st);

/* the zone's bytes (the memory budget gives them up), or 0 */
size_t ngx_http_bubble_cache_size(ngx_http_bubble_main_conf_t *bmcf);

/*
 * Lookups: NGX_DECLINED when the request goes on to be rendered (a miss,
 * or no cache), else the hit was answered and this is the handler's rc.
 * GET and HEAD look up by the URL, before it is decoded; POST by the
 * chart's ETag, after parsing (the body has to be read anyway).
 */
ngx_int_t ngx_http_bubble_cache_url(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
ngx_int_t ngx_http_bubble_cache_content(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);

/* after a render: stores ctx->out under the key a miss left in ctx */
void ngx_http_bubble_cache_store(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);

/* a miss that ended in the client's error: not counted, no header */
void ngx_http_bubble_cache_forget(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);

/*
 * Unpins what dead processes were sending (kill -9 of a worker with slow
 * readers), freeing evicted entries no live request holds; every second
 * from the zone's timer, and as a worker starts.
 */
void ngx_http_bubble_cache_sweep(ngx_http_bubble_main_conf_t *bmcf,
    ngx_log_t *log);

char *ngx_http_bubble_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_bubble_cache_add_variables(ngx_conf_t *cf);


#endif /* _NGX_HTTP_BUBBLE_CACHE_H_INCLUDED_ */

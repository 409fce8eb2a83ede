
/*
 * ngx_bubble: the shared zone (ngx_http_bubble_zone.c).
 *
 * One slab zone all workers see: the memory budget, the renders' memory
 * reservations in per-process slots, counters, and the latest cgroup
 * sample.  Everything here is a word read and written with atomics: no
 * lock is ever held across a render, and a worker killed at any point
 * leaves nothing locked (the slab mutex is used only by slab allocations).
 */


#ifndef _NGX_HTTP_BUBBLE_ZONE_H_INCLUDED_
#define _NGX_HTTP_BUBBLE_ZONE_H_INCLUDED_


#include "ngx_http_bubble_module.h"
#include "ngx_http_bubble_metrics.h"


/*
 * Slots for processes holding reservations: workers, plus the old
 * generation's during a reload.  A dead process's slot is swept.
 */
#define NGX_HTTP_BUBBLE_SLOTS        128


typedef struct {
    /*
     * The owner's pid; 0: free.  With NGX_HTTP_BUBBLE_RECLAIM or-ed in:
     * the pid of a process sweeping the slot of a dead owner.
     */
    ngx_atomic_t              pid;
    ngx_atomic_t              reserved;         /* bytes */
    ngx_atomic_t              renders;          /* requests holding some */
    ngx_atomic_t              queued;           /* tasks a thread has yet
                                                   to start */
} ngx_http_bubble_slot_t;


typedef struct {
    /* counters since the zone was created: they survive reloads */
    ngx_atomic_t              renders;          /* admitted */
    ngx_atomic_t              refused_budget;   /* reserved + estimate */
    ngx_atomic_t              refused_memory;   /* working set + estimate */
    ngx_atomic_t              refused_slot;     /* no free slot */
    ngx_atomic_t              degraded;         /* scale lowered to fit */
    ngx_atomic_t              reclaimed_slots;  /* of dead processes */
    ngx_atomic_t              reclaimed_bytes;
    ngx_atomic_t              peak;             /* bytes reserved at most */

    /* bytes, as the latest sampling worker computed them */
    ngx_atomic_t              budget;
    ngx_atomic_t              ceiling;

    /* the latest cgroup sample, written by any worker */
    ngx_atomic_t              sampled;          /* ngx_current_msec; 0 none */
    ngx_atomic_t              version;          /* cgroup v1, v2, 0 none */
    ngx_atomic_t              limit;            /* bytes */
    ngx_atomic_t              usage;
    ngx_atomic_t              inactive_file;
    ngx_atomic_t              working_set;
    ngx_atomic_t              reserved_at;      /* bytes reserved then */

    /* bytes: the working set the last time nothing was reserved */
    ngx_atomic_t              base;

    /* renders, refusals, durations: ngx_http_bubble_metrics.c */
    ngx_http_bubble_metrics_t metrics;

    ngx_http_bubble_slot_t    slots[NGX_HTTP_BUBBLE_SLOTS];
} ngx_http_bubble_shctx_t;


typedef struct {
    ngx_http_bubble_shctx_t  *sh;
    ngx_slab_pool_t          *shpool;
} ngx_http_bubble_zone_ctx_t;


/* the zone of the current cycle, or NULL when bubble_zone is not set */
ngx_http_bubble_shctx_t *ngx_http_bubble_zone_shctx(
    ngx_http_bubble_main_conf_t *bmcf);

/* bytes reserved now, and requests holding them, over all slots */
size_t ngx_http_bubble_zone_reserved(ngx_http_bubble_shctx_t *sh,
    ngx_uint_t *renders);

/* this worker's count of queued render tasks, or NULL without a slot */
ngx_atomic_t *ngx_http_bubble_zone_queued(void);


#endif /* _NGX_HTTP_BUBBLE_ZONE_H_INCLUDED_ */


/*
 * ngx_bubble: the shared zone (ngx_http_bubble_zone.c).
 *
 * One slab zone all workers see: the memory budget, the renders' memory
 * reservations in per-process slots, counters, the latest cgroup sample,
 * and the admission queue's entries (ngx_http_bubble_queue.c).  Slots and
 * counters are words read and written with atomics; the queue is changed
 * only under the zone's slab mutex, for microseconds, never across a
 * render (the master unlocks it if a worker dies holding it).
 */


#ifndef _NGX_HTTP_BUBBLE_ZONE_H_INCLUDED_
#define _NGX_HTTP_BUBBLE_ZONE_H_INCLUDED_


#include "ngx_http_bubble_module.h"
#include "ngx_http_bubble_metrics.h"


/*
 * Slots for processes holding reservations, sized when the zone is
 * created or adopted: twice worker_processes (a reload's old and new
 * workers side by side) and a few for respawns not yet swept.
 */
#define NGX_HTTP_BUBBLE_SLOTS_SPARE  4

/* workers that found no free slot, remembered so /ready can say so */
#define NGX_HTTP_BUBBLE_SLOTLESS     16

/* cost classes of the admission queue: estimated render time, x4 apart */
#define NGX_HTTP_BUBBLE_CLASSES      8

/* a queue entry's state */
#define NGX_HTTP_BUBBLE_FREE         0
#define NGX_HTTP_BUBBLE_WAITING      1
#define NGX_HTTP_BUBBLE_GRANTED      2  /* bytes in sh->granted */


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
    ngx_atomic_t              admitted;         /* renders, since claimed */

    /* of reserved, bytes by the cost class of the renders holding them */
    ngx_atomic_t              class_bytes[NGX_HTTP_BUBBLE_CLASSES];
} ngx_http_bubble_slot_t;


/*
 * An array of slots; a reload that needs more appends another (the old
 * workers keep theirs), so every reader walks the chain.
 */
typedef struct ngx_http_bubble_slots_s  ngx_http_bubble_slots_t;

struct ngx_http_bubble_slots_s {
    ngx_http_bubble_slots_t  *next;
    ngx_uint_t                n;
    ngx_http_bubble_slot_t    slot[1];
};


/* a render waiting for memory (ngx_http_bubble_queue.c) */
typedef struct {
    ngx_atomic_t              pid;              /* the owner; 0: free */
    ngx_atomic_t              state;            /* NGX_HTTP_BUBBLE_* */
    ngx_atomic_t              seq;              /* arrival, over workers */
    ngx_atomic_t              bytes;            /* the memory estimate */
    ngx_atomic_t              cost;             /* us, the time estimate */
    ngx_atomic_t              cls;              /* cost class */
    ngx_atomic_t              granted;          /* msec of the grant */
} ngx_http_bubble_entry_t;


typedef struct {
    ngx_uint_t                capacity;         /* entries */
    ngx_atomic_t              waiting;          /* entries WAITING */
    ngx_atomic_t              seq;              /* the last ticket */

    /* deficit round robin over the cost classes, us of render time */
    ngx_atomic_int_t          deficit[NGX_HTTP_BUBBLE_CLASSES];
    ngx_atomic_t              current;          /* the class served */
    ngx_atomic_t              fresh;            /* its quantum was added */
    ngx_atomic_t              swept_at;         /* msec, dead owners */

    /* counters since the zone was created */
    ngx_atomic_t              enqueued;         /* renders that waited */
    ngx_atomic_t              admitted;         /* ... then rendered */
    ngx_atomic_t              timeouts;         /* 503 past the timeout */
    ngx_atomic_t              full;             /* 503, no place left */
    ngx_atomic_t              gone;             /* the client left */
    ngx_atomic_t              swept;            /* of dead processes */
    ngx_atomic_t              backfilled;       /* past a head's wait */

    ngx_http_bubble_entry_t   entry[1];
} ngx_http_bubble_queue_sh_t;


typedef struct {
    /* counters since the zone was created: they survive reloads */
    ngx_atomic_t              renders;          /* admitted */
    ngx_atomic_t              refused_budget;   /* reserved + estimate */
    ngx_atomic_t              refused_memory;   /* working set + estimate */
    ngx_atomic_t              refused_slot;     /* no free slot */
    ngx_atomic_t              refused_too_large;  /* over the budget alone */
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

    /* bytes granted to queued renders their workers have yet to take */
    ngx_atomic_t              granted;

    /* renders, refusals, durations: ngx_http_bubble_metrics.c */
    ngx_http_bubble_metrics_t metrics;

    ngx_http_bubble_queue_sh_t  *queue;

    ngx_atomic_t              nslots;           /* over the chain */
    ngx_http_bubble_slots_t  *slots;

    /* pids of workers without a slot: not ready */
    ngx_atomic_t              slotless[NGX_HTTP_BUBBLE_SLOTLESS];
} ngx_http_bubble_shctx_t;


typedef struct {
    ngx_http_bubble_shctx_t  *sh;
    ngx_slab_pool_t          *shpool;
    ngx_cycle_t              *cycle;            /* whose worker_processes */
} ngx_http_bubble_zone_ctx_t;


#define ngx_http_bubble_for_each_slot(sh, ss, i)                            \
    for (ss = (sh)->slots; ss; ss = ss->next)                               \
        for (i = 0; i < ss->n; i++)


/* the zone of the current cycle, or NULL when bubble_zone is not set */
ngx_http_bubble_shctx_t *ngx_http_bubble_zone_shctx(
    ngx_http_bubble_main_conf_t *bmcf);
ngx_slab_pool_t *ngx_http_bubble_zone_shpool(
    ngx_http_bubble_main_conf_t *bmcf);

/* bytes reserved now (slots and grants), and requests holding them */
size_t ngx_http_bubble_zone_reserved(ngx_http_bubble_shctx_t *sh,
    ngx_uint_t *renders);

/* bytes renders may reserve together (bubble_memory_limit) */
size_t ngx_http_bubble_zone_budget(ngx_http_bubble_main_conf_t *bmcf,
    ngx_http_bubble_shctx_t *sh);

/* this worker's slot, or NULL */
ngx_http_bubble_slot_t *ngx_http_bubble_zone_slot(void);

/* this worker's count of queued render tasks, or NULL without a slot */
ngx_atomic_t *ngx_http_bubble_zone_queued(void);

/*
 * This worker's slot, claimed again if it had none, and a fresh enough
 * cgroup sample: NGX_OK; NGX_DECLINED without a slot.
 */
ngx_int_t ngx_http_bubble_zone_prepare(ngx_http_bubble_shctx_t *sh,
    ngx_log_t *log);

/*
 * Adds BYTES to COUNTER (a slot's reserved, or sh->granted), then checks
 * the total, and KEEP bytes more that must stay free, against the budget
 * and the ceiling: NGX_OK, or NGX_DECLINED with the bytes taken back and
 * REFUSED 1 (budget) or 2 (ceiling).
 */
ngx_int_t ngx_http_bubble_zone_reserve(ngx_http_bubble_shctx_t *sh,
    ngx_atomic_t *counter, size_t bytes, size_t keep, ngx_uint_t *refused);

/* dead processes' slots given back; the number of them */
ngx_uint_t ngx_http_bubble_zone_sweep(ngx_http_bubble_shctx_t *sh,
    ngx_log_t *log);

/* 1 unless kill(pid, 0) says the process is gone */
ngx_uint_t ngx_http_bubble_zone_alive(ngx_pid_t pid);

/* workers without a slot now, as remembered in sh->slotless */
ngx_uint_t ngx_http_bubble_zone_slotless(ngx_http_bubble_shctx_t *sh);

/* a request holding memory begins and ends: the idle trim follows */
void ngx_http_bubble_zone_hold(void);
void ngx_http_bubble_zone_unhold(void);

/* this worker's main conf, set in init_process; NULL elsewhere */
ngx_http_bubble_main_conf_t *ngx_http_bubble_zone_conf(void);


#endif /* _NGX_HTTP_BUBBLE_ZONE_H_INCLUDED_ */

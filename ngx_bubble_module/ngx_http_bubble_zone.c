
/*
 * ngx_bubble: memory governance, so the pod is never OOM-killed.
 *
 *   bubble_zone          name:size;
 *   bubble_memory_limit  auto [PERCENT%] | SIZE | off;    (auto 85%)
 *
 * The zone every worker sees: the budget, the reservations of renders in
 * per-process slots, the latest cgroup sample, and the admission queue's
 * entries.  Admission (ngx_http_bubble_admit.c) reserves a render's
 * estimated peak here; it is refused, or waits in the queue
 * (ngx_http_bubble_queue.c), when
 *
 *   reserved + estimate > budget                        ("budget"), or
 *   max(ws + newer, base + reserved) + estimate > ceiling
 *                                                  ("working set"),
 *
 * reserved: what all renders of all workers hold now, and what the queue
 * granted to renders their workers have yet to start; ws: the cgroup's
 * working set at the latest sample (usage - inactive file, as the kubelet
 * counts it); newer: what was reserved since that sample (the sample
 * cannot show it yet); base: the working set the last time nothing was
 * reserved (what nginx holds besides renders).
 *
 *   auto P%   budget = ceiling = P% of the cgroup's limit - the zone size
 *             (the zone is shared memory: it counts in the working set);
 *             no cgroup limit: of physical memory;
 *   SIZE      budget = SIZE, the ceiling as for auto 85%;
 *   off       nothing is refused (the zone still accounts).
 *
 * A response cache (bubble_cache_zone) takes its whole size from the
 * budget: reservations never cover its images, and it fills up to its
 * size.  Not from the ceiling: its pages show in the working set as they
 * are filled.
 *
 * Slots are sized from worker_processes when the zone is created, and a
 * reload that needs more appends some.  A worker that dies holding
 * reservations is swept by the others (and its successor): its pid no
 * longer answers kill(pid, 0); the same sweep gives back the response
 * cache's entries it was sending.  A worker that finds no free slot says
 * so to readiness probes (ngx_http_bubble_ready.c) and refuses renders.
 */


#include "ngx_http_bubble_zone.h"
#include "ngx_http_bubble_cache.h"
#include "ngx_http_bubble_keep.h"
#include "bubble_cgroup.h"

#if (NGX_HTTP_BUBBLE_GLIBC_MALLOC)
#include <malloc.h>
#endif



/* or-ed into a slot's pid by the process sweeping it; pids are < 2^22 */
#define NGX_HTTP_BUBBLE_RECLAIM        ((ngx_atomic_uint_t) 1 << 30)

#define NGX_HTTP_BUBBLE_TICK           100   /* ms, the worker's timer */
#define NGX_HTTP_BUBBLE_STALE          100   /* ms, a sample is refreshed */
#define NGX_HTTP_BUBBLE_SWEEP_TICKS    10    /* sweep and trim every 1 s */


static ngx_int_t ngx_http_bubble_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_bubble_init_slots(ngx_shm_zone_t *shm_zone,
    ngx_http_bubble_zone_ctx_t *ctx);
static ngx_int_t ngx_http_bubble_init_queue(ngx_shm_zone_t *shm_zone,
    ngx_http_bubble_zone_ctx_t *ctx);
static ngx_uint_t ngx_http_bubble_zone_conf_workers(
    ngx_http_bubble_zone_ctx_t *ctx);
static ngx_uint_t ngx_http_bubble_zone_conf_queue(
    ngx_http_bubble_zone_ctx_t *ctx);
static void ngx_http_bubble_limits(ngx_http_bubble_main_conf_t *bmcf,
    uint64_t limit, size_t *budget, size_t *ceiling);
static void ngx_http_bubble_sample(ngx_http_bubble_shctx_t *sh,
    ngx_log_t *log);
static ngx_http_bubble_slot_t *ngx_http_bubble_claim(
    ngx_http_bubble_shctx_t *sh, ngx_log_t *log);
static void ngx_http_bubble_slotless(ngx_http_bubble_shctx_t *sh,
    ngx_uint_t add);
static void ngx_http_bubble_slot_zero_classes(ngx_http_bubble_slot_t *slot);
static void ngx_http_bubble_tick_handler(ngx_event_t *ev);
static void ngx_http_bubble_trim_handler(ngx_event_t *ev);
static void ngx_http_bubble_warm_up(ngx_cycle_t *cycle);


/* this worker's state */
static ngx_http_bubble_main_conf_t  *ngx_http_bubble_conf;
static ngx_http_bubble_slot_t       *ngx_http_bubble_slot;
static bubble_cgroup_t               ngx_http_bubble_cgroup;
static ngx_event_t                   ngx_http_bubble_tick;
static ngx_event_t                   ngx_http_bubble_trim;
static ngx_uint_t                    ngx_http_bubble_ticks;
static ngx_uint_t                    ngx_http_bubble_busy;  /* requests */
static ngx_uint_t                    ngx_http_bubble_dirty;
static ngx_uint_t                    ngx_http_bubble_sample_failed;
static ngx_uint_t                    ngx_http_bubble_no_slot_logged;


/* bubble_zone name:size, as limit_req_zone's zone= */

char *
ngx_http_bubble_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bubble_main_conf_t  *bmcf = conf;

    u_char                      *p;
    ssize_t                      size;
    ngx_str_t                   *value, name, s;
    ngx_shm_zone_t              *shm_zone;
    ngx_http_bubble_zone_ctx_t  *ctx;

    if (bmcf->shm_zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    p = (u_char *) ngx_strchr(value[1].data, ':');

    if (p == NULL || p == value[1].data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\", expected name:size",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    name.data = value[1].data;
    name.len = p - name.data;

    s.data = p + 1;
    s.len = value[1].data + value[1].len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small", &value[1]);
        return NGX_CONF_ERROR;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_bubble_zone_ctx_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    /* init_zone reads worker_processes, wherever nginx.conf sets it */
    ctx->cycle = cf->cycle;

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_bubble_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_bubble_init_zone;
    shm_zone->data = ctx;

    bmcf->shm_zone = shm_zone;

    return NGX_CONF_OK;
}


/*
 * As ngx_http_limit_req_init_zone(): on reload the old zone (same name,
 * size and module) is adopted with its counters, reservations and queue;
 * it gets more slots if the new worker_processes needs them.
 */

static ngx_int_t
ngx_http_bubble_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_bubble_zone_ctx_t  *octx = data;

    size_t                       len;
    ngx_http_bubble_zone_ctx_t  *ctx;

    ctx = shm_zone->data;

    if (octx) {
        ctx->sh = octx->sh;
        ctx->shpool = octx->shpool;

        goto adopted;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;

        goto adopted;
    }

    ctx->sh = ngx_slab_calloc(ctx->shpool, sizeof(ngx_http_bubble_shctx_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    len = sizeof(" in bubble_zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in bubble_zone \"%V\"%Z",
                &shm_zone->shm.name);

    ctx->shpool->log_nomem = 0;

    if (ngx_http_bubble_init_queue(shm_zone, ctx) != NGX_OK
        || ngx_http_bubble_init_slots(shm_zone, ctx) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "bubble_zone \"%V\" of %uz bytes cannot hold the "
                      "process slots of worker_processes and a queue of "
                      "%ui (bubble_queue): make it larger",
                      &shm_zone->shm.name, shm_zone->shm.size,
                      ngx_http_bubble_zone_conf_queue(ctx));
        return NGX_ERROR;
    }

    return NGX_OK;

adopted:

    if (ctx->sh->queue->capacity < ngx_http_bubble_zone_conf_queue(ctx)) {
        ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                      "bubble_queue %ui: the adopted bubble_zone \"%V\" "
                      "holds %ui places until its size changes",
                      ngx_http_bubble_zone_conf_queue(ctx),
                      &shm_zone->shm.name, ctx->sh->queue->capacity);
    }

    /* a new worker without a slot is unready and says so: not fatal */
    if (ngx_http_bubble_init_slots(shm_zone, ctx) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, shm_zone->shm.log, 0,
                      "bubble_zone \"%V\" has no room for the slots of "
                      "%ui more workers: those without one will report "
                      "not ready until the zone is larger",
                      &shm_zone->shm.name,
                      ngx_http_bubble_zone_conf_workers(ctx));
    }

    return NGX_OK;
}


/*
 * Free slots for the new workers, and for respawns before a sweep: when
 * fewer are free (or owned by dead processes), another array of twice
 * worker_processes is appended, which also covers the next reload's
 * overlap.  In the master, before any new worker exists.
 */

static ngx_int_t
ngx_http_bubble_init_slots(ngx_shm_zone_t *shm_zone,
    ngx_http_bubble_zone_ctx_t *ctx)
{
    ngx_uint_t                i, n, free, workers;
    ngx_atomic_uint_t         pid;
    ngx_http_bubble_shctx_t  *sh;
    ngx_http_bubble_slots_t  *ss, **last;

    sh = ctx->sh;
    workers = ngx_http_bubble_zone_conf_workers(ctx);

    free = 0;
    last = &sh->slots;

    for (ss = sh->slots; ss; ss = ss->next) {
        for (i = 0; i < ss->n; i++) {
            pid = ss->slot[i].pid & ~NGX_HTTP_BUBBLE_RECLAIM;

            if (pid == 0 || !ngx_http_bubble_zone_alive((ngx_pid_t) pid)) {
                free++;
            }
        }

        last = &ss->next;
    }

    if (free >= workers + NGX_HTTP_BUBBLE_SLOTS_SPARE) {
        return NGX_OK;
    }

    n = 2 * workers + NGX_HTTP_BUBBLE_SLOTS_SPARE;

    ss = ngx_slab_calloc(ctx->shpool, offsetof(ngx_http_bubble_slots_t, slot)
                                      + n * sizeof(ngx_http_bubble_slot_t));
    if (ss == NULL) {
        return NGX_ERROR;
    }

    ss->n = n;

    /* complete before the workers walking the chain can see it */
    ngx_memory_barrier();

    *last = ss;
    sh->nslots += n;

    return NGX_OK;
}


static ngx_int_t
ngx_http_bubble_init_queue(ngx_shm_zone_t *shm_zone,
    ngx_http_bubble_zone_ctx_t *ctx)
{
    ngx_uint_t                   n;
    ngx_http_bubble_queue_sh_t  *q;

    n = ngx_http_bubble_zone_conf_queue(ctx);

    q = ngx_slab_calloc(ctx->shpool,
                        offsetof(ngx_http_bubble_queue_sh_t, entry)
                        + ngx_max(n, 1) * sizeof(ngx_http_bubble_entry_t));
    if (q == NULL) {
        return NGX_ERROR;
    }

    q->capacity = n;
    ctx->sh->queue = q;

    return NGX_OK;
}


/* worker_processes of the cycle being configured */

static ngx_uint_t
ngx_http_bubble_zone_conf_workers(ngx_http_bubble_zone_ctx_t *ctx)
{
    ngx_core_conf_t  *ccf;

    ccf = (ngx_core_conf_t *) ngx_get_conf(ctx->cycle->conf_ctx,
                                           ngx_core_module);

    return (ccf && ccf->worker_processes > 0) ? ccf->worker_processes : 1;
}


/* bubble_queue of the cycle being configured: the places wanted */

static ngx_uint_t
ngx_http_bubble_zone_conf_queue(ngx_http_bubble_zone_ctx_t *ctx)
{
    ngx_http_bubble_main_conf_t  *bmcf;

    bmcf = ngx_http_cycle_get_module_main_conf(ctx->cycle,
                                               ngx_http_bubble_module);

    return (bmcf && bmcf->queue != NGX_CONF_UNSET_UINT) ? bmcf->queue : 0;
}


ngx_http_bubble_shctx_t *
ngx_http_bubble_zone_shctx(ngx_http_bubble_main_conf_t *bmcf)
{
    ngx_http_bubble_zone_ctx_t  *ctx;

    if (bmcf == NULL || bmcf->shm_zone == NULL) {
        return NULL;
    }

    ctx = bmcf->shm_zone->data;

    return ctx->sh;
}


ngx_slab_pool_t *
ngx_http_bubble_zone_shpool(ngx_http_bubble_main_conf_t *bmcf)
{
    ngx_http_bubble_zone_ctx_t  *ctx;

    if (bmcf == NULL || bmcf->shm_zone == NULL) {
        return NULL;
    }

    ctx = bmcf->shm_zone->data;

    return ctx->shpool;
}


size_t
ngx_http_bubble_zone_reserved(ngx_http_bubble_shctx_t *sh,
    ngx_uint_t *renders)
{
    size_t                    reserved;
    ngx_uint_t                i, n;
    ngx_http_bubble_slots_t  *ss;

    reserved = sh->granted;
    n = 0;

    ngx_http_bubble_for_each_slot(sh, ss, i) {
        if (ss->slot[i].pid == 0) {
            continue;
        }

        reserved += ss->slot[i].reserved;
        n += ss->slot[i].renders;
    }

    if (renders) {
        *renders = n;
    }

    return reserved;
}


size_t
ngx_http_bubble_zone_budget(ngx_http_bubble_main_conf_t *bmcf,
    ngx_http_bubble_shctx_t *sh)
{
    /* SIZE less the cache zone's (nginx -t checked it is smaller) */
    if (bmcf->limit_mode == NGX_HTTP_BUBBLE_LIMIT_SIZE) {
        return bmcf->limit_size - ngx_http_bubble_cache_size(bmcf);
    }

    return sh->budget;
}


ngx_http_bubble_slot_t *
ngx_http_bubble_zone_slot(void)
{
    return ngx_http_bubble_slot;
}


ngx_atomic_t *
ngx_http_bubble_zone_queued(void)
{
    return ngx_http_bubble_slot ? &ngx_http_bubble_slot->queued : NULL;
}


ngx_http_bubble_main_conf_t *
ngx_http_bubble_zone_conf(void)
{
    return ngx_http_bubble_conf;
}


/* budget and ceiling (bytes) for a limit, as the module header says */

static void
ngx_http_bubble_limits(ngx_http_bubble_main_conf_t *bmcf, uint64_t limit,
    size_t *budget, size_t *ceiling)
{
    size_t      zone, cache, total;
    uint64_t    part;
    ngx_uint_t  percent;

    percent = (bmcf->limit_mode == NGX_HTTP_BUBBLE_LIMIT_AUTO)
              ? bmcf->limit_percent : NGX_HTTP_BUBBLE_PERCENT;

    zone = bmcf->shm_zone->shm.size;

    part = limit / 100 * percent + limit % 100 * percent / 100;

    *ceiling = (part > zone) ? (size_t) (part - zone) : 0;

    total = (bmcf->limit_mode == NGX_HTTP_BUBBLE_LIMIT_SIZE)
            ? bmcf->limit_size : *ceiling;

    /* bubble_cache_zone: its images are covered by no reservation */
    cache = ngx_http_bubble_cache_size(bmcf);

    *budget = (total > cache) ? total - cache : 0;
}


/*
 * Reads the cgroup (a few small files, tens of microseconds) and
 * publishes the sample.  Several workers may write at once: each field is
 * a word, and a mix of two samples milliseconds apart is still a sample.
 */

static void
ngx_http_bubble_sample(ngx_http_bubble_shctx_t *sh, ngx_log_t *log)
{
    size_t                   reserved, budget, ceiling;
    ngx_msec_t               now;
    bubble_cgroup_sample_t   s;

    now = ngx_current_msec ? ngx_current_msec : 1;

    reserved = ngx_http_bubble_zone_reserved(sh, NULL);

    if (bubble_cgroup_sample(&ngx_http_bubble_cgroup, &s) != 0) {

        if (!ngx_http_bubble_sample_failed) {
            ngx_log_error(NGX_LOG_CRIT, log, ngx_errno,
                          "bubble: reading the memory cgroup \"%s\" failed, "
                          "keeping the previous sample",
                          ngx_http_bubble_cgroup.dir);
            ngx_http_bubble_sample_failed = 1;
        }

        if (sh->sampled) {
            /* not again at once: the next tick retries */
            sh->sampled = now;
            return;
        }

        /* s holds physical memory: better than no limit at all */
    }

    ngx_http_bubble_limits(ngx_http_bubble_conf, s.limit, &budget, &ceiling);

    sh->version = ngx_http_bubble_cgroup.version;
    sh->limit = s.limit;
    sh->usage = s.usage;
    sh->inactive_file = s.inactive_file;
    sh->working_set = s.working_set;
    sh->reserved_at = reserved;
    sh->budget = budget;
    sh->ceiling = ceiling;

    if (reserved == 0 && ngx_http_bubble_zone_reserved(sh, NULL) == 0) {
        sh->base = s.working_set;

    } else if (sh->base == 0) {
        /* first sampled under load: what renders do not explain */
        sh->base = (s.working_set > reserved) ? s.working_set - reserved : 0;
    }

    ngx_memory_barrier();

    sh->sampled = now;
}


ngx_int_t
ngx_http_bubble_zone_prepare(ngx_http_bubble_shctx_t *sh, ngx_log_t *log)
{
    ngx_msec_int_t  age;

    if (ngx_http_bubble_slot == NULL) {
        (void) ngx_http_bubble_zone_sweep(sh, log);
        ngx_http_bubble_slot = ngx_http_bubble_claim(sh, log);
    }

    if (ngx_http_bubble_slot == NULL) {
        return NGX_DECLINED;
    }

    age = (ngx_msec_int_t) (ngx_current_msec - sh->sampled);

    if (sh->sampled == 0 || age > NGX_HTTP_BUBBLE_STALE) {
        ngx_http_bubble_sample(sh, log);
    }

    return NGX_OK;
}


/*
 * Adds bytes to the counter, then checks the total: of two admissions at
 * once, the later adder sees both, so admitted renders never exceed the
 * budget together.  A refusal takes the bytes back.
 */

ngx_int_t
ngx_http_bubble_zone_reserve(ngx_http_bubble_shctx_t *sh,
    ngx_atomic_t *counter, size_t bytes, size_t keep, ngx_uint_t *refused)
{
    size_t                        reserved, others, newer, projected;
    size_t                        budget, ceiling;
    ngx_atomic_uint_t             peak;
    ngx_http_bubble_main_conf_t  *bmcf;

    bmcf = ngx_http_bubble_conf;

    (void) ngx_atomic_fetch_add(counter, bytes);

    reserved = ngx_http_bubble_zone_reserved(sh, NULL);

    if (bmcf->limit_mode != NGX_HTTP_BUBBLE_LIMIT_OFF) {

        ngx_http_bubble_limits(bmcf, sh->limit, &budget, &ceiling);

        if (reserved + keep > budget) {
            *refused = 1;
            goto refuse;
        }

        others = (reserved > bytes) ? reserved - bytes : 0;
        newer = (others > sh->reserved_at) ? others - sh->reserved_at : 0;

        projected = ngx_max(sh->working_set + newer, sh->base + others)
                    + bytes;

        if (projected + keep > ceiling) {
            *refused = 2;
            goto refuse;
        }
    }

    for ( ;; ) {
        peak = sh->peak;

        if (reserved <= peak
            || ngx_atomic_cmp_set(&sh->peak, peak, reserved))
        {
            break;
        }
    }

    return NGX_OK;

refuse:

    (void) ngx_atomic_fetch_add(counter, -(ngx_atomic_int_t) bytes);

    return NGX_DECLINED;
}


/*
 * A free slot for this process, or NULL: then the pid is remembered in
 * sh->slotless (readiness reports it) and the worker says so once.
 */

static ngx_http_bubble_slot_t *
ngx_http_bubble_claim(ngx_http_bubble_shctx_t *sh, ngx_log_t *log)
{
    ngx_uint_t                i;
    ngx_http_bubble_slot_t   *slot;
    ngx_http_bubble_slots_t  *ss;

    ngx_http_bubble_for_each_slot(sh, ss, i) {
        slot = &ss->slot[i];

        if (slot->pid == 0
            && ngx_atomic_cmp_set(&slot->pid, 0, (ngx_atomic_uint_t) ngx_pid))
        {
            slot->reserved = 0;
            slot->renders = 0;
            slot->queued = 0;
            slot->admitted = 0;
            ngx_http_bubble_slot_zero_classes(slot);

            ngx_http_bubble_slotless(sh, 0);

            if (ngx_http_bubble_no_slot_logged) {
                ngx_log_error(NGX_LOG_NOTICE, log, 0,
                              "bubble: process %P got a zone slot, and "
                              "renders again", ngx_pid);
                ngx_http_bubble_no_slot_logged = 0;
            }

            return slot;
        }
    }

    ngx_http_bubble_slotless(sh, 1);

    if (!ngx_http_bubble_no_slot_logged) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "bubble: no free slot among the %uA of the zone for "
                      "process %P: it reports not ready and refuses "
                      "renders until one is free", sh->nslots, ngx_pid);
        ngx_http_bubble_no_slot_logged = 1;
    }

    return NULL;
}


/* words of shared memory: one store each, not memset() */

static void
ngx_http_bubble_slot_zero_classes(ngx_http_bubble_slot_t *slot)
{
    ngx_uint_t  c;

    for (c = 0; c < NGX_HTTP_BUBBLE_CLASSES; c++) {
        slot->class_bytes[c] = 0;
    }
}


/* this process's pid in sh->slotless (ADD), or out of it */

static void
ngx_http_bubble_slotless(ngx_http_bubble_shctx_t *sh, ngx_uint_t add)
{
    ngx_uint_t  i;

    for (i = 0; i < NGX_HTTP_BUBBLE_SLOTLESS; i++) {
        if (sh->slotless[i] == (ngx_atomic_uint_t) ngx_pid) {
            if (!add) {
                sh->slotless[i] = 0;
            }

            return;
        }
    }

    if (!add) {
        return;
    }

    for (i = 0; i < NGX_HTTP_BUBBLE_SLOTLESS; i++) {
        if (ngx_atomic_cmp_set(&sh->slotless[i], 0,
                               (ngx_atomic_uint_t) ngx_pid))
        {
            return;
        }
    }
}


ngx_uint_t
ngx_http_bubble_zone_slotless(ngx_http_bubble_shctx_t *sh)
{
    ngx_uint_t         i, n;
    ngx_atomic_uint_t  pid;

    n = 0;

    for (i = 0; i < NGX_HTTP_BUBBLE_SLOTLESS; i++) {
        pid = sh->slotless[i];

        if (pid && ngx_http_bubble_zone_alive((ngx_pid_t) pid)) {
            n++;
        }
    }

    return n;
}


ngx_uint_t
ngx_http_bubble_zone_alive(ngx_pid_t pid)
{
    /* EPERM: alive, though not ours */
    return (pid == ngx_pid || kill(pid, 0) == 0 || ngx_errno != NGX_ESRCH);
}


/*
 * Gives back the reservations of dead processes (a worker killed by
 * SIGKILL, a segfault, the OOM killer).  A slot is taken over by marking
 * its pid, so two sweepers never both subtract; a sweeper dying half-way
 * leaves its own pid in the mark, and is swept in turn.  Dead processes
 * are forgotten from sh->slotless too.
 */

ngx_uint_t
ngx_http_bubble_zone_sweep(ngx_http_bubble_shctx_t *sh, ngx_log_t *log)
{
    ngx_pid_t                 owner;
    ngx_uint_t                i, n, renders;
    ngx_atomic_uint_t         pid, bytes;
    ngx_http_bubble_slot_t   *slot;
    ngx_http_bubble_slots_t  *ss;

    n = 0;

    ngx_http_bubble_for_each_slot(sh, ss, i) {
        slot = &ss->slot[i];
        pid = slot->pid;

        if (pid == 0) {
            continue;
        }

        owner = (ngx_pid_t) (pid & ~NGX_HTTP_BUBBLE_RECLAIM);

        if (ngx_http_bubble_zone_alive(owner)) {
            continue;
        }

        if (!ngx_atomic_cmp_set(&slot->pid, pid,
                                (ngx_atomic_uint_t) ngx_pid
                                | NGX_HTTP_BUBBLE_RECLAIM))
        {
            continue;
        }

        bytes = slot->reserved;
        renders = slot->renders;

        slot->reserved = 0;
        slot->renders = 0;
        slot->queued = 0;
        slot->admitted = 0;
        ngx_http_bubble_slot_zero_classes(slot);

        ngx_memory_barrier();

        slot->pid = 0;

        (void) ngx_atomic_fetch_add(&sh->reclaimed_slots, 1);
        (void) ngx_atomic_fetch_add(&sh->reclaimed_bytes, bytes);

        if (bytes || renders) {
            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "bubble: reclaimed %uA bytes of %ui renders "
                          "from process %P, which is gone",
                          bytes, renders, owner);
        }

        n++;
    }

    for (i = 0; i < NGX_HTTP_BUBBLE_SLOTLESS; i++) {
        pid = sh->slotless[i];

        if (pid && !ngx_http_bubble_zone_alive((ngx_pid_t) pid)) {
            (void) ngx_atomic_cmp_set(&sh->slotless[i], pid, 0);
        }
    }

    return n;
}


void
ngx_http_bubble_zone_hold(void)
{
    ngx_http_bubble_busy++;
}


void
ngx_http_bubble_zone_unhold(void)
{
    /*
     * the last render out: trim once the request's pools are freed (glibc;
     * musl's kept blocks have their own timer, ngx_http_bubble_keep.c)
     */

    if (--ngx_http_bubble_busy == 0
        && NGX_HTTP_BUBBLE_GLIBC_MALLOC
        && ngx_http_bubble_conf->malloc_tuning
        && !ngx_http_bubble_trim.posted)
    {
        ngx_post_event(&ngx_http_bubble_trim, &ngx_posted_events);
    }

    ngx_http_bubble_dirty = 1;
}


ngx_int_t
ngx_http_bubble_zone_init_process(ngx_cycle_t *cycle)
{
    size_t                        budget, ceiling;
    ngx_http_bubble_shctx_t      *sh;
    ngx_http_bubble_main_conf_t  *bmcf;

    bmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_bubble_module);

    /* cache manager and loader processes do not render */
    if (bmcf == NULL
        || (ngx_process != NGX_PROCESS_WORKER
            && ngx_process != NGX_PROCESS_SINGLE))
    {
        return NGX_OK;
    }

    ngx_http_bubble_conf = bmcf;

    ngx_http_bubble_trim.handler = ngx_http_bubble_trim_handler;
    ngx_http_bubble_trim.log = cycle->log;

    ngx_http_bubble_tick.handler = ngx_http_bubble_tick_handler;
    ngx_http_bubble_tick.log = cycle->log;
    ngx_http_bubble_tick.cancelable = 1;

    /* entries a killed predecessor was sending: given back now */
    ngx_http_bubble_cache_sweep(bmcf, cycle->log);

    sh = ngx_http_bubble_zone_shctx(bmcf);

    if (sh == NULL) {
        /* the tick only sweeps the cache's entries of dead workers */
        if (bmcf->cache_zone) {
            ngx_add_timer(&ngx_http_bubble_tick,
                          NGX_HTTP_BUBBLE_TICK * NGX_HTTP_BUBBLE_SWEEP_TICKS);
        }

        return NGX_OK;
    }

    if (bubble_cgroup_discover(&ngx_http_bubble_cgroup, NULL, NULL) != 0) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "bubble: the memory cgroup's path is too long, "
                      "physical memory is used");
    }

    /* a predecessor killed holding reservations gives them back now */
    (void) ngx_http_bubble_zone_sweep(sh, cycle->log);

    ngx_http_bubble_slot = ngx_http_bubble_claim(sh, cycle->log);

    /*
     * One small render now: cairo's, pango's and zlib's first-use
     * costs (about 7 MB, measured in docs/memory.md) join the baseline
     * the cgroup sample sees, instead of the first request's peak.
     */
    ngx_http_bubble_warm_up(cycle);

    ngx_http_bubble_sample(sh, cycle->log);

    if (ngx_worker == 0) {
        ngx_http_bubble_limits(bmcf, sh->limit, &budget, &ceiling);

        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "bubble: memory limit %uA bytes (cgroup v%uA%s%s), "
                      "budget %uz, ceiling %uz, working set %uA, "
                      "zone %uz, %uA process slots, queue %ui",
                      sh->limit, sh->version,
                      ngx_http_bubble_cgroup.version ? " " : "",
                      ngx_http_bubble_cgroup.dir,
                      budget, ceiling, sh->working_set,
                      bmcf->shm_zone->shm.size, sh->nslots,
                      sh->queue->capacity);
    }

    ngx_http_bubble_tick.data = sh;

    ngx_add_timer(&ngx_http_bubble_tick, NGX_HTTP_BUBBLE_TICK);

    return NGX_OK;
}


void
ngx_http_bubble_zone_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_bubble_slot_t   *slot;
    ngx_http_bubble_shctx_t  *sh;

    sh = ngx_http_bubble_zone_shctx(ngx_http_bubble_conf);

    if (sh) {
        ngx_http_bubble_slotless(sh, 0);
    }

    slot = ngx_http_bubble_slot;

    if (slot == NULL) {
        return;
    }

    ngx_http_bubble_slot = NULL;

    if (slot->pid != (ngx_atomic_uint_t) ngx_pid) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "bubble: the zone slot of process %P was taken "
                      "by %uA", ngx_pid, slot->pid);
        return;
    }

    slot->reserved = 0;
    slot->renders = 0;
    slot->queued = 0;
    ngx_http_bubble_slot_zero_classes(slot);

    ngx_memory_barrier();

    slot->pid = 0;
}


/*
 * Every 100 ms: a fresh sample; every second: sweep (slots, and the
 * cache's entries of dead workers), claim a slot if this worker has
 * none, and trim if renders happened.
 */

static void
ngx_http_bubble_tick_handler(ngx_event_t *ev)
{
    ngx_msec_int_t            age;
    ngx_http_bubble_shctx_t  *sh = ev->data;

    if (sh == NULL) {
        ngx_http_bubble_cache_sweep(ngx_http_bubble_conf, ev->log);

        if (!ngx_exiting) {
            ngx_add_timer(ev,
                          NGX_HTTP_BUBBLE_TICK * NGX_HTTP_BUBBLE_SWEEP_TICKS);
        }

        return;
    }

    age = (ngx_msec_int_t) (ngx_current_msec - sh->sampled);

    if (age >= NGX_HTTP_BUBBLE_STALE) {
        ngx_http_bubble_sample(sh, ev->log);
    }

    if (++ngx_http_bubble_ticks % NGX_HTTP_BUBBLE_SWEEP_TICKS == 0) {

        (void) ngx_http_bubble_zone_sweep(sh, ev->log);
        ngx_http_bubble_cache_sweep(ngx_http_bubble_conf, ev->log);

        if (ngx_http_bubble_slot == NULL) {
            ngx_http_bubble_slot = ngx_http_bubble_claim(sh, ev->log);
        }

        if (ngx_http_bubble_dirty && NGX_HTTP_BUBBLE_GLIBC_MALLOC
            && ngx_http_bubble_conf->malloc_tuning
            && !ngx_http_bubble_trim.posted)
        {
            ngx_post_event(&ngx_http_bubble_trim, &ngx_posted_events);
        }
    }

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_BUBBLE_TICK);
    }
}


/*
 * glibc keeps freed heap memory for reuse; with the mmap threshold fixed
 * in init_process only small blocks stay, and malloc_trim(0) returns the
 * free pages among them (docs/memory.md: RSS after a burst).
 */

static void
ngx_http_bubble_trim_handler(ngx_event_t *ev)
{
    if (ngx_http_bubble_busy) {
        /* busy again: the next idle moment or tick trims */
        return;
    }

#if (NGX_HTTP_BUBBLE_GLIBC_MALLOC)
    (void) malloc_trim(0);
#endif

    ngx_http_bubble_dirty = 0;
}


static void
ngx_http_bubble_warm_up(ngx_cycle_t *cycle)
{
    ngx_pool_t          *pool;
    bubble_error_t       err;
    bubble_chart_t      *chart;
    bubble_limits_t      limits;
    bubble_output_t      out;
    bubble_allocator_t   a;

    static u_char        spec[] = "{\"width\":320,\"height\":240,"
                                  "\"title\":\"warm-up\",\"data\":{"
                                  "\"x\":[1,2],\"y\":[1,2],\"size\":[1,2],"
                                  "\"color\":[\"a\",\"b\"],"
                                  "\"label\":[\"a\",\"b\"]}}";

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, cycle->log);
    if (pool == NULL) {
        return;
    }

    ngx_http_bubble_pool_allocator(&a, pool);

    ngx_memzero(&err, sizeof(bubble_error_t));
    err.offset = -1;

    bubble_limits_default(&limits);

    chart = bubble_spec_parse(&a, &limits, spec, sizeof(spec) - 1, &err);

    if (chart == NULL || bubble_render(&a, chart, &out, &err) != 0) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "bubble: the warm-up render failed: %s", err.message);
    }

    ngx_destroy_pool(pool);

    if (ngx_http_bubble_conf->malloc_tuning) {
#if (NGX_HTTP_BUBBLE_GLIBC_MALLOC)
        (void) malloc_trim(0);
#else
        ngx_http_bubble_keep_release();
#endif
    }
}

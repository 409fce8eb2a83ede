
/*
 * ngx_bubble: memory governance, so the pod is never OOM-killed.
 *
 *   bubble_zone          name:size;
 *   bubble_memory_limit  auto [PERCENT%] | SIZE | off;    (auto 85%)
 *
 * Before a render runs (or is posted to a thread), its peak is estimated
 * from the chart (core/bubble_estimate.c) and reserved in this process's
 * slot of the shared zone.  It is refused with 503 when
 *
 *   reserved + estimate > budget                        ("budget"), or
 *   max(ws + newer, base + reserved) + estimate > ceiling
 *                                                  ("working set"),
 *
 * reserved: what all renders of all workers hold now; ws: the cgroup's
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
 * A cleanup on r->pool releases the reservation whatever ends the
 * request; after the render it shrinks to what the request still holds.
 * A worker that dies holding reservations is swept by the others (and its
 * successor): its pid no longer answers kill(pid, 0).
 */


#include "ngx_http_bubble_zone.h"
#include "ngx_http_bubble_cache.h"
#include "bubble_cgroup.h"
#include "bubble_estimate.h"

#if (NGX_HTTP_BUBBLE_GLIBC_MALLOC)
#include <malloc.h>
#endif



/* or-ed into a slot's pid by the process sweeping it; pids are < 2^22 */
#define NGX_HTTP_BUBBLE_RECLAIM        ((ngx_atomic_uint_t) 1 << 30)

#define NGX_HTTP_BUBBLE_TICK           100   /* ms, the worker's timer */
#define NGX_HTTP_BUBBLE_STALE          100   /* ms, a sample is refreshed */
#define NGX_HTTP_BUBBLE_SWEEP_TICKS    10    /* sweep and trim every 1 s */

#define NGX_HTTP_BUBBLE_MiB(n)         ((double) (n) / (1024 * 1024))


struct ngx_http_bubble_reservation_s {
    ngx_http_bubble_slot_t   *slot;
    size_t                    bytes;            /* held now */
    size_t                    retained;         /* after the render */
    size_t                    output;           /* the PNG size assumed */
};


static ngx_int_t ngx_http_bubble_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_bubble_limits(ngx_http_bubble_main_conf_t *bmcf,
    uint64_t limit, size_t *budget, size_t *ceiling);
static void ngx_http_bubble_sample(ngx_http_bubble_shctx_t *sh,
    ngx_log_t *log);
static ngx_int_t ngx_http_bubble_reserve(ngx_http_bubble_shctx_t *sh,
    ngx_http_bubble_slot_t *slot, size_t bytes, ngx_uint_t *refused);
static ngx_http_bubble_slot_t *ngx_http_bubble_claim(
    ngx_http_bubble_shctx_t *sh);
static ngx_uint_t ngx_http_bubble_sweep(ngx_http_bubble_shctx_t *sh,
    ngx_log_t *log);
static ngx_int_t ngx_http_bubble_admit_slot(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_shctx_t *sh);
static ngx_int_t ngx_http_bubble_admit_reserve(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_shctx_t *sh,
    bubble_estimate_t *est, ngx_uint_t *refused);
static void ngx_http_bubble_admit_refuse(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_shctx_t *sh,
    bubble_estimate_t *est, ngx_uint_t refused);
static ngx_int_t ngx_http_bubble_degraded(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
static void ngx_http_bubble_release(void *data);
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
static ngx_uint_t                    ngx_http_bubble_output_warned;


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
 * size and module) is adopted with its counters and reservations.
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

        return NGX_OK;
    }

    ctx->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        ctx->sh = ctx->shpool->data;

        return NGX_OK;
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

    return NGX_OK;
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


size_t
ngx_http_bubble_zone_reserved(ngx_http_bubble_shctx_t *sh,
    ngx_uint_t *renders)
{
    size_t      reserved;
    ngx_uint_t  i, n;

    reserved = 0;
    n = 0;

    for (i = 0; i < NGX_HTTP_BUBBLE_SLOTS; i++) {
        if (sh->slots[i].pid == 0) {
            continue;
        }

        reserved += sh->slots[i].reserved;
        n += sh->slots[i].renders;
    }

    if (renders) {
        *renders = n;
    }

    return reserved;
}


ngx_atomic_t *
ngx_http_bubble_zone_queued(void)
{
    return ngx_http_bubble_slot ? &ngx_http_bubble_slot->queued : NULL;
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


/*
 * Adds bytes to the slot, then checks the total: of two admissions at
 * once, the later adder sees both, so admitted renders never exceed the
 * budget together.  A refusal takes the bytes back.
 */

static ngx_int_t
ngx_http_bubble_reserve(ngx_http_bubble_shctx_t *sh,
    ngx_http_bubble_slot_t *slot, size_t bytes, ngx_uint_t *refused)
{
    size_t                        reserved, others, newer, projected;
    size_t                        budget, ceiling;
    ngx_atomic_uint_t             peak;
    ngx_http_bubble_main_conf_t  *bmcf;

    bmcf = ngx_http_bubble_conf;

    (void) ngx_atomic_fetch_add(&slot->reserved, bytes);

    reserved = ngx_http_bubble_zone_reserved(sh, NULL);

    if (bmcf->limit_mode != NGX_HTTP_BUBBLE_LIMIT_OFF) {

        ngx_http_bubble_limits(bmcf, sh->limit, &budget, &ceiling);

        if (reserved > budget) {
            *refused = 1;
            goto refuse;
        }

        others = (reserved > bytes) ? reserved - bytes : 0;
        newer = (others > sh->reserved_at) ? others - sh->reserved_at : 0;

        projected = ngx_max(sh->working_set + newer, sh->base + others)
                    + bytes;

        if (projected > ceiling) {
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

    (void) ngx_atomic_fetch_add(&slot->reserved,
                                -(ngx_atomic_int_t) bytes);

    return NGX_DECLINED;
}


static ngx_http_bubble_slot_t *
ngx_http_bubble_claim(ngx_http_bubble_shctx_t *sh)
{
    ngx_uint_t               i;
    ngx_http_bubble_slot_t  *slot;

    for (i = 0; i < NGX_HTTP_BUBBLE_SLOTS; i++) {
        slot = &sh->slots[i];

        if (slot->pid == 0
            && ngx_atomic_cmp_set(&slot->pid, 0, (ngx_atomic_uint_t) ngx_pid))
        {
            slot->reserved = 0;
            slot->renders = 0;
            slot->queued = 0;
            return slot;
        }
    }

    return NULL;
}


/*
 * Gives back the reservations of dead processes (a worker killed by
 * SIGKILL, a segfault, the OOM killer).  A slot is taken over by marking
 * its pid, so two sweepers never both subtract; a sweeper dying half-way
 * leaves its own pid in the mark, and is swept in turn.
 */

static ngx_uint_t
ngx_http_bubble_sweep(ngx_http_bubble_shctx_t *sh, ngx_log_t *log)
{
    ngx_pid_t                owner;
    ngx_uint_t               i, n, renders;
    ngx_atomic_uint_t        pid, bytes;
    ngx_http_bubble_slot_t  *slot;

    n = 0;

    for (i = 0; i < NGX_HTTP_BUBBLE_SLOTS; i++) {
        slot = &sh->slots[i];
        pid = slot->pid;

        if (pid == 0) {
            continue;
        }

        owner = (ngx_pid_t) (pid & ~NGX_HTTP_BUBBLE_RECLAIM);

        /* EPERM: alive, though not ours */
        if (owner == ngx_pid || kill(owner, 0) == 0 || ngx_errno != NGX_ESRCH)
        {
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

    return n;
}


ngx_int_t
ngx_http_bubble_admit(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    ngx_int_t                       rc;
    ngx_uint_t                      refused;
    bubble_estimate_t               est;
    ngx_pool_cleanup_t             *cln;
    ngx_http_bubble_shctx_t        *sh;
    ngx_http_bubble_main_conf_t    *bmcf;
    ngx_http_bubble_reservation_t  *res;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);

    if (ngx_http_bubble_conf == NULL) {
        /* a process that did not run init_process */
        return NGX_OK;
    }

    sh = ngx_http_bubble_zone_shctx(bmcf);

    if (sh == NULL && !bmcf->malloc_tuning) {
        return NGX_OK;
    }

    /* first, so that nothing after the reservation can fail */
    cln = ngx_pool_cleanup_add(r->pool,
                               sizeof(ngx_http_bubble_reservation_t));
    if (cln == NULL) {
        return NGX_ERROR;
    }

    res = cln->data;
    ngx_memzero(res, sizeof(ngx_http_bubble_reservation_t));

    /* no zone, or no slot with "off": only the trim once the worker idles */
    if (sh == NULL) {
        goto counted;
    }

    rc = ngx_http_bubble_admit_slot(r, ctx, sh);

    if (rc == NGX_DONE) {
        goto counted;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    rc = ngx_http_bubble_admit_reserve(r, ctx, sh, &est, &refused);

    if (rc == NGX_DECLINED) {
        ngx_http_bubble_admit_refuse(r, ctx, sh, &est, refused);
        return NGX_DECLINED;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    res->slot = ngx_http_bubble_slot;
    res->bytes = est.total;
    res->retained = est.retained;
    res->output = est.output;

    ctx->reserved = est.total;

    (void) ngx_atomic_fetch_add(&res->slot->renders, 1);
    (void) ngx_atomic_fetch_add(&sh->renders, 1);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "bubble reserved %uz bytes (%uz after), scale %.1f",
                   est.total, est.retained, ctx->chart->scale);

counted:

    ngx_http_bubble_busy++;

    cln->handler = ngx_http_bubble_release;
    ctx->reservation = res;

    return NGX_OK;
}


/*
 * This worker's slot in the zone, claimed again if it had none: NGX_OK;
 * NGX_DONE when there is none but nothing is refused ("off"); else
 * NGX_DECLINED with the 503 in ctx->err.
 */

static ngx_int_t
ngx_http_bubble_admit_slot(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    ngx_http_bubble_shctx_t *sh)
{
    ngx_msec_int_t                age;
    ngx_http_bubble_main_conf_t  *bmcf;

    if (ngx_http_bubble_slot == NULL) {
        (void) ngx_http_bubble_sweep(sh, r->connection->log);
        ngx_http_bubble_slot = ngx_http_bubble_claim(sh);
    }

    if (ngx_http_bubble_slot == NULL) {

        bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);

        if (bmcf->limit_mode == NGX_HTTP_BUBBLE_LIMIT_OFF) {
            return NGX_DONE;
        }

        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "bubble: no free slot in the zone for process %P "
                      "(%d processes hold one)", ngx_pid,
                      NGX_HTTP_BUBBLE_SLOTS);

        (void) ngx_atomic_fetch_add(&sh->refused_slot, 1);

        bubble_error_set(&ctx->err, NGX_HTTP_SERVICE_UNAVAILABLE,
                         "overloaded", "", "memory accounting is "
                         "unavailable in this worker, retry shortly");
        ctx->reject_reason = NGX_HTTP_BUBBLE_REASON_MEMORY;

        return NGX_DECLINED;
    }

    age = (ngx_msec_int_t) (ngx_current_msec - sh->sampled);

    if (sh->sampled == 0 || age > NGX_HTTP_BUBBLE_STALE) {
        ngx_http_bubble_sample(sh, r->connection->log);
    }

    return NGX_OK;
}


/*
 * The chart's estimated peak reserved in this worker's slot: NGX_OK, with
 * EST; NGX_DECLINED when it does not fit, REFUSED saying which limit
 * (1: the budget, else the ceiling).  A dead worker's reservations are
 * swept first; with bubble_degrade a scale-2 PNG may fit at scale 1.
 */

static ngx_int_t
ngx_http_bubble_admit_reserve(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_shctx_t *sh,
    bubble_estimate_t *est, ngx_uint_t *refused)
{
    double                       scale;
    bubble_chart_t              *chart;
    ngx_http_bubble_loc_conf_t  *blcf;

    chart = ctx->chart;

    bubble_estimate(chart, est);

    *refused = 0;

    if (ngx_http_bubble_reserve(sh, ngx_http_bubble_slot, est->total, refused)
        == NGX_OK)
    {
        return NGX_OK;
    }

    /* a dead worker's reservations may be what is in the way */

    if (ngx_http_bubble_sweep(sh, r->connection->log)
        && ngx_http_bubble_reserve(sh, ngx_http_bubble_slot, est->total,
                                   refused)
           == NGX_OK)
    {
        return NGX_OK;
    }

    /* bubble_degrade: the same chart with a quarter of the pixels */

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    if (!blcf->degrade || chart->format != BUBBLE_FORMAT_PNG
        || chart->scale <= 1)
    {
        return NGX_DECLINED;
    }

    scale = chart->scale;
    chart->scale = 1;

    bubble_estimate(chart, est);

    if (ngx_http_bubble_reserve(sh, ngx_http_bubble_slot, est->total, refused)
        == NGX_OK)
    {
        if (ngx_http_bubble_degraded(r, ctx) != NGX_OK) {
            (void) ngx_atomic_fetch_add(&ngx_http_bubble_slot->reserved,
                                        -(ngx_atomic_int_t) est->total);
            return NGX_ERROR;
        }

        (void) ngx_atomic_fetch_add(&sh->degraded, 1);
        return NGX_OK;
    }

    chart->scale = scale;
    bubble_estimate(chart, est);

    return NGX_DECLINED;
}


/* the 503 of a chart that does not fit, with the figures that say why */

static void
ngx_http_bubble_admit_refuse(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_shctx_t *sh,
    bubble_estimate_t *est, ngx_uint_t refused)
{
    ngx_http_bubble_main_conf_t  *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);

    if (refused == 1) {
        (void) ngx_atomic_fetch_add(&sh->refused_budget, 1);

        bubble_error_set(&ctx->err, NGX_HTTP_SERVICE_UNAVAILABLE,
                         "overloaded", "", "this chart needs an estimated "
                         "%.1f MiB and renders hold %.1f MiB of the "
                         "%.1f MiB budget (bubble_memory_limit), retry "
                         "later", NGX_HTTP_BUBBLE_MiB(est->total),
                         NGX_HTTP_BUBBLE_MiB(
                             ngx_http_bubble_zone_reserved(sh, NULL)),
                         NGX_HTTP_BUBBLE_MiB(
                             bmcf->limit_mode == NGX_HTTP_BUBBLE_LIMIT_SIZE
                             ? bmcf->limit_size : sh->budget));

        ctx->reject_reason = NGX_HTTP_BUBBLE_REASON_MEMORY;
        return;
    }

    (void) ngx_atomic_fetch_add(&sh->refused_memory, 1);

    bubble_error_set(&ctx->err, NGX_HTTP_SERVICE_UNAVAILABLE,
                     "overloaded", "", "this chart needs an estimated "
                     "%.1f MiB and the memory in use (%.1f MiB working "
                     "set, %.1f MiB reserved) leaves less under the "
                     "%.1f MiB ceiling, retry later",
                     NGX_HTTP_BUBBLE_MiB(est->total),
                     NGX_HTTP_BUBBLE_MiB(sh->working_set),
                     NGX_HTTP_BUBBLE_MiB(
                         ngx_http_bubble_zone_reserved(sh, NULL)),
                     NGX_HTTP_BUBBLE_MiB(sh->ceiling));

    ctx->reject_reason = NGX_HTTP_BUBBLE_REASON_WORKING_SET;
}


/*
 * The chart will be rendered at scale 1: say so, and keep it out of
 * caches, since the URL (and the ETag computed for it) names the full
 * chart.
 */

static ngx_int_t
ngx_http_bubble_degraded(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    static ngx_str_t  key = ngx_string("X-Bubble-Degraded");
    static ngx_str_t  value = ngx_string("scale=1");

    if (ngx_http_bubble_add_header(r, &key, &value) == NULL
        || ngx_http_bubble_no_store(r) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_bubble_clear_etag(r);

    ctx->degraded = 1;

    return NGX_OK;
}


/*
 * Back on the event loop after the render: the pixels and the display
 * list are gone, the output and the model stay until the request ends.
 */

void
ngx_http_bubble_rendered(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    size_t                          keep;
    ngx_http_bubble_reservation_t  *res;

    res = ctx->reservation;

    if (res == NULL) {
        return;
    }

    ngx_http_bubble_dirty = 1;

    if (res->slot == NULL || res->slot != ngx_http_bubble_slot) {
        return;
    }

    keep = res->retained;

    if (ctx->render_rc == 0) {
        keep += ctx->out.len;

        if (ctx->out.len > res->output && !ngx_http_bubble_output_warned) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bubble: an output of %uz bytes is larger than "
                          "the memory estimate allows for (%uz), the "
                          "reservation may have been low", ctx->out.len,
                          res->output);
            ngx_http_bubble_output_warned = 1;
        }
    }

    if (keep < res->bytes) {
        (void) ngx_atomic_fetch_add(&res->slot->reserved,
                                    -(ngx_atomic_int_t) (res->bytes - keep));
        res->bytes = keep;
    }
}


/* the pool cleanup: runs however the request ends */

static void
ngx_http_bubble_release(void *data)
{
    ngx_http_bubble_reservation_t  *res = data;

    ngx_http_bubble_slot_t  *slot;

    slot = res->slot;

    /* not if the process is exiting and gave its slot back */

    if (slot != NULL && slot == ngx_http_bubble_slot) {

        if (res->bytes) {
            (void) ngx_atomic_fetch_add(&slot->reserved,
                                        -(ngx_atomic_int_t) res->bytes);
            res->bytes = 0;
        }

        (void) ngx_atomic_fetch_add(&slot->renders, -1);
    }

    /* the last render out: trim once the request's pools are freed */

    if (--ngx_http_bubble_busy == 0
        && ngx_http_bubble_conf->malloc_tuning
        && !ngx_http_bubble_trim.posted)
    {
        ngx_post_event(&ngx_http_bubble_trim, &ngx_posted_events);
    }
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

    sh = ngx_http_bubble_zone_shctx(bmcf);
    if (sh == NULL) {
        return NGX_OK;
    }

    if (bubble_cgroup_discover(&ngx_http_bubble_cgroup, NULL, NULL) != 0) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "bubble: the memory cgroup's path is too long, "
                      "physical memory is used");
    }

    /* a predecessor killed holding reservations gives them back now */
    (void) ngx_http_bubble_sweep(sh, cycle->log);

    ngx_http_bubble_slot = ngx_http_bubble_claim(sh);

    if (ngx_http_bubble_slot == NULL) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "bubble: no free slot in the zone for process %P "
                      "(%d processes hold one)", ngx_pid,
                      NGX_HTTP_BUBBLE_SLOTS);
    }

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
                      "zone %uz",
                      sh->limit, sh->version,
                      ngx_http_bubble_cgroup.version ? " " : "",
                      ngx_http_bubble_cgroup.dir,
                      budget, ceiling, sh->working_set,
                      bmcf->shm_zone->shm.size);
    }

    ngx_http_bubble_tick.handler = ngx_http_bubble_tick_handler;
    ngx_http_bubble_tick.log = cycle->log;
    ngx_http_bubble_tick.data = sh;
    ngx_http_bubble_tick.cancelable = 1;

    ngx_add_timer(&ngx_http_bubble_tick, NGX_HTTP_BUBBLE_TICK);

    return NGX_OK;
}


void
ngx_http_bubble_zone_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_bubble_slot_t  *slot;

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

    ngx_memory_barrier();

    slot->pid = 0;
}


/* every 100 ms: a fresh sample; every second: sweep, and trim if idle */

static void
ngx_http_bubble_tick_handler(ngx_event_t *ev)
{
    ngx_msec_int_t            age;
    ngx_http_bubble_shctx_t  *sh = ev->data;

    age = (ngx_msec_int_t) (ngx_current_msec - sh->sampled);

    if (age >= NGX_HTTP_BUBBLE_STALE) {
        ngx_http_bubble_sample(sh, ev->log);
    }

    if (++ngx_http_bubble_ticks % NGX_HTTP_BUBBLE_SWEEP_TICKS == 0) {

        (void) ngx_http_bubble_sweep(sh, ev->log);

        if (ngx_http_bubble_slot == NULL) {
            ngx_http_bubble_slot = ngx_http_bubble_claim(sh);
        }

        if (ngx_http_bubble_dirty && ngx_http_bubble_conf->malloc_tuning
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

#if (NGX_HTTP_BUBBLE_GLIBC_MALLOC)
    if (ngx_http_bubble_conf->malloc_tuning) {
        (void) malloc_trim(0);
    }
#endif
}

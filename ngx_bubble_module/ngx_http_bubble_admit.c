
/*
 * ngx_bubble: admission, on the event loop, before a render starts.
 *
 *   bubble_queue             N;          (http, 64; 0: refuse at once)
 *   bubble_queue_timeout     TIME;       (http, server, location; 5s)
 *   bubble_max_render_time   TIME | off; (http, server, location; off)
 *
 * The chart's peak memory and time are estimated (core/bubble_estimate.c).
 * A render estimated past bubble_max_render_time is refused with 413.
 * Otherwise its bytes are reserved in this worker's slot of the zone
 * (ngx_http_bubble_zone.c) when they fit and no render waits; a render
 * that does not fit the budget even alone is refused with 413 (503 when
 * bubble_degrade's scale 1 would fit).  The rest
 * wait in the shared queue (ngx_http_bubble_queue.c), without blocking
 * the event loop: this worker polls the queue every few ms while it has
 * waiters, takes the memory granted to them, and resumes each through the
 * handler's callback.  Past bubble_queue_timeout, or with N renders
 * already waiting, the answer is 503 + Retry-After.
 *
 * A waiting request whose client closes the connection is noticed at once
 * (ngx_http_test_reading): the request ends, and its pool cleanup gives
 * its place, and any memory granted to it, back.
 *
 * A cleanup on r->pool releases the reservation whatever ends the
 * request; after the render it shrinks to what the request still holds.
 * A render that overruns bubble_max_render_time is counted and logged.
 */


#include "ngx_http_bubble_queue.h"
#include "bubble_estimate.h"


#define NGX_HTTP_BUBBLE_POLL   1        /* ms between looks at the queue */

#define NGX_HTTP_BUBBLE_MiB(n)         ((double) (n) / (1024 * 1024))


struct ngx_http_bubble_reservation_s {
    ngx_http_bubble_slot_t   *slot;
    size_t                    bytes;            /* held now */
    size_t                    retained;         /* after the render */
    size_t                    output;           /* the PNG size assumed */
    ngx_uint_t                cls;              /* its cost class */
    unsigned                  counted:1;        /* zone_hold()ed */
};


/* a request waiting in the queue: in this worker's list, in order */
typedef struct {
    ngx_queue_t                      link;
    ngx_http_request_t              *request;
    ngx_http_bubble_ctx_t           *ctx;
    ngx_http_bubble_done_pt          resume;
    ngx_pool_cleanup_t              *cln;       /* the reservation's */
    bubble_estimate_t                est;
    ngx_http_bubble_place_t          place;
    ngx_msec_t                       start;
    ngx_msec_t                       deadline;
    unsigned                         linked:1;
} ngx_http_bubble_waiter_t;


static ngx_int_t ngx_http_bubble_admit_now(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_shctx_t *sh,
    bubble_estimate_t *est, ngx_uint_t *refused);
static ngx_int_t ngx_http_bubble_admit_wait(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_shctx_t *sh,
    bubble_estimate_t *est, ngx_pool_cleanup_t *cln,
    ngx_http_bubble_done_pt resume);
static void ngx_http_bubble_admitted(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_shctx_t *sh,
    bubble_estimate_t *est, ngx_pool_cleanup_t *cln);
static ngx_uint_t ngx_http_bubble_never_fits(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_shctx_t *sh,
    bubble_estimate_t *est);
static void ngx_http_bubble_admit_refuse(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_shctx_t *sh,
    bubble_estimate_t *est, ngx_uint_t refused);
static ngx_int_t ngx_http_bubble_degraded(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx);
static void ngx_http_bubble_poll_handler(ngx_event_t *ev);
static void ngx_http_bubble_resume(ngx_http_bubble_waiter_t *w,
    ngx_uint_t admitted);
static void ngx_http_bubble_waiter_cleanup(void *data);
static void ngx_http_bubble_release_bytes(
    ngx_http_bubble_reservation_t *res, size_t bytes);
static void ngx_http_bubble_release_wake(void);
static void ngx_http_bubble_release(void *data);


/* this worker's waiters, the queue's poll, and a look after a release */
static ngx_queue_t   ngx_http_bubble_waiters;
static ngx_event_t   ngx_http_bubble_poll;
static ngx_event_t   ngx_http_bubble_wake;


void
ngx_http_bubble_admit_init_process(ngx_cycle_t *cycle)
{
    ngx_queue_init(&ngx_http_bubble_waiters);

    /* not cancelable: an exiting worker waits for its waiters' answers */
    ngx_http_bubble_poll.handler = ngx_http_bubble_poll_handler;
    ngx_http_bubble_poll.log = cycle->log;

    ngx_http_bubble_wake.handler = ngx_http_bubble_poll_handler;
    ngx_http_bubble_wake.log = cycle->log;
}


ngx_int_t
ngx_http_bubble_admit(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    ngx_http_bubble_done_pt resume)
{
    ngx_int_t                       rc;
    ngx_uint_t                      refused;
    bubble_estimate_t               est;
    ngx_pool_cleanup_t             *cln;
    ngx_http_bubble_shctx_t        *sh;
    ngx_http_bubble_loc_conf_t     *blcf;
    ngx_http_bubble_main_conf_t    *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);
    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    bubble_estimate(ctx->chart, &est);
    ctx->estimate_us = est.time_us;

    /* the time budget: refused before any memory is, and for good */

    if (blcf->max_render_time
        && est.time_us > (uint64_t) blcf->max_render_time * 1000)
    {
        bubble_error_set(&ctx->err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                         "too_large", "", "this chart would take an "
                         "estimated %.1f s to render, over the %.1f s "
                         "limit (bubble_max_render_time): fewer rows, "
                         "shorter labels or a smaller image",
                         (double) est.time_us / 1000000,
                         (double) blcf->max_render_time / 1000);
        ctx->reject_reason = NGX_HTTP_BUBBLE_REASON_LIMITS;

        return NGX_DECLINED;
    }

    if (ngx_http_bubble_zone_conf() == NULL) {
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

    ngx_memzero(cln->data, sizeof(ngx_http_bubble_reservation_t));

    /* no zone: only the trim once the worker idles */
    if (sh == NULL) {
        goto counted;
    }

    if (ngx_http_bubble_zone_prepare(sh, r->connection->log) != NGX_OK) {

        if (bmcf->limit_mode == NGX_HTTP_BUBBLE_LIMIT_OFF) {
            /* accounting only: nothing to refuse */
            goto counted;
        }

        /* the worker reports not ready meanwhile (ready.c) */
        (void) ngx_atomic_fetch_add(&sh->refused_slot, 1);

        bubble_error_set(&ctx->err, NGX_HTTP_SERVICE_UNAVAILABLE,
                         "overloaded", "", "this worker has no slot for "
                         "memory accounting in bubble_zone, retry shortly");
        ctx->reject_reason = NGX_HTTP_BUBBLE_REASON_MEMORY;

        return NGX_DECLINED;
    }

    rc = ngx_http_bubble_admit_now(r, ctx, sh, &est, &refused);

    if (rc == NGX_OK) {
        ngx_http_bubble_admitted(r, ctx, sh, &est, cln);
        return NGX_OK;
    }

    if (rc != NGX_DECLINED) {
        return rc;
    }

    /* what can never fit: 413, not worth a retry */

    if (ngx_http_bubble_never_fits(r, ctx, sh, &est)) {
        return NGX_DECLINED;
    }

    /* over the budget at scale 1 too, or no queue: refused at once */

    if (est.total > ngx_http_bubble_zone_budget(bmcf, sh)
        || bmcf->queue == 0
        || sh->queue->capacity == 0)
    {
        ngx_http_bubble_admit_refuse(r, ctx, sh, &est, refused);
        return NGX_DECLINED;
    }

    return ngx_http_bubble_admit_wait(r, ctx, sh, &est, cln, resume);

counted:

    ngx_http_bubble_zone_hold();

    ((ngx_http_bubble_reservation_t *) cln->data)->counted = 1;
    cln->handler = ngx_http_bubble_release;
    ctx->reservation = cln->data;

    return NGX_OK;
}


/*
 * The estimate reserved in this worker's slot at once: NGX_OK; NGX_DECLINED
 * when it does not fit now, or renders wait (they go first), REFUSED
 * saying which limit (1: the budget, else the ceiling).  A dead worker's
 * reservations are swept first; with bubble_degrade a scale-2 PNG may fit
 * at scale 1.
 */

static ngx_int_t
ngx_http_bubble_admit_now(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    ngx_http_bubble_shctx_t *sh, bubble_estimate_t *est, ngx_uint_t *refused)
{
    double                       scale;
    bubble_chart_t              *chart;
    ngx_atomic_t                *counter;
    ngx_http_bubble_loc_conf_t  *blcf;

    chart = ctx->chart;
    counter = &ngx_http_bubble_zone_slot()->reserved;

    *refused = 1;

    if (sh->queue->waiting) {
        return NGX_DECLINED;
    }

    if (ngx_http_bubble_zone_reserve(sh, counter, est->total, 0,
                                     refused)
        == NGX_OK)
    {
        return NGX_OK;
    }

    /* a dead worker's reservations may be what is in the way */

    if (ngx_http_bubble_zone_sweep(sh, r->connection->log)
        && ngx_http_bubble_zone_reserve(sh, counter, est->total, 0, refused)
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

    if (ngx_http_bubble_zone_reserve(sh, counter, est->total, 0,
                                     refused)
        == NGX_OK)
    {
        if (ngx_http_bubble_degraded(r, ctx) != NGX_OK) {
            (void) ngx_atomic_fetch_add(counter,
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


/* a place in the queue, or a 503 when it is full */

static ngx_int_t
ngx_http_bubble_admit_wait(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    ngx_http_bubble_shctx_t *sh, bubble_estimate_t *est,
    ngx_pool_cleanup_t *cln, ngx_http_bubble_done_pt resume)
{
    ngx_int_t                     rc;
    ngx_slab_pool_t              *shpool;
    ngx_connection_t             *c;
    ngx_pool_cleanup_t           *wcln;
    ngx_http_bubble_waiter_t     *w;
    ngx_http_bubble_loc_conf_t   *blcf;
    ngx_http_bubble_main_conf_t  *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);
    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    c = r->connection;
    shpool = ngx_http_bubble_zone_shpool(bmcf);

    wcln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_bubble_waiter_t));
    if (wcln == NULL) {
        return NGX_ERROR;
    }

    w = wcln->data;
    ngx_memzero(w, sizeof(ngx_http_bubble_waiter_t));

    ngx_shmtx_lock(&shpool->mutex);

    rc = ngx_http_bubble_queue_add_locked(sh, est->total, est->time_us,
                                          bmcf->queue, &w->place);

    if (rc == NGX_OK) {
        (void) ngx_http_bubble_queue_dispatch_locked(sh, c->log);

        rc = ngx_http_bubble_queue_take_locked(sh, &w->place,
                                   &ngx_http_bubble_zone_slot()->reserved);
        if (rc != NGX_OK) {
            rc = NGX_AGAIN;
        }

    } else {
        sh->queue->full++;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (rc == NGX_DECLINED) {
        bubble_error_set(&ctx->err, NGX_HTTP_SERVICE_UNAVAILABLE,
                         "overloaded", "", "this chart needs an estimated "
                         "%.1f MiB and %lu renders already wait for memory "
                         "(bubble_queue %lu), retry later",
                         NGX_HTTP_BUBBLE_MiB(est->total),
                         (unsigned long) sh->queue->waiting,
                         (unsigned long) bmcf->queue);
        ctx->reject_reason = NGX_HTTP_BUBBLE_REASON_QUEUE;

        return NGX_DECLINED;
    }

    ctx->queued = 1;

    if (rc == NGX_OK) {
        /* its turn came at once: no wait */
        ngx_http_bubble_admitted(r, ctx, sh, est, cln);
        return NGX_OK;
    }

    w->request = r;
    w->ctx = ctx;
    w->resume = resume;
    w->cln = cln;
    w->est = *est;
    w->start = ngx_current_msec;
    w->deadline = ngx_current_msec + blcf->queue_timeout;
    w->linked = 1;

    wcln->handler = ngx_http_bubble_waiter_cleanup;

    ngx_queue_insert_tail(&ngx_http_bubble_waiters, &w->link);

    ctx->waiter = w;

    /* a client that closes its connection ends the wait */
    r->read_event_handler = ngx_http_test_reading;

    if (c->read->ready) {
        ngx_post_event(c->read, &ngx_posted_events);
    }

    /* the request lives on after the content handler returns NGX_DONE */
    r->main->count++;

    if (!ngx_http_bubble_poll.timer_set) {
        ngx_add_timer(&ngx_http_bubble_poll, NGX_HTTP_BUBBLE_POLL);
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "bubble queued: %uz bytes, %uL us, ticket %uA",
                   est->total, est->time_us, w->place.seq);

    return NGX_AGAIN;
}


/* the reservation made: counted, and released by the pool cleanup */

static void
ngx_http_bubble_admitted(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    ngx_http_bubble_shctx_t *sh, bubble_estimate_t *est,
    ngx_pool_cleanup_t *cln)
{
    ngx_http_bubble_slot_t         *slot;
    ngx_http_bubble_reservation_t  *res;

    res = cln->data;
    slot = ngx_http_bubble_zone_slot();

    res->slot = slot;
    res->bytes = est->total;
    res->retained = est->retained;
    res->output = est->output;
    res->cls = ngx_http_bubble_queue_class(est->time_us);
    res->counted = 1;

    /* by class too: the queue lets short renders past a long one's wait */
    (void) ngx_atomic_fetch_add(&slot->class_bytes[res->cls], est->total);

    ctx->reserved = est->total;

    (void) ngx_atomic_fetch_add(&slot->renders, 1);
    (void) ngx_atomic_fetch_add(&slot->admitted, 1);
    (void) ngx_atomic_fetch_add(&sh->renders, 1);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "bubble reserved %uz bytes (%uz after), scale %.1f",
                   est->total, est->retained, ctx->chart->scale);

    ngx_http_bubble_zone_hold();

    cln->handler = ngx_http_bubble_release;
    ctx->reservation = res;
}


/* the 503 of a chart that does not fit, with the figures that say why */

/*
 * A chart whose estimate is over the whole budget, with nothing else
 * held, and that bubble_degrade cannot bring under it (scale 1): 413
 * naming what makes it large, the image or the data, since a retry
 * would get a 503 for ever.  The budget follows the cgroup's limit: a
 * larger limit takes such a chart again.
 */

static ngx_uint_t
ngx_http_bubble_never_fits(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    ngx_http_bubble_shctx_t *sh, bubble_estimate_t *est)
{
    size_t                        budget;
    double                        scale;
    bubble_chart_t               *chart;
    bubble_estimate_t             scaled;
    ngx_http_bubble_loc_conf_t   *blcf;
    ngx_http_bubble_main_conf_t  *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);
    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    budget = ngx_http_bubble_zone_budget(bmcf, sh);

    if (est->total <= budget) {
        return 0;
    }

    chart = ctx->chart;

    if (blcf->degrade && chart->format == BUBBLE_FORMAT_PNG
        && chart->scale > 1)
    {
        scale = chart->scale;
        chart->scale = 1;
        bubble_estimate(chart, &scaled);
        chart->scale = scale;

        if (scaled.total <= budget) {
            return 0;
        }
    }

    (void) ngx_atomic_fetch_add(&sh->refused_too_large, 1);

    bubble_error_set(&ctx->err, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE,
                     "too_large",
                     (est->pixels + est->encoder >= est->total / 2)
                     ? "width" : "data",
                     "this chart needs an estimated %.1f MiB, more than "
                     "the whole %.1f MiB budget of this server "
                     "(bubble_memory_limit): a smaller width, height or "
                     "scale, or fewer rows",
                     NGX_HTTP_BUBBLE_MiB(est->total),
                     NGX_HTTP_BUBBLE_MiB(budget));

    ctx->reject_reason = NGX_HTTP_BUBBLE_REASON_LIMITS;

    return 1;
}


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
                             ngx_http_bubble_zone_budget(bmcf, sh)));

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
 * Every NGX_HTTP_BUBBLE_POLL ms while this worker has waiters, and after
 * a release while anyone waits: grants made (to any worker's waiters),
 * this worker's taken, its expired ones told to retry.  Resumed outside
 * the lock, in arrival order.
 */

static void
ngx_http_bubble_poll_handler(ngx_event_t *ev)
{
    ngx_int_t                     rc;
    ngx_queue_t                   ready, expired, *q, *next;
    ngx_slab_pool_t              *shpool;
    ngx_http_bubble_slot_t       *slot;
    ngx_http_bubble_shctx_t      *sh;
    ngx_http_bubble_waiter_t     *w;
    ngx_http_bubble_main_conf_t  *bmcf;

    bmcf = ngx_http_bubble_zone_conf();
    sh = ngx_http_bubble_zone_shctx(bmcf);
    shpool = ngx_http_bubble_zone_shpool(bmcf);
    slot = ngx_http_bubble_zone_slot();

    if (sh == NULL || slot == NULL) {
        return;
    }

    ngx_queue_init(&ready);
    ngx_queue_init(&expired);

    ngx_shmtx_lock(&shpool->mutex);

    (void) ngx_http_bubble_queue_dispatch_locked(sh, ev->log);

    for (q = ngx_queue_head(&ngx_http_bubble_waiters);
         q != ngx_queue_sentinel(&ngx_http_bubble_waiters);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_http_bubble_waiter_t, link);

        rc = ngx_http_bubble_queue_take_locked(sh, &w->place,
                                               &slot->reserved);

        if (rc == NGX_OK) {
            ngx_queue_remove(q);
            ngx_queue_insert_tail(&ready, q);
            continue;
        }

        if (rc == NGX_ERROR
            || (ngx_msec_int_t) (ngx_current_msec - w->deadline) >= 0)
        {
            ngx_http_bubble_queue_remove_locked(sh, &w->place);
            sh->queue->timeouts++;

            ngx_queue_remove(q);
            ngx_queue_insert_tail(&expired, q);
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    while (!ngx_queue_empty(&ready)) {
        q = ngx_queue_head(&ready);
        ngx_queue_remove(q);
        ngx_http_bubble_resume(ngx_queue_data(q, ngx_http_bubble_waiter_t,
                                              link), 1);
    }

    while (!ngx_queue_empty(&expired)) {
        q = ngx_queue_head(&expired);
        ngx_queue_remove(q);
        ngx_http_bubble_resume(ngx_queue_data(q, ngx_http_bubble_waiter_t,
                                              link), 0);
    }

    if (!ngx_queue_empty(&ngx_http_bubble_waiters)
        && !ngx_http_bubble_poll.timer_set)
    {
        ngx_add_timer(&ngx_http_bubble_poll, NGX_HTTP_BUBBLE_POLL);
    }
}


/* back to the handler: admitted with its grant, or refused (timeout) */

static void
ngx_http_bubble_resume(ngx_http_bubble_waiter_t *w, ngx_uint_t admitted)
{
    ngx_msec_t                    waited;
    ngx_connection_t             *c;
    ngx_http_request_t           *r;
    ngx_http_bubble_ctx_t        *ctx;
    ngx_http_bubble_shctx_t      *sh;
    ngx_http_bubble_loc_conf_t   *blcf;
    ngx_http_bubble_main_conf_t  *bmcf;

    r = w->request;
    ctx = w->ctx;
    c = r->connection;

    w->linked = 0;
    ctx->waiter = NULL;

    bmcf = ngx_http_bubble_zone_conf();
    sh = ngx_http_bubble_zone_shctx(bmcf);

    waited = ngx_current_msec - w->start;
    ctx->waited = waited;

    ngx_http_set_log_request(c->log, r);

    /* nothing to watch for now: the render, or the answer, comes next */
    r->read_event_handler = ngx_http_block_reading;

    if (admitted) {
        ngx_http_bubble_count_wait(&sh->metrics, waited);
        ngx_http_bubble_admitted(r, ctx, sh, &w->est, w->cln);

    } else {
        blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

        bubble_error_set(&ctx->err, NGX_HTTP_SERVICE_UNAVAILABLE,
                         "overloaded", "", "this chart needs an estimated "
                         "%.1f MiB and waited %.1f s for memory, the "
                         "limit (bubble_queue_timeout %.1f s), retry later",
                         NGX_HTTP_BUBBLE_MiB(w->est.total),
                         (double) waited / 1000,
                         (double) blcf->queue_timeout / 1000);
        ctx->reject_reason = NGX_HTTP_BUBBLE_REASON_QUEUE;
    }

    ngx_http_finalize_request(r, w->resume(r, ctx));

    ngx_http_run_posted_requests(c);
}


/*
 * The request ended while it waited (its client went away, the worker is
 * shutting down): its place, and memory granted to it, given back.
 */

static void
ngx_http_bubble_waiter_cleanup(void *data)
{
    ngx_http_bubble_waiter_t  *w = data;

    ngx_slab_pool_t              *shpool;
    ngx_http_bubble_shctx_t      *sh;
    ngx_http_bubble_main_conf_t  *bmcf;

    if (!w->linked) {
        return;
    }

    w->linked = 0;
    ngx_queue_remove(&w->link);

    bmcf = ngx_http_bubble_zone_conf();
    sh = ngx_http_bubble_zone_shctx(bmcf);
    shpool = ngx_http_bubble_zone_shpool(bmcf);

    ngx_shmtx_lock(&shpool->mutex);
    ngx_http_bubble_queue_remove_locked(sh, &w->place);
    sh->queue->gone++;
    ngx_shmtx_unlock(&shpool->mutex);

    (void) ngx_atomic_fetch_add(&sh->metrics.cancelled[0], 1);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, w->request->connection->log, 0,
                   "bubble queue: ticket %uA given up", w->place.seq);

    /* a grant it had may let the next render in */
    if (sh->queue->waiting && !ngx_http_bubble_wake.posted) {
        ngx_post_event(&ngx_http_bubble_wake, &ngx_posted_events);
    }
}


/*
 * Back on the event loop after the render: the pixels and the display
 * list are gone, the output and the model stay until the request ends.
 * A render past bubble_max_render_time is counted and logged.
 */

void
ngx_http_bubble_rendered(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    size_t                          keep;
    ngx_http_bubble_shctx_t        *sh;
    ngx_http_bubble_loc_conf_t     *blcf;
    ngx_http_bubble_reservation_t  *res;

    static ngx_uint_t               output_warned;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    if (blcf->max_render_time && ctx->rendered
        && ctx->render_us > (uint64_t) blcf->max_render_time * 1000)
    {
        sh = ngx_http_bubble_zone_shctx(
                 ngx_http_get_module_main_conf(r, ngx_http_bubble_module));

        if (sh) {
            (void) ngx_atomic_fetch_add(&sh->metrics.overruns, 1);
        }

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "bubble: a render took %.3f s, over the %.3f s of "
                      "bubble_max_render_time (estimated %.3f s)",
                      (double) ctx->render_us / 1000000,
                      (double) blcf->max_render_time / 1000,
                      (double) ctx->estimate_us / 1000000);
    }

    res = ctx->reservation;

    if (res == NULL || res->slot == NULL
        || res->slot != ngx_http_bubble_zone_slot())
    {
        return;
    }

    keep = res->retained;

    if (ctx->render_rc == 0) {
        keep += ctx->out.len;

        if (ctx->out.len > res->output && !output_warned) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bubble: an output of %uz bytes is larger than "
                          "the memory estimate allows for (%uz), the "
                          "reservation may have been low", ctx->out.len,
                          res->output);
            output_warned = 1;
        }
    }

    if (keep < res->bytes) {
        ngx_http_bubble_release_bytes(res, res->bytes - keep);
        ngx_http_bubble_release_wake();
    }
}


/* BYTES of RES given back, from its slot and its class */

static void
ngx_http_bubble_release_bytes(ngx_http_bubble_reservation_t *res,
    size_t bytes)
{
    (void) ngx_atomic_fetch_add(&res->slot->reserved,
                                -(ngx_atomic_int_t) bytes);
    (void) ngx_atomic_fetch_add(&res->slot->class_bytes[res->cls],
                                -(ngx_atomic_int_t) bytes);
    res->bytes -= bytes;
}


/*
 * A render that will not run (its client left while it was queued in a
 * thread pool): the reservation goes now, not when the request is freed.
 */

void
ngx_http_bubble_release_now(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    ngx_http_bubble_shctx_t        *sh;
    ngx_http_bubble_reservation_t  *res;

    res = ctx->reservation;

    sh = ngx_http_bubble_zone_shctx(
             ngx_http_get_module_main_conf(r, ngx_http_bubble_module));

    if (sh) {
        (void) ngx_atomic_fetch_add(&sh->metrics.cancelled[1], 1);
    }

    if (res == NULL || res->slot == NULL
        || res->slot != ngx_http_bubble_zone_slot() || res->bytes == 0)
    {
        return;
    }

    ngx_http_bubble_release_bytes(res, res->bytes);
    ngx_http_bubble_release_wake();
}


/* memory was given back: the queue may let someone in */

static void
ngx_http_bubble_release_wake(void)
{
    ngx_http_bubble_shctx_t  *sh;

    sh = ngx_http_bubble_zone_shctx(ngx_http_bubble_zone_conf());

    if (sh && sh->queue->waiting && !ngx_http_bubble_wake.posted) {
        ngx_post_event(&ngx_http_bubble_wake, &ngx_posted_events);
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

    if (slot != NULL && slot == ngx_http_bubble_zone_slot()) {

        if (res->bytes) {
            ngx_http_bubble_release_bytes(res, res->bytes);
        }

        (void) ngx_atomic_fetch_add(&slot->renders, -1);

        ngx_http_bubble_release_wake();
    }

    if (res->counted) {
        res->counted = 0;
        ngx_http_bubble_zone_unhold();
    }
}

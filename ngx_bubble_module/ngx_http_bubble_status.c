
/*
 * ngx_bubble: "bubble_status;" - metrics, read-only.
 *
 * Prometheus text exposition 0.0.4 by default; JSON on ?format=json or
 * an Accept header naming application/json (?format=prometheus forces
 * the text).  Bytes are bytes, seconds are seconds; counters count since
 * the zone was created (they survive reloads).  Every field is read with
 * one load, without a lock: the figures are a moment's, not a
 * transaction's.  Per-worker RSS comes from /proc/PID/statm of each pid
 * holding a slot, read by the worker answering the scrape.
 */


#include "ngx_http_bubble_zone.h"
#include "ngx_http_bubble_cache.h"


/* bytes: the series of one scrape without the workers', and a worker's */
#define NGX_HTTP_BUBBLE_STATUS_LEN     24576
#define NGX_HTTP_BUBBLE_STATUS_WORKER  480


typedef struct {
    ngx_pid_t                     pid;
    size_t                        reserved;     /* bytes */
    ngx_uint_t                    renders;      /* in flight */
    ngx_uint_t                    queued;       /* tasks not started */
    ngx_uint_t                    admitted;     /* renders since it began */
    off_t                         rss;          /* bytes, -1: unknown */
    off_t                         anon;         /* of rss, not file or shm */
} ngx_http_bubble_status_worker_t;


/* one scrape's snapshot */
typedef struct {
    ngx_http_bubble_shctx_t      *sh;
    ngx_http_bubble_metrics_t     m;
    size_t                        reserved;     /* bytes */
    size_t                        budget;       /* bytes */
    ngx_uint_t                    in_flight;
    ngx_uint_t                    queued;
    ngx_msec_int_t                age;          /* ms, -1: no sample */
    ngx_uint_t                    ready;
    ngx_http_bubble_readiness_t   rd;
    ngx_uint_t                    cache;        /* a cache zone exists */
    ngx_http_bubble_cache_stats_t  cs;
    ngx_uint_t                    slotless;     /* workers without a slot */
    ngx_uint_t                    places;       /* the queue's limit */
    ngx_uint_t                    nworkers;
    ngx_http_bubble_status_worker_t  *workers;  /* sh->nslots of them */
} ngx_http_bubble_status_t;


static ngx_int_t ngx_http_bubble_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_bubble_status_format(ngx_http_request_t *r,
    ngx_uint_t *json);
static void ngx_http_bubble_status_collect(ngx_http_bubble_main_conf_t *bmcf,
    ngx_http_bubble_shctx_t *sh, ngx_http_bubble_status_t *st);
static ngx_int_t ngx_http_bubble_status_rss(ngx_pid_t pid, off_t *rss,
    off_t *anon);
static ngx_int_t ngx_http_bubble_status_cache(
    ngx_http_bubble_main_conf_t *bmcf, ngx_http_bubble_cache_stats_t *cs);
static u_char *ngx_http_bubble_status_prometheus(u_char *p, u_char *last,
    ngx_http_bubble_status_t *st);
static u_char *ngx_http_bubble_status_prometheus_cache(u_char *p,
    u_char *last, ngx_http_bubble_cache_stats_t *cs);
static u_char *ngx_http_bubble_status_prometheus_queue(u_char *p,
    u_char *last, ngx_http_bubble_status_t *st);
static u_char *ngx_http_bubble_status_histogram(u_char *p, u_char *last,
    const char *name, const char *labels, ngx_atomic_t *buckets,
    uint64_t us);
static u_char *ngx_http_bubble_status_json(u_char *p, u_char *last,
    ngx_http_bubble_main_conf_t *bmcf, ngx_http_bubble_status_t *st);
static u_char *ngx_http_bubble_status_help(u_char *p, u_char *last,
    const char *name, const char *type, const char *help);


static const char  *ngx_http_bubble_limit_modes[] = {
    "auto", "size", "off"
};


static ngx_str_t  ngx_http_bubble_prometheus_type =
    ngx_string("text/plain; version=0.0.4; charset=utf-8");
static ngx_str_t  ngx_http_bubble_json_type = ngx_string("application/json");


char *
ngx_http_bubble_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_bubble_main_conf_t  *bmcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_bubble_status_handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_bubble_status_handler;

    /* checked once the http block is parsed: the zone must exist */
    bmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_bubble_module);
    bmcf->status = 1;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_bubble_status_handler(ngx_http_request_t *r)
{
    size_t                        len;
    ngx_int_t                     rc;
    ngx_buf_t                    *b;
    ngx_uint_t                    json;
    bubble_error_t                err;
    ngx_http_bubble_shctx_t      *sh;
    ngx_http_bubble_status_t     *st;
    ngx_http_bubble_main_conf_t  *bmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_bubble_status_format(r, &json) != NGX_OK) {
        ngx_memzero(&err, sizeof(bubble_error_t));
        err.offset = -1;
        bubble_error_set(&err, NGX_HTTP_BAD_REQUEST, "bad_request", "format",
                         "format: expected \"prometheus\" or \"json\"");
        return ngx_http_bubble_send_error(r, &err);
    }

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);

    sh = ngx_http_bubble_zone_shctx(bmcf);
    if (sh == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    st = ngx_palloc(r->pool, sizeof(ngx_http_bubble_status_t));
    if (st == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* a reload may add slots while this runs: a few more than counted */
    st->workers = ngx_palloc(r->pool, (sh->nslots + 64)
                                 * sizeof(ngx_http_bubble_status_worker_t));
    if (st->workers == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_bubble_status_collect(bmcf, sh, st);

    len = NGX_HTTP_BUBBLE_STATUS_LEN + bmcf->shm_zone->shm.name.len
          + (bmcf->cache_zone ? bmcf->cache_zone->shm.name.len : 0)
          + st->nworkers * NGX_HTTP_BUBBLE_STATUS_WORKER;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (json) {
        b->last = ngx_http_bubble_status_json(b->last, b->end, bmcf, st);

    } else {
        b->last = ngx_http_bubble_status_prometheus(b->last, b->end, st);
    }

    if (b->last == b->end) {
        /* the sizes above are wrong: better no figures than cut ones */
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "bubble: status output over %uz bytes", len);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_bubble_send_buf(r, NGX_HTTP_OK,
                                    json ? &ngx_http_bubble_json_type
                                         : &ngx_http_bubble_prometheus_type,
                                    b);
}


/* ?format= wins; then an Accept that names application/json */

static ngx_int_t
ngx_http_bubble_status_format(ngx_http_request_t *r, ngx_uint_t *json)
{
    ngx_str_t         value;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    *json = 0;

    if (ngx_http_arg(r, (u_char *) "format", 6, &value) == NGX_OK) {

        if (value.len == 4 && ngx_strncmp(value.data, "json", 4) == 0) {
            *json = 1;
            return NGX_OK;
        }

        if (value.len == 10
            && ngx_strncmp(value.data, "prometheus", 10) == 0)
        {
            return NGX_OK;
        }

        return NGX_ERROR;
    }

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == 6
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Accept", 6) == 0
            && ngx_strlcasestrn(h[i].value.data,
                                h[i].value.data + h[i].value.len,
                                (u_char *) "application/json", 16 - 1)
               != NULL)
        {
            *json = 1;
            break;
        }
    }

    return NGX_OK;
}


static void
ngx_http_bubble_status_collect(ngx_http_bubble_main_conf_t *bmcf,
    ngx_http_bubble_shctx_t *sh, ngx_http_bubble_status_t *st)
{
    ngx_uint_t                        i, n, max;
    ngx_atomic_uint_t                 pid;
    ngx_http_bubble_slot_t           *slot;
    ngx_http_bubble_slots_t          *ss;
    ngx_http_bubble_status_worker_t  *w;

    st->sh = sh;

    /* word by word: each counter is one aligned load */
    ngx_memcpy(&st->m, &sh->metrics, sizeof(ngx_http_bubble_metrics_t));

    st->reserved = ngx_http_bubble_zone_reserved(sh, &st->in_flight);

    st->budget = ngx_http_bubble_zone_budget(bmcf, sh);

    st->age = sh->sampled ? (ngx_msec_int_t) (ngx_current_msec - sh->sampled)
                          : -1;
    if (sh->sampled && st->age < 0) {
        st->age = 0;
    }

    st->ready = (ngx_http_bubble_ready_check(bmcf, &st->rd) == NGX_OK);

    st->cache = (ngx_http_bubble_status_cache(bmcf, &st->cs) == NGX_OK);

    st->slotless = ngx_http_bubble_zone_slotless(sh);
    st->places = ngx_min(bmcf->queue, sh->queue->capacity);

    st->queued = 0;
    n = 0;
    max = sh->nslots + 64;

    ngx_http_bubble_for_each_slot(sh, ss, i) {
        slot = &ss->slot[i];
        pid = slot->pid;

        if (n == max) {
            break;
        }

        /* free, or being swept (a pid with a high bit or-ed in) */
        if (pid == 0 || (pid >> 30) != 0) {
            continue;
        }

        w = &st->workers[n++];

        w->pid = (ngx_pid_t) pid;
        w->reserved = slot->reserved;
        w->renders = slot->renders;
        w->queued = slot->queued;
        w->admitted = slot->admitted;

        /* a thread may start a task before its post is counted: no wrap */
        if ((ngx_atomic_int_t) w->queued < 0) {
            w->queued = 0;
        }

        if (ngx_http_bubble_status_rss(w->pid, &w->rss, &w->anon) != NGX_OK) {
            w->rss = -1;
            w->anon = -1;
        }

        st->queued += w->queued;
    }

    st->nworkers = n;
}


/* bytes: the second field of /proc/PID/statm (pages resident) */

static ngx_int_t
ngx_http_bubble_status_rss(ngx_pid_t pid, off_t *rss, off_t *anon)
{
    u_char     *p, *last;
    ssize_t     n;
    ngx_fd_t    fd;
    ngx_int_t   pages[3];
    ngx_uint_t  i;
    u_char      name[sizeof("/proc//statm") + NGX_INT64_LEN];
    u_char      buf[128];

    ngx_sprintf(name, "/proc/%P/statm%Z", pid);

    fd = ngx_open_file(name, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        return NGX_ERROR;
    }

    n = read(fd, buf, sizeof(buf));

    (void) ngx_close_file(fd);

    if (n <= 0) {
        return NGX_ERROR;
    }

    /* "size resident shared ...", in pages; shared: file-backed and shm */

    p = buf;
    last = buf + n;

    for (i = 0; i < 3; i++) {
        for (n = 0; p + n < last && p[n] >= '0' && p[n] <= '9'; n++) {
            /* void */
        }

        pages[i] = ngx_atoi(p, n);
        if (pages[i] == NGX_ERROR) {
            return NGX_ERROR;
        }

        p += n + 1;
    }

    *rss = (off_t) pages[1] * ngx_pagesize;
    *anon = (off_t) (pages[1] - ngx_min(pages[1], pages[2])) * ngx_pagesize;

    return NGX_OK;
}


/*
 * The response cache's figures (ngx_http_bubble_cache.c): only when a
 * cache zone is configured, so that a server without a cache never shows
 * zeros as if they were measured.
 */

static ngx_int_t
ngx_http_bubble_status_cache(ngx_http_bubble_main_conf_t *bmcf,
    ngx_http_bubble_cache_stats_t *cs)
{
    if (bmcf->cache_zone == NULL) {
        return NGX_DECLINED;
    }

    ngx_http_bubble_cache_stats(bmcf, cs);

    return NGX_OK;
}


static u_char *
ngx_http_bubble_status_help(u_char *p, u_char *last, const char *name,
    const char *type, const char *help)
{
    return ngx_slprintf(p, last, "# HELP %s %s\n# TYPE %s %s\n",
                        name, help, name, type);
}


static u_char *
ngx_http_bubble_status_prometheus(u_char *p, u_char *last,
    ngx_http_bubble_status_t *st)
{
    uint64_t                          us;
    ngx_uint_t                        f, i, n;
    ngx_http_bubble_shctx_t          *sh;
    ngx_http_bubble_metrics_t        *m;
    ngx_http_bubble_status_worker_t  *w;

    sh = st->sh;
    m = &st->m;

    p = ngx_http_bubble_status_help(p, last, "bubble_renders_total",
            "counter", "Charts rendered, by output format and outcome "
            "(error: the renderer failed).");

    for (f = 0; f < NGX_HTTP_BUBBLE_FORMATS; f++) {
        p = ngx_slprintf(p, last,
                         "bubble_renders_total{format=\"%s\",outcome=\"ok\"}"
                         " %uA\n"
                         "bubble_renders_total{format=\"%s\","
                         "outcome=\"error\"} %uA\n",
                         ngx_http_bubble_formats[f], m->renders[f][0],
                         ngx_http_bubble_formats[f], m->renders[f][1]);
    }

    p = ngx_http_bubble_status_help(p, last, "bubble_refusals_total",
            "counter", "Requests answered without a render, by reason: "
            "memory (the budget), working_set (the cgroup ceiling), queue "
            "(bubble_queue full or its timeout, a thread pool's max_queue), "
            "limits (413, bubble_max_render_time included; 414), bad_input "
            "(other 4xx).");

    for (i = 0; i < NGX_HTTP_BUBBLE_REASONS; i++) {
        p = ngx_slprintf(p, last, "bubble_refusals_total{reason=\"%s\"} %uA\n",
                         ngx_http_bubble_reasons[i], m->refusals[i]);
    }

    p = ngx_http_bubble_status_help(p, last,
            "bubble_render_duration_seconds", "histogram",
            "Time the renderer took per chart (queue wait, parsing and "
            "sending excluded).");

    for (f = 0; f < NGX_HTTP_BUBBLE_FORMATS; f++) {

        /* cumulative; "+Inf" is the sum of the buckets read, the count */
        n = 0;

        for (i = 0; i < NGX_HTTP_BUBBLE_BUCKETS; i++) {
            n += m->duration[f][i];

            p = ngx_slprintf(p, last, "bubble_render_duration_seconds_bucket"
                             "{format=\"%s\",le=\"%s\"} %ui\n",
                             ngx_http_bubble_formats[f],
                             i < NGX_HTTP_BUBBLE_BOUNDS
                             ? ngx_http_bubble_bounds[i] : "+Inf", n);
        }

        us = m->duration_us[f];

        p = ngx_slprintf(p, last,
                         "bubble_render_duration_seconds_sum{format=\"%s\"}"
                         " %uL.%06uL\n"
                         "bubble_render_duration_seconds_count"
                         "{format=\"%s\"} %ui\n",
                         ngx_http_bubble_formats[f], us / 1000000,
                         us % 1000000, ngx_http_bubble_formats[f], n);
    }

    p = ngx_http_bubble_status_help(p, last, "bubble_memory_reserved_bytes",
            "gauge", "Bytes reserved now by the renders of all workers.");
    p = ngx_slprintf(p, last, "bubble_memory_reserved_bytes %uz\n",
                     st->reserved);

    p = ngx_http_bubble_status_help(p, last, "bubble_memory_budget_bytes",
            "gauge", "Bytes renders may reserve together "
            "(bubble_memory_limit).");
    p = ngx_slprintf(p, last, "bubble_memory_budget_bytes %uz\n",
                     st->budget);

    p = ngx_http_bubble_status_help(p, last, "bubble_memory_ceiling_bytes",
            "gauge", "Working set over which renders are refused.");
    p = ngx_slprintf(p, last, "bubble_memory_ceiling_bytes %uA\n",
                     sh->ceiling);

    p = ngx_http_bubble_status_help(p, last, "bubble_memory_peak_bytes",
            "gauge", "Most bytes ever reserved at once since the zone "
            "was created.");
    p = ngx_slprintf(p, last, "bubble_memory_peak_bytes %uA\n", sh->peak);

    p = ngx_http_bubble_status_help(p, last, "bubble_renders_degraded_total",
            "counter", "PNG charts rendered at scale 1 to fit the budget "
            "(bubble_degrade).");
    p = ngx_slprintf(p, last, "bubble_renders_degraded_total %uA\n",
                     sh->degraded);

    p = ngx_http_bubble_status_help(p, last, "bubble_cgroup_limit_bytes",
            "gauge", "The memory cgroup's limit (physical memory without "
            "one).");
    p = ngx_slprintf(p, last, "bubble_cgroup_limit_bytes %uA\n", sh->limit);

    p = ngx_http_bubble_status_help(p, last, "bubble_cgroup_usage_bytes",
            "gauge", "The memory cgroup's usage.");
    p = ngx_slprintf(p, last, "bubble_cgroup_usage_bytes %uA\n", sh->usage);

    p = ngx_http_bubble_status_help(p, last,
            "bubble_cgroup_working_set_bytes", "gauge",
            "Usage minus inactive file pages, as the kubelet counts it.");
    p = ngx_slprintf(p, last, "bubble_cgroup_working_set_bytes %uA\n",
                     sh->working_set);

    p = ngx_http_bubble_status_help(p, last, "bubble_worker_rss_bytes",
            "gauge", "Resident memory of each process holding a zone slot "
            "(/proc/PID/statm), the zones' shared pages it touched "
            "included.");

    for (i = 0; i < st->nworkers; i++) {
        w = &st->workers[i];

        if (w->rss >= 0) {
            p = ngx_slprintf(p, last,
                             "bubble_worker_rss_bytes{pid=\"%P\"} %O\n",
                             w->pid, w->rss);
        }
    }

    p = ngx_http_bubble_status_help(p, last, "bubble_worker_anon_bytes",
            "gauge", "Of each process's resident memory, what is its own: "
            "not file pages, not shared memory such as the zones.");

    for (i = 0; i < st->nworkers; i++) {
        w = &st->workers[i];

        if (w->anon >= 0) {
            p = ngx_slprintf(p, last,
                             "bubble_worker_anon_bytes{pid=\"%P\"} %O\n",
                             w->pid, w->anon);
        }
    }

    p = ngx_http_bubble_status_help(p, last,
            "bubble_worker_renders_in_flight", "gauge",
            "Requests of each process holding a memory reservation.");

    for (i = 0; i < st->nworkers; i++) {
        w = &st->workers[i];
        p = ngx_slprintf(p, last,
                         "bubble_worker_renders_in_flight{pid=\"%P\"} %ui\n",
                         w->pid, w->renders);
    }

    p = ngx_http_bubble_status_help(p, last, "bubble_thread_queue_depth",
            "gauge", "Render tasks posted to thread pools that no thread "
            "has started yet.");
    p = ngx_slprintf(p, last, "bubble_thread_queue_depth %ui\n", st->queued);

    p = ngx_http_bubble_status_help(p, last, "bubble_ready", "gauge",
            "1 when bubble_ready answers 200, 0 when 503 (memory past "
            "bubble_ready_threshold, or a worker without a zone slot).");
    p = ngx_slprintf(p, last, "bubble_ready %ui\n", st->ready);

    p = ngx_http_bubble_status_prometheus_queue(p, last, st);

    if (st->cache) {
        p = ngx_http_bubble_status_prometheus_cache(p, last, &st->cs);
    }

    return p;
}


/* the admission queue, cancelled renders, overruns, slots */

static u_char *
ngx_http_bubble_status_prometheus_queue(u_char *p, u_char *last,
    ngx_http_bubble_status_t *st)
{
    ngx_http_bubble_metrics_t   *m;
    ngx_http_bubble_queue_sh_t  *q;

    m = &st->m;
    q = st->sh->queue;

    p = ngx_http_bubble_status_help(p, last, "bubble_queue_waiting",
            "gauge", "Renders waiting in the admission queue for memory.");
    p = ngx_slprintf(p, last, "bubble_queue_waiting %uA\n", q->waiting);

    p = ngx_http_bubble_status_help(p, last, "bubble_queue_places",
            "gauge", "Renders the admission queue holds at most "
            "(bubble_queue).");
    p = ngx_slprintf(p, last, "bubble_queue_places %ui\n", st->places);

    p = ngx_http_bubble_status_help(p, last, "bubble_queue_requests_total",
            "counter", "Renders that went through the admission queue, by "
            "outcome: admitted, timeout (bubble_queue_timeout), full "
            "(no place), gone (the client left), swept (a dead worker's).");
    p = ngx_slprintf(p, last,
                     "bubble_queue_requests_total{outcome=\"admitted\"} %uA\n"
                     "bubble_queue_requests_total{outcome=\"timeout\"} %uA\n"
                     "bubble_queue_requests_total{outcome=\"full\"} %uA\n"
                     "bubble_queue_requests_total{outcome=\"gone\"} %uA\n"
                     "bubble_queue_requests_total{outcome=\"swept\"} %uA\n",
                     q->admitted, q->timeouts, q->full, q->gone, q->swept);

    p = ngx_http_bubble_status_help(p, last, "bubble_queue_wait_seconds",
            "histogram", "Time renders admitted from the queue waited "
            "in it.");
    p = ngx_http_bubble_status_histogram(p, last,
                                         "bubble_queue_wait_seconds", "",
                                         m->queue_wait, m->queue_wait_us);

    p = ngx_http_bubble_status_help(p, last, "bubble_renders_cancelled_total",
            "counter", "Renders dropped before they started because their "
            "client closed the connection, by where they waited.");
    p = ngx_slprintf(p, last,
                     "bubble_renders_cancelled_total{where=\"queue\"} %uA\n"
                     "bubble_renders_cancelled_total{where=\"thread_pool\"}"
                     " %uA\n", m->cancelled[0], m->cancelled[1]);

    p = ngx_http_bubble_status_help(p, last, "bubble_render_overruns_total",
            "counter", "Renders that took longer than "
            "bubble_max_render_time.");
    p = ngx_slprintf(p, last, "bubble_render_overruns_total %uA\n",
                     m->overruns);

    p = ngx_http_bubble_status_help(p, last, "bubble_zone_slots", "gauge",
            "Process slots in bubble_zone (twice worker_processes, and "
            "spares).");
    p = ngx_slprintf(p, last, "bubble_zone_slots %uA\n", st->sh->nslots);

    p = ngx_http_bubble_status_help(p, last, "bubble_workers_without_slot",
            "gauge", "Workers that found no free slot: they refuse renders "
            "and readiness is 503.");
    p = ngx_slprintf(p, last, "bubble_workers_without_slot %ui\n",
                     st->slotless);

    return p;
}


/* cumulative buckets of a histogram of ngx_http_bubble_bounds, its sum */

static u_char *
ngx_http_bubble_status_histogram(u_char *p, u_char *last, const char *name,
    const char *labels, ngx_atomic_t *buckets, uint64_t us)
{
    ngx_uint_t  i, n;

    n = 0;

    for (i = 0; i < NGX_HTTP_BUBBLE_BUCKETS; i++) {
        n += buckets[i];

        p = ngx_slprintf(p, last, "%s_bucket{%sle=\"%s\"} %ui\n", name,
                         labels, i < NGX_HTTP_BUBBLE_BOUNDS
                                 ? ngx_http_bubble_bounds[i] : "+Inf", n);
    }

    return ngx_slprintf(p, last,
                        "%s_sum%s%s%s %uL.%06uL\n%s_count%s%s%s %ui\n",
                        name, *labels ? "{" : "", labels, *labels ? "}" : "",
                        us / 1000000, us % 1000000,
                        name, *labels ? "{" : "", labels, *labels ? "}" : "",
                        n);
}


static u_char *
ngx_http_bubble_status_prometheus_cache(u_char *p, u_char *last,
    ngx_http_bubble_cache_stats_t *cs)
{
    p = ngx_http_bubble_status_help(p, last, "bubble_cache_entries", "gauge",
            "Responses in the cache zone.");
    p = ngx_slprintf(p, last, "bubble_cache_entries %uA\n", cs->entries);

    p = ngx_http_bubble_status_help(p, last, "bubble_cache_bytes", "gauge",
            "Bytes of responses in the cache zone.");
    p = ngx_slprintf(p, last, "bubble_cache_bytes %uA\n", cs->bytes);

    p = ngx_http_bubble_status_help(p, last, "bubble_cache_hits_total",
            "counter", "Responses served from the cache.");
    p = ngx_slprintf(p, last, "bubble_cache_hits_total %uA\n", cs->hits);

    p = ngx_http_bubble_status_help(p, last, "bubble_cache_misses_total",
            "counter", "Cache lookups that found nothing.");
    p = ngx_slprintf(p, last, "bubble_cache_misses_total %uA\n", cs->misses);

    p = ngx_http_bubble_status_help(p, last, "bubble_cache_evictions_total",
            "counter", "Entries evicted to make room.");
    p = ngx_slprintf(p, last, "bubble_cache_evictions_total %uA\n",
                     cs->evictions);

    p = ngx_http_bubble_status_help(p, last, "bubble_cache_pins", "gauge",
            "Responses being sent from the cache zone now.");
    p = ngx_slprintf(p, last, "bubble_cache_pins %uA\n", cs->pins);

    p = ngx_http_bubble_status_help(p, last, "bubble_cache_held_bytes",
            "gauge", "Bytes of evicted entries still being sent (those of "
            "a dead worker until the sweep a second later).");
    p = ngx_slprintf(p, last, "bubble_cache_held_bytes %uA\n", cs->held);

    p = ngx_http_bubble_status_help(p, last,
            "bubble_cache_reclaimed_pins_total", "counter",
            "Pins of dead workers undone by the sweep.");
    p = ngx_slprintf(p, last, "bubble_cache_reclaimed_pins_total %uA\n",
                     cs->reclaimed_pins);

    return p;
}


static u_char *
ngx_http_bubble_status_json(u_char *p, u_char *last,
    ngx_http_bubble_main_conf_t *bmcf, ngx_http_bubble_status_t *st)
{
    uint64_t                          us;
    ngx_uint_t                        f, i, n;
    ngx_http_bubble_shctx_t          *sh;
    ngx_http_bubble_metrics_t        *m;
    ngx_http_bubble_status_worker_t  *w;

    sh = st->sh;
    m = &st->m;

    p = ngx_slprintf(p, last, "{\"zone\":\"%V\",\"size\":%uz,"
                     "\"memory_limit\":\"%s\",\"percent\":%ui,",
                     &bmcf->shm_zone->shm.name, bmcf->shm_zone->shm.size,
                     ngx_http_bubble_limit_modes[bmcf->limit_mode],
                     bmcf->limit_percent);

    p = ngx_slprintf(p, last, "\"budget\":%uz,\"ceiling\":%uA,",
                     st->budget, sh->ceiling);

    p = ngx_slprintf(p, last, "\"reserved\":%uz,\"peak\":%uA,"
                     "\"in_flight\":%ui,\"renders\":%uA,\"degraded\":%uA,",
                     st->reserved, sh->peak, st->in_flight, sh->renders,
                     sh->degraded);

    p = ngx_slprintf(p, last, "\"refused\":{\"budget\":%uA,"
                     "\"working_set\":%uA,\"no_slot\":%uA,"
                     "\"too_large\":%uA},"
                     "\"reclaimed\":{\"slots\":%uA,\"bytes\":%uA},",
                     sh->refused_budget, sh->refused_memory,
                     sh->refused_slot, sh->refused_too_large,
                     sh->reclaimed_slots,
                     sh->reclaimed_bytes);

    p = ngx_slprintf(p, last, "\"slots\":%uA,\"slotless\":%ui,"
                     "\"granted\":%uA,",
                     sh->nslots, st->slotless, sh->granted);

    p = ngx_slprintf(p, last, "\"queue\":{\"places\":%ui,"
                     "\"capacity\":%ui,\"waiting\":%uA,"
                     "\"enqueued\":%uA,\"admitted\":%uA,"
                     "\"timeouts\":%uA,\"full\":%uA,\"gone\":%uA,"
                     "\"swept\":%uA,\"backfilled\":%uA,"
                     "\"wait_sum\":%uL.%06uL},",
                     st->places, sh->queue->capacity, sh->queue->waiting,
                     sh->queue->enqueued, sh->queue->admitted,
                     sh->queue->timeouts, sh->queue->full, sh->queue->gone,
                     sh->queue->swept, sh->queue->backfilled,
                     (uint64_t) m->queue_wait_us / 1000000,
                     (uint64_t) m->queue_wait_us % 1000000);

    p = ngx_slprintf(p, last, "\"cancelled\":{\"queue\":%uA,"
                     "\"thread_pool\":%uA},\"overruns\":%uA,",
                     m->cancelled[0], m->cancelled[1], m->overruns);

    p = ngx_slprintf(p, last, "\"cgroup\":{\"version\":%uA,\"limit\":%uA,"
                     "\"usage\":%uA,\"inactive_file\":%uA,"
                     "\"working_set\":%uA,\"base\":%uA,",
                     sh->version, sh->limit, sh->usage, sh->inactive_file,
                     sh->working_set, sh->base);

    if (st->age >= 0) {
        p = ngx_slprintf(p, last, "\"age_ms\":%M},", (ngx_msec_t) st->age);

    } else {
        p = ngx_slprintf(p, last, "\"age_ms\":null},");
    }

    /* the series of the Prometheus form, under the same names */

    p = ngx_slprintf(p, last, "\"renders_total\":{");

    for (f = 0; f < NGX_HTTP_BUBBLE_FORMATS; f++) {
        p = ngx_slprintf(p, last, "%s\"%s\":{\"ok\":%uA,\"error\":%uA}",
                         f ? "," : "", ngx_http_bubble_formats[f],
                         m->renders[f][0], m->renders[f][1]);
    }

    p = ngx_slprintf(p, last, "},\"refusals_total\":{");

    for (i = 0; i < NGX_HTTP_BUBBLE_REASONS; i++) {
        p = ngx_slprintf(p, last, "%s\"%s\":%uA", i ? "," : "",
                         ngx_http_bubble_reasons[i], m->refusals[i]);
    }

    p = ngx_slprintf(p, last, "},\"render_duration_seconds\":{\"le\":[");

    for (i = 0; i < NGX_HTTP_BUBBLE_BOUNDS; i++) {
        p = ngx_slprintf(p, last, "%s%s", i ? "," : "",
                         ngx_http_bubble_bounds[i]);
    }

    p = ngx_slprintf(p, last, ",\"+Inf\"]");

    for (f = 0; f < NGX_HTTP_BUBBLE_FORMATS; f++) {
        p = ngx_slprintf(p, last, ",\"%s\":{\"buckets\":[",
                         ngx_http_bubble_formats[f]);

        n = 0;

        for (i = 0; i < NGX_HTTP_BUBBLE_BUCKETS; i++) {
            n += m->duration[f][i];
            p = ngx_slprintf(p, last, "%s%ui", i ? "," : "", n);
        }

        us = m->duration_us[f];

        p = ngx_slprintf(p, last, "],\"sum\":%uL.%06uL,\"count\":%ui}",
                         us / 1000000, us % 1000000, n);
    }

    p = ngx_slprintf(p, last, "},\"thread_queue_depth\":%ui,", st->queued);

    if (st->ready) {
        p = ngx_slprintf(p, last, "\"ready\":true,\"ready_reason\":null,");

    } else {
        p = ngx_slprintf(p, last, "\"ready\":false,\"ready_reason\":\"%s\",",
                         st->rd.reason);
    }

    p = ngx_slprintf(p, last, "\"ready_threshold\":%ui,", st->rd.threshold);

    if (st->cache) {
        p = ngx_slprintf(p, last, "\"cache\":{\"zone\":\"%V\",\"size\":%uA,"
                         "\"max_entry\":%uA,\"entries\":%uA,\"bytes\":%uA,"
                         "\"hits\":%uA,\"misses\":%uA,\"expired\":%uA,"
                         "\"bypasses\":%uA,\"stores\":%uA,"
                         "\"evictions\":%uA,\"too_large\":%uA,"
                         "\"no_room\":%uA,\"pins\":%uA,\"held\":%uA,"
                         "\"reclaimed_pins\":%uA,"
                         "\"reclaimed_bytes\":%uA},",
                         &bmcf->cache_zone->shm.name, st->cs.size,
                         st->cs.max_entry, st->cs.entries, st->cs.bytes,
                         st->cs.hits, st->cs.misses, st->cs.expired,
                         st->cs.bypasses, st->cs.stores, st->cs.evictions,
                         st->cs.too_large, st->cs.no_room, st->cs.pins,
                         st->cs.held, st->cs.reclaimed_pins,
                         st->cs.reclaimed_bytes);

    } else {
        p = ngx_slprintf(p, last, "\"cache\":null,");
    }

    p = ngx_slprintf(p, last, "\"workers\":[");

    for (i = 0; i < st->nworkers; i++) {
        w = &st->workers[i];

        p = ngx_slprintf(p, last, "%s{\"pid\":%P,\"reserved\":%uz,"
                         "\"renders\":%ui,\"queued\":%ui,"
                         "\"admitted\":%ui,\"rss\":",
                         i ? "," : "", w->pid, w->reserved, w->renders,
                         w->queued, w->admitted);

        if (w->rss >= 0) {
            p = ngx_slprintf(p, last, "%O,\"anon\":%O}", w->rss, w->anon);

        } else {
            p = ngx_slprintf(p, last, "null,\"anon\":null}");
        }
    }

    return ngx_slprintf(p, last, "]}\n");
}

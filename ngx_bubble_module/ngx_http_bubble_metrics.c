
/*
 * ngx_bubble: counting renders and refusals, and the log variables.
 *
 *   $bubble_render_time    seconds bubble_render() took, ms resolution
 *   $bubble_reserved       bytes reserved for the render at admission
 *   $bubble_reject_reason  memory | working_set | queue | limits |
 *                          bad_input, or empty
 *
 * queue: the admission queue was full or its timeout passed, or a thread
 * pool's max_queue was reached; limits: 413 and 414, bubble_max_render_time
 * included.
 *
 * The first two are not found ("-" in a log) when nothing was rendered or
 * reserved.  $bubble_cache_status (HIT | MISS | EXPIRED | BYPASS) is the
 * response cache's (ngx_http_bubble_cache.c); all four are in one table.
 *
 * A render is counted on the event loop as soon as it returns, before a
 * byte of its response is sent: whoever has the response can already
 * scrape the count.  A refusal is counted by the log-phase handler, as the
 * request ends, whatever path ended it (nginx's own 413 and 405 too): a
 * scrape may come a moment before it.  The counters are words in the
 * shared zone, added to with atomics, and survive reloads with the zone.
 */


#include "ngx_http_bubble_zone.h"
#include "ngx_http_bubble_cache.h"


static ngx_int_t ngx_http_bubble_log_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_bubble_render_time_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_bubble_reserved_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_bubble_reject_reason_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


const char  *ngx_http_bubble_reasons[NGX_HTTP_BUBBLE_REASONS] = {
    "memory", "working_set", "queue", "limits", "bad_input"
};


const ngx_uint_t  ngx_http_bubble_bounds_us[NGX_HTTP_BUBBLE_BOUNDS] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000
};


/* the same bounds in seconds, as the "le" labels print them */
const char  *ngx_http_bubble_bounds[NGX_HTTP_BUBBLE_BOUNDS] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
    "1", "2.5", "5", "10"
};


static ngx_http_variable_t  ngx_http_bubble_vars[] = {

    { ngx_string("bubble_render_time"), NULL,
      ngx_http_bubble_render_time_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("bubble_reserved"), NULL,
      ngx_http_bubble_reserved_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("bubble_reject_reason"), NULL,
      ngx_http_bubble_reject_reason_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_bubble_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_bubble_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_bubble_metrics_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_bubble_log_handler;

    return NGX_OK;
}


uint64_t
ngx_http_bubble_now_us(void)
{
    struct timespec  ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);

    return (uint64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}


/*
 * Why a request of a bubble location was refused: an index into
 * ngx_http_bubble_reasons, or NGX_DECLINED when it was not (rendered, a
 * 304, a 5xx of ours, a client that went away: 499, 408).
 */

ngx_int_t
ngx_http_bubble_reject_reason(ngx_http_request_t *r)
{
    ngx_http_bubble_ctx_t       *ctx;
    ngx_http_bubble_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    if (blcf == NULL || !blcf->enable) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_bubble_module);

    if (ctx != NULL) {

        /*
         * admission (zone.c), the thread pool and a layout that refused
         * the chart (ngx_http_bubble_count_render) say why they refused
         */
        if (ctx->reject_reason != NGX_DECLINED) {
            return ctx->reject_reason;
        }

        /* a render that failed otherwise is a render: outcome "error" */
        if (ctx->rendered) {
            return NGX_DECLINED;
        }
    }

    switch (r->headers_out.status) {

    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
    case NGX_HTTP_REQUEST_URI_TOO_LARGE:
        return NGX_HTTP_BUBBLE_REASON_LIMITS;

    case NGX_HTTP_BAD_REQUEST:
    case NGX_HTTP_FORBIDDEN:
    case NGX_HTTP_NOT_ALLOWED:
    case NGX_HTTP_LENGTH_REQUIRED:
    case NGX_HTTP_UNSUPPORTED_MEDIA_TYPE:
        return NGX_HTTP_BUBBLE_REASON_BAD_INPUT;

    default:
        return NGX_DECLINED;
    }
}


static ngx_int_t
ngx_http_bubble_log_handler(ngx_http_request_t *r)
{
    ngx_int_t                     reason;
    ngx_http_bubble_shctx_t      *sh;
    ngx_http_bubble_loc_conf_t   *blcf;
    ngx_http_bubble_main_conf_t  *bmcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    if (blcf == NULL || !blcf->enable) {
        return NGX_OK;
    }

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);

    sh = ngx_http_bubble_zone_shctx(bmcf);
    if (sh == NULL) {
        return NGX_OK;
    }

    /* a render was counted when it returned (ngx_http_bubble_count_render) */
    reason = ngx_http_bubble_reject_reason(r);

    if (reason != NGX_DECLINED) {
        (void) ngx_atomic_fetch_add(&sh->metrics.refusals[reason], 1);
    }

    return NGX_OK;
}


/*
 * Called once per render, on the event loop, when bubble_render() has
 * returned (inline, or back from the thread pool even if the client went
 * away), and before the response is sent.
 */

void
ngx_http_bubble_count_render(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx)
{
    ngx_uint_t                    f, i;
    ngx_http_bubble_shctx_t      *sh;
    ngx_http_bubble_metrics_t    *m;
    ngx_http_bubble_main_conf_t  *bmcf;

    if (ctx->chart == NULL || ctx->chart->format >= NGX_HTTP_BUBBLE_FORMATS) {
        return;
    }

    if (ctx->render_rc != 0 && ctx->err.status < NGX_HTTP_INTERNAL_SERVER_ERROR)
    {
        /* the layout refused the chart (no room, no rows): bad input */
        ctx->reject_reason = NGX_HTTP_BUBBLE_REASON_BAD_INPUT;
        return;
    }

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);

    sh = ngx_http_bubble_zone_shctx(bmcf);
    if (sh == NULL) {
        return;
    }

    m = &sh->metrics;
    f = ctx->chart->format;

    (void) ngx_atomic_fetch_add(&m->renders[f][ctx->render_rc ? 1 : 0], 1);

    /* Prometheus' "le": the first bucket whose bound is not below */
    for (i = 0; i < NGX_HTTP_BUBBLE_BOUNDS; i++) {
        if (ctx->render_us <= ngx_http_bubble_bounds_us[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&m->duration[f][i], 1);
    (void) ngx_atomic_fetch_add(&m->duration_us[f],
                                (ngx_atomic_int_t) ctx->render_us);
}


/* a render admitted after WAIT ms in the admission queue */

void
ngx_http_bubble_count_wait(ngx_http_bubble_metrics_t *m, ngx_msec_t wait)
{
    uint64_t    us;
    ngx_uint_t  i;

    us = (uint64_t) wait * 1000;

    for (i = 0; i < NGX_HTTP_BUBBLE_BOUNDS; i++) {
        if (us <= ngx_http_bubble_bounds_us[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&m->queue_wait[i], 1);
    (void) ngx_atomic_fetch_add(&m->queue_wait_us, (ngx_atomic_int_t) us);
}


static ngx_int_t
ngx_http_bubble_render_time_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                 *p;
    uint64_t                ms;
    ngx_http_bubble_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_bubble_module);

    if (ctx == NULL || !ctx->rendered) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN + 4);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* as $request_time: seconds with milliseconds, rounded */
    ms = (ctx->render_us + 500) / 1000;

    v->len = ngx_sprintf(p, "%uL.%03uL", ms / 1000, ms % 1000) - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}


static ngx_int_t
ngx_http_bubble_reserved_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                 *p;
    ngx_http_bubble_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_bubble_module);

    /* admitted: a reservation exists, maybe of 0 bytes without a zone */
    if (ctx == NULL || ctx->reservation == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_SIZE_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%uz", ctx->reserved) - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = p;

    return NGX_OK;
}


static ngx_int_t
ngx_http_bubble_reject_reason_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_int_t  reason;

    reason = ngx_http_bubble_reject_reason(r);

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    if (reason == NGX_DECLINED) {
        v->len = 0;
        v->data = (u_char *) "";
        return NGX_OK;
    }

    v->len = ngx_strlen(ngx_http_bubble_reasons[reason]);
    v->data = (u_char *) ngx_http_bubble_reasons[reason];

    return NGX_OK;
}

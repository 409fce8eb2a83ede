
/*
 * ngx_bubble: readiness, so that Kubernetes routes around a busy pod
 * before it has to refuse renders.
 *
 *   bubble_ready;                      (location)
 *   bubble_ready_threshold  PERCENT%;  (http, default 75%)
 *
 * Admission (ngx_http_bubble_zone.c) refuses a render when, with its
 * estimate added,
 *
 *   reserved > budget, or
 *   max(ws + newer, base + reserved) > ceiling.
 *
 * The probe applies the same two tests without an estimate, at PERCENT of
 * the budget and of the ceiling: 200 {"ready":true,...} below both, 503
 * {"ready":false,"reason":"memory"|"working_set",...} past either.  With
 * "bubble_memory_limit off" nothing is refused, and the probe stays ready.
 * A worker without a slot in the zone (more workers than it has room for)
 * refuses renders: whichever worker answers the probe, it is 503
 * {"reason":"no_slot"} until that worker has one.  Liveness is another
 * matter: any cheap location answers it.
 */


#include "ngx_http_bubble_zone.h"


#define NGX_HTTP_BUBBLE_READY_LEN                                             \
    (sizeof("{\"ready\":false,\"reason\":\"working_set\",\"threshold\":,"     \
            "\"reserved\":,\"budget\":,\"working_set\":,\"ceiling\":}\n")     \
     + 5 * NGX_ATOMIC_T_LEN)


static ngx_int_t ngx_http_bubble_ready_handler(ngx_http_request_t *r);


char *
ngx_http_bubble_ready(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_bubble_main_conf_t  *bmcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == ngx_http_bubble_ready_handler) {
        return "is duplicate";
    }

    clcf->handler = ngx_http_bubble_ready_handler;

    /* checked once the http block is parsed: the zone must exist */
    bmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_bubble_module);
    bmcf->ready = 1;

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_bubble_ready_check(ngx_http_bubble_main_conf_t *bmcf,
    ngx_http_bubble_readiness_t *rd)
{
    size_t                    newer;
    ngx_uint_t                t;
    ngx_http_bubble_shctx_t  *sh;

    ngx_memzero(rd, sizeof(ngx_http_bubble_readiness_t));

    t = (bmcf->ready_threshold == NGX_CONF_UNSET_UINT)
        ? NGX_HTTP_BUBBLE_READY_PERCENT : bmcf->ready_threshold;

    rd->threshold = t;

    sh = ngx_http_bubble_zone_shctx(bmcf);
    if (sh == NULL) {
        rd->reason = "no_zone";
        return NGX_DECLINED;
    }

    if (sh->sampled == 0) {
        /* no worker has read the cgroup yet: nothing to judge by */
        rd->reason = "starting";
        return NGX_DECLINED;
    }

    rd->reserved = ngx_http_bubble_zone_reserved(sh, NULL);
    rd->budget = sh->budget;
    rd->ceiling = sh->ceiling;

    /* what admission projects: reservations newer than the sample too */
    newer = (rd->reserved > sh->reserved_at)
            ? rd->reserved - sh->reserved_at : 0;

    rd->projected = ngx_max(sh->working_set + newer, sh->base + rd->reserved);

    if (bmcf->limit_mode == NGX_HTTP_BUBBLE_LIMIT_OFF) {
        return NGX_OK;
    }

    if (ngx_http_bubble_zone_slotless(sh)) {
        rd->reason = "no_slot";
        return NGX_DECLINED;
    }

    /* a share of a size in bytes: divided first, no overflow */
    if (rd->reserved > rd->budget / 100 * t) {
        rd->reason = "memory";
        return NGX_DECLINED;
    }

    if (rd->projected > rd->ceiling / 100 * t) {
        rd->reason = "working_set";
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_bubble_ready_handler(ngx_http_request_t *r)
{
    u_char                       *p;
    ngx_int_t                     rc, ready;
    ngx_buf_t                    *b;
    ngx_http_bubble_readiness_t   rd;
    ngx_http_bubble_main_conf_t  *bmcf;

    static ngx_str_t              json_type = ngx_string("application/json");

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);

    ready = (ngx_http_bubble_ready_check(bmcf, &rd) == NGX_OK);

    b = ngx_create_temp_buf(r->pool, NGX_HTTP_BUBBLE_READY_LEN);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = b->last;

    if (ready) {
        p = ngx_cpymem(p, "{\"ready\":true,", sizeof("{\"ready\":true,") - 1);

    } else {
        p = ngx_sprintf(p, "{\"ready\":false,\"reason\":\"%s\",", rd.reason);
    }

    p = ngx_sprintf(p, "\"threshold\":%ui,\"reserved\":%uz,\"budget\":%uz,"
                    "\"working_set\":%uz,\"ceiling\":%uz}\n",
                    rd.threshold, rd.reserved, rd.budget, rd.projected,
                    rd.ceiling);

    b->last = p;

    return ngx_http_bubble_send_buf(r, ready ? NGX_HTTP_OK
                                             : NGX_HTTP_SERVICE_UNAVAILABLE,
                                    &json_type, b);
}

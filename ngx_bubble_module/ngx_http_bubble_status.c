
/*
 * ngx_bubble: "bubble_status;" - the zone as JSON, read-only.
 *
 * Bytes are bytes, counters count since the zone was created (they
 * survive reloads).  Every field is read with one load, without a lock:
 * the figures are a moment's, not a transaction's.
 */


#include "ngx_http_bubble_zone.h"
#include "ngx_http_bubble_cache.h"


/* bytes: the fixed part, and a "workers" entry */
#define NGX_HTTP_BUBBLE_STATUS_LEN   4096
#define NGX_HTTP_BUBBLE_STATUS_SLOT                                           \
    (sizeof("{\"pid\":,\"reserved\":,\"renders\":},") + 3 * NGX_ATOMIC_T_LEN)


static ngx_int_t ngx_http_bubble_status_handler(ngx_http_request_t *r);


static const char  *ngx_http_bubble_limit_modes[] = {
    "auto", "size", "off"
};


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
    u_char                       *p;
    size_t                        len, reserved;
    ngx_int_t                     rc;
    ngx_buf_t                    *b;
    ngx_uint_t                    i, renders;
    ngx_chain_t                   out;
    ngx_msec_int_t                age;
    ngx_table_elt_t              *h;
    ngx_http_bubble_slot_t       *slot;
    ngx_http_bubble_shctx_t      *sh;
    ngx_http_bubble_main_conf_t  *bmcf;
    ngx_http_bubble_cache_stats_t  cst;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);

    sh = ngx_http_bubble_zone_shctx(bmcf);
    if (sh == NULL) {
        return NGX_HTTP_NOT_FOUND;
    }

    len = NGX_HTTP_BUBBLE_STATUS_LEN + bmcf->shm_zone->shm.name.len
          + (bmcf->cache_zone ? bmcf->cache_zone->shm.name.len : 0)
          + NGX_HTTP_BUBBLE_SLOTS * NGX_HTTP_BUBBLE_STATUS_SLOT;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    reserved = ngx_http_bubble_zone_reserved(sh, &renders);

    age = sh->sampled ? (ngx_msec_int_t) (ngx_current_msec - sh->sampled)
                      : -1;
    if (sh->sampled && age < 0) {
        age = 0;
    }

    p = b->last;

    p = ngx_sprintf(p, "{\"zone\":\"%V\",\"size\":%uz,"
                    "\"memory_limit\":\"%s\",\"percent\":%ui,",
                    &bmcf->shm_zone->shm.name, bmcf->shm_zone->shm.size,
                    ngx_http_bubble_limit_modes[bmcf->limit_mode],
                    bmcf->limit_percent);

    /* SIZE less the cache zone's (nginx -t checked it is smaller) */
    p = ngx_sprintf(p, "\"budget\":%uz,\"ceiling\":%uA,",
                    bmcf->limit_mode == NGX_HTTP_BUBBLE_LIMIT_SIZE
                    ? bmcf->limit_size - ngx_http_bubble_cache_size(bmcf)
                    : (size_t) sh->budget, sh->ceiling);

    p = ngx_sprintf(p, "\"reserved\":%uz,\"peak\":%uA,\"in_flight\":%ui,"
                    "\"renders\":%uA,\"degraded\":%uA,",
                    reserved, sh->peak, renders, sh->renders, sh->degraded);

    p = ngx_sprintf(p, "\"refused\":{\"budget\":%uA,\"working_set\":%uA,"
                    "\"no_slot\":%uA},"
                    "\"reclaimed\":{\"slots\":%uA,\"bytes\":%uA},",
                    sh->refused_budget, sh->refused_memory, sh->refused_slot,
                    sh->reclaimed_slots, sh->reclaimed_bytes);

    p = ngx_sprintf(p, "\"cgroup\":{\"version\":%uA,\"limit\":%uA,"
                    "\"usage\":%uA,\"inactive_file\":%uA,"
                    "\"working_set\":%uA,\"base\":%uA,",
                    sh->version, sh->limit, sh->usage, sh->inactive_file,
                    sh->working_set, sh->base);

    if (age >= 0) {
        p = ngx_sprintf(p, "\"age_ms\":%M},", (ngx_msec_t) age);

    } else {
        p = ngx_cpymem(p, "\"age_ms\":null},", sizeof("\"age_ms\":null},") - 1);
    }

    /* --- the response cache (ngx_http_bubble_cache.c): null without --- */

    if (bmcf->cache_zone) {
        ngx_http_bubble_cache_stats(bmcf, &cst);

        p = ngx_sprintf(p, "\"cache\":{\"zone\":\"%V\",\"size\":%uA,"
                        "\"max_entry\":%uA,\"entries\":%uA,\"bytes\":%uA,"
                        "\"hits\":%uA,\"misses\":%uA,\"expired\":%uA,"
                        "\"bypasses\":%uA,\"stores\":%uA,"
                        "\"evictions\":%uA,\"too_large\":%uA,"
                        "\"no_room\":%uA},",
                        &bmcf->cache_zone->shm.name, cst.size, cst.max_entry,
                        cst.entries, cst.bytes, cst.hits, cst.misses,
                        cst.expired, cst.bypasses, cst.stores, cst.evictions,
                        cst.too_large, cst.no_room);

    } else {
        p = ngx_cpymem(p, "\"cache\":null,", sizeof("\"cache\":null,") - 1);
    }

    /* --- */

    p = ngx_cpymem(p, "\"workers\":[", sizeof("\"workers\":[") - 1);

    for (i = 0; i < NGX_HTTP_BUBBLE_SLOTS; i++) {
        slot = &sh->slots[i];

        if (slot->pid == 0) {
            continue;
        }

        p = ngx_sprintf(p, "{\"pid\":%uA,\"reserved\":%uA,\"renders\":%uA},",
                        slot->pid, slot->reserved, slot->renders);
    }

    if (*(p - 1) == ',') {
        p--;
    }

    p = ngx_cpymem(p, "]}\n", 3);

    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}

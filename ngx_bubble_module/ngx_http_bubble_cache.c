
/*
 * ngx_bubble: the response cache.
 *
 *   bubble_cache_zone    name:size [max_entry=size] [valid=time];   (http)
 *   bubble_cache         on | off;                     (location, on)
 *   bubble_cache_header  on | off;                     (location, off)
 *
 * Rendered images live in a slab zone of their own: a red-black tree of
 * entries keyed by a SHA-256, and a queue in use order; when an image does
 * not fit, the least recently used entries go until it does.  As
 * ngx_http_limit_req's and the SSL session cache's zones, one slab mutex
 * guards the tree and the queue; it is held for a lookup and the copy of
 * one image (microseconds), never across a render.
 *
 * Keys.  GET and HEAD: the URL as the handler reads it (path and
 * arguments) and what else decides the answer (the limits, the URL
 * secrets), so a hit needs no decoding, no inflating, no parsing and no
 * signature check: the same URL under the same secrets was checked when
 * it was stored.  POST: the chart's ETag (the canonical content digest
 * with the renderer's versions), since its body is read and parsed
 * anyway; the render is what a hit saves.
 *
 * An entry keeps what the answer needs: the bytes, the format, the ETag
 * and the dropped rows; Cache-Control comes from the serving location.
 * It is stale (EXPIRED, rendered anew) when it was rendered by another
 * renderer (a reload after an upgrade of the module, cairo, pango,
 * harfbuzz, fontconfig or the fonts) or, with valid=, once older than that.
 *
 * Pins.  A hit is sent from the zone itself; each request sending an
 * entry pins it with a record naming its process, so that a worker killed
 * while sending (kill -9, a crash, the OOM killer) leaves records the
 * others find: every second the zone's timer unpins those of dead
 * processes, and an entry evicted meanwhile is freed then.  Until that
 * sweep its bytes show as "held" in the metrics.
 *
 * Never stored: errors, refusals, degraded images (X-Bubble-Degraded), and
 * entries over max_entry.  Hits are served while renders are refused:
 * they hold no render memory.  The zone's size is taken from the render
 * budget (ngx_http_bubble_zone.c), and on reload an unchanged zone is
 * adopted with its entries.
 */


#include "ngx_http_bubble_cache.h"

#include <openssl/evp.h>


#define NGX_HTTP_BUBBLE_CACHE_KEY    32         /* SHA-256 */
#define NGX_HTTP_BUBBLE_CACHE_ETAG   34         /* "32 hex digits" */

/* distinct processes one sweep checks: more wait for the next second's */
#define NGX_HTTP_BUBBLE_CACHE_PIDS   32


typedef struct {
    ngx_rbtree_node_t                 node;     /* key: the digest's start */
    ngx_queue_t                       queue;
    u_char                            key[NGX_HTTP_BUBBLE_CACHE_KEY];
    u_char                            etag[NGX_HTTP_BUBBLE_CACHE_ETAG];
    u_char                            format;   /* BUBBLE_FORMAT_* */
    u_char                            dead;     /* out of the tree, pinned */
    ngx_uint_t                        pins;     /* requests sending it */
    uint64_t                          renderer; /* of bubble_renderer_id() */
    time_t                            stored;   /* seconds, ngx_time() */
    size_t                            dropped;  /* X-Bubble-Dropped-Rows */
    size_t                            len;      /* the image's bytes */
    u_char                            data[1];
} ngx_http_bubble_cache_node_t;


typedef struct {
    ngx_rbtree_t                      rbtree;
    ngx_rbtree_node_t                 sentinel;
    ngx_queue_t                       queue;    /* most recent first */
    ngx_queue_t                       pins;     /* of every process */
    ngx_http_bubble_cache_stats_t     stats;
} ngx_http_bubble_cache_sh_t;


typedef struct {
    ngx_http_bubble_cache_sh_t       *sh;
    ngx_slab_pool_t                  *shpool;
} ngx_http_bubble_cache_ctx_t;


/* what a lookup copies out under the lock */
typedef struct {
    ngx_uint_t                        format;
    size_t                            dropped;
    size_t                            len;
    u_char                           *data;     /* NULL: headers only */
} ngx_http_bubble_cache_hit_t;


/* in the zone: a request of process PID sends NODE */
typedef struct {
    ngx_queue_t                       queue;    /* in sh->pins */
    ngx_pid_t                         pid;
    ngx_http_bubble_cache_node_t     *node;
} ngx_http_bubble_cache_pin_t;


/* the request's side, unpinned by a pool cleanup when it ends */
typedef struct {
    ngx_http_bubble_cache_ctx_t      *cctx;
    ngx_http_bubble_cache_pin_t      *pin;
} ngx_http_bubble_cache_hold_t;


static ngx_int_t ngx_http_bubble_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_bubble_cache_ctx_t *ngx_http_bubble_cache_ctx(
    ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx);
static ngx_int_t ngx_http_bubble_cache_key(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_str_t *parts, ngx_uint_t n);
static ngx_int_t ngx_http_bubble_cache_lookup(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_cache_ctx_t *cctx);
static ngx_int_t ngx_http_bubble_cache_set_status(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_uint_t status);
static ngx_http_bubble_cache_node_t *ngx_http_bubble_cache_find(
    ngx_http_bubble_cache_sh_t *sh, u_char *key);
static void ngx_http_bubble_cache_free(ngx_http_bubble_cache_ctx_t *cctx,
    ngx_http_bubble_cache_node_t *cn);
static ngx_http_bubble_cache_pin_t *ngx_http_bubble_cache_pin(
    ngx_http_bubble_cache_ctx_t *cctx, ngx_http_bubble_cache_node_t *cn);
static void ngx_http_bubble_cache_unpin_locked(
    ngx_http_bubble_cache_ctx_t *cctx, ngx_http_bubble_cache_pin_t *pin);
static void ngx_http_bubble_cache_unpin(void *data);
static ngx_uint_t ngx_http_bubble_cache_alive(ngx_pid_t pid);
static void ngx_http_bubble_cache_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static uint64_t ngx_http_bubble_cache_renderer(void);
static ngx_int_t ngx_http_bubble_cache_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


/* the tag of our zones: bubble_zone's name is not reused for a cache */
static ngx_uint_t  ngx_http_bubble_cache_tag;


static ngx_str_t  ngx_http_bubble_cache_statuses[] = {
    ngx_null_string,
    ngx_string("BYPASS"),
    ngx_string("MISS"),
    ngx_string("EXPIRED"),
    ngx_string("HIT")
};


static ngx_http_variable_t  ngx_http_bubble_cache_vars[] = {

    { ngx_string("bubble_cache_status"), NULL,
      ngx_http_bubble_cache_status_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


/* bubble_cache_zone name:size [max_entry=size] [valid=time] */

char *
ngx_http_bubble_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bubble_main_conf_t  *bmcf = conf;

    u_char                       *p;
    time_t                        valid;
    ssize_t                       size, max_entry;
    ngx_str_t                    *value, name, s;
    ngx_uint_t                    i;
    ngx_shm_zone_t               *shm_zone;
    ngx_http_bubble_cache_ctx_t  *ctx;

    if (bmcf->cache_zone) {
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

    /* the slab pool's own pages, the tree, and room for a few images */
    if (size == NGX_ERROR || size < (ssize_t) (16 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid cache zone size \"%V\", expected "
                           "%uik at least", &value[1],
                           16 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    max_entry = NGX_CONF_UNSET;
    valid = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "max_entry=", 10) == 0) {
            s.data = value[i].data + 10;
            s.len = value[i].len - 10;

            max_entry = ngx_parse_size(&s);

            if (max_entry == NGX_ERROR || max_entry == 0
                || max_entry > size / 2)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\", expected a size up to "
                                   "half the zone's", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "valid=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            if (s.len == 3 && ngx_strncmp(s.data, "off", 3) == 0) {
                valid = 0;
                continue;
            }

            valid = ngx_parse_time(&s, 1);

            if (valid == (time_t) NGX_ERROR || valid == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\", expected a time or "
                                   "\"off\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    /* a quarter of the zone: four of the largest images fit at least */
    if (max_entry == NGX_CONF_UNSET) {
        max_entry = size / 4;
    }

    ctx = ngx_pcalloc(cf->pool, sizeof(ngx_http_bubble_cache_ctx_t));
    if (ctx == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_bubble_cache_tag);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NGX_CONF_ERROR;
    }

    shm_zone->init = ngx_http_bubble_cache_init_zone;
    shm_zone->data = ctx;

    bmcf->cache_zone = shm_zone;
    bmcf->cache_max_entry = max_entry;
    bmcf->cache_valid = valid;

    return NGX_CONF_OK;
}


/*
 * As ngx_http_limit_req_init_zone(): on reload, a zone of the same name
 * and size is adopted with its entries and counters (nginx maps the same
 * memory into the new cycle).  Another size makes a new, empty zone.
 */

static ngx_int_t
ngx_http_bubble_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_bubble_cache_ctx_t  *octx = data;

    size_t                        len;
    ngx_http_bubble_cache_ctx_t  *ctx;

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

    ctx->sh = ngx_slab_calloc(ctx->shpool,
                              sizeof(ngx_http_bubble_cache_sh_t));
    if (ctx->sh == NULL) {
        return NGX_ERROR;
    }

    ctx->shpool->data = ctx->sh;

    ngx_rbtree_init(&ctx->sh->rbtree, &ctx->sh->sentinel,
                    ngx_http_bubble_cache_rbtree_insert);

    ngx_queue_init(&ctx->sh->queue);
    ngx_queue_init(&ctx->sh->pins);

    ctx->sh->stats.size = shm_zone->shm.size;

    len = sizeof(" in bubble_cache_zone \"\"") + shm_zone->shm.name.len;

    ctx->shpool->log_ctx = ngx_slab_alloc(ctx->shpool, len);
    if (ctx->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(ctx->shpool->log_ctx, " in bubble_cache_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone is the normal state of a cache: evict, do not log */
    ctx->shpool->log_nomem = 0;

    return NGX_OK;
}


size_t
ngx_http_bubble_cache_size(ngx_http_bubble_main_conf_t *bmcf)
{
    if (bmcf == NULL || bmcf->cache_zone == NULL) {
        return 0;
    }

    return bmcf->cache_zone->shm.size;
}


void
ngx_http_bubble_cache_stats(ngx_http_bubble_main_conf_t *bmcf,
    ngx_http_bubble_cache_stats_t *st)
{
    ngx_http_bubble_cache_ctx_t  *cctx;

    ngx_memzero(st, sizeof(ngx_http_bubble_cache_stats_t));

    if (bmcf == NULL || bmcf->cache_zone == NULL) {
        return;
    }

    cctx = bmcf->cache_zone->data;

    if (cctx->sh == NULL) {
        return;
    }

    /* word by word without the lock: a moment's figures */
    *st = cctx->sh->stats;

    st->size = bmcf->cache_zone->shm.size;
    st->max_entry = bmcf->cache_max_entry;
}


/* the zone, or NULL with the status set (no zone, or BYPASS) */

static ngx_http_bubble_cache_ctx_t *
ngx_http_bubble_cache_ctx(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    ngx_http_bubble_cache_ctx_t  *cctx;
    ngx_http_bubble_loc_conf_t   *blcf;
    ngx_http_bubble_main_conf_t  *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);

    if (bmcf->cache_zone == NULL) {
        return NULL;
    }

    cctx = bmcf->cache_zone->data;
    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    if (!blcf->cache) {
        (void) ngx_atomic_fetch_add(&cctx->sh->stats.bypasses, 1);
        (void) ngx_http_bubble_cache_set_status(r, ctx,
                                                NGX_HTTP_BUBBLE_CACHE_BYPASS);
        return NULL;
    }

    return cctx;
}


ngx_int_t
ngx_http_bubble_cache_url(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    ngx_str_t                     parts[3];
    ngx_http_bubble_loc_conf_t   *blcf;
    ngx_http_bubble_cache_ctx_t  *cctx;

    cctx = ngx_http_bubble_cache_ctx(r, ctx);
    if (cctx == NULL) {
        return NGX_DECLINED;
    }

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    /* the 414 comes from decoding such a URL: never stored, not looked up */
    if (r->unparsed_uri.len > blcf->max_url_length) {
        return NGX_DECLINED;
    }

    ngx_str_set(&parts[0], "url");
    parts[1] = r->uri;
    parts[2] = r->args;

    if (ngx_http_bubble_cache_key(r, ctx, parts, 3) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_bubble_cache_lookup(r, ctx, cctx);
}


ngx_int_t
ngx_http_bubble_cache_content(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx)
{
    ngx_str_t                     parts[2];
    ngx_http_bubble_cache_ctx_t  *cctx;

    if (r->headers_out.etag == NULL) {
        return NGX_DECLINED;
    }

    cctx = ngx_http_bubble_cache_ctx(r, ctx);
    if (cctx == NULL) {
        return NGX_DECLINED;
    }

    ngx_str_set(&parts[0], "content");
    parts[1] = r->headers_out.etag->value;

    if (ngx_http_bubble_cache_key(r, ctx, parts, 2) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_bubble_cache_lookup(r, ctx, cctx);
}


/*
 * ctx->cache_key: SHA-256 of the parts, each with its length, then of
 * what else decides the answer in this location: the limits (a stricter
 * location must not be served what it would refuse) and the URL secrets
 * (a URL is looked up only under the secrets that checked it).
 */

static ngx_int_t
ngx_http_bubble_cache_key(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    ngx_str_t *parts, ngx_uint_t n)
{
    size_t                       limits[5];
    ngx_str_t                   *secret;
    ngx_uint_t                   i;
    EVP_MD_CTX                  *sha;
    unsigned int                 len;
    ngx_http_bubble_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    sha = EVP_MD_CTX_new();
    if (sha == NULL) {
        return NGX_ERROR;
    }

    if (EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(sha);
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        EVP_DigestUpdate(sha, &parts[i].len, sizeof(size_t));
        EVP_DigestUpdate(sha, parts[i].data, parts[i].len);
    }

    limits[0] = blcf->max_points;
    limits[1] = blcf->max_pixels;
    limits[2] = blcf->max_body_size;
    limits[3] = blcf->secrets ? blcf->secrets->nelts : 0;

    /* bubble_png_compression: another encoder, other bytes */
    limits[4] = blcf->png_compression;

    EVP_DigestUpdate(sha, limits, sizeof(limits));

    if (blcf->secrets) {
        secret = blcf->secrets->elts;

        for (i = 0; i < blcf->secrets->nelts; i++) {
            EVP_DigestUpdate(sha, &secret[i].len, sizeof(size_t));
            EVP_DigestUpdate(sha, secret[i].data, secret[i].len);
        }
    }

    EVP_DigestFinal_ex(sha, ctx->cache_key, &len);
    EVP_MD_CTX_free(sha);

    return NGX_OK;
}


/*
 * Under the lock: find the entry, take it to the front of the queue, and
 * copy out what the answer needs.  If-None-Match is answered from the
 * entry's ETag, so a revalidated URL sends no body.
 */

static ngx_int_t
ngx_http_bubble_cache_lookup(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_http_bubble_cache_ctx_t *cctx)
{
    u_char                        *etag;
    ngx_uint_t                     status, revalidated;
    ngx_pool_cleanup_t            *cln;
    ngx_http_bubble_cache_sh_t    *sh;
    ngx_http_bubble_cache_hold_t  *hold;
    ngx_http_bubble_cache_hit_t    hit;
    ngx_http_bubble_cache_node_t  *cn;
    ngx_http_bubble_main_conf_t   *bmcf;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);
    sh = cctx->sh;

    /* allocated before the lock is taken: the ETag, for GET and HEAD */
    etag = NULL;

    if (!(r->method & NGX_HTTP_POST)) {
        etag = ngx_pnalloc(r->pool, NGX_HTTP_BUBBLE_CACHE_ETAG);
        if (etag == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_bubble_cache_hold_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* cln->handler stays NULL unless the entry is pinned */
    hold = cln->data;

    ngx_memzero(&hit, sizeof(ngx_http_bubble_cache_hit_t));
    revalidated = 0;

    ngx_shmtx_lock(&cctx->shpool->mutex);

    cn = ngx_http_bubble_cache_find(sh, ctx->cache_key);

    if (cn == NULL) {
        sh->stats.misses++;
        ngx_shmtx_unlock(&cctx->shpool->mutex);
        status = NGX_HTTP_BUBBLE_CACHE_MISS;
        goto render;
    }

    if (cn->renderer != ngx_http_bubble_cache_renderer()
        || (bmcf->cache_valid
            && ngx_time() - cn->stored >= bmcf->cache_valid))
    {
        ngx_http_bubble_cache_free(cctx, cn);
        sh->stats.expired++;
        sh->stats.misses++;
        ngx_shmtx_unlock(&cctx->shpool->mutex);
        status = NGX_HTTP_BUBBLE_CACHE_EXPIRED;
        goto render;
    }

    ngx_queue_remove(&cn->queue);
    ngx_queue_insert_head(&sh->queue, &cn->queue);

    sh->stats.hits++;

    hit.format = cn->format;
    hit.dropped = cn->dropped;
    hit.len = cn->len;

    if (etag) {
        ngx_memcpy(etag, cn->etag, NGX_HTTP_BUBBLE_CACHE_ETAG);
    }

    /* a GET's ETag is first known here: answer If-None-Match with it */
    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        if (ngx_http_bubble_etag_header(r, etag, NGX_HTTP_BUBBLE_CACHE_ETAG)
            != NGX_OK)
        {
            ngx_shmtx_unlock(&cctx->shpool->mutex);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        revalidated = ngx_http_bubble_not_modified(r);
    }

    /*
     * The body is sent from the zone itself, as a file from the page
     * cache: the entry is pinned until the request ends, and an eviction
     * meanwhile only takes it out of the tree (the last unpin frees it).
     * A copy of 100 KB cost 10% of a hit's CPU.
     */
    if (!revalidated && !(r->method & NGX_HTTP_HEAD)) {
        hold->pin = ngx_http_bubble_cache_pin(cctx, cn);

        if (hold->pin) {
            hold->cctx = cctx;
            cln->handler = ngx_http_bubble_cache_unpin;

            hit.data = cn->data;

        } else {
            /* no room for the pin's record: a copy, rarely */
            hit.data = ngx_pnalloc(r->pool, cn->len);

            if (hit.data == NULL) {
                ngx_shmtx_unlock(&cctx->shpool->mutex);
                return NGX_HTTP_INTERNAL_SERVER_ERROR;
            }

            ngx_memcpy(hit.data, cn->data, cn->len);
        }
    }

    ngx_shmtx_unlock(&cctx->shpool->mutex);

    if (ngx_http_bubble_cache_set_status(r, ctx, NGX_HTTP_BUBBLE_CACHE_HIT)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (revalidated) {
        return ngx_http_bubble_send_not_modified(r);
    }

    /* as a render's: Cache-Control for the URL forms, not for POST */
    return ngx_http_bubble_send_image(r, hit.format, hit.data, hit.len,
                                      hit.dropped,
                                      r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD));

render:

    ctx->cache_store = 1;

    if (ngx_http_bubble_cache_set_status(r, ctx, status) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_bubble_cache_set_status(ngx_http_request_t *r,
    ngx_http_bubble_ctx_t *ctx, ngx_uint_t status)
{
    ngx_http_bubble_loc_conf_t  *blcf;

    static ngx_str_t             key = ngx_string("X-Bubble-Cache");

    ctx->cache_status = status;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    if (!blcf->cache_header) {
        return NGX_OK;
    }

    ctx->cache_header = ngx_http_bubble_add_header(r, &key,
                                   &ngx_http_bubble_cache_statuses[status]);
    if (ctx->cache_header == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A miss that ends in the client's error (a bad spec or signature, a
 * layout that refused the chart) was no miss of a chart: it is taken off
 * the counters and its X-Bubble-Cache header is dropped.
 */

void
ngx_http_bubble_cache_forget(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    ngx_http_bubble_cache_ctx_t  *cctx;
    ngx_http_bubble_main_conf_t  *bmcf;

    if (ctx->cache_status != NGX_HTTP_BUBBLE_CACHE_MISS
        && ctx->cache_status != NGX_HTTP_BUBBLE_CACHE_EXPIRED)
    {
        return;
    }

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);
    cctx = bmcf->cache_zone->data;

    ngx_shmtx_lock(&cctx->shpool->mutex);
    cctx->sh->stats.misses--;
    ngx_shmtx_unlock(&cctx->shpool->mutex);

    if (ctx->cache_header) {
        ctx->cache_header->hash = 0;
        ctx->cache_header = NULL;
    }

    ctx->cache_status = 0;
    ctx->cache_store = 0;
}


/*
 * After a render, on the event loop: a miss's image goes in, making room
 * by evicting from the queue's tail.  A second worker that rendered the
 * same chart meanwhile finds it there and keeps its own copy out.
 */

void
ngx_http_bubble_cache_store(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx)
{
    size_t                         size;
    ngx_queue_t                   *q;
    ngx_http_bubble_cache_sh_t    *sh;
    ngx_http_bubble_cache_ctx_t   *cctx;
    ngx_http_bubble_cache_node_t  *cn, *old;
    ngx_http_bubble_main_conf_t   *bmcf;

    if (!ctx->cache_store || ctx->degraded || ctx->render_rc != 0
        || r->headers_out.etag == NULL
        || r->headers_out.etag->value.len != NGX_HTTP_BUBBLE_CACHE_ETAG
        || ctx->out.len == 0)
    {
        return;
    }

    ctx->cache_store = 0;

    bmcf = ngx_http_get_module_main_conf(r, ngx_http_bubble_module);
    cctx = bmcf->cache_zone->data;
    sh = cctx->sh;

    size = offsetof(ngx_http_bubble_cache_node_t, data) + ctx->out.len;

    if (size > bmcf->cache_max_entry) {
        (void) ngx_atomic_fetch_add(&sh->stats.too_large, 1);

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "bubble cache: %uz bytes over max_entry=%uz",
                       size, bmcf->cache_max_entry);
        return;
    }

    ngx_shmtx_lock(&cctx->shpool->mutex);

    if (ngx_http_bubble_cache_find(sh, ctx->cache_key) != NULL) {
        ngx_shmtx_unlock(&cctx->shpool->mutex);
        return;
    }

    for ( ;; ) {
        cn = ngx_slab_alloc_locked(cctx->shpool, size);

        if (cn != NULL) {
            break;
        }

        if (ngx_queue_empty(&sh->queue)) {
            sh->stats.no_room++;
            ngx_shmtx_unlock(&cctx->shpool->mutex);

            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "bubble cache: no room for %uz bytes in an empty "
                          "zone \"%V\"", size, &bmcf->cache_zone->shm.name);
            return;
        }

        q = ngx_queue_last(&sh->queue);
        old = ngx_queue_data(q, ngx_http_bubble_cache_node_t, queue);

        ngx_http_bubble_cache_free(cctx, old);
        sh->stats.evictions++;
    }

    ngx_memcpy(cn->key, ctx->cache_key, NGX_HTTP_BUBBLE_CACHE_KEY);
    ngx_memcpy(&cn->node.key, cn->key, sizeof(ngx_rbtree_key_t));
    ngx_memcpy(cn->etag, r->headers_out.etag->value.data,
               NGX_HTTP_BUBBLE_CACHE_ETAG);

    cn->format = (u_char) ctx->chart->format;
    cn->dead = 0;
    cn->pins = 0;
    cn->renderer = ngx_http_bubble_cache_renderer();
    cn->stored = ngx_time();
    cn->dropped = ctx->out.dropped_rows;
    cn->len = ctx->out.len;
    ngx_memcpy(cn->data, ctx->out.data, ctx->out.len);

    ngx_rbtree_insert(&sh->rbtree, &cn->node);
    ngx_queue_insert_head(&sh->queue, &cn->queue);

    sh->stats.entries++;
    sh->stats.bytes += size;
    sh->stats.stores++;

    ngx_shmtx_unlock(&cctx->shpool->mutex);
}


static ngx_http_bubble_cache_node_t *
ngx_http_bubble_cache_find(ngx_http_bubble_cache_sh_t *sh, u_char *key)
{
    ngx_int_t                      rc;
    ngx_rbtree_key_t               hash;
    ngx_rbtree_node_t             *node, *sentinel;
    ngx_http_bubble_cache_node_t  *cn;

    ngx_memcpy(&hash, key, sizeof(ngx_rbtree_key_t));

    node = sh->rbtree.root;
    sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        cn = (ngx_http_bubble_cache_node_t *) node;

        rc = ngx_memcmp(key, cn->key, NGX_HTTP_BUBBLE_CACHE_KEY);

        if (rc == 0) {
            return cn;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * With the lock held: out of the tree and the queue; the memory goes now,
 * or with the last request sending the entry (held until then; a dead
 * worker's pins are swept, ngx_http_bubble_cache_sweep()).
 */

static void
ngx_http_bubble_cache_free(ngx_http_bubble_cache_ctx_t *cctx,
    ngx_http_bubble_cache_node_t *cn)
{
    ngx_http_bubble_cache_sh_t  *sh;

    sh = cctx->sh;

    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&sh->rbtree, &cn->node);

    sh->stats.entries--;
    sh->stats.bytes -= offsetof(ngx_http_bubble_cache_node_t, data) + cn->len;

    if (cn->pins) {
        cn->dead = 1;
        sh->stats.held += offsetof(ngx_http_bubble_cache_node_t, data)
                          + cn->len;
        return;
    }

    ngx_slab_free_locked(cctx->shpool, cn);
}


/*
 * With the lock held: a record of this process sending CN, or NULL when
 * the zone has no room for it even after evicting a few entries (other
 * than CN).
 */

static ngx_http_bubble_cache_pin_t *
ngx_http_bubble_cache_pin(ngx_http_bubble_cache_ctx_t *cctx,
    ngx_http_bubble_cache_node_t *cn)
{
    ngx_uint_t                     n;
    ngx_queue_t                   *q;
    ngx_http_bubble_cache_sh_t    *sh;
    ngx_http_bubble_cache_pin_t   *pin;
    ngx_http_bubble_cache_node_t  *old;

    sh = cctx->sh;

    for (n = 0; /* void */; n++) {
        pin = ngx_slab_alloc_locked(cctx->shpool,
                                    sizeof(ngx_http_bubble_cache_pin_t));
        if (pin != NULL) {
            break;
        }

        q = ngx_queue_last(&sh->queue);
        old = ngx_queue_data(q, ngx_http_bubble_cache_node_t, queue);

        if (n == 8 || q == ngx_queue_sentinel(&sh->queue) || old == cn) {
            return NULL;
        }

        ngx_http_bubble_cache_free(cctx, old);
        sh->stats.evictions++;
    }

    pin->pid = ngx_pid;
    pin->node = cn;
    ngx_queue_insert_tail(&sh->pins, &pin->queue);

    cn->pins++;
    sh->stats.pins++;

    return pin;
}


/* with the lock held: the entry freed with its last pin, if evicted */

static void
ngx_http_bubble_cache_unpin_locked(ngx_http_bubble_cache_ctx_t *cctx,
    ngx_http_bubble_cache_pin_t *pin)
{
    size_t                         size;
    ngx_http_bubble_cache_node_t  *cn;

    cn = pin->node;

    ngx_queue_remove(&pin->queue);
    ngx_slab_free_locked(cctx->shpool, pin);

    cctx->sh->stats.pins--;

    if (--cn->pins == 0 && cn->dead) {
        size = offsetof(ngx_http_bubble_cache_node_t, data) + cn->len;
        cctx->sh->stats.held -= size;

        ngx_slab_free_locked(cctx->shpool, cn);
    }
}


static void
ngx_http_bubble_cache_unpin(void *data)
{
    ngx_http_bubble_cache_hold_t  *hold = data;

    ngx_shmtx_lock(&hold->cctx->shpool->mutex);
    ngx_http_bubble_cache_unpin_locked(hold->cctx, hold->pin);
    ngx_shmtx_unlock(&hold->cctx->shpool->mutex);
}


/*
 * Two passes, kill() outside the lock: the distinct processes holding
 * pins, then, if any of them is gone, their pins undone.
 */

void
ngx_http_bubble_cache_sweep(ngx_http_bubble_main_conf_t *bmcf,
    ngx_log_t *log)
{
    size_t                         held;
    ngx_pid_t                      pids[NGX_HTTP_BUBBLE_CACHE_PIDS];
    ngx_uint_t                     i, n, dead, pins;
    ngx_queue_t                   *q, *next;
    ngx_http_bubble_cache_sh_t    *sh;
    ngx_http_bubble_cache_ctx_t   *cctx;
    ngx_http_bubble_cache_pin_t   *pin;

    if (bmcf == NULL || bmcf->cache_zone == NULL) {
        return;
    }

    cctx = bmcf->cache_zone->data;
    sh = cctx->sh;

    if (sh == NULL || sh->stats.pins == 0) {
        return;
    }

    n = 0;

    ngx_shmtx_lock(&cctx->shpool->mutex);

    for (q = ngx_queue_head(&sh->pins);
         q != ngx_queue_sentinel(&sh->pins) && n < NGX_HTTP_BUBBLE_CACHE_PIDS;
         q = ngx_queue_next(q))
    {
        pin = ngx_queue_data(q, ngx_http_bubble_cache_pin_t, queue);

        if (pin->pid == ngx_pid) {
            continue;
        }

        for (i = 0; i < n && pids[i] != pin->pid; i++) {
            /* void */
        }

        if (i == n) {
            pids[n++] = pin->pid;
        }
    }

    ngx_shmtx_unlock(&cctx->shpool->mutex);

    dead = 0;

    for (i = 0; i < n; i++) {
        if (!ngx_http_bubble_cache_alive(pids[i])) {
            pids[dead++] = pids[i];
        }
    }

    if (dead == 0) {
        return;
    }

    ngx_shmtx_lock(&cctx->shpool->mutex);

    held = sh->stats.held;
    pins = 0;

    for (q = ngx_queue_head(&sh->pins);
         q != ngx_queue_sentinel(&sh->pins);
         q = next)
    {
        next = ngx_queue_next(q);
        pin = ngx_queue_data(q, ngx_http_bubble_cache_pin_t, queue);

        for (i = 0; i < dead && pids[i] != pin->pid; i++) {
            /* void */
        }

        if (i < dead) {
            ngx_http_bubble_cache_unpin_locked(cctx, pin);
            pins++;
        }
    }

    held -= sh->stats.held;

    sh->stats.reclaimed_pins += pins;
    sh->stats.reclaimed_bytes += held;

    ngx_shmtx_unlock(&cctx->shpool->mutex);

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "bubble cache: %ui pins of %ui processes that are gone "
                  "undone, %uz bytes of evicted entries freed",
                  pins, dead, held);
}


static ngx_uint_t
ngx_http_bubble_cache_alive(ngx_pid_t pid)
{
    /* EPERM: alive, though not ours */
    return (kill(pid, 0) == 0 || ngx_errno != NGX_ESRCH);
}


static void
ngx_http_bubble_cache_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t             **p;
    ngx_http_bubble_cache_node_t   *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key */

            cn = (ngx_http_bubble_cache_node_t *) node;
            cnt = (ngx_http_bubble_cache_node_t *) temp;

            p = (ngx_memcmp(cn->key, cnt->key, NGX_HTTP_BUBBLE_CACHE_KEY) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* 64 bits of SHA-256(bubble_renderer_id()): which renderer drew an entry */

static uint64_t
ngx_http_bubble_cache_renderer(void)
{
    u_char             md[EVP_MAX_MD_SIZE];
    const char        *id;
    unsigned int       len;
    static uint64_t    renderer;

    if (renderer == 0) {
        id = bubble_renderer_id();

        if (EVP_Digest(id, ngx_strlen(id), md, &len, EVP_sha256(), NULL)
            != 1)
        {
            return 1;
        }

        ngx_memcpy(&renderer, md, sizeof(uint64_t));
        renderer |= 1;
    }

    return renderer;
}


/* $bubble_cache_status: HIT, MISS, EXPIRED or BYPASS of this request */

static ngx_int_t
ngx_http_bubble_cache_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_bubble_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_bubble_module);

    if (ctx == NULL || ctx->cache_status == NGX_HTTP_BUBBLE_CACHE_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->len = ngx_http_bubble_cache_statuses[ctx->cache_status].len;
    v->data = ngx_http_bubble_cache_statuses[ctx->cache_status].data;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}


/* this file's variables, added at preconfiguration */

ngx_int_t
ngx_http_bubble_cache_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_bubble_cache_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}

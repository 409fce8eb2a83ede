
/*
 * ngx_bubble: bubble charts rendered inside nginx workers.
 * Directives, configuration and process hooks.
 */


#include "ngx_http_bubble_module.h"
#include "ngx_http_bubble_metrics.h"
#include "ngx_http_bubble_cache.h"

#if (NGX_HTTP_BUBBLE_GLIBC_MALLOC)
#include <malloc.h>
#endif


static void *ngx_http_bubble_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_bubble_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_bubble(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_bubble_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_bubble_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_bubble_init_process(ngx_cycle_t *cycle);
static void ngx_http_bubble_exit_process(ngx_cycle_t *cycle);


static ngx_conf_num_bounds_t  ngx_http_bubble_max_points_bounds = {
    ngx_conf_check_num_bounds, 1, 10000000
};


static ngx_command_t  ngx_http_bubble_commands[] = {

    { ngx_string("bubble"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_bubble,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bubble_max_body_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bubble_loc_conf_t, max_body_size),
      NULL },

    { ngx_string("bubble_max_points"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bubble_loc_conf_t, max_points),
      &ngx_http_bubble_max_points_bounds },

    { ngx_string("bubble_max_url_length"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bubble_loc_conf_t, max_url_length),
      NULL },

    { ngx_string("bubble_url_secret"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_bubble_url_secret,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bubble_sign_post"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bubble_loc_conf_t, sign_post),
      NULL },

    { ngx_string("bubble_cache_control"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bubble_loc_conf_t, cache_control),
      NULL },

#if (NGX_THREADS)
    { ngx_string("bubble_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bubble_thread_pool,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },
#endif

    { ngx_string("bubble_max_pixels"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bubble_loc_conf_t, max_pixels),
      NULL },

    /* memory governance: ngx_http_bubble_zone.c */

    { ngx_string("bubble_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_bubble_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bubble_memory_limit"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_bubble_memory_limit,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bubble_malloc_tuning"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_bubble_main_conf_t, malloc_tuning),
      NULL },

    { ngx_string("bubble_degrade"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bubble_loc_conf_t, degrade),
      NULL },

    { ngx_string("bubble_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_bubble_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    /* readiness: ngx_http_bubble_ready.c */

    { ngx_string("bubble_ready"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_bubble_ready,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bubble_ready_threshold"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_bubble_ready_threshold,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    /* the response cache: ngx_http_bubble_cache.c */

    { ngx_string("bubble_cache_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE123,
      ngx_http_bubble_cache_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("bubble_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bubble_loc_conf_t, cache),
      NULL },

    { ngx_string("bubble_cache_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bubble_loc_conf_t, cache_header),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_bubble_module_ctx = {
    ngx_http_bubble_preconfiguration,      /* preconfiguration */
    ngx_http_bubble_postconfiguration,     /* postconfiguration */

    ngx_http_bubble_create_main_conf,      /* create main configuration */
    ngx_http_bubble_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_bubble_create_loc_conf,       /* create location configuration */
    ngx_http_bubble_merge_loc_conf         /* merge location configuration */
};


ngx_module_t  ngx_http_bubble_module = {
    NGX_MODULE_V1,
    &ngx_http_bubble_module_ctx,           /* module context */
    ngx_http_bubble_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_bubble_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_bubble_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_bubble_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_bubble_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_bubble_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->enable = NGX_CONF_UNSET;
    conf->max_body_size = NGX_CONF_UNSET_SIZE;
    conf->max_points = NGX_CONF_UNSET_UINT;
    conf->max_pixels = NGX_CONF_UNSET_SIZE;
    conf->max_url_length = NGX_CONF_UNSET_SIZE;
    conf->secrets = NGX_CONF_UNSET_PTR;
    conf->sign_post = NGX_CONF_UNSET;
    conf->degrade = NGX_CONF_UNSET;
    conf->cache = NGX_CONF_UNSET;
    conf->cache_header = NGX_CONF_UNSET;

    /*
     * set by ngx_pcalloc():
     *
     *     conf->cache_control = { 0, NULL };
     */
#if (NGX_THREADS)
    conf->thread_pool = NGX_CONF_UNSET_PTR;
#endif

    return conf;
}


static char *
ngx_http_bubble_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_bubble_loc_conf_t  *prev = parent;
    ngx_http_bubble_loc_conf_t  *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    /* like a content handler, "bubble" is not inherited by inner locations */
    if (conf->enable == NGX_CONF_UNSET) {
        conf->enable = 0;
    }

    /* as nginx's client_max_body_size: 1m */
    ngx_conf_merge_size_value(conf->max_body_size, prev->max_body_size,
                              1024 * 1024);

    ngx_conf_merge_uint_value(conf->max_points, prev->max_points, 50000);

    /* 16m pixels = 64 MiB of ARGB32, e.g. 4096 x 4096 */
    ngx_conf_merge_size_value(conf->max_pixels, prev->max_pixels,
                              16 * 1024 * 1024);

    /*
     * nginx refuses bodies over client_max_body_size before the handler
     * runs: let bodies up to our own limit through (the filter turns
     * nginx's 413 for larger ones into JSON).
     */
    if (conf->enable) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

        if (clcf->client_max_body_size
            && clcf->client_max_body_size < (off_t) conf->max_body_size)
        {
            clcf->client_max_body_size = conf->max_body_size;
        }
    }

    /* nginx's own request line limit is large_client_header_buffers (8k) */
    ngx_conf_merge_size_value(conf->max_url_length, prev->max_url_length,
                              8192);

    ngx_conf_merge_ptr_value(conf->secrets, prev->secrets, NULL);
    ngx_conf_merge_value(conf->sign_post, prev->sign_post, 0);

    if (conf->sign_post && conf->secrets == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bubble_sign_post on\" needs bubble_url_secret");
        return NGX_CONF_ERROR;
    }

    /* a chart URL names its content: it never changes (ETag proves it) */
    ngx_conf_merge_str_value(conf->cache_control, prev->cache_control,
                             "public, max-age=31536000, immutable");

    if (conf->cache_control.len == 3
        && ngx_strncmp(conf->cache_control.data, "off", 3) == 0)
    {
        conf->cache_control.len = 0;
    }

    /* a smaller image than asked for is opt-in */
    ngx_conf_merge_value(conf->degrade, prev->degrade, 0);

    /* on wherever bubble_cache_zone is set; the header is for debugging */
    ngx_conf_merge_value(conf->cache, prev->cache, 1);
    ngx_conf_merge_value(conf->cache_header, prev->cache_header, 0);

#if (NGX_THREADS)
    /* no pool: renders run inline, on the event loop */
    ngx_conf_merge_ptr_value(conf->thread_pool, prev->thread_pool, NULL);
#endif

    if (conf->max_pixels < 256) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bubble_max_pixels\" must be at least 256");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_bubble(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bubble_loc_conf_t  *blcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (blcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    blcf->enable = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_bubble_handler;

    return NGX_CONF_OK;
}


/*
 * variables: $bubble_render_time, $bubble_reserved, $bubble_reject_reason,
 * $bubble_cache_status (ngx_http_bubble_metrics.c's table)
 */

static ngx_int_t
ngx_http_bubble_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_bubble_add_variables(cf);
}


static ngx_int_t
ngx_http_bubble_postconfiguration(ngx_conf_t *cf)
{
    /* JSON for nginx's own 413 and 400 */
    if (ngx_http_bubble_filter_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    /* metrics: renders and refusals counted as requests end */
    return ngx_http_bubble_metrics_init(cf);
}


static ngx_int_t
ngx_http_bubble_init_process(ngx_cycle_t *cycle)
{
#if (NGX_HTTP_BUBBLE_GLIBC_MALLOC)
    ngx_http_bubble_main_conf_t  *bmcf;

    bmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_bubble_module);

    /*
     * glibc raises its mmap threshold after a large free (up to 32 MiB),
     * after which freed pixel buffers stay in the heap for good.  A fixed
     * 8 MiB keeps larger buffers in their own mappings, returned on free;
     * smaller canvases (800 x 600 at scale 2 is 7.3 MiB) are reused from
     * the heap under load, and malloc_trim(0) gives their pages back when
     * the worker goes idle.  The heap's top is given back on free only
     * past 4 MiB: at 1 MiB a W1 canvas (1.9 MiB) went back after every
     * render and came in again as 120-490 page faults a request; at 4 MiB
     * none.  (256 KiB for the mmap threshold, the first setting, made every
     * W1 canvas fresh memory: page faults were 10% of its CPU.)  One arena
     * for the render threads and the event loop: malloc_trim(0) gives back
     * the free top of the main arena only, so a second arena kept up to
     * 4 MiB at idle; with one, the same req/s, and every free page goes
     * back.  docs/memory.md has the figures.
     * Workers are forked, so MALLOC_* environment variables are not
     * reliable: set them here.  "bubble_malloc_tuning off" keeps glibc's
     * defaults.
     */
    if (bmcf == NULL || bmcf->malloc_tuning) {
        mallopt(M_MMAP_THRESHOLD, 8 * 1024 * 1024);
        mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
        mallopt(M_ARENA_MAX, 1);
    }
#endif

    /* fontconfig and pango caches: 8-27 ms on the first text otherwise */
    bubble_warm_up();

    /* the zone: this worker's slot, cgroup sampling, idle trims */
    return ngx_http_bubble_zone_init_process(cycle);
}


static void
ngx_http_bubble_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_bubble_zone_exit_process(cycle);
}

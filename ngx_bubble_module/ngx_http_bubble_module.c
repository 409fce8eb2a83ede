
/*
 * ngx_bubble: bubble charts rendered inside nginx workers.
 * Directives, configuration and process hooks.
 */


#include "ngx_http_bubble_module.h"
#include "ngx_http_bubble_metrics.h"
#include "ngx_http_bubble_cache.h"
#include "ngx_http_bubble_keep.h"

#if (NGX_HTTP_BUBBLE_GLIBC_MALLOC)
#include <malloc.h>
#endif


static void *ngx_http_bubble_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_bubble_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_bubble(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static void *ngx_http_bubble_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_bubble_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_http_bubble_memory_limit(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_bubble_ready_threshold(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_bubble_conf_percent(ngx_conf_t *cf,
    ngx_str_t *value, ngx_uint_t sign);
static char *ngx_http_bubble_max_render_time(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_bubble_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_bubble_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_bubble_init_process(ngx_cycle_t *cycle);
static void ngx_http_bubble_exit_process(ngx_cycle_t *cycle);


/* bubble_png_compression: bubble_png_fast.c, or zlib (bubble_png.c) */
static ngx_conf_enum_t  ngx_http_bubble_png_compression[] = {
    { ngx_string("fast"), NGX_HTTP_BUBBLE_PNG_FAST },
    { ngx_string("small"), NGX_HTTP_BUBBLE_PNG_SMALL },
    { ngx_null_string, 0 }
};


static ngx_conf_num_bounds_t  ngx_http_bubble_max_points_bounds = {
    ngx_conf_check_num_bounds, 1, 10000000
};

/* places in the zone's queue: 28 bytes each on 32 bits, 56 on 64 */
static ngx_conf_num_bounds_t  ngx_http_bubble_queue_bounds = {
    ngx_conf_check_num_bounds, 0, 65536
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

    { ngx_string("bubble_png_compression"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bubble_loc_conf_t, png_compression),
      &ngx_http_bubble_png_compression },

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

    /* admission: the queue and the time budget, ngx_http_bubble_admit.c */

    { ngx_string("bubble_queue"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_bubble_main_conf_t, queue),
      &ngx_http_bubble_queue_bounds },

    { ngx_string("bubble_queue_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_bubble_loc_conf_t, queue_timeout),
      NULL },

    { ngx_string("bubble_max_render_time"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_bubble_max_render_time,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
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
    conf->png_compression = NGX_CONF_UNSET_UINT;
    conf->max_url_length = NGX_CONF_UNSET_SIZE;
    conf->secrets = NGX_CONF_UNSET_PTR;
    conf->sign_post = NGX_CONF_UNSET;
    conf->degrade = NGX_CONF_UNSET;
    conf->cache = NGX_CONF_UNSET;
    conf->cache_header = NGX_CONF_UNSET;
    conf->queue_timeout = NGX_CONF_UNSET_MSEC;
    conf->max_render_time = NGX_CONF_UNSET_MSEC;

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
    ngx_conf_merge_uint_value(conf->png_compression, prev->png_compression,
                              NGX_HTTP_BUBBLE_PNG_FAST);
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

    /*
     * A render waits up to 5 s for memory: long enough for a few large
     * renders ahead of it to end (a 4096 x 4096 PNG draws in ~0.4 s), as
     * short as a client's patience.  No time budget unless set: the
     * estimate is an upper bound, and a budget is the operator's choice.
     */
    ngx_conf_merge_msec_value(conf->queue_timeout, prev->queue_timeout,
                              5000);
    ngx_conf_merge_msec_value(conf->max_render_time, prev->max_render_time,
                              0);

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


static void *
ngx_http_bubble_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_bubble_main_conf_t  *bmcf;

    bmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_bubble_main_conf_t));
    if (bmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     bmcf->shm_zone = NULL;
     *     bmcf->status = 0;
     */

    bmcf->limit_mode = NGX_CONF_UNSET;
    bmcf->limit_percent = NGX_CONF_UNSET_UINT;
    bmcf->limit_size = NGX_CONF_UNSET_SIZE;
    bmcf->malloc_tuning = NGX_CONF_UNSET;
    bmcf->ready_threshold = NGX_CONF_UNSET_UINT;
    bmcf->queue = NGX_CONF_UNSET_UINT;

    return bmcf;
}


static char *
ngx_http_bubble_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_bubble_main_conf_t  *bmcf = conf;

    ngx_conf_init_value(bmcf->malloc_tuning, 1);

    ngx_conf_init_uint_value(bmcf->ready_threshold,
                             NGX_HTTP_BUBBLE_READY_PERCENT);

    /* 64 renders waiting: 3.5 KiB of the zone, more than 2 cores drain in
     * a timeout of W1 charts */
    ngx_conf_init_uint_value(bmcf->queue, 64);

    if (bmcf->shm_zone == NULL) {

        if (bmcf->limit_mode != NGX_CONF_UNSET) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"bubble_memory_limit\" requires "
                               "\"bubble_zone\"");
            return NGX_CONF_ERROR;
        }

        if (bmcf->status) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"bubble_status\" requires \"bubble_zone\"");
            return NGX_CONF_ERROR;
        }

        if (bmcf->ready) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"bubble_ready\" requires \"bubble_zone\"");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (bmcf->limit_mode == NGX_CONF_UNSET) {
        bmcf->limit_mode = NGX_HTTP_BUBBLE_LIMIT_AUTO;
    }

    if (bmcf->limit_percent == NGX_CONF_UNSET_UINT) {
        bmcf->limit_percent = NGX_HTTP_BUBBLE_PERCENT;
    }

    if (bmcf->limit_size == NGX_CONF_UNSET_SIZE) {
        bmcf->limit_size = 0;
    }

    /* the cache is paid for from the budget: some must be left */
    if (bmcf->limit_mode == NGX_HTTP_BUBBLE_LIMIT_SIZE
        && ngx_http_bubble_cache_size(bmcf) >= bmcf->limit_size)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"bubble_cache_zone\" of %uz bytes leaves "
                           "nothing of \"bubble_memory_limit\" %uz for "
                           "renders", ngx_http_bubble_cache_size(bmcf),
                           bmcf->limit_size);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* bubble_memory_limit auto [PERCENT%] | SIZE | off */

static char *
ngx_http_bubble_memory_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bubble_main_conf_t  *bmcf = conf;

    ssize_t     size;
    ngx_int_t   percent;
    ngx_str_t  *value;

    if (bmcf->limit_mode != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "auto") == 0) {
        bmcf->limit_mode = NGX_HTTP_BUBBLE_LIMIT_AUTO;

        if (cf->args->nelts == 2) {
            return NGX_CONF_OK;
        }

        percent = ngx_http_bubble_conf_percent(cf, &value[2], 1);
        if (percent == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }

        bmcf->limit_percent = percent;

        return NGX_CONF_OK;
    }

    if (cf->args->nelts != 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (ngx_strcmp(value[1].data, "off") == 0) {
        bmcf->limit_mode = NGX_HTTP_BUBBLE_LIMIT_OFF;
        return NGX_CONF_OK;
    }

    size = ngx_parse_size(&value[1]);

    if (size == NGX_ERROR || size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", expected \"auto\", "
                           "\"auto PERCENT%%\", a size or \"off\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    bmcf->limit_mode = NGX_HTTP_BUBBLE_LIMIT_SIZE;
    bmcf->limit_size = size;

    return NGX_CONF_OK;
}


/* bubble_ready_threshold PERCENT% (the "%" may be left out) */

static char *
ngx_http_bubble_ready_threshold(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_bubble_main_conf_t  *bmcf = conf;

    ngx_int_t   percent;
    ngx_str_t  *value;

    if (bmcf->ready_threshold != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    percent = ngx_http_bubble_conf_percent(cf, &value[1], 0);
    if (percent == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    bmcf->ready_threshold = percent;

    return NGX_CONF_OK;
}


/*
 * "85%" (or "85" where SIGN is 0) as 1 to 100, or NGX_ERROR with the
 * message logged
 */

static ngx_int_t
ngx_http_bubble_conf_percent(ngx_conf_t *cf, ngx_str_t *value,
    ngx_uint_t sign)
{
    size_t     len;
    ngx_int_t  percent;

    len = value->len;
    percent = NGX_ERROR;

    if (len > 1 && value->data[len - 1] == '%') {
        percent = ngx_atoi(value->data, len - 1);

    } else if (!sign) {
        percent = ngx_atoi(value->data, len);
    }

    if (percent < 1 || percent > 100) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid percentage \"%V\", expected 1%% to 100%%",
                           value);
        return NGX_ERROR;
    }

    return percent;
}


/* bubble_max_render_time TIME | off */

static char *
ngx_http_bubble_max_render_time(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_bubble_loc_conf_t  *blcf = conf;

    ngx_msec_t   t;
    ngx_str_t   *value;

    if (blcf->max_render_time != NGX_CONF_UNSET_MSEC) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        blcf->max_render_time = 0;
        return NGX_CONF_OK;
    }

    t = ngx_parse_time(&value[1], 0);

    if (t == (ngx_msec_t) NGX_ERROR || t == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\", expected a time such as "
                           "\"10s\" or \"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    blcf->max_render_time = t;

    return NGX_CONF_OK;
}


/*
 * variables, each file its own: $bubble_render_time, $bubble_reserved,
 * $bubble_reject_reason (metrics.c); $bubble_cache_status (cache.c)
 */

static ngx_int_t
ngx_http_bubble_preconfiguration(ngx_conf_t *cf)
{
    if (ngx_http_bubble_add_variables(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_bubble_cache_add_variables(cf);
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
     * glibc's defaults keep freed pixel buffers in the heap for good: a
     * fixed 8 MiB mmap threshold gives larger buffers back on free, a
     * 4 MiB trim threshold keeps a W1 canvas (1.9 MiB) in the heap
     * between renders, and one arena lets the idle malloc_trim(0) reach
     * every free page.  Forked workers do not reliably see MALLOC_*
     * variables, hence mallopt() here; "bubble_malloc_tuning off" keeps
     * glibc's defaults.  The settings tried, and their figures:
     * docs/memory.md, "Allocator hygiene".
     */
    if (bmcf == NULL || bmcf->malloc_tuning) {
        mallopt(M_MMAP_THRESHOLD, 8 * 1024 * 1024);
        mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
        mallopt(M_ARENA_MAX, 1);
    }

#else
    ngx_http_bubble_main_conf_t  *bmcf;

    bmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_bubble_module);

    /*
     * musl (Alpine: ingress-nginx, NGINX Gateway Fabric, nginx:*-alpine)
     * has neither mallopt() nor malloc_trim(): its allocator maps every
     * block over 128 KiB (each canvas) on its own and unmaps it on free,
     * and gives back groups of small blocks once they are free.  So the
     * module keeps a render's large blocks for the next one itself, and
     * frees them when the worker idles (ngx_http_bubble_keep.c); "off"
     * leaves it all to musl.  Figures: docs/memory.md, "musl".
     */
    ngx_http_bubble_keep_init(bmcf != NULL && bmcf->malloc_tuning);

    if (ngx_worker == 0 && bmcf != NULL && bmcf->malloc_tuning) {
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "bubble_malloc_tuning: the C library's allocator is "
                      "not glibc's: canvases are kept between renders, up "
                      "to 8 MiB a worker, and freed when it idles");
    }
#endif

    /* fontconfig and pango caches: 8-27 ms on the first text otherwise */
    bubble_warm_up();

    /* admission's queue of this worker's waiting requests */
    ngx_http_bubble_admit_init_process(cycle);

    /* the zone: this worker's slot, cgroup sampling, idle trims */
    return ngx_http_bubble_zone_init_process(cycle);
}


static void
ngx_http_bubble_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_bubble_zone_exit_process(cycle);
}

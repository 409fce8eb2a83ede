
/*
 * ngx_bubble: the core's allocator over an nginx pool.
 */


#include "ngx_http_bubble_keep.h"
#include "ngx_http_bubble_pool.h"


static void *ngx_http_bubble_palloc(void *data, size_t size);
static void ngx_http_bubble_pfree(void *data, void *p);


void
ngx_http_bubble_pool_allocator(bubble_allocator_t *a, ngx_pool_t *pool)
{
    a->alloc = ngx_http_bubble_palloc;
    a->free = ngx_http_bubble_pfree;
    a->data = pool;
}


void
ngx_http_bubble_pool_destroy(ngx_pool_t *pool)
{
    ngx_destroy_pool(pool);

    /* its large blocks went to the keeper (musl): freed if unused */
    ngx_http_bubble_keep_arm();
}


static void *
ngx_http_bubble_palloc(void *data, size_t size)
{
    void  *p;

    /* a canvas or buffer kept from an earlier render, where musl would
     * map a new one (ngx_http_bubble_keep.c) */
    p = ngx_http_bubble_keep_alloc(data, size);

    if (p == NGX_HTTP_BUBBLE_KEEP_ERROR) {
        return NULL;
    }

    return (p != NULL) ? p : ngx_palloc(data, size);
}


static void
ngx_http_bubble_pfree(void *data, void *p)
{
    if (ngx_http_bubble_keep_free(data, p) == NGX_OK) {
        return;
    }

    /* returns large blocks (pixels, SVG) at once; small ones stay */
    (void) ngx_pfree(data, p);
}

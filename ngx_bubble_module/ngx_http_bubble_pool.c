
/*
 * ngx_bubble: the core's allocator over an nginx pool.
 */


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


static void *
ngx_http_bubble_palloc(void *data, size_t size)
{
    return ngx_palloc(data, size);
}


static void
ngx_http_bubble_pfree(void *data, void *p)
{
    /* returns large blocks (pixels, SVG) at once; small ones stay */
    (void) ngx_pfree(data, p);
}


/*
 * ngx_bubble: the core's allocator (bubble_allocator_t) over an nginx
 * pool, so a render's memory goes in one piece with its pool.
 */


#ifndef _NGX_HTTP_BUBBLE_POOL_H_INCLUDED_
#define _NGX_HTTP_BUBBLE_POOL_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>

#include "bubble.h"


void ngx_http_bubble_pool_allocator(bubble_allocator_t *a, ngx_pool_t *pool);

/* destroys a pool the allocator used (from the event loop) */
void ngx_http_bubble_pool_destroy(ngx_pool_t *pool);


#endif /* _NGX_HTTP_BUBBLE_POOL_H_INCLUDED_ */


/*
 * ngx_bubble: large blocks kept between renders where the C library's
 * allocator would unmap them (musl), given back when the worker idles.
 */


#ifndef _NGX_HTTP_BUBBLE_KEEP_H_INCLUDED_
#define _NGX_HTTP_BUBBLE_KEEP_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/* once a worker, before any render: on or off (bubble_malloc_tuning) */
void ngx_http_bubble_keep_init(ngx_uint_t on);

/*
 * A block of size bytes for a render's pool: a kept one, or a new one;
 * back to the keeper by ngx_http_bubble_keep_free() or when the pool is
 * destroyed.  NULL when keeping is off or the block is small: the caller
 * takes it from the pool; NGX_HTTP_BUBBLE_KEEP_ERROR when out of memory.
 */
void *ngx_http_bubble_keep_alloc(ngx_pool_t *pool, size_t size);

#define NGX_HTTP_BUBBLE_KEEP_ERROR  ((void *) -1)

/* NGX_OK if p was the keeper's (now kept or freed), else NGX_DECLINED */
ngx_int_t ngx_http_bubble_keep_free(ngx_pool_t *pool, void *p);

/*
 * The event loop, after a render's pool is destroyed: free what is kept
 * unless a render takes it within NGX_HTTP_BUBBLE_KEEP_IDLE ms.
 */
void ngx_http_bubble_keep_arm(void);

/* every kept block back to the C library */
void ngx_http_bubble_keep_release(void);


#endif /* _NGX_HTTP_BUBBLE_KEEP_H_INCLUDED_ */

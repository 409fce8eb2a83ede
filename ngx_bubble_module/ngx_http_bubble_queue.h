
/*
 * ngx_bubble: the admission queue (ngx_http_bubble_queue.c).
 *
 * Renders that do not fit the memory budget yet wait in entries of the
 * shared zone, whatever worker took their request; memory freed is
 * granted to them in turn, cost class by cost class (deficit round
 * robin), and each worker takes the grants of its own requests.  Every
 * function here takes the zone's slab mutex, or says it wants it held.
 */


#ifndef _NGX_HTTP_BUBBLE_QUEUE_H_INCLUDED_
#define _NGX_HTTP_BUBBLE_QUEUE_H_INCLUDED_


#include "ngx_http_bubble_zone.h"


/* a place in the queue: the entry, and the ticket that it is still ours */
typedef struct {
    ngx_uint_t                index;
    ngx_atomic_uint_t         seq;
} ngx_http_bubble_place_t;


/* the cost class of a render of COST us: x4 apart, from 1 ms */
ngx_uint_t ngx_http_bubble_queue_class(size_t cost);

/*
 * With the lock held: a place for a render of BYTES and COST us, behind
 * every render already waiting; NGX_DECLINED when LIMIT places are taken
 * (or the zone's queue holds no more).
 */
ngx_int_t ngx_http_bubble_queue_add_locked(ngx_http_bubble_shctx_t *sh,
    size_t bytes, size_t cost, ngx_uint_t limit,
    ngx_http_bubble_place_t *place);

/*
 * With the lock held: NGX_OK when the place was granted its bytes, which
 * are moved to COUNTER (the worker's slot) and the place freed;
 * NGX_AGAIN while it waits; NGX_ERROR when it is no longer ours (swept).
 */
ngx_int_t ngx_http_bubble_queue_take_locked(ngx_http_bubble_shctx_t *sh,
    ngx_http_bubble_place_t *place, ngx_atomic_t *counter);

/*
 * With the lock held: the place given up (a timeout, a client gone), and
 * a grant it had given back.
 */
void ngx_http_bubble_queue_remove_locked(ngx_http_bubble_shctx_t *sh,
    ngx_http_bubble_place_t *place);

/*
 * With the lock held: memory granted to the heads of the queue, in turn,
 * as long as it fits; places of dead processes freed (once a second).
 * The number of grants made.
 */
ngx_uint_t ngx_http_bubble_queue_dispatch_locked(ngx_http_bubble_shctx_t *sh,
    ngx_log_t *log);


#endif /* _NGX_HTTP_BUBBLE_QUEUE_H_INCLUDED_ */

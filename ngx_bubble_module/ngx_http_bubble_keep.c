
/*
 * ngx_bubble: large blocks kept between renders.
 *
 * musl maps every block over 128 KiB on its own and unmaps it on free,
 * so each render faults its canvas, its PNG buffers and the encoder's
 * window in afresh: ~577 page faults, 1.5 of a W1 PNG's 3.8 ms of CPU
 * (docs/memory.md, "musl").  glibc keeps such blocks in its heap under
 * bubble_malloc_tuning's 8 MiB mmap threshold; this is the same for
 * musl: a render's blocks from 128 KiB to 8 MiB go back here when freed
 * or when the render's pool is destroyed, up to 8 MiB a worker, and the
 * next render takes them.  Half a second after the last render's pool
 * is gone every kept block is freed: an idle worker holds none, as glibc
 * trims its heap when idle.
 *
 * A block's header records its size; a pool cleanup returns it.
 * ngx_http_bubble_keep_free() finds a block by that cleanup, so no
 * pointer outside the keeper's blocks is read before its start.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>

#include "ngx_http_bubble_keep.h"


#define NGX_HTTP_BUBBLE_KEEP_MIN     (128 * 1024)       /* musl's mmap */
#define NGX_HTTP_BUBBLE_KEEP_MAX     (8 * 1024 * 1024)  /* glibc's, tuned */
#define NGX_HTTP_BUBBLE_KEEP_TOTAL   (8 * 1024 * 1024)  /* a worker */
#define NGX_HTTP_BUBBLE_KEEP_SLOTS   16
#define NGX_HTTP_BUBBLE_KEEP_IDLE    500    /* ms after a pool is gone */


typedef struct {
    size_t                 size;          /* bytes after the header */
} ngx_http_bubble_block_t;

/* the header, rounded up so that the block stays 16-byte aligned */
#define NGX_HTTP_BUBBLE_BLOCK_HDR                                             \
    ngx_align(sizeof(ngx_http_bubble_block_t), 16)

#define ngx_http_bubble_block_data(b)                                         \
    ((u_char *) (b) + NGX_HTTP_BUBBLE_BLOCK_HDR)


static void ngx_http_bubble_keep_cleanup(void *data);
static void ngx_http_bubble_keep_expire(ngx_event_t *ev);
static void ngx_http_bubble_keep_put(ngx_http_bubble_block_t *b);
static void ngx_http_bubble_keep_lock(void);
static void ngx_http_bubble_keep_unlock(void);


static ngx_uint_t                 ngx_http_bubble_keep_on;
static ngx_http_bubble_block_t   *ngx_http_bubble_kept[
                                      NGX_HTTP_BUBBLE_KEEP_SLOTS];
static size_t                     ngx_http_bubble_kept_bytes;
static ngx_event_t                ngx_http_bubble_keep_timer;

#if (NGX_THREADS)
/* render threads allocate and free; the event loop destroys pools */
static ngx_thread_mutex_t         ngx_http_bubble_keep_mutex;
#endif


void
ngx_http_bubble_keep_init(ngx_uint_t on)
{
#if (NGX_THREADS)
    if (on && ngx_thread_mutex_create(&ngx_http_bubble_keep_mutex,
                                      ngx_cycle->log)
              != NGX_OK)
    {
        on = 0;
    }
#endif

    ngx_http_bubble_keep_on = on;

    ngx_http_bubble_keep_timer.handler = ngx_http_bubble_keep_expire;
    ngx_http_bubble_keep_timer.log = ngx_cycle->log;
    ngx_http_bubble_keep_timer.cancelable = 1;
}


void *
ngx_http_bubble_keep_alloc(ngx_pool_t *pool, size_t size)
{
    ngx_uint_t                i, best;
    ngx_pool_cleanup_t       *cln;
    ngx_http_bubble_block_t  *b;

    if (!ngx_http_bubble_keep_on
        || size < NGX_HTTP_BUBBLE_KEEP_MIN
        || size > NGX_HTTP_BUBBLE_KEEP_MAX)
    {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_BUBBLE_KEEP_ERROR;
    }

    /* the smallest kept block that holds size, and no more than twice it */

    b = NULL;
    best = NGX_HTTP_BUBBLE_KEEP_SLOTS;

    ngx_http_bubble_keep_lock();

    for (i = 0; i < NGX_HTTP_BUBBLE_KEEP_SLOTS; i++) {
        if (ngx_http_bubble_kept[i] != NULL
            && ngx_http_bubble_kept[i]->size >= size
            && ngx_http_bubble_kept[i]->size / 2 <= size
            && (best == NGX_HTTP_BUBBLE_KEEP_SLOTS
                || ngx_http_bubble_kept[i]->size
                   < ngx_http_bubble_kept[best]->size))
        {
            best = i;
        }
    }

    if (best < NGX_HTTP_BUBBLE_KEEP_SLOTS) {
        b = ngx_http_bubble_kept[best];
        ngx_http_bubble_kept[best] = NULL;
        ngx_http_bubble_kept_bytes -= b->size;
    }

    ngx_http_bubble_keep_unlock();

    if (b == NULL) {
        b = ngx_alloc(NGX_HTTP_BUBBLE_BLOCK_HDR + size, pool->log);
        if (b == NULL) {
            return NGX_HTTP_BUBBLE_KEEP_ERROR;
        }

        b->size = size;
    }

    cln->handler = ngx_http_bubble_keep_cleanup;
    cln->data = b;

    return ngx_http_bubble_block_data(b);
}


ngx_int_t
ngx_http_bubble_keep_free(ngx_pool_t *pool, void *p)
{
    ngx_pool_cleanup_t       *c;
    ngx_http_bubble_block_t  *b;

    if (!ngx_http_bubble_keep_on) {
        return NGX_DECLINED;
    }

    for (c = pool->cleanup; c; c = c->next) {
        if (c->handler != ngx_http_bubble_keep_cleanup) {
            continue;
        }

        b = c->data;

        if (ngx_http_bubble_block_data(b) == p) {
            /* the pool's cleanup does nothing now */
            c->handler = NULL;
            ngx_http_bubble_keep_put(b);
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


void
ngx_http_bubble_keep_arm(void)
{
    if (ngx_http_bubble_keep_on) {
        /* pushed back while renders keep coming (nginx moves a timer by
         * 300 ms or more) */
        ngx_add_timer(&ngx_http_bubble_keep_timer, NGX_HTTP_BUBBLE_KEEP_IDLE);
    }
}


void
ngx_http_bubble_keep_release(void)
{
    ngx_uint_t                i;
    ngx_http_bubble_block_t  *b;

    if (!ngx_http_bubble_keep_on) {
        return;
    }

    for (i = 0; i < NGX_HTTP_BUBBLE_KEEP_SLOTS; i++) {
        ngx_http_bubble_keep_lock();

        b = ngx_http_bubble_kept[i];
        ngx_http_bubble_kept[i] = NULL;

        if (b) {
            ngx_http_bubble_kept_bytes -= b->size;
        }

        ngx_http_bubble_keep_unlock();

        ngx_free(b);
    }
}


/* the render's pool is destroyed with the block still in it */

static void
ngx_http_bubble_keep_cleanup(void *data)
{
    ngx_http_bubble_keep_put(data);
}


static void
ngx_http_bubble_keep_expire(ngx_event_t *ev)
{
    ngx_http_bubble_keep_release();
}


/* kept if there is room (a slot, and bytes), else freed */

static void
ngx_http_bubble_keep_put(ngx_http_bubble_block_t *b)
{
    ngx_uint_t  i;

    ngx_http_bubble_keep_lock();

    if (ngx_http_bubble_kept_bytes + b->size <= NGX_HTTP_BUBBLE_KEEP_TOTAL) {
        for (i = 0; i < NGX_HTTP_BUBBLE_KEEP_SLOTS; i++) {
            if (ngx_http_bubble_kept[i] == NULL) {
                ngx_http_bubble_kept[i] = b;
                ngx_http_bubble_kept_bytes += b->size;
                b = NULL;
                break;
            }
        }
    }

    ngx_http_bubble_keep_unlock();

    if (b) {
        ngx_free(b);
    }
}


static void
ngx_http_bubble_keep_lock(void)
{
#if (NGX_THREADS)
    (void) ngx_thread_mutex_lock(&ngx_http_bubble_keep_mutex, ngx_cycle->log);
#endif
}


static void
ngx_http_bubble_keep_unlock(void)
{
#if (NGX_THREADS)
    (void) ngx_thread_mutex_unlock(&ngx_http_bubble_keep_mutex,
                                   ngx_cycle->log);
#endif
}

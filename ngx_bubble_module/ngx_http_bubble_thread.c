
/*
 * ngx_bubble: renders in an nginx thread pool.
 *
 * The task carries only the request's bubble ctx; the thread renders with
 * ctx's own pool and never touches r or r->pool.  While it runs the request
 * is blocked (r->main->blocked) so nginx cannot free it, and holds a
 * reference (r->main->count) released when the result is sent.
 *
 * A client that closes its connection while the task waits for a thread
 * cancels it: the read handler notices the close, and whichever of it and
 * the thread marks the task first decides.  Cancelled, the task's memory
 * reservation goes back at once and the thread skips the render when it
 * comes to it; started, the render runs to its end, and the request ends
 * when it is back (the handler decides what to keep of it).
 */


#include "ngx_http_bubble_zone.h"


#if (NGX_THREADS)


#include <sys/resource.h>
#include <sys/syscall.h>


/*
 * Render threads give way to the event loops: a pool thread takes this
 * niceness (Linux: per thread) before its first render, so a worker
 * waking for a cheap request (a cached chart, the status page) preempts
 * a render at once instead of queueing for the core behind it.  Raising
 * niceness needs no privilege but lowering it does, so the thread keeps
 * it: give renders a thread_pool of their own.
 */
#define NGX_HTTP_BUBBLE_RENDER_NICE  10

static __thread ngx_uint_t  ngx_http_bubble_thread_niced;


/*
 * While a render is queued or running, the request has no timer of its
 * own (the body is read, nothing is being sent), and a worker shutting
 * down gracefully (nginx -s reload, quit) exits as soon as no
 * non-cancelable timer is left: it left the request unanswered ("open
 * socket left in connection", t/017).  The hold timer keeps it waiting
 * for the render, however long it takes: it re-arms itself.
 */
#define NGX_HTTP_BUBBLE_HOLD  60000     /* ms */

/* a task's state: set once from QUEUED, by the thread or the event loop */
#define NGX_HTTP_BUBBLE_TASK_QUEUED     0
#define NGX_HTTP_BUBBLE_TASK_STARTED    1
#define NGX_HTTP_BUBBLE_TASK_CANCELLED  2


typedef struct {
    ngx_http_request_t       *request;
    ngx_http_bubble_ctx_t    *ctx;
    ngx_http_bubble_render_pt render;   /* in the thread */
    ngx_http_bubble_done_pt   done;     /* back on the event loop */
    ngx_atomic_t             *queued;   /* the worker's slot, or NULL */
    ngx_atomic_t              state;    /* NGX_HTTP_BUBBLE_TASK_* */
    ngx_event_t               hold;     /* non-cancelable, see above */
} ngx_http_bubble_task_ctx_t;


static void ngx_http_bubble_thread_handler(void *data, ngx_log_t *log);
static void ngx_http_bubble_thread_nice(ngx_log_t *log);
static void ngx_http_bubble_thread_event_handler(ngx_event_t *ev);
static void ngx_http_bubble_thread_reading(ngx_http_request_t *r);
static void ngx_http_bubble_thread_hold_handler(ngx_event_t *ev);


/*
 * RENDER runs in a thread of the location's pool; DONE then runs on the
 * event loop and its result finalizes the request (as nginx's output
 * chain calls its caller's thread_handler, this file names no caller).
 */

ngx_int_t
ngx_http_bubble_thread_post(ngx_http_request_t *r, ngx_http_bubble_ctx_t *ctx,
    ngx_http_bubble_render_pt render, ngx_http_bubble_done_pt done)
{
    ngx_thread_task_t           *task;
    ngx_http_bubble_task_ctx_t  *tctx;
    ngx_http_bubble_loc_conf_t  *blcf;

    blcf = ngx_http_get_module_loc_conf(r, ngx_http_bubble_module);

    if (blcf->thread_pool == NULL) {
        return NGX_DECLINED;
    }

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_bubble_task_ctx_t));
    if (task == NULL) {
        bubble_error_set(&ctx->err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                         "internal", "", "out of memory");
        return NGX_ERROR;
    }

    tctx = task->ctx;
    tctx->request = r;
    tctx->ctx = ctx;
    tctx->render = render;
    tctx->done = done;
    tctx->state = NGX_HTTP_BUBBLE_TASK_QUEUED;

    /* bubble_thread_queue_depth: counted before a thread can start it */
    tctx->queued = ngx_http_bubble_zone_queued();

    if (tctx->queued) {
        (void) ngx_atomic_fetch_add(tctx->queued, 1);
    }

    task->handler = ngx_http_bubble_thread_handler;
    task->event.handler = ngx_http_bubble_thread_event_handler;
    task->event.data = task;

    if (ngx_thread_task_post(blcf->thread_pool, task) != NGX_OK) {
        if (tctx->queued) {
            (void) ngx_atomic_fetch_add(tctx->queued, -1);
        }

        /* the queue is full (max_queue): shed load, the client retries */
        bubble_error_set(&ctx->err, NGX_HTTP_SERVICE_UNAVAILABLE,
                         "overloaded", "", "render queue is full, retry "
                         "shortly");
        ctx->reject_reason = NGX_HTTP_BUBBLE_REASON_QUEUE;
        return NGX_ERROR;
    }

    r->main->blocked++;
    r->main->count++;
    r->aio = 1;

    tctx->hold.handler = ngx_http_bubble_thread_hold_handler;
    tctx->hold.data = r;
    tctx->hold.log = r->connection->log;
    ngx_add_timer(&tctx->hold, NGX_HTTP_BUBBLE_HOLD);

    /* a client that goes away cancels the task while it waits */
    ctx->task = tctx;
    r->read_event_handler = ngx_http_bubble_thread_reading;

    if (r->connection->read->ready) {
        ngx_post_event(r->connection->read, &ngx_posted_events);
    }

    return NGX_DONE;
}


static void
ngx_http_bubble_thread_handler(void *data, ngx_log_t *log)
{
    ngx_http_bubble_task_ctx_t  *tctx = data;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, log, 0, "bubble render thread");

    if (!ngx_http_bubble_thread_niced) {
        ngx_http_bubble_thread_niced = 1;
        ngx_http_bubble_thread_nice(log);
    }

    if (tctx->queued) {
        (void) ngx_atomic_fetch_add(tctx->queued, -1);
    }

    if (!ngx_atomic_cmp_set(&tctx->state, NGX_HTTP_BUBBLE_TASK_QUEUED,
                            NGX_HTTP_BUBBLE_TASK_STARTED))
    {
        /* cancelled: work for no one is not done */
        return;
    }

    tctx->render(tctx->ctx);
}


static void
ngx_http_bubble_thread_nice(ngx_log_t *log)
{
#if (NGX_LINUX)
    int    nice;
    id_t   tid;

    tid = (id_t) syscall(SYS_gettid);

    /* never lower it: worker_priority may already be nicer */
    ngx_set_errno(0);
    nice = getpriority(PRIO_PROCESS, tid);

    if ((nice == -1 && ngx_errno != 0)
        || nice >= NGX_HTTP_BUBBLE_RENDER_NICE)
    {
        return;
    }

    if (setpriority(PRIO_PROCESS, tid, NGX_HTTP_BUBBLE_RENDER_NICE) == -1) {
        ngx_log_error(NGX_LOG_WARN, log, ngx_errno,
                      "setpriority(%d) of a render thread failed",
                      NGX_HTTP_BUBBLE_RENDER_NICE);
    }
#endif
}


static void
ngx_http_bubble_thread_event_handler(ngx_event_t *ev)
{
    ngx_connection_t            *c;
    ngx_thread_task_t           *task;
    ngx_http_request_t          *r;
    ngx_http_bubble_task_ctx_t  *tctx;

    task = ev->data;
    tctx = task->ctx;
    r = tctx->request;
    c = r->connection;

    if (tctx->hold.timer_set) {
        ngx_del_timer(&tctx->hold);
    }

    ngx_http_set_log_request(c->log, r);

    r->main->blocked--;
    r->aio = 0;

    tctx->ctx->task = NULL;
    r->read_event_handler = ngx_http_block_reading;

    /* a client that went away meanwhile (c->error) is DONE's to see */
    ngx_http_finalize_request(r, tctx->done(r, tctx->ctx));

    ngx_http_run_posted_requests(c);
}


/*
 * The read handler while a task is posted: a closed connection (as
 * ngx_http_test_reading() sees it, HTTP/2 streams included) ends the
 * request, which waits for the task; a task no thread has started yet is
 * cancelled, and its reservation released at once.
 */

static void
ngx_http_bubble_thread_reading(ngx_http_request_t *r)
{
    ngx_http_bubble_ctx_t       *ctx;
    ngx_http_bubble_task_ctx_t  *tctx;

    if (!r->connection->error) {
        ngx_http_test_reading(r);

        if (!r->connection->error) {
            return;
        }
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_bubble_module);

    if (ctx == NULL || ctx->task == NULL) {
        return;
    }

    tctx = ctx->task;

    if (ngx_atomic_cmp_set(&tctx->state, NGX_HTTP_BUBBLE_TASK_QUEUED,
                           NGX_HTTP_BUBBLE_TASK_CANCELLED))
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "bubble render cancelled: the client is gone");

        ngx_http_bubble_release_now(r, ctx);
    }
}


static void
ngx_http_bubble_thread_hold_handler(ngx_event_t *ev)
{
    /* still rendering: keep an exiting worker waiting */
    ngx_add_timer(ev, NGX_HTTP_BUBBLE_HOLD);
}


char *
ngx_http_bubble_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_bubble_loc_conf_t  *blcf = conf;

    ngx_str_t  *value;

    if (blcf->thread_pool != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        blcf->thread_pool = NULL;
        return NGX_CONF_OK;
    }

    /* the pool may be defined by "thread_pool" later in nginx.conf */
    blcf->thread_pool = ngx_thread_pool_add(cf, &value[1]);
    if (blcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


#endif

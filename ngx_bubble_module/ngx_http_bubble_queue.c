
/*
 * ngx_bubble: the admission queue, shared by every worker.
 *
 * An array of entries in bubble_zone (ngx_http_bubble_zone.h), changed
 * only under the zone's slab mutex: the master unlocks it if a worker
 * dies holding it, and no one holds it for more than a scan of the
 * array (microseconds), never across a render.  An entry is a render
 * that did not fit: its memory estimate, its estimated time (the cost),
 * its cost class, and an arrival ticket from one counter for all
 * workers.
 *
 * Order.  Within a class, arrival order.  Between classes, deficit round
 * robin by estimated time: the class served adds a quantum (4 times the
 * largest cost at the heads) to its deficit once per visit, and its heads are
 * granted memory while their cost fits the deficit; then the next class
 * with waiters.  Every class with waiters gets the same render time per
 * round, so a flood of cheap charts cannot keep an expensive one out for
 * ever, and expensive charts cannot take all the time from cheap ones
 * (plain arrival order would: a 4096 x 4096 chart costs ~25 W1 charts).
 *
 * Memory.  The head whose turn it is is granted its bytes as soon as they
 * fit the budget and the ceiling (ngx_http_bubble_zone_reserve(), on
 * sh->granted); until then no one behind it is, whatever their size, so
 * a large chart's turn comes as soon as enough renders have ended.  One
 * exception, backfilling: while it waits for the memory of renders at
 * least as long as itself, shorter ones may use what it will not need
 * (ngx_http_bubble_queue_backfill_locked()).  The worker owning an entry
 * moves the grant to its own slot when it takes it
 * (ngx_http_bubble_admit.c polls every ms while it has waiters).
 *
 * Crashes.  An entry names its owner's pid: once a second the dispatcher
 * frees the entries of processes that are gone, and their grants.
 */


#include "ngx_http_bubble_queue.h"


#define NGX_HTTP_BUBBLE_QUEUE_SWEEP   1000    /* ms between sweeps */

/*
 * A class's turn is worth this many of the costliest head: long turns
 * mean fewer switches, and each switch to a costlier class may wait for
 * cheaper renders to drain (a large chart's turn lets cheap ones past
 * only while it waits for another large one: backfilling, below).
 */
#define NGX_HTTP_BUBBLE_QUANTA        4
#define NGX_HTTP_BUBBLE_CLASS_MIN     1000    /* us, the first class's top */


static ngx_uint_t ngx_http_bubble_queue_heads(ngx_http_bubble_queue_sh_t *q,
    ngx_http_bubble_entry_t **heads, size_t *quantum);
static void ngx_http_bubble_queue_sweep_locked(ngx_http_bubble_shctx_t *sh,
    ngx_log_t *log);
static void ngx_http_bubble_queue_free(ngx_http_bubble_shctx_t *sh,
    ngx_http_bubble_entry_t *e);
static void ngx_http_bubble_queue_grant(ngx_http_bubble_queue_sh_t *q,
    ngx_http_bubble_entry_t *e);
static ngx_int_t ngx_http_bubble_queue_backfill_locked(
    ngx_http_bubble_shctx_t *sh, ngx_http_bubble_entry_t **heads,
    ngx_http_bubble_entry_t *h);


ngx_uint_t
ngx_http_bubble_queue_class(size_t cost)
{
    ngx_uint_t  c;
    size_t      top;

    /* < 1 ms, < 4 ms, < 16 ms, ... < 4.1 s, the rest */
    top = NGX_HTTP_BUBBLE_CLASS_MIN;

    for (c = 0; c < NGX_HTTP_BUBBLE_CLASSES - 1 && cost >= top; c++) {
        top *= 4;
    }

    return c;
}


ngx_int_t
ngx_http_bubble_queue_add_locked(ngx_http_bubble_shctx_t *sh, size_t bytes,
    size_t cost, ngx_uint_t limit, ngx_http_bubble_place_t *place)
{
    ngx_uint_t                   i;
    ngx_http_bubble_entry_t     *e;
    ngx_http_bubble_queue_sh_t  *q;

    q = sh->queue;

    if (q->waiting >= ngx_min(limit, q->capacity)) {
        return NGX_DECLINED;
    }

    for (i = 0; i < q->capacity; i++) {
        e = &q->entry[i];

        if (e->pid != 0) {
            continue;
        }

        e->state = NGX_HTTP_BUBBLE_WAITING;
        e->seq = ++q->seq;
        e->bytes = bytes;
        e->cost = cost;
        e->cls = ngx_http_bubble_queue_class(cost);
        e->granted = 0;
        e->pid = ngx_pid;

        q->waiting++;
        q->enqueued++;

        place->index = i;
        place->seq = e->seq;

        return NGX_OK;
    }

    /* waiting below the capacity, yet every entry taken: grants not yet
     * taken by their workers hold the rest */
    return NGX_DECLINED;
}


ngx_int_t
ngx_http_bubble_queue_take_locked(ngx_http_bubble_shctx_t *sh,
    ngx_http_bubble_place_t *place, ngx_atomic_t *counter)
{
    ngx_http_bubble_entry_t  *e;

    e = &sh->queue->entry[place->index];

    if (e->pid != (ngx_atomic_uint_t) ngx_pid || e->seq != place->seq) {
        return NGX_ERROR;
    }

    if (e->state != NGX_HTTP_BUBBLE_GRANTED) {
        return NGX_AGAIN;
    }

    /* the slot first: the total never drops below what is reserved */
    (void) ngx_atomic_fetch_add(counter, e->bytes);
    (void) ngx_atomic_fetch_add(&sh->granted, -(ngx_atomic_int_t) e->bytes);

    e->state = NGX_HTTP_BUBBLE_FREE;
    e->pid = 0;

    sh->queue->admitted++;

    return NGX_OK;
}


void
ngx_http_bubble_queue_remove_locked(ngx_http_bubble_shctx_t *sh,
    ngx_http_bubble_place_t *place)
{
    ngx_http_bubble_entry_t  *e;

    e = &sh->queue->entry[place->index];

    if (e->pid != (ngx_atomic_uint_t) ngx_pid || e->seq != place->seq) {
        return;
    }

    ngx_http_bubble_queue_free(sh, e);
}


/* with the lock held: the entry out, its grant given back */

static void
ngx_http_bubble_queue_free(ngx_http_bubble_shctx_t *sh,
    ngx_http_bubble_entry_t *e)
{
    if (e->state == NGX_HTTP_BUBBLE_GRANTED) {
        (void) ngx_atomic_fetch_add(&sh->granted,
                                    -(ngx_atomic_int_t) e->bytes);

    } else if (e->state == NGX_HTTP_BUBBLE_WAITING) {
        sh->queue->waiting--;
    }

    e->state = NGX_HTTP_BUBBLE_FREE;
    e->pid = 0;
}


ngx_uint_t
ngx_http_bubble_queue_dispatch_locked(ngx_http_bubble_shctx_t *sh,
    ngx_log_t *log)
{
    size_t                       quantum;
    ngx_uint_t                   c, k, n, refused, classes;
    ngx_http_bubble_entry_t     *e, *heads[NGX_HTTP_BUBBLE_CLASSES];
    ngx_http_bubble_queue_sh_t  *q;

    q = sh->queue;

    if ((ngx_msec_int_t) (ngx_current_msec - q->swept_at)
        >= NGX_HTTP_BUBBLE_QUEUE_SWEEP)
    {
        q->swept_at = ngx_current_msec;
        ngx_http_bubble_queue_sweep_locked(sh, log);
    }

    n = 0;

    /* each turn grants one head, or moves to the next class, or stops */

    for ( ;; ) {

        if (q->waiting == 0) {
            for (c = 0; c < NGX_HTTP_BUBBLE_CLASSES; c++) {
                q->deficit[c] = 0;
            }

            q->fresh = 0;
            break;
        }

        classes = ngx_http_bubble_queue_heads(q, heads, &quantum);

        if (classes == 0) {
            /* waiting counts an entry the array does not: recount */
            q->waiting = 0;
            continue;
        }

        /* the class served, or the next one with waiters */

        c = q->current % NGX_HTTP_BUBBLE_CLASSES;

        for (k = 0; k < NGX_HTTP_BUBBLE_CLASSES; k++) {
            if (heads[(c + k) % NGX_HTTP_BUBBLE_CLASSES]) {
                break;
            }

            /* DRR: a class without waiters keeps no deficit */
            q->deficit[(c + k) % NGX_HTTP_BUBBLE_CLASSES] = 0;
        }

        if (k) {
            c = (c + k) % NGX_HTTP_BUBBLE_CLASSES;
            q->current = c;
            q->fresh = 0;
        }

        if (!q->fresh) {
            q->deficit[c] += quantum;
            q->fresh = 1;
        }

        e = heads[c];

        if ((ngx_atomic_int_t) e->cost > q->deficit[c]) {
            /* this visit's time is spent: the next class's turn */
            q->current = c + 1;
            q->fresh = 0;
            continue;
        }

        if (ngx_http_bubble_zone_reserve(sh, &sh->granted, e->bytes, 0,
                                         &refused)
            != NGX_OK)
        {
            /* its turn, not its memory yet: no one overtakes it, but */
            if (ngx_http_bubble_queue_backfill_locked(sh, heads, e) != NGX_OK)
            {
                break;
            }

            n++;
            continue;
        }

        ngx_http_bubble_queue_grant(q, e);
        q->deficit[c] -= e->cost;

        n++;
    }

    return n;
}


static void
ngx_http_bubble_queue_grant(ngx_http_bubble_queue_sh_t *q,
    ngx_http_bubble_entry_t *e)
{
    e->state = NGX_HTTP_BUBBLE_GRANTED;
    e->granted = ngx_current_msec ? ngx_current_msec : 1;
    q->waiting--;
}


/*
 * The head H whose turn it is waits for memory.  If renders of its class
 * or a costlier one hold some (the bytes H waits for are theirs), a
 * shorter render of a cheaper class may start meanwhile, so long as the
 * budget still leaves room for H once those longer renders end: H's start
 * is not put off (but for the short render's own time, a fraction of
 * H's), and cheap charts do not stall behind a large one's wait
 * (backfilling, as batch schedulers do).  Not charged to its class's
 * deficit: it uses what would be idle.  NGX_OK when one was granted.
 */

static ngx_int_t
ngx_http_bubble_queue_backfill_locked(ngx_http_bubble_shctx_t *sh,
    ngx_http_bubble_entry_t **heads, ngx_http_bubble_entry_t *h)
{
    size_t                       longer, keep;
    ngx_uint_t                   i, c, refused;
    ngx_http_bubble_slot_t      *slot;
    ngx_http_bubble_slots_t     *ss;
    ngx_http_bubble_entry_t     *e;
    ngx_http_bubble_queue_sh_t  *q;

    q = sh->queue;

    /* bytes held by renders at least as long as H: they end after it */

    longer = 0;

    ngx_http_bubble_for_each_slot(sh, ss, i) {
        slot = &ss->slot[i];

        if (slot->pid == 0) {
            continue;
        }

        for (c = h->cls; c < NGX_HTTP_BUBBLE_CLASSES; c++) {
            longer += slot->class_bytes[c];
        }
    }

    for (i = 0; i < q->capacity; i++) {
        e = &q->entry[i];

        if (e->pid && e->state == NGX_HTTP_BUBBLE_GRANTED
            && e->cls >= h->cls)
        {
            longer += e->bytes;
        }
    }

    if (longer == 0) {
        /* what H waits for are shorter renders: they drain first */
        return NGX_DECLINED;
    }

    /* what must stay free so that H fits once the longer renders end */
    keep = (h->bytes > longer) ? h->bytes - longer : 0;

    for (c = 0; c < h->cls; c++) {
        e = heads[c];

        if (e == NULL) {
            continue;
        }

        if (ngx_http_bubble_zone_reserve(sh, &sh->granted, e->bytes, keep,
                                         &refused)
            == NGX_OK)
        {
            ngx_http_bubble_queue_grant(q, e);
            q->backfilled++;
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


/*
 * The first waiting entry of each class (the lowest ticket), their number
 * of classes, and the quantum: NGX_HTTP_BUBBLE_QUANTA times the largest
 * cost among the heads, so that every visit grants at least one.
 */

static ngx_uint_t
ngx_http_bubble_queue_heads(ngx_http_bubble_queue_sh_t *q,
    ngx_http_bubble_entry_t **heads, size_t *quantum)
{
    ngx_uint_t                i, c, n;
    ngx_http_bubble_entry_t  *e;

    ngx_memzero(heads, NGX_HTTP_BUBBLE_CLASSES
                       * sizeof(ngx_http_bubble_entry_t *));
    *quantum = 1;
    n = 0;

    for (i = 0; i < q->capacity; i++) {
        e = &q->entry[i];

        if (e->pid == 0 || e->state != NGX_HTTP_BUBBLE_WAITING) {
            continue;
        }

        c = e->cls % NGX_HTTP_BUBBLE_CLASSES;

        if (heads[c] == NULL) {
            n++;

        } else if (heads[c]->seq < e->seq) {
            continue;
        }

        heads[c] = e;
    }

    for (c = 0; c < NGX_HTTP_BUBBLE_CLASSES; c++) {
        if (heads[c] && heads[c]->cost > *quantum) {
            *quantum = heads[c]->cost;
        }
    }

    *quantum *= NGX_HTTP_BUBBLE_QUANTA;

    return n;
}


/* with the lock held: the entries of processes that are gone */

static void
ngx_http_bubble_queue_sweep_locked(ngx_http_bubble_shctx_t *sh,
    ngx_log_t *log)
{
    ngx_pid_t                    pid, checked, gone;
    ngx_uint_t                   i, n;
    ngx_http_bubble_entry_t     *e;
    ngx_http_bubble_queue_sh_t  *q;

    q = sh->queue;
    checked = 0;
    gone = 0;
    n = 0;

    /* entries come in runs of one owner: one kill() a run */

    for (i = 0; i < q->capacity; i++) {
        e = &q->entry[i];
        pid = (ngx_pid_t) e->pid;

        if (pid == 0 || pid == ngx_pid) {
            continue;
        }

        if (pid != checked) {
            checked = pid;
            gone = !ngx_http_bubble_zone_alive(pid);
        }

        if (gone) {
            ngx_http_bubble_queue_free(sh, e);
            n++;
        }
    }

    if (n) {
        q->swept += n;

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "bubble: %ui queued renders of processes that are "
                      "gone taken out of the queue", n);
    }
}

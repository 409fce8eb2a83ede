/*
 * A malloc-backed bubble_allocator_t for the core's unit tests.
 *
 * Every block is recorded in a list (the "arena") and everything still
 * held is freed by arena_destroy(), as a request pool would be: tests are
 * leak-free under valgrind whatever the core forgets to free.  Blocks the
 * core gives back early (bubble_free) really are freed at once, so a use
 * after free shows up under valgrind instead of being hidden by a pool.
 *
 * Injected failures: fail_at = N makes the N-th allocation (0-based) and
 * every later one return NULL; max_bytes caps the bytes held at once.
 * peak records the most bytes held at once (headers not counted).
 */

#ifndef _BUBBLE_TEST_ARENA_H_INCLUDED_
#define _BUBBLE_TEST_ARENA_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bubble.h"


#define ARENA_MAGIC  0x62756262u            /* "bubb" */


typedef union arena_hdr_u  arena_hdr_t;

union arena_hdr_u {
    struct {
        arena_hdr_t         *prev;
        arena_hdr_t         *next;
        size_t               size;
        uint32_t             magic;
    } h;
    long double              align_ld;      /* blocks stay max-aligned */
    long long                align_ll;
    void                    *align_p;
};


typedef struct {
    bubble_allocator_t       alloc;         /* hand &arena->alloc to the core */
    arena_hdr_t              head;          /* list sentinel */
    size_t                   blocks;        /* held now */
    size_t                   bytes;         /* held now */
    size_t                   peak;          /* most bytes held at once */
    size_t                   nallocs;       /* allocations so far */
    size_t                   nfrees;        /* early frees so far */
    long                     fail_at;       /* -1: never fail */
    size_t                   max_bytes;     /* 0: no cap */
    size_t                   bad_frees;     /* free of an unknown block */
} arena_t;


static void *
arena_alloc_cb(void *data, size_t size)
{
    arena_t      *a = data;
    arena_hdr_t  *b;

    if (a->fail_at >= 0 && a->nallocs >= (size_t) a->fail_at) {
        a->nallocs++;
        return NULL;
    }

    a->nallocs++;

    if (a->max_bytes && a->bytes + size > a->max_bytes) {
        return NULL;
    }

    b = malloc(sizeof(arena_hdr_t) + (size ? size : 1));
    if (b == NULL) {
        return NULL;
    }

    b->h.size = size;
    b->h.magic = ARENA_MAGIC;
    b->h.prev = &a->head;
    b->h.next = a->head.h.next;
    a->head.h.next->h.prev = b;
    a->head.h.next = b;

    a->blocks++;
    a->bytes += size;
    if (a->bytes > a->peak) {
        a->peak = a->bytes;
    }

    return b + 1;
}


static void
arena_free_cb(void *data, void *p)
{
    arena_t      *a = data;
    arena_hdr_t  *b;

    if (p == NULL) {
        return;
    }

    b = (arena_hdr_t *) p - 1;

    if (b->h.magic != ARENA_MAGIC) {
        /* not ours, or freed twice: count it, never touch it */
        a->bad_frees++;
        return;
    }

    b->h.magic = 0;
    b->h.prev->h.next = b->h.next;
    b->h.next->h.prev = b->h.prev;

    a->blocks--;
    a->bytes -= b->h.size;
    a->nfrees++;

    free(b);
}


static inline void
arena_init(arena_t *a)
{
    memset(a, 0, sizeof(arena_t));

    a->head.h.next = &a->head;
    a->head.h.prev = &a->head;
    a->fail_at = -1;

    a->alloc.alloc = arena_alloc_cb;
    a->alloc.free = arena_free_cb;
    a->alloc.data = a;
}


/* free everything still held: the end of a "request" */

static inline void
arena_reset(arena_t *a)
{
    arena_hdr_t  *b, *next;

    for (b = a->head.h.next; b != &a->head; b = next) {
        next = b->h.next;
        b->h.magic = 0;
        free(b);
    }

    a->head.h.next = &a->head;
    a->head.h.prev = &a->head;
    a->blocks = 0;
    a->bytes = 0;
    a->peak = 0;
    a->nallocs = 0;
    a->nfrees = 0;
    a->fail_at = -1;
    a->max_bytes = 0;
}


static inline arena_t *
arena_new(void)
{
    arena_t  *a;

    a = malloc(sizeof(arena_t));
    if (a != NULL) {
        arena_init(a);
    }

    return a;
}


static inline void
arena_destroy(arena_t *a)
{
    if (a != NULL) {
        arena_reset(a);
        free(a);
    }
}


#endif /* _BUBBLE_TEST_ARENA_H_INCLUDED_ */

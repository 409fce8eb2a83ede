/*
 * ngx_bubble fuzzing: a malloc arena behind bubble_allocator_t.
 *
 * Every block is malloc()ed separately and linked into the arena, so ASan
 * sees each one with its own redzones; bubble_free() really frees (stricter
 * than a pool, whose ngx_pfree ignores small blocks: a use after
 * bubble_free() is caught here); the arena is freed after each input, as
 * nginx destroys a request's pool.
 */

#ifndef _BUBBLE_FUZZ_ARENA_H_INCLUDED_
#define _BUBBLE_FUZZ_ARENA_H_INCLUDED_


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bubble.h"


typedef struct fuzz_block_s  fuzz_block_t;

struct fuzz_block_s {
    fuzz_block_t            *prev;
    fuzz_block_t            *next;
    size_t                   size;
    size_t                   pad;           /* 16-byte alignment after it */
};

typedef struct {
    fuzz_block_t             head;          /* circular list sentinel */
    size_t                   used;          /* bytes live */
    size_t                   peak;
    size_t                   max;           /* refuse past it: 0 = no cap */
} fuzz_arena_t;


static void *
fuzz_arena_alloc(void *data, size_t size)
{
    fuzz_arena_t  *a = data;
    fuzz_block_t  *b;

    if (a->max && size > a->max - a->used) {
        return NULL;
    }

    b = malloc(sizeof(fuzz_block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->size = size;
    b->next = a->head.next;
    b->prev = &a->head;
    a->head.next->prev = b;
    a->head.next = b;

    a->used += size;
    if (a->used > a->peak) {
        a->peak = a->used;
    }

    /* never hand out zeroes by accident: uninitialized reads show */
    memset(b + 1, 0xa5, size);

    return b + 1;
}


static void
fuzz_arena_free(void *data, void *p)
{
    fuzz_arena_t  *a = data;
    fuzz_block_t  *b = (fuzz_block_t *) p - 1;

    b->prev->next = b->next;
    b->next->prev = b->prev;
    a->used -= b->size;
    free(b);
}


static void
fuzz_arena_init(fuzz_arena_t *a, bubble_allocator_t *alloc, size_t max)
{
    memset(a, 0, sizeof(fuzz_arena_t));
    a->head.next = &a->head;
    a->head.prev = &a->head;
    a->max = max;

    alloc->alloc = fuzz_arena_alloc;
    alloc->free = fuzz_arena_free;
    alloc->data = a;
}


static void
fuzz_arena_destroy(fuzz_arena_t *a)
{
    fuzz_block_t  *b, *next;

    for (b = a->head.next; b != &a->head; b = next) {
        next = b->next;
        free(b);
    }

    a->head.next = &a->head;
    a->head.prev = &a->head;
    a->used = 0;
}


/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
 * U+10FFFF.  Error bodies are JSON and SVG is XML: both must be UTF-8.
 */

static int
fuzz_utf8_valid(const unsigned char *s, size_t len)
{
    size_t    i, n, k;
    uint32_t  c;

    for (i = 0; i < len; i += n) {
        c = s[i];

        if (c < 0x80) {
            n = 1;
            continue;
        }

        if (c >= 0xc2 && c <= 0xdf) {
            n = 2; c &= 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3; c &= 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4; c &= 0x07;
        } else {
            return 0;
        }

        if (i + n > len) {
            return 0;
        }

        for (k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            c = (c << 6) | (s[i + k] & 0x3f);
        }

        if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000)
            || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        {
            return 0;
        }
    }

    return 1;
}


#endif /* _BUBBLE_FUZZ_ARENA_H_INCLUDED_ */

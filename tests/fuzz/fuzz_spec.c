/*
 * ngx_bubble fuzzing: bubble_spec_parse() with the default limits.
 *
 * Each input is parsed twice: in one piece, and fed in three chunks the way
 * nginx hands over a body that arrived in pieces.  Oracles besides ASan and
 * UBSan (each an abort(), i.e. a crash libFuzzer keeps):
 *
 *   - both parses agree (model or error, status, code and path);
 *   - an error has a code, a message, status 400 or 413 (never 500: the
 *     arena has no cap here), an offset within the body, and message and
 *     path in valid UTF-8 (they go into a JSON body);
 *   - a model has the limits' sizes and its columns have nrows cells;
 *     its digest and estimate can be computed.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bubble.h"
#include "bubble_estimate.h"
#include "fuzz_arena.h"


#define fuzz_check(cond)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz_spec: check failed: %s (%s:%d)\n", #cond,   \
                    __FILE__, __LINE__);                                      \
            abort();                                                          \
        }                                                                     \
    } while (0)


static void
fuzz_digest_update(void *ctx, const void *data, size_t len)
{
    size_t          i;
    uint64_t       *h = ctx;
    const uint8_t  *p = data;

    /* FNV-1a: touches every byte the digest feeds */
    for (i = 0; i < len; i++) {
        *h = (*h ^ p[i]) * 0x100000001b3ULL;
    }
}


static void
fuzz_check_error(const bubble_error_t *err, size_t size)
{
    fuzz_check(err->code != NULL);
    fuzz_check(err->status == 400 || err->status == 413);
    fuzz_check(err->message[0] != '\0');
    fuzz_check(memchr(err->message, '\0', sizeof(err->message)) != NULL);
    fuzz_check(memchr(err->path, '\0', sizeof(err->path)) != NULL);
    fuzz_check(err->offset >= -1 && err->offset <= (long) size);
    fuzz_check(fuzz_utf8_valid((const u_char *) err->message,
                               strlen(err->message)));
    fuzz_check(fuzz_utf8_valid((const u_char *) err->path,
                               strlen(err->path)));
}


static void
fuzz_check_chart(const bubble_chart_t *chart, const bubble_limits_t *limits)
{
    size_t             i;
    uint64_t           h;
    bubble_estimate_t  est;

    fuzz_check(chart->width >= 16 && chart->height >= 16);
    fuzz_check(chart->scale >= 1 && chart->scale <= 4);
    fuzz_check((double) chart->width * chart->height * chart->scale
               * chart->scale <= (double) limits->max_pixels);
    fuzz_check(chart->nrows > 0 && chart->nrows <= limits->max_points);
    fuzz_check(chart->ncolumns <= limits->max_columns);
    fuzz_check(chart->aes[BUBBLE_AES_X] >= 0
               && chart->aes[BUBBLE_AES_Y] >= 0);

    for (i = 0; i < BUBBLE_AES_N; i++) {
        fuzz_check(chart->aes[i] >= -1
                   && chart->aes[i] < (int) chart->ncolumns);
    }

    for (i = 0; i < chart->ncolumns; i++) {
        const bubble_column_t  *c = &chart->columns[i];
        size_t                  j;
        volatile double         sum = 0;

        fuzz_check(c->n == chart->nrows);

        /* every cell readable (ASan) and initialized (the arena's 0xa5) */
        for (j = 0; j < c->n; j++) {
            if (c->type == BUBBLE_COLUMN_NUMBER) {
                sum += c->num[j];
            } else if (c->type == BUBBLE_COLUMN_STRING && c->str[j].data) {
                sum += strlen(c->str[j].data) == c->str[j].len ? 0 : 1;
            }
        }
        (void) sum;
    }

    h = 0xcbf29ce484222325ULL;
    bubble_chart_digest(chart, fuzz_digest_update, &h);

    bubble_estimate(chart, &est);
    fuzz_check(est.total > 0);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t                 cut1, cut2;
    fuzz_arena_t           arena;
    bubble_error_t         err1, err2;
    bubble_chart_t        *c1, *c2;
    bubble_limits_t        limits;
    bubble_allocator_t     alloc;
    bubble_spec_parser_t  *p;

    bubble_limits_default(&limits);

    /* in one piece */

    fuzz_arena_init(&arena, &alloc, 0);
    memset(&err1, 0, sizeof(bubble_error_t));

    c1 = bubble_spec_parse(&alloc, &limits, data, size, &err1);

    if (c1 == NULL) {
        fuzz_check_error(&err1, size);

    } else {
        fuzz_check_chart(c1, &limits);
    }

    fuzz_arena_destroy(&arena);

    /* in three chunks, cut where the input's length says */

    cut1 = size ? (size * 7 / 16) : 0;
    cut2 = size ? cut1 + (size - cut1) / 3 + (size % 5) : 0;
    if (cut2 > size) {
        cut2 = size;
    }

    fuzz_arena_init(&arena, &alloc, 0);
    memset(&err2, 0, sizeof(bubble_error_t));

    c2 = NULL;
    p = bubble_spec_parser_create(&alloc, &limits, &err2);
    fuzz_check(p != NULL);

    if (bubble_spec_parser_feed(p, data, cut1) == 0
        && bubble_spec_parser_feed(p, data + cut1, cut2 - cut1) == 0
        && bubble_spec_parser_feed(p, data + cut2, size - cut2) == 0)
    {
        c2 = bubble_spec_parser_finish(p);
    }

    bubble_spec_parser_destroy(p);

    fuzz_check((c1 == NULL) == (c2 == NULL));

    if (c2 == NULL) {
        fuzz_check_error(&err2, size);
        fuzz_check(err1.status == err2.status);
        fuzz_check(strcmp(err1.code, err2.code) == 0);
        fuzz_check(strcmp(err1.path, err2.path) == 0);
    }

    fuzz_arena_destroy(&arena);

    return 0;
}

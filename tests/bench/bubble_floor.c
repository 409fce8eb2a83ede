/*
 * The in-process floor: the core rendering a spec in a loop, no HTTP.
 *
 *   bubble_floor SPEC.json FORMAT(png|svg|pdf) SECONDS [THREADS]
 *
 * Prints charts/s and the median/p95 ms per chart.  Each render gets a
 * fresh arena, freed at once afterwards, as a request's pool would be.
 */

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bubble.h"


typedef struct arena_block_s  arena_block_t;

struct arena_block_s {
    arena_block_t  *next;
};

typedef struct {
    arena_block_t  *blocks;
} arena_t;


static void *
arena_alloc(void *data, size_t size)
{
    arena_t        *a = data;
    arena_block_t  *b;

    b = malloc(sizeof(arena_block_t) + size + 16);
    if (b == NULL) {
        return NULL;
    }

    b->next = a->blocks;
    a->blocks = b;

    return (u_char *) b + 16;
}


static void
arena_free_all(arena_t *a)
{
    arena_block_t  *b, *next;

    for (b = a->blocks; b; b = next) {
        next = b->next;
        free(b);
    }

    a->blocks = NULL;
}


typedef struct {
    const u_char   *spec;
    size_t          len;
    int             format;
    double          seconds;
    double         *ms;
    size_t          n;
    size_t          cap;
} job_t;


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void *
run(void *data)
{
    job_t               *job = data;
    arena_t              arena;
    double               start, t0, t1;
    bubble_error_t       err;
    bubble_chart_t      *chart;
    bubble_limits_t      limits;
    bubble_output_t      out;
    bubble_allocator_t   alloc;

    bubble_limits_default(&limits);
    memset(&arena, 0, sizeof(arena));
    alloc.alloc = arena_alloc;
    alloc.free = NULL;
    alloc.data = &arena;

    start = now();

    while (now() - start < job->seconds && job->n < job->cap) {
        t0 = now();
        memset(&err, 0, sizeof(err));

        chart = bubble_spec_parse(&alloc, &limits, job->spec, job->len, &err);
        if (chart == NULL) {
            fprintf(stderr, "spec: %s\n", err.message);
            exit(1);
        }

        chart->format = job->format;

        if (bubble_render(&alloc, chart, &out, &err) != 0) {
            fprintf(stderr, "render: %s\n", err.message);
            exit(1);
        }

        arena_free_all(&arena);
        t1 = now();
        job->ms[job->n++] = (t1 - t0) * 1000;
    }

    return NULL;
}


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


int
main(int argc, char **argv)
{
    int         i, threads, format;
    FILE       *f;
    long        len;
    u_char     *spec;
    size_t      total, k;
    double      seconds, start, elapsed, *all;
    job_t      *jobs;
    pthread_t  *tids;

    if (argc < 4) {
        fprintf(stderr, "usage: %s SPEC.json png|svg|pdf SECONDS [THREADS]\n",
                argv[0]);
        return 2;
    }

    f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }

    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    spec = malloc(len);
    if (spec == NULL || fread(spec, 1, len, f) != (size_t) len) {
        return 2;
    }
    fclose(f);

    format = strcmp(argv[2], "svg") == 0 ? BUBBLE_FORMAT_SVG
             : strcmp(argv[2], "pdf") == 0 ? BUBBLE_FORMAT_PDF
             : BUBBLE_FORMAT_PNG;
    seconds = atof(argv[3]);
    threads = argc > 4 ? atoi(argv[4]) : 1;

    bubble_warm_up();

    jobs = calloc(threads, sizeof(job_t));
    tids = calloc(threads, sizeof(pthread_t));

    for (i = 0; i < threads; i++) {
        jobs[i].spec = spec;
        jobs[i].len = len;
        jobs[i].format = format;
        jobs[i].seconds = seconds;
        jobs[i].cap = 1000000;
        jobs[i].ms = malloc(jobs[i].cap * sizeof(double));
    }

    start = now();

    for (i = 0; i < threads; i++) {
        pthread_create(&tids[i], NULL, run, &jobs[i]);
    }

    total = 0;
    for (i = 0; i < threads; i++) {
        pthread_join(tids[i], NULL);
        total += jobs[i].n;
    }

    elapsed = now() - start;

    all = malloc(total * sizeof(double));
    for (i = 0, k = 0; i < threads; i++) {
        memcpy(all + k, jobs[i].ms, jobs[i].n * sizeof(double));
        k += jobs[i].n;
    }

    qsort(all, total, sizeof(double), cmp_double);

    printf("%s %s threads=%d charts=%zu charts/s=%.1f median_ms=%.2f "
           "p95_ms=%.2f\n", argv[1], argv[2], threads, total,
           total / elapsed, all[total / 2], all[(size_t) (total * 0.95)]);

    return 0;
}

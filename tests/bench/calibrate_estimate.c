/*
 * Calibration of the render memory estimate (core/bubble_estimate.c).
 *
 * One render per process: read the spec, warm up (fontconfig, pango, and a
 * tiny render of the same format, so code pages and caches a long-lived
 * worker already has are not counted), reset the peak RSS
 * (/proc/self/clear_refs "5"), then parse + estimate + render and read
 * VmHWM.  The measured peak is VmHWM - VmRSS before the parse: resident
 * bytes, what the memory cgroup is charged.  malloc is set up as in
 * ngx_http_bubble_init_process(), and the allocator imitates an nginx pool
 * (small blocks from 16 KiB chunks, large ones malloc()ed, freed early).
 *
 *   calibrate_estimate SPEC.json [WIDTH HEIGHT SCALE FORMAT]
 *
 * prints one line:
 *   name w h scale format rows elements estimate measured out_bytes ms
 *   render_cpu_ms render_wall_ms time_estimate_ms
 * (the last three: bubble_render() alone, its CPU time and wall time, and
 * bubble_estimate()'s time).  tests/bench/calibrate_estimate.sh runs the
 * tables of docs/memory.md.
 */

#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bubble.h"
#include "bubble_estimate.h"


#define POOL_CHUNK   (16 * 1024)
#define POOL_MAX     4095


typedef struct large_s  large_t;

struct large_s {
    large_t    *next;
    void       *p;
};

typedef struct {
    u_char     *last;
    u_char     *end;
    void       *chunks;     /* list of chunks, first word links */
    large_t    *large;
} pool_t;


static void *
pool_alloc(void *data, size_t size)
{
    u_char   *c;
    pool_t   *pool = data;
    large_t  *l;

    if (size > POOL_MAX) {
        l = pool_alloc(pool, sizeof(large_t));
        if (l == NULL) {
            return NULL;
        }

        l->p = malloc(size);
        if (l->p == NULL) {
            return NULL;
        }

        l->next = pool->large;
        pool->large = l;
        return l->p;
    }

    size = (size + 15) & ~(size_t) 15;

    if (pool->last == NULL || pool->last + size > pool->end) {
        c = malloc(POOL_CHUNK);
        if (c == NULL) {
            return NULL;
        }

        *(void **) c = pool->chunks;
        pool->chunks = c;
        pool->last = c + 16;
        pool->end = c + POOL_CHUNK;
    }

    c = pool->last;
    pool->last += size;

    return c;
}


static void
pool_free(void *data, void *p)
{
    pool_t   *pool = data;
    large_t  *l;

    for (l = pool->large; l; l = l->next) {
        if (l->p == p) {
            free(p);
            l->p = NULL;
            return;
        }
    }
}


static size_t
status_kb(const char *key)
{
    char    line[256];
    size_t  len, kb;
    FILE   *f;

    f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        perror("/proc/self/status");
        exit(2);
    }

    kb = 0;
    len = strlen(key);

    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, len) == 0 && line[len] == ':') {
            kb = strtoul(line + len + 1, NULL, 10);
            break;
        }
    }

    fclose(f);

    return kb;
}


static void
reset_peak(void)
{
    int  fd;

    fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd == -1 || write(fd, "5", 1) != 1) {
        perror("/proc/self/clear_refs");
        exit(2);
    }

    close(fd);
}


static u_char *
read_spec(const char *path, size_t *len)
{
    long     n;
    FILE    *f;
    u_char  *buf;

    f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }

    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);

    buf = malloc(n + 1);
    if (buf == NULL || fread(buf, 1, n, f) != (size_t) n) {
        fprintf(stderr, "%s: read failed\n", path);
        exit(2);
    }

    fclose(f);
    *len = n;

    return buf;
}


static const char *formats[] = { "png", "svg", "pdf" };


int
main(int argc, char **argv)
{
    int                 fmt;
    char                name[64];
    const char         *p, *slash;
    u_char             *spec;
    size_t              len, base, peak;
    double              ms;
    pool_t              warm_pool, pool;
    bubble_chart_t     *chart, warm;
    bubble_error_t      err;
    bubble_limits_t     limits;
    bubble_output_t     out;
    struct timespec     t0, t1, r0, r1, c0, c1;
    bubble_allocator_t  a;
    bubble_estimate_t   est;
    static const u_char tiny[] = "{\"width\":320,\"height\":240,"
        "\"title\":\"Warm-up \u6f22\u5b57 \ud55c\uae00\",\"data\":{\"x\":[1,2],\"y\":[1,2],"
        "\"size\":[1,2],\"color\":[\"a\",\"b\"],"
        "\"label\":[\"a\",\"b\"]}}";

    if (argc != 2 && argc != 6) {
        fprintf(stderr, "usage: %s SPEC.json [WIDTH HEIGHT SCALE "
                "png|svg|pdf]\n", argv[0]);
        return 2;
    }

    /* as ngx_http_bubble_init_process() */
    mallopt(M_MMAP_THRESHOLD, 8 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
    mallopt(M_ARENA_MAX, 1);

    spec = read_spec(argv[1], &len);

    bubble_limits_default(&limits);
    limits.max_pixels = 64 * 1024 * 1024;

    fmt = argc == 6 ? -1 : 0;

    if (argc == 6) {
        for (fmt = 0; fmt < 3; fmt++) {
            if (strcmp(argv[5], formats[fmt]) == 0) {
                break;
            }
        }

        if (fmt == 3) {
            fprintf(stderr, "unknown format \"%s\"\n", argv[5]);
            return 2;
        }
    }

    /* warm up: fonts, and the code paths of this format */

    bubble_warm_up();

    memset(&warm_pool, 0, sizeof(pool_t));
    a.alloc = pool_alloc;
    a.free = pool_free;
    a.data = &warm_pool;

    memset(&err, 0, sizeof(bubble_error_t));
    chart = bubble_spec_parse(&a, &limits, tiny, sizeof(tiny) - 1, &err);
    if (chart == NULL) {
        fprintf(stderr, "warm-up spec: %s\n", err.message);
        return 2;
    }

    warm = *chart;
    if (argc == 6) {
        warm.format = fmt;
    }

    /* CALIBRATE_COLD=1: no warm-up render (first-use costs included) */
    if (getenv("CALIBRATE_COLD") == NULL
        && bubble_render(&a, &warm, &out, &err) != 0)
    {
        fprintf(stderr, "warm-up render: %s\n", err.message);
        return 2;
    }

    /* the warm-up's memory stays: a worker keeps its own too */

    malloc_trim(0);
    reset_peak();
    base = status_kb("VmRSS");

    /* measured: parse, estimate, render */

    clock_gettime(CLOCK_MONOTONIC, &t0);

    memset(&pool, 0, sizeof(pool_t));
    a.data = &pool;
    memset(&err, 0, sizeof(bubble_error_t));
    err.offset = -1;

    chart = bubble_spec_parse(&a, &limits, spec, len, &err);
    if (chart == NULL) {
        fprintf(stderr, "%s: %s\n", argv[1], err.message);
        return 2;
    }

    if (argc == 6) {
        chart->width = atoi(argv[2]);
        chart->height = atoi(argv[3]);
        chart->scale = atof(argv[4]);
        chart->format = fmt;
    }

    /* CALIBRATE_PNG_SMALL=1: zlib's encoder (bubble_png_compression small) */
    p = getenv("CALIBRATE_PNG_SMALL");
    if (p != NULL && *p != '\0') {
        chart->png_small = 1;
    }

    bubble_estimate(chart, &est);

    clock_gettime(CLOCK_MONOTONIC, &r0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);

    if (bubble_render(&a, chart, &out, &err) != 0) {
        fprintf(stderr, "%s: render: %s\n", argv[1], err.message);
        return 2;
    }

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    clock_gettime(CLOCK_MONOTONIC, &r1);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    peak = status_kb("VmHWM");

    /* CALIBRATE_OUT=file: keep the output to look at */
    p = getenv("CALIBRATE_OUT");
    if (p != NULL) {
        FILE  *f = fopen(p, "wb");

        if (f == NULL || fwrite(out.data, 1, out.len, f) != out.len) {
            perror(p);
            return 2;
        }

        fclose(f);
    }

    ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;

    slash = strrchr(argv[1], '/');
    p = slash ? slash + 1 : argv[1];
    snprintf(name, sizeof(name), "%.*s", (int) strcspn(p, "."), p);

    printf("%s %d %d %g %s %zu %zu %zu %zu %zu %.1f %.1f %.1f %.1f\n", name,
           chart->width, chart->height, chart->scale, formats[chart->format],
           chart->nrows, est.elements, est.total, (peak - base) * 1024,
           out.len, ms,
           (c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6,
           (r1.tv_sec - r0.tv_sec) * 1e3 + (r1.tv_nsec - r0.tv_nsec) / 1e6,
           est.time_us / 1e3);

    return 0;
}

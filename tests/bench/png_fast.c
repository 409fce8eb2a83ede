/*
 * The fast PNG encoder against zlib, in process (issue 17).
 *
 *   png_fast ROUNDS SPEC.json...
 *
 * For each spec (the standard workloads: tests/bench/workloads/), ROUNDS
 * rounds of: one whole render (spec -> model -> layout -> cairo -> PNG,
 * as bubble_floor does) with bubble_png_compression fast, then one with
 * small (zlib level 1), alternating so that a slow second of this shared
 * machine falls on both; then the encoders alone on the chart's pixels
 * (decoded back from the PNG: cairo's ARGB32), fast then zlib.  Times are
 * CPU ms of this thread (CLOCK_THREAD_CPUTIME_ID); it prints their
 * medians, fast/zlib ratios, MB/s of raw pixels (width x height x 4) and
 * the PNG sizes.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo.h>

#include "bubble.h"
#include "bubble_png.h"
#include "bubble_png_fast.h"


static void *
heap_alloc(void *data, size_t size)
{
    return malloc(size);
}


static void
heap_free(void *data, void *p)
{
    free(p);
}


static double
cpu_ms(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


static double
median(double *v, int n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}


typedef struct {
    const u_char  *data;
    size_t         len;
    size_t         pos;
} reader_t;


static cairo_status_t
read_cb(void *closure, unsigned char *data, unsigned int length)
{
    reader_t  *r = closure;

    if (r->len - r->pos < length) {
        return CAIRO_STATUS_READ_ERROR;
    }

    memcpy(data, r->data + r->pos, length);
    r->pos += length;

    return CAIRO_STATUS_SUCCESS;
}


/* one whole render; returns CPU ms, the PNG in *out (malloc) */

static double
render(bubble_allocator_t *a, const char *spec, size_t len, int small,
    bubble_output_t *out)
{
    double            t0, t;
    bubble_chart_t   *chart;
    bubble_error_t    err;
    bubble_limits_t   limits;

    memset(&err, 0, sizeof(err));
    bubble_limits_default(&limits);

    t0 = cpu_ms();

    chart = bubble_spec_parse(a, &limits, spec, len, &err);
    if (chart == NULL) {
        fprintf(stderr, "spec: %s\n", err.message);
        exit(1);
    }

    chart->format = BUBBLE_FORMAT_PNG;
    chart->png_small = small;

    if (bubble_render(a, chart, out, &err) != 0) {
        fprintf(stderr, "render: %s\n", err.message);
        exit(1);
    }

    t = cpu_ms() - t0;

    /* the model is not freed: a pool would drop it, this leaks per run */
    return t;
}


int
main(int argc, char **argv)
{
    int                 i, f, rounds, w, h, stride;
    char               *spec;
    long                len;
    FILE               *fp;
    double             *rf, *rz, *ef, *ez, t0, mb, m[4];
    size_t              sf, sz, esf, esz;
    reader_t            rd;
    bubble_error_t      err;
    bubble_output_t     out;
    cairo_surface_t    *s;
    bubble_allocator_t  a;

    if (argc < 3) {
        fprintf(stderr, "usage: png_fast ROUNDS SPEC.json...\n");
        return 2;
    }

    rounds = atoi(argv[1]);
    a.alloc = heap_alloc;
    a.free = heap_free;
    a.data = NULL;

    rf = malloc(rounds * sizeof(double));
    rz = malloc(rounds * sizeof(double));
    ef = malloc(rounds * sizeof(double));
    ez = malloc(rounds * sizeof(double));

    printf("kernel level %d (0 scalar, 1 SSE4.1, 2 AVX2), %d rounds, CPU ms"
           " medians\n", bubble_png_fast_isa(), rounds);
    printf("%-22s %9s %9s %6s %9s %9s %6s %8s %8s %9s %9s\n", "spec",
           "render-f", "render-z", "ratio", "enc-f", "enc-z", "ratio",
           "MB/s-f", "MB/s-z", "bytes-f", "bytes-z");

    for (f = 2; f < argc; f++) {
        fp = fopen(argv[f], "rb");
        if (fp == NULL) {
            perror(argv[f]);
            return 1;
        }

        fseek(fp, 0, SEEK_END);
        len = ftell(fp);
        rewind(fp);
        spec = malloc(len);
        if (fread(spec, 1, len, fp) != (size_t) len) {
            return 1;
        }
        fclose(fp);

        /* warm: fonts, the text cache */
        render(&a, spec, len, 0, &out);
        free(out.data);
        render(&a, spec, len, 1, &out);

        rd.data = out.data;
        rd.len = out.len;
        rd.pos = 0;
        s = cairo_image_surface_create_from_png_stream(read_cb, &rd);
        free(out.data);
        w = cairo_image_surface_get_width(s);
        h = cairo_image_surface_get_height(s);
        stride = cairo_image_surface_get_stride(s);

        sf = sz = esf = esz = 0;

        for (i = 0; i < rounds; i++) {
            rf[i] = render(&a, spec, len, 0, &out);
            sf = out.len;
            free(out.data);

            rz[i] = render(&a, spec, len, 1, &out);
            sz = out.len;
            free(out.data);

            t0 = cpu_ms();
            if (bubble_png_fast_encode(&a, cairo_image_surface_get_data(s),
                                       w, h, stride, BUBBLE_PNG_ISA_AUTO,
                                       &out, &err)
                != 0)
            {
                return 1;
            }
            ef[i] = cpu_ms() - t0;
            esf = out.len;
            free(out.data);

            t0 = cpu_ms();
            if (bubble_png_encode(&a, cairo_image_surface_get_data(s),
                                  w, h, stride, &out, &err)
                != 0)
            {
                return 1;
            }
            ez[i] = cpu_ms() - t0;
            esz = out.len;
            free(out.data);
        }

        m[0] = median(rf, rounds);
        m[1] = median(rz, rounds);
        m[2] = median(ef, rounds);
        m[3] = median(ez, rounds);
        mb = (double) w * h * 4 / 1e6;

        printf("%-22s %9.3f %9.3f %6.3f %9.3f %9.3f %6.3f %8.0f %8.0f"
               " %9zu %9zu\n",
               strrchr(argv[f], '/') ? strrchr(argv[f], '/') + 1 : argv[f],
               m[0], m[1], m[0] / m[1], m[2], m[3], m[2] / m[3],
               mb / m[2] * 1e3, mb / m[3] * 1e3, sf, sz);

        if (esf != sf || esz != sz) {
            printf("  (encoders alone on the decoded pixels: %zu, %zu"
                   " bytes)\n", esf, esz);
        }

        cairo_surface_destroy(s);
        free(spec);
    }

    return 0;
}

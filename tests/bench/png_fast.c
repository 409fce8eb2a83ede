/*
 * The fast PNG encoder against zlib and libdeflate, in process (issue 17).
 *
 *   png_fast ROUNDS SPEC.json...
 *
 * For each spec (the standard workloads: tests/bench/workloads/, and the
 * 4096 x 4096 chart tests/bench/sparse-4096.json), ROUNDS rounds of:
 *
 *   - one whole render (spec -> model -> layout -> cairo -> PNG, as
 *     bubble_floor does) with bubble_png_compression fast, then one with
 *     small (zlib level 1), alternating so that a slow second of this
 *     shared machine falls on both;
 *   - then the encoders alone on the chart's pixels (decoded back from its
 *     PNG: cairo's ARGB32), in turn: ours (bubble_png_fast.c), zlib level 1
 *     (bubble_png.c: filter None, Up for a row equal to the one above) and
 *     libdeflate level 1 with the same filter, which compresses the
 *     filtered image in one call (it cannot stream).
 *
 * Times are CPU ms of this thread (CLOCK_THREAD_CPUTIME_ID); it prints
 * their medians, MB/s of raw pixels (width x height x 4) and the PNG
 * sizes, and for tests/bench/bench.py one line "PNGFAST {json}" a spec.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo.h>
#include <libdeflate.h>
#include <zlib.h>

#include "bubble.h"
#include "bubble_png.h"
#include "bubble_png_fast.h"
#include "bubble_png_pixel.h"

#include "png_decode.h"            /* tests/unit/ */


#define ENCODERS  3                         /* ours, zlib 1, libdeflate 1 */


static const char  *enc_names[ENCODERS] = { "fast", "zlib1", "libdeflate1" };


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

    chart = bubble_spec_parse(a, &limits, (const u_char *) spec, len, &err);
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


static void
put32(u_char *p, uint32_t v)
{
    p[0] = (u_char) (v >> 24);
    p[1] = (u_char) (v >> 16);
    p[2] = (u_char) (v >> 8);
    p[3] = (u_char) v;
}


/* a chunk of n bytes at p + 8 (its length and type written here) */

static size_t
chunk(u_char *p, const char *type, size_t n)
{
    put32(p, (uint32_t) n);
    memcpy(p + 4, type, 4);
    put32(p + 8 + n, crc32(0, p + 4, (uInt) n + 4));

    return n + 12;
}


/*
 * bubble_png.c's PNG with libdeflate instead of zlib: rows packed as
 * cairo's writer does, filter None (Up for a row equal to the one above),
 * the whole filtered image compressed in one call.
 */

static int
enc_libdeflate(const u_char *px, int w, int h, int stride,
    bubble_output_t *out)
{
    int                             x, y, opaque, bpp;
    size_t                          n, raw, bound, z, len;
    u_char                         *f, *row, *last, *png;
    uint32_t                        p;
    struct libdeflate_compressor   *c;

    opaque = 1;
    for (y = 0; y < h && opaque; y++) {
        for (x = 0; x < w; x++) {
            opaque &= (((const uint32_t *) (px + (size_t) y * stride))[x]
                       >> 24) == 255;
        }
    }

    bpp = opaque ? 3 : 4;
    n = (size_t) w * bpp;
    raw = (n + 1) * h;
    f = malloc(raw + 4);
    last = malloc(n);

    for (y = 0; y < h; y++) {
        row = f + (n + 1) * y + 1;

        for (x = 0; x < w; x++) {
            p = ((const uint32_t *) (px + (size_t) y * stride))[x];

            if (opaque) {
                row[3 * x] = (u_char) (p >> 16);
                row[3 * x + 1] = (u_char) (p >> 8);
                row[3 * x + 2] = (u_char) p;

            } else {
                bubble_png_unpremultiply(p, row + 4 * x);
            }
        }

        row[-1] = 0;

        if (y > 0 && memcmp(row, last, n) == 0) {
            row[-1] = 2;
            memset(row, 0, n);

        } else {
            memcpy(last, row, n);
        }
    }

    free(last);

    c = libdeflate_alloc_compressor(1);
    bound = libdeflate_zlib_compress_bound(c, raw);
    png = malloc(8 + 25 + 12 + bound + 12);

    z = libdeflate_zlib_compress(c, f, raw, png + 8 + 25 + 8, bound);
    libdeflate_free_compressor(c);
    free(f);

    if (z == 0) {
        free(png);
        return -1;
    }

    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    put32(png + 16, (uint32_t) w);
    put32(png + 20, (uint32_t) h);
    png[24] = 8;
    png[25] = opaque ? 2 : 6;
    png[26] = png[27] = png[28] = 0;
    len = 8 + chunk(png + 8, "IHDR", 13);
    len += chunk(png + len, "IDAT", z);
    len += chunk(png + len, "IEND", 0);

    out->data = png;
    out->len = len;

    return 0;
}


static int
encode(int e, bubble_allocator_t *a, const u_char *px, int w, int h,
    int stride, bubble_output_t *out)
{
    bubble_error_t  err;

    memset(&err, 0, sizeof(err));

    switch (e) {
    case 0:
        return bubble_png_fast_encode(a, px, w, h, stride,
                                      BUBBLE_PNG_ISA_AUTO, out, &err);
    case 1:
        return bubble_png_encode(a, px, w, h, stride, out, &err);
    default:
        return enc_libdeflate(px, w, h, stride, out);
    }
}


int
main(int argc, char **argv)
{
    int                 i, e, f, rounds, w, h, stride;
    char               *spec, *name;
    long                len;
    FILE               *fp;
    double             *rf, *rz, *t[ENCODERS], t0, mb, m[2], me[ENCODERS];
    size_t              sf, sz, size[ENCODERS];
    bubble_output_t     out;
    cairo_surface_t    *s;
    const u_char       *px;
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

    for (e = 0; e < ENCODERS; e++) {
        t[e] = malloc(rounds * sizeof(double));
    }

    printf("kernel level %d (0 scalar, 1 SSE4.1, 2 AVX2), %d rounds, CPU ms"
           " medians; MB/s of raw ARGB32 pixels\n", bubble_png_fast_isa(),
           rounds);
    printf("%-18s %9s %9s %7s | %8s %8s %8s | %8s %8s %8s | %9s %9s %9s\n",
           "spec", "render-f", "render-z", "f/z", "enc-f", "zlib-1",
           "ldf-1", "MB/s-f", "zlib-1", "ldf-1", "bytes-f", "zlib-1",
           "ldf-1");

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

        name = strrchr(argv[f], '/') ? strrchr(argv[f], '/') + 1 : argv[f];

        /* warm: fonts, the text cache */
        render(&a, spec, len, 0, &out);
        free(out.data);
        render(&a, spec, len, 1, &out);

        s = png_decode(out.data, out.len, NULL);
        free(out.data);
        w = cairo_image_surface_get_width(s);
        h = cairo_image_surface_get_height(s);
        stride = cairo_image_surface_get_stride(s);
        px = cairo_image_surface_get_data(s);

        /* warm: each encoder's first buffers */
        for (e = 0; e < ENCODERS; e++) {
            if (encode(e, &a, px, w, h, stride, &out) != 0) {
                return 1;
            }
            free(out.data);
        }

        sf = sz = 0;

        for (i = 0; i < rounds; i++) {
            rf[i] = render(&a, spec, len, 0, &out);
            sf = out.len;
            free(out.data);

            rz[i] = render(&a, spec, len, 1, &out);
            sz = out.len;
            free(out.data);

            for (e = 0; e < ENCODERS; e++) {
                t0 = cpu_ms();
                if (encode(e, &a, px, w, h, stride, &out) != 0) {
                    return 1;
                }
                t[e][i] = cpu_ms() - t0;
                size[e] = out.len;
                free(out.data);
            }
        }

        m[0] = median(rf, rounds);
        m[1] = median(rz, rounds);
        mb = (double) w * h * 4 / 1e6;

        for (e = 0; e < ENCODERS; e++) {
            me[e] = median(t[e], rounds);
        }

        printf("%-18.18s %9.3f %9.3f %7.3f | %8.3f %8.3f %8.3f | %8.0f %8.0f"
               " %8.0f | %9zu %9zu %9zu\n", name, m[0], m[1], m[0] / m[1],
               me[0], me[1], me[2], mb / me[0] * 1e3, mb / me[1] * 1e3,
               mb / me[2] * 1e3, size[0], size[1], size[2]);

        if (size[0] != sf || size[1] != sz) {
            printf("  (the renders' PNGs: %zu, %zu bytes)\n", sf, sz);
        }

        printf("PNGFAST {\"spec\": \"%s\", \"width\": %d, \"height\": %d, "
               "\"rounds\": %d, \"render_fast_ms\": %.3f, "
               "\"render_zlib_ms\": %.3f, \"render_fast_bytes\": %zu, "
               "\"render_zlib_bytes\": %zu, \"encoders\": {",
               name, w, h, rounds, m[0], m[1], sf, sz);

        for (e = 0; e < ENCODERS; e++) {
            printf("%s\"%s\": {\"ms\": %.3f, \"mb_s\": %.0f, \"bytes\": %zu}",
                   e ? ", " : "", enc_names[e], me[e], mb / me[e] * 1e3,
                   size[e]);
        }

        printf("}}\n");
        fflush(stdout);

        cairo_surface_destroy(s);
        free(spec);
    }

    return 0;
}

/*
 * PNG encoders compared on the pixels of a real chart.
 *
 *   png_encoders SPEC.json OUTDIR ITERATIONS [FILTER]
 *
 * Renders the spec once (layout -> SVG -> librsvg -> cairo ARGB32, as
 * bubble_raster.c does), then encodes the same pixels with every variant
 * whose name contains FILTER (all when absent), ITERATIONS times each, and
 * prints one line a variant: median ms, bytes.  FILTER is a comma-separated
 * list of name substrings, or "=NAME" for exactly one.  One output per variant is
 * written to OUTDIR/NAME.png so that tests/bench/png_check.py can decode it
 * with Pillow and compare it with cairo's.  Times are CPU ms of the
 * encoding thread (median and least).  For instruction counts, which other
 * processes on a shared machine do not change, run one variant under
 * callgrind (tests/bench/png_encoders.sh does).
 *
 * Variants:
 *   cairo                         cairo_surface_write_to_png_stream
 *   png-{rgb,rgba}-zL-S-F         libpng, zlib level L, strategy S
 *                                 (def, filt, rle), filter F (none, sub, up,
 *                                 paeth, all; nu: none or up by libpng's
 *                                 heuristic; eq: up when the row equals
 *                                 the one above, else none)
 *   spng-rgb-zL-S-F               libspng (zlib underneath)
 *   zlib-rgb-zL-S-F               our own filter + zlib deflate, no libpng
 *   ldf-rgb-dL-F                  our own filter + libdeflate level L, the
 *                                 whole image in one call
 *   ours                          ngx_bubble_module/core/bubble_png.c
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo.h>
#include <librsvg/rsvg.h>
#include <png.h>
#include <spng.h>
#include <libdeflate.h>
#include <zlib.h>

#include "bubble.h"
#include "bubble_dlist.h"


/* a growable output buffer */

typedef struct {
    u_char  *data;
    size_t   len;
    size_t   size;
} buf_t;


static void
buf_put(buf_t *b, const void *p, size_t n)
{
    if (b->len + n > b->size) {
        b->size = b->size ? b->size : 65536;
        while (b->size < b->len + n) {
            b->size *= 2;
        }
        b->data = realloc(b->data, b->size);
    }

    memcpy(b->data + b->len, p, n);
    b->len += n;
}


static void
buf_put32(buf_t *b, uint32_t v)
{
    u_char  p[4] = { v >> 24, v >> 16, v >> 8, v };

    buf_put(b, p, 4);
}


typedef struct {
    const uint32_t  *px;          /* cairo ARGB32, premultiplied */
    int              w, h, stride;
    int              opaque;
} image_t;


enum { F_NONE = 0, F_SUB, F_UP, F_PAETH, F_ALL, F_NU, F_EQ, F_N };
static const char *fname[] = { "none", "sub", "up", "paeth", "all", "nu",
                               "eq" };
enum { S_DEF = 0, S_FILT, S_RLE };
static const char *sname[] = { "def", "filt", "rle" };
static const int szlib[] = { Z_DEFAULT_STRATEGY, Z_FILTERED, Z_RLE };


/* ARGB32 premultiplied -> RGB(A) straight, unpremultiplying only alpha<255 */

static void
convert_row(const uint32_t *src, int w, u_char *dst, int rgba)
{
    int       x;
    uint32_t  p, a;

    for (x = 0; x < w; x++) {
        p = src[x];
        a = p >> 24;

        if (a == 255) {
            dst[0] = p >> 16;
            dst[1] = p >> 8;
            dst[2] = p;

        } else if (a == 0) {
            dst[0] = dst[1] = dst[2] = 0;

        } else {
            dst[0] = (((p >> 16) & 0xff) * 255 + a / 2) / a;
            dst[1] = (((p >> 8) & 0xff) * 255 + a / 2) / a;
            dst[2] = ((p & 0xff) * 255 + a / 2) / a;
        }

        if (rgba) {
            dst[3] = a;
            dst += 4;
        } else {
            dst += 3;
        }
    }
}


static int
image_opaque(const image_t *im)
{
    int              x, y;
    uint32_t         acc;
    const uint32_t  *row;

    for (y = 0; y < im->h; y++) {
        row = (const uint32_t *) ((const u_char *) im->px + y * im->stride);
        acc = 0xff000000;
        for (x = 0; x < im->w; x++) {
            acc &= row[x];
        }
        if ((acc >> 24) != 0xff) {
            return 0;
        }
    }

    return 1;
}


/* cairo */

static cairo_status_t
cairo_write(void *closure, const unsigned char *data, unsigned int length)
{
    buf_put(closure, data, length);
    return CAIRO_STATUS_SUCCESS;
}


static int
enc_cairo(cairo_surface_t *s, buf_t *b)
{
    return cairo_surface_write_to_png_stream(s, cairo_write, b)
           == CAIRO_STATUS_SUCCESS ? 0 : -1;
}


/* libpng */

static void
png_write(png_structp png, png_bytep data, png_size_t len)
{
    buf_put(png_get_io_ptr(png), data, len);
}


static void
png_flush(png_structp png)
{
}


static int
enc_libpng(const image_t *im, buf_t *b, int rgba, int level, int strat,
    int filter)
{
    int               y, bpp;
    u_char           *row;
    png_structp       png;
    png_infop         info;
    static const int  pf[] = { PNG_FILTER_NONE, PNG_FILTER_SUB, PNG_FILTER_UP,
                               PNG_FILTER_PAETH, PNG_ALL_FILTERS,
                               PNG_FILTER_NONE | PNG_FILTER_UP, 0 };

    if (filter == F_EQ) {
        return -1;
    }

    bpp = rgba ? 4 : 3;
    row = malloc((size_t) im->w * bpp);

    png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    info = png_create_info_struct(png);

    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(row);
        return -1;
    }

    png_set_write_fn(png, b, png_write, png_flush);
    png_set_IHDR(png, info, im->w, im->h, 8,
                 rgba ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(png, level);
    png_set_compression_strategy(png, szlib[strat]);
    png_set_filter(png, 0, pf[filter]);
    png_set_compression_buffer_size(png, 65536);
    png_write_info(png, info);

    for (y = 0; y < im->h; y++) {
        convert_row((const uint32_t *) ((const u_char *) im->px
                                        + (size_t) y * im->stride),
                    im->w, row, rgba);
        png_write_row(png, row);
    }

    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);

    return 0;
}


/* libspng */

static int
spng_write(spng_ctx *ctx, void *user, void *data, size_t len)
{
    buf_put(user, data, len);
    return 0;
}


static int
enc_spng(const image_t *im, buf_t *b, int level, int strat, int filter)
{
    int               y, rc;
    u_char           *row;
    spng_ctx         *ctx;
    struct spng_ihdr  ihdr;
    static const int  sf[] = { SPNG_FILTER_CHOICE_NONE,
                               SPNG_FILTER_CHOICE_SUB,
                               SPNG_FILTER_CHOICE_UP,
                               SPNG_FILTER_CHOICE_PAETH,
                               SPNG_FILTER_CHOICE_ALL,
                               SPNG_FILTER_CHOICE_NONE
                               | SPNG_FILTER_CHOICE_UP, 0 };

    if (filter == F_EQ) {
        return -1;
    }

    row = malloc((size_t) im->w * 3);
    ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    spng_set_png_stream(ctx, spng_write, b);

    memset(&ihdr, 0, sizeof(ihdr));
    ihdr.width = im->w;
    ihdr.height = im->h;
    ihdr.bit_depth = 8;
    ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR;
    spng_set_ihdr(ctx, &ihdr);
    spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, level);
    spng_set_option(ctx, SPNG_IMG_COMPRESSION_STRATEGY, szlib[strat]);
    spng_set_option(ctx, SPNG_FILTER_CHOICE, sf[filter]);

    rc = spng_encode_image(ctx, NULL, 0, SPNG_FMT_PNG,
                           SPNG_ENCODE_PROGRESSIVE | SPNG_ENCODE_FINALIZE);

    for (y = 0; rc == 0 && y < im->h; y++) {
        convert_row((const uint32_t *) ((const u_char *) im->px
                                        + (size_t) y * im->stride),
                    im->w, row, 0);
        rc = spng_encode_row(ctx, row, (size_t) im->w * 3);
    }

    if (rc == SPNG_EOI) {
        rc = 0;
    }

    spng_ctx_free(ctx);
    free(row);

    return rc ? -1 : 0;
}


/* our own filtering */

static inline u_char
paeth(int a, int b, int c)
{
    int  p, pa, pb, pc;

    p = a + b - c;
    pa = abs(p - a);
    pb = abs(p - b);
    pc = abs(p - c);

    return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}


/* out: 1 + n bytes (filter type, filtered row); prev NULL: first row */

static void
filter_row(int f, const u_char *cur, const u_char *prev, size_t n, int bpp,
    u_char *out)
{
    size_t  i;

    out[0] = f == F_PAETH ? 4 : f;        /* PNG's types: 3 is Average */
    out++;

    switch (f) {

    case F_NONE:
        memcpy(out, cur, n);
        break;

    case F_SUB:
        memcpy(out, cur, bpp);
        for (i = bpp; i < n; i++) {
            out[i] = cur[i] - cur[i - bpp];
        }
        break;

    case F_UP:
        for (i = 0; i < n; i++) {
            out[i] = cur[i] - prev[i];
        }
        break;

    case F_PAETH:
        for (i = 0; i < (size_t) bpp; i++) {
            out[i] = cur[i] - prev[i];
        }
        for (i = bpp; i < n; i++) {
            out[i] = cur[i] - paeth(cur[i - bpp], prev[i], prev[i - bpp]);
        }
        break;
    }
}


static size_t
row_cost(const u_char *p, size_t n)
{
    size_t  i, s;

    for (i = 0, s = 0; i < n; i++) {
        s += p[i] < 128 ? p[i] : 256 - p[i];
    }

    return s;
}


/*
 * Filters row y into out (1 + n bytes).  F_ALL: the filter with the least
 * sum of absolute differences (libpng's heuristic), tried in tmp.
 */

static void
filter_choose(int filter, const u_char *cur, const u_char *prev, size_t n,
    int bpp, u_char *out, u_char *tmp)
{
    int     f;
    size_t  c, best;

    if (prev == NULL) {
        filter_row(filter == F_NONE ? F_NONE : F_SUB, cur, NULL, n, bpp, out);
        return;
    }

    if (filter == F_EQ) {
        filter_row(memcmp(cur, prev, n) == 0 ? F_UP : F_NONE, cur, prev, n,
                   bpp, out);
        return;
    }

    if (filter == F_NU) {
        filter_row(F_NONE, cur, prev, n, bpp, out);
        best = row_cost(out + 1, n);
        filter_row(F_UP, cur, prev, n, bpp, tmp);
        if (row_cost(tmp + 1, n) < best) {
            memcpy(out, tmp, n + 1);
        }
        return;
    }

    if (filter != F_ALL) {
        filter_row(filter, cur, prev, n, bpp, out);
        return;
    }

    filter_row(F_NONE, cur, prev, n, bpp, out);
    best = row_cost(out + 1, n);

    for (f = F_SUB; f <= F_PAETH; f++) {
        filter_row(f, cur, prev, n, bpp, tmp);
        c = row_cost(tmp + 1, n);
        if (c < best) {
            best = c;
            memcpy(out, tmp, n + 1);
        }
    }
}


static void
png_chunk(buf_t *b, const char *type, const u_char *data, size_t len)
{
    uint32_t  crc;

    buf_put32(b, len);
    buf_put(b, type, 4);
    crc = crc32(0, (const u_char *) type, 4);
    if (len) {
        buf_put(b, data, len);
        crc = crc32(crc, data, len);
    }
    buf_put32(b, crc);
}


static void
png_head(buf_t *b, int w, int h, int rgba)
{
    u_char  ihdr[13];

    buf_put(b, "\x89PNG\r\n\x1a\n", 8);

    ihdr[0] = w >> 24; ihdr[1] = w >> 16; ihdr[2] = w >> 8; ihdr[3] = w;
    ihdr[4] = h >> 24; ihdr[5] = h >> 16; ihdr[6] = h >> 8; ihdr[7] = h;
    ihdr[8] = 8;
    ihdr[9] = rgba ? 6 : 2;
    ihdr[10] = ihdr[11] = ihdr[12] = 0;
    png_chunk(b, "IHDR", ihdr, 13);
}


/* our filter + zlib deflate, streaming: IDAT chunks of 64 KiB */

static int
enc_zlib(const image_t *im, buf_t *b, int rgba, int level, int strat,
    int filter)
{
    int        y, bpp, flush;
    size_t     n;
    u_char    *cur, *prev, *t, *frow, *tmp, idat[65536];
    z_stream   zs;

    bpp = rgba ? 4 : 3;
    n = (size_t) im->w * bpp;
    cur = malloc(n);
    prev = malloc(n);
    frow = malloc(n + 1);
    tmp = malloc(n + 1);

    memset(&zs, 0, sizeof(zs));
    deflateInit2(&zs, level, Z_DEFLATED, 15, 8, szlib[strat]);

    png_head(b, im->w, im->h, rgba);

    zs.next_out = idat;
    zs.avail_out = sizeof(idat);

    for (y = 0; y < im->h; y++) {
        convert_row((const uint32_t *) ((const u_char *) im->px
                                        + (size_t) y * im->stride),
                    im->w, cur, rgba);
        filter_choose(filter, cur, y ? prev : NULL, n, bpp, frow, tmp);

        zs.next_in = frow;
        zs.avail_in = n + 1;
        flush = (y == im->h - 1) ? Z_FINISH : Z_NO_FLUSH;

        for ( ;; ) {
            int rc = deflate(&zs, flush);

            if (zs.avail_out == 0) {
                png_chunk(b, "IDAT", idat, sizeof(idat));
                zs.next_out = idat;
                zs.avail_out = sizeof(idat);
                continue;
            }

            if (flush == Z_FINISH ? rc == Z_STREAM_END : zs.avail_in == 0) {
                break;
            }
        }

        t = prev; prev = cur; cur = t;
    }

    if (zs.avail_out < sizeof(idat)) {
        png_chunk(b, "IDAT", idat, sizeof(idat) - zs.avail_out);
    }

    png_chunk(b, "IEND", NULL, 0);

    deflateEnd(&zs);
    free(cur); free(prev); free(frow); free(tmp);

    return 0;
}


/* our filter + libdeflate: the whole filtered image, one call */

static int
enc_libdeflate(const image_t *im, buf_t *b, int rgba, int level, int filter)
{
    int                             y, bpp;
    size_t                          n, raw, bound, z;
    u_char                         *filtered, *cur, *prev, *t, *tmp, *out;
    struct libdeflate_compressor   *c;

    bpp = rgba ? 4 : 3;
    n = (size_t) im->w * bpp;
    raw = (n + 1) * im->h;
    filtered = malloc(raw);
    cur = malloc(n);
    prev = malloc(n);
    tmp = malloc(n + 1);

    for (y = 0; y < im->h; y++) {
        convert_row((const uint32_t *) ((const u_char *) im->px
                                        + (size_t) y * im->stride),
                    im->w, cur, rgba);
        filter_choose(filter, cur, y ? prev : NULL, n, bpp,
                      filtered + (n + 1) * y, tmp);
        t = prev; prev = cur; cur = t;
    }

    c = libdeflate_alloc_compressor(level);
    bound = libdeflate_zlib_compress_bound(c, raw);
    out = malloc(bound);
    z = libdeflate_zlib_compress(c, filtered, raw, out, bound);
    libdeflate_free_compressor(c);

    png_head(b, im->w, im->h, rgba);
    png_chunk(b, "IDAT", out, z);
    png_chunk(b, "IEND", NULL, 0);

    free(out); free(filtered); free(cur); free(prev); free(tmp);

    return z ? 0 : -1;
}


/* the module's encoder */

static void *
arena_alloc(void *data, size_t size)
{
    return malloc(size);
}


#ifdef HAVE_BUBBLE_PNG
#include "bubble_png.h"

static void
arena_free(void *data, void *p)
{
    free(p);
}

static int
enc_ours(const image_t *im, buf_t *b)
{
    bubble_error_t      err;
    bubble_output_t     out;
    bubble_allocator_t  a = { arena_alloc, arena_free, NULL };

    memset(&err, 0, sizeof(err));
    if (bubble_png_encode(&a, (const u_char *) im->px, im->w, im->h,
                          im->stride, &out, &err) != 0)
    {
        fprintf(stderr, "bubble_png_encode: %s\n", err.message);
        return -1;
    }

    buf_put(b, out.data, out.len);
    free(out.data);

    return 0;
}
#endif


/*
 * CPU time of this thread: the machine may be shared, and what an encoder
 * costs is the CPU it burns, not how long it waited for a core.
 */

static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


typedef struct {
    char     name[64];
    int      kind;        /* 0 cairo, 1 libpng, 2 spng, 3 zlib, 4 ldf, 5 ours */
    int      rgba, level, strat, filter;
} variant_t;


static const char  *outdir;
static int          iterations;
static const char  *only;


/*
 * FILTER: comma-separated substrings, any of which selects a variant;
 * "=name" selects that name only
 */

static int
matches(const char *name)
{
    char        word[64];
    const char  *p, *e;

    for (p = only; *p; p = *e ? e + 1 : e) {
        e = strchr(p, ',');
        if (e == NULL) {
            e = p + strlen(p);
        }
        snprintf(word, sizeof(word), "%.*s", (int) (e - p), p);
        if (word[0] == '=' ? strcmp(name, word + 1) == 0
                           : word[0] && strstr(name, word) != NULL)
        {
            return 1;
        }
    }

    return 0;
}


static void
run(variant_t *v, const image_t *im, cairo_surface_t *s)
{
    int      i, rc;
    buf_t    b;
    char     path[512];
    double   t0, ms[64];
    FILE    *f;

    if (only && !matches(v->name)) {
        return;
    }

    memset(&b, 0, sizeof(b));

    for (i = 0; i < iterations; i++) {
        b.len = 0;
        t0 = now();

        switch (v->kind) {
        case 0: rc = enc_cairo(s, &b); break;
        case 1: rc = enc_libpng(im, &b, v->rgba, v->level, v->strat,
                                v->filter); break;
        case 2: rc = enc_spng(im, &b, v->level, v->strat, v->filter); break;
        case 3: rc = enc_zlib(im, &b, v->rgba, v->level, v->strat,
                              v->filter); break;
        case 4: rc = enc_libdeflate(im, &b, v->rgba, v->level, v->filter);
                break;
#ifdef HAVE_BUBBLE_PNG
        case 5: rc = enc_ours(im, &b); break;
#endif
        default: rc = -1;
        }

        ms[i] = (now() - t0) * 1000;

        if (rc != 0) {
            printf("%-28s FAILED\n", v->name);
            free(b.data);
            return;
        }
    }

    qsort(ms, iterations, sizeof(double), cmp_double);

    printf("%-28s %9.2f ms %10zu bytes  (min %.2f ms)\n",
           v->name, ms[iterations / 2], b.len, ms[0]);
    fflush(stdout);

    snprintf(path, sizeof(path), "%s/%s.png", outdir, v->name);
    f = fopen(path, "wb");
    if (f) {
        fwrite(b.data, 1, b.len, f);
        fclose(f);
    }

    free(b.data);
}


int
main(int argc, char **argv)
{
    int                  rgba, level, strat, filter, pw, ph, stride;
    FILE                *f;
    long                 len;
    u_char              *spec, *pixels;
    GError              *error;
    image_t              im;
    cairo_t             *cr;
    variant_t            v;
    RsvgHandle          *svg;
    RsvgRectangle        vp;
    bubble_error_t       err;
    bubble_chart_t      *chart;
    bubble_limits_t      limits;
    bubble_output_t      out;
    cairo_surface_t     *s;
    bubble_allocator_t   a = { arena_alloc, NULL, NULL };
    static const int     levels[] = { 1, 2, 3, 4, 6 };

    if (argc < 4) {
        fprintf(stderr, "usage: %s SPEC.json OUTDIR ITERATIONS [FILTER]\n",
                argv[0]);
        return 2;
    }

    outdir = argv[2];
    iterations = atoi(argv[3]);
    if (iterations < 1 || iterations > 64) {
        iterations = 5;
    }
    only = argc > 4 ? argv[4] : NULL;

    f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    spec = malloc(len);
    if (fread(spec, 1, len, f) != (size_t) len) {
        return 2;
    }
    fclose(f);

    bubble_warm_up();
    bubble_limits_default(&limits);
    memset(&err, 0, sizeof(err));

    chart = bubble_spec_parse(&a, &limits, spec, len, &err);
    if (chart == NULL || bubble_render_svg(&a, chart, &out, &err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], err.message);
        return 1;
    }

    pw = (int) lround(chart->width * chart->scale);
    ph = (int) lround(chart->height * chart->scale);
    stride = cairo_format_stride_for_width(CAIRO_FORMAT_ARGB32, pw);
    pixels = calloc((size_t) stride, ph);
    s = cairo_image_surface_create_for_data(pixels, CAIRO_FORMAT_ARGB32,
                                            pw, ph, stride);
    cr = cairo_create(s);
    cairo_scale(cr, chart->scale, chart->scale);

    error = NULL;
    svg = rsvg_handle_new_from_data(out.data, out.len, &error);
    vp.x = 0; vp.y = 0; vp.width = chart->width; vp.height = chart->height;
    if (svg == NULL || !rsvg_handle_render_document(svg, cr, &vp, &error)) {
        fprintf(stderr, "rsvg failed\n");
        return 1;
    }
    cairo_destroy(cr);
    cairo_surface_flush(s);

    im.px = (const uint32_t *) pixels;
    im.w = pw;
    im.h = ph;
    im.stride = stride;
    im.opaque = image_opaque(&im);

    printf("# %s: %dx%d px, %s, raw RGB %zu bytes\n", argv[1], pw, ph,
           im.opaque ? "opaque" : "has alpha", (size_t) pw * ph * 3);

    memset(&v, 0, sizeof(v));
    strcpy(v.name, "cairo");
    run(&v, &im, s);

#ifdef HAVE_BUBBLE_PNG
    memset(&v, 0, sizeof(v));
    v.kind = 5;
    strcpy(v.name, "ours");
    run(&v, &im, s);
#endif

    for (rgba = 0; rgba <= 1; rgba++) {
        for (level = 0; level < 5; level++) {
            for (strat = 0; strat < 3; strat++) {
                for (filter = 0; filter < F_N; filter++) {
                    v.rgba = rgba;
                    v.level = levels[level];
                    v.strat = strat;
                    v.filter = filter;

                    /* libpng and libspng choose filters themselves */
                    if (filter != F_EQ) {
                        v.kind = 1;
                        snprintf(v.name, sizeof(v.name), "png-%s-z%d-%s-%s",
                                 rgba ? "rgba" : "rgb", v.level,
                                 sname[strat], fname[filter]);
                        run(&v, &im, s);
                    }

                    if (rgba) {
                        continue;
                    }

                    if (filter != F_EQ) {
                        v.kind = 2;
                        snprintf(v.name, sizeof(v.name), "spng-rgb-z%d-%s-%s",
                                 v.level, sname[strat], fname[filter]);
                        run(&v, &im, s);
                    }

                    v.kind = 3;
                    snprintf(v.name, sizeof(v.name), "zlib-rgb-z%d-%s-%s",
                             v.level, sname[strat], fname[filter]);
                    run(&v, &im, s);
                }
            }
        }
    }

    for (rgba = 0; rgba <= 1; rgba++) {
        for (level = 1; level <= 6; level++) {
            for (filter = 0; filter < F_N; filter++) {
                v.kind = 4;
                v.rgba = rgba;
                v.level = level;
                v.filter = filter;
                snprintf(v.name, sizeof(v.name), "ldf-%s-d%d-%s",
                         rgba ? "rgba" : "rgb", level, fname[filter]);
                run(&v, &im, s);
            }
        }
    }

    cairo_surface_destroy(s);
    g_object_unref(svg);
    free(pixels);

    return 0;
}

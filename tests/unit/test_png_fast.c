/*
 * bubble_png_fast.c: cairo ARGB32 -> PNG, our deflate (bubble_png_deflate.c).
 *
 * A property, over random images: every PNG the encoder writes, for
 * random sizes from 1 x 1, random, chart-like or text-like content (glyphs
 * repeated at a distance: the match finder), opaque or not,
 *
 *   - inflates (zlib: its adler32 checked) and unfilters (all five PNG
 *     filters, by this file's own decoder) to exactly the straight-alpha
 *     pixels expected: the colour rounded as cairo's writer does;
 *   - is read back by libpng (cairo's reader) to the premultiplied pixels
 *     encoded, when colours do not exceed alpha;
 *   - is the same bytes from the scalar, SSE4.1 and AVX2 kernels;
 *   - passes pngcheck, when it is installed (Debian: pngcheck).
 *
 * Also: the adler32 kernels against zlib's; text-like images within 15%
 * of zlib's size (bubble_png.c); the working memory at 4096 px a row
 * within what bubble_estimate.c reserves; output larger than the first
 * buffer; every allocation failing in turn; bad arguments.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cairo.h>
#include <zlib.h>

#include "bubble.h"
#include "bubble_png.h"
#include "bubble_png_fast.h"
#include "bubble_png_rows.h"

#include "arena.h"
#include "png_decode.h"


#define ROUNDS  300


static uint32_t
rnd(uint32_t *state)
{
    *state = *state * 1103515245 + 12345;
    return *state >> 8;
}


static uint32_t
get32(const u_char *p)
{
    return (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}


/* straight alpha, as the encoder must write it */

static void
expect_pixel(uint32_t p, u_char *dst)
{
    uint32_t  a = p >> 24;

    if (a == 0) {
        dst[0] = dst[1] = dst[2] = 0;

    } else {
        dst[0] = (((p >> 16) & 0xff) * 255 + a / 2) / a;
        dst[1] = (((p >> 8) & 0xff) * 255 + a / 2) / a;
        dst[2] = ((p & 0xff) * 255 + a / 2) / a;
    }

    dst[3] = (u_char) a;
}


static int
paeth(int a, int b, int c)
{
    int  p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

    if (pa <= pb && pa <= pc) {
        return a;
    }

    return pb <= pc ? b : c;
}


/*
 * A minimal PNG decoder for 8-bit RGB and RGBA: chunks and their CRCs,
 * IDATs inflated by zlib, rows unfiltered.  Returns the pixels (malloc),
 * 3 or 4 bytes each, in *bpp.
 */

static u_char *
decode(const u_char *png, size_t len, int w, int h, int *bpp)
{
    int        y, i, n, ft, l;
    size_t     pos, zlen, clen;
    u_char    *z, *raw, *img, *row, *prev;
    uLongf     rawlen;

    assert_true(len >= 8 + 25 + 12);
    assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);

    z = malloc(len);
    zlen = 0;
    pos = 8;
    *bpp = 0;

    while (pos + 12 <= len) {
        clen = get32(png + pos);
        assert_true(pos + 12 + clen <= len);
        assert_int_equal(get32(png + pos + 8 + clen),
                         crc32(0, png + pos + 4, clen + 4));

        if (memcmp(png + pos + 4, "IHDR", 4) == 0) {
            assert_int_equal(clen, 13);
            assert_int_equal(get32(png + pos + 8), w);
            assert_int_equal(get32(png + pos + 12), h);
            assert_int_equal(png[pos + 16], 8);
            assert_true(png[pos + 17] == 2 || png[pos + 17] == 6);
            *bpp = png[pos + 17] == 2 ? 3 : 4;

        } else if (memcmp(png + pos + 4, "IDAT", 4) == 0) {
            memcpy(z + zlen, png + pos + 8, clen);
            zlen += clen;

        } else {
            assert_memory_equal(png + pos + 4, "IEND", 4);
            assert_int_equal(pos + 12, len);
        }

        pos += 12 + clen;
    }

    assert_int_equal(pos, len);
    assert_true(*bpp != 0);

    n = w * *bpp;
    rawlen = (uLongf) (n + 1) * h;
    raw = malloc(rawlen + 1);

    /* uncompress checks the zlib header and the adler32 */
    assert_int_equal(uncompress(raw, &rawlen, z, zlen), Z_OK);
    assert_int_equal(rawlen, (uLongf) (n + 1) * h);

    img = calloc((size_t) n * h + n, 1);
    prev = img + (size_t) n * h;            /* a zero row above row 0 */

    for (y = 0; y < h; y++) {
        ft = raw[(size_t) y * (n + 1)];
        row = img + (size_t) y * n;
        memcpy(row, raw + (size_t) y * (n + 1) + 1, n);
        assert_true(ft <= 4);

        for (i = 0; i < n; i++) {
            l = i >= *bpp ? row[i - *bpp] : 0;

            switch (ft) {
            case 1:
                row[i] += l;
                break;
            case 2:
                row[i] += prev[i];
                break;
            case 3:
                row[i] += (l + prev[i]) / 2;
                break;
            case 4:
                row[i] += paeth(l, prev[i], i >= *bpp ? prev[i - *bpp] : 0);
                break;
            }
        }

        prev = row;
    }

    free(raw);
    free(z);

    return img;
}


/* libpng (through cairo's reader): the premultiplied pixels come back */

static void
check_libpng(const bubble_output_t *out, const uint32_t *px, int w, int h)
{
    int               x, y, stride;
    const u_char     *d;
    cairo_surface_t  *s;

    s = png_decode(out->data, out->len, NULL);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(s), w);
    assert_int_equal(cairo_image_surface_get_height(s), h);

    d = cairo_image_surface_get_data(s);
    stride = cairo_image_surface_get_stride(s);

    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            if (((const uint32_t *) (d + (size_t) y * stride))[x]
                != px[(size_t) y * w + x])
            {
                fail_msg("libpng: pixel %d,%d of %dx%d", x, y, w, h);
            }
        }
    }

    cairo_surface_destroy(s);
}


static void
check_pngcheck(const bubble_output_t *out)
{
    int    rc;
    char   path[] = "/tmp/test_png_fast_XXXXXX", cmd[128];
    FILE  *f;
    int    fd;

    if (system("command -v pngcheck >/dev/null 2>&1") != 0) {
        return;
    }

    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_int_equal(fwrite(out->data, 1, out->len, f), out->len);
    fclose(f);

    snprintf(cmd, sizeof(cmd), "pngcheck -q %s >/dev/null", path);
    rc = system(cmd);
    unlink(path);

    assert_int_equal(rc, 0);
}


/*
 * Encodes px at every kernel level: the same bytes each time, decoded to
 * the expected pixels.  Returns the PNG's size.
 */

static size_t
roundtrip(const uint32_t *px, int w, int h, int libpng, int pngcheck)
{
    int               isa, bpp, x, y, opaque;
    size_t            size;
    u_char           *img, e[4];
    arena_t          *arena;
    bubble_error_t    err;
    bubble_output_t   out, first;

    arena = arena_new();
    memset(&first, 0, sizeof(first));

    opaque = 1;
    for (x = 0; x < w * h; x++) {
        opaque &= (px[x] >> 24) == 255;
    }

    for (isa = BUBBLE_PNG_ISA_SCALAR; isa <= bubble_png_fast_isa(); isa++) {
        memset(&out, 0, sizeof(out));
        memset(&err, 0, sizeof(err));

        assert_int_equal(bubble_png_fast_encode(&arena->alloc,
                                                (const u_char *) px, w, h,
                                                w * 4, isa, &out, &err),
                         0);

        if (isa == BUBBLE_PNG_ISA_SCALAR) {
            first = out;
            continue;
        }

        /* SIMD and scalar: byte for byte */
        assert_int_equal(out.len, first.len);
        assert_memory_equal(out.data, first.data, out.len);
    }

    img = decode(first.data, first.len, w, h, &bpp);
    assert_int_equal(bpp, opaque ? 3 : 4);

    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            expect_pixel(px[(size_t) y * w + x], e);

            if (memcmp(img + ((size_t) y * w + x) * bpp, e, bpp) != 0) {
                fail_msg("pixel %d,%d of %dx%d: %02x%02x%02x%02x", x, y,
                         w, h, e[0], e[1], e[2], e[3]);
            }
        }
    }

    free(img);

    if (libpng) {
        check_libpng(&first, px, w, h);
    }

    if (pngcheck) {
        check_pngcheck(&first);
    }

    size = first.len;
    arena_destroy(arena);

    return size;
}


/*
 * Text: 8 glyphs of 7 x 10 px (random coverage of one ink) stamped in
 * "labels" of 3 to 11 glyphs across the page, on the page's background
 * (opaque white, or transparent): repeats at distances of a few px to a
 * few rows, as the labels of a chart.
 */

static void
glyphs(uint32_t *px, int w, int h, uint32_t *seed, int alpha)
{
    int       i, j, g, x, y, x0, y0, n, labels;
    u_char    cov[8][10][7];
    uint32_t  c;

    for (g = 0; g < 8; g++) {
        for (y = 0; y < 10; y++) {
            for (x = 0; x < 7; x++) {
                c = rnd(seed) % 4;
                cov[g][y][x] = c == 0 ? 0 : c == 1 ? 255 : rnd(seed) % 256;
            }
        }
    }

    labels = 1 + w * h / 3000;

    for (i = 0; i < labels; i++) {
        x0 = rnd(seed) % w;
        y0 = rnd(seed) % h;
        n = 3 + rnd(seed) % 9;

        for (j = 0; j < n; j++) {
            g = rnd(seed) % 8;

            for (y = 0; y < 10 && y0 + y < h; y++) {
                for (x = 0; x < 7 && x0 + 7 * j + x < w; x++) {
                    c = cov[g][y][x];

                    if (c == 0) {
                        continue;
                    }

                    /* ink over the page, premultiplied: a over white or 0 */
                    px[(size_t) (y0 + y) * w + x0 + 7 * j + x] = alpha
                        ? c << 24 | (0x20 * c / 255) * 0x010101
                        : 0xff000000 | (255 - (255 - 0x20) * c / 255)
                                       * 0x010101;
                }
            }
        }
    }
}


/*
 * Random content of one of several kinds: noise; a chart (a flat page,
 * rectangles and discs of a few colours, antialiased edge pixels); text
 * (glyphs()); either opaque, or with alpha (premultiplied, colour <=
 * alpha).
 */

static void
fill(uint32_t *px, int w, int h, uint32_t *seed, int kind, int alpha)
{
    int       i, j, x, y, x0, y0, x1, y1, shapes;
    uint32_t  c, a, r, g, b, bg;

    bg = alpha ? 0 : 0xffffffff;

    for (i = 0; i < w * h; i++) {
        px[i] = bg;
    }

    if (kind == 0) {
        for (i = 0; i < w * h; i++) {
            c = rnd(seed);
            px[i] = alpha ? c : (c | 0xff000000);
        }

    } else if (kind == 2) {
        glyphs(px, w, h, seed, alpha);

    } else {
        shapes = 1 + rnd(seed) % 12;

        for (j = 0; j < shapes; j++) {
            x0 = rnd(seed) % w;
            y0 = rnd(seed) % h;
            x1 = x0 + rnd(seed) % (w - x0 + 1);
            y1 = y0 + rnd(seed) % (h - y0 + 1);
            c = rnd(seed) | 0xff000000;

            for (y = y0; y < y1; y++) {
                for (x = x0; x < x1; x++) {
                    px[(size_t) y * w + x] = c;
                }
            }
        }

        /* antialiasing: a few hundred pixels of partial coverage */
        for (j = 0; j < 200 && j < w * h; j++) {
            i = rnd(seed) % (w * h);
            px[i] = rnd(seed) | (alpha ? 0 : 0xff000000);
        }
    }

    if (!alpha) {
        return;
    }

    /* premultiplied: colour channels never above alpha */
    for (i = 0; i < w * h; i++) {
        a = px[i] >> 24;
        r = a ? ((px[i] >> 16) & 0xff) % (a + 1) : 0;
        g = a ? ((px[i] >> 8) & 0xff) % (a + 1) : 0;
        b = a ? (px[i] & 0xff) % (a + 1) : 0;
        px[i] = a << 24 | r << 16 | g << 8 | b;
    }
}


static void
test_random_images(void **state)
{
    int        round, w, h;
    uint32_t   seed, *px;

    seed = 17;

    for (round = 0; round < ROUNDS; round++) {
        switch (round % 4) {
        case 0:                             /* tiny, from 1 x 1 */
            w = 1 + rnd(&seed) % 8;
            h = 1 + rnd(&seed) % 8;
            break;
        case 1:                             /* around the vector widths */
            w = 1 + rnd(&seed) % 70;
            h = 1 + rnd(&seed) % 20;
            break;
        default:
            w = 1 + rnd(&seed) % 400;
            h = 1 + rnd(&seed) % 120;
        }

        px = malloc((size_t) w * h * 4);
        fill(px, w, h, &seed, round % 3, (round / 2) % 2);

        roundtrip(px, w, h, round % 5 == 0, round % 50 == 0);

        free(px);
    }
}


/* rows like the ones above, long runs: Up and runs longer than 258 */

static void
test_flat_and_repeated(void **state)
{
    int        x, y, w, h;
    size_t     size;
    uint32_t  *px;

    w = 1000;
    h = 300;
    px = malloc((size_t) w * h * 4);

    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            px[y * w + x] = (y / 50) % 2 ? 0xff336699
                            : (x < 517 ? 0xffffffff : 0xff000000);
        }
    }

    size = roundtrip(px, w, h, 1, 1);

    /* 900 KB of RGB rows: runs and Up make it a few KB */
    assert_true(size < 8000);

    /* transparent page, one opaque disc-ish block */
    memset(px, 0, (size_t) w * h * 4);

    for (y = 100; y < 200; y++) {
        for (x = 300; x < 400; x++) {
            px[y * w + x] = 0x80402010;
        }
    }

    roundtrip(px, w, h, 1, 1);

    free(px);
}


/*
 * Text at sizes where the deflate runs many blocks, slides its window and
 * turns the hash off and on (noise between labels): the same pixels, and
 * a file within 15% of zlib's (bubble_png_compression small).
 */

static void
test_text(void **state)
{
    int               i, k, w, h, alpha;
    size_t            fast;
    uint32_t          seed, *px;
    arena_t          *arena;
    bubble_error_t    err;
    bubble_output_t   out;

    seed = 29;

    for (k = 0; k < 3; k++) {
        w = k == 0 ? 1200 : k == 1 ? 900 : 640;
        h = k == 0 ? 500 : k == 1 ? 400 : 900;
        alpha = k == 1;

        px = malloc((size_t) w * h * 4);
        fill(px, w, h, &seed, 2, alpha);

        if (k == 2) {
            /* a band of noise: blocks where matches do not pay */
            for (i = 300 * w; i < 500 * w; i++) {
                px[i] = rnd(&seed) | 0xff000000;
            }
        }

        fast = roundtrip(px, w, h, 1, 1);

        arena = arena_new();
        memset(&err, 0, sizeof(err));
        assert_int_equal(bubble_png_encode(&arena->alloc, (const u_char *) px,
                                           w, h, w * 4, &out, &err),
                         0);

        if (fast > out.len + out.len * 15 / 100) {
            fail_msg("text %dx%d: %zu bytes, zlib %zu", w, h, fast, out.len);
        }

        arena_destroy(arena);
        free(px);
    }
}


/* the row kernels' adler32: zlib's, from any start, over any length */

static void
test_adler(void **state)
{
    int        isa, t;
    size_t     i, n;
    u_char    *p;
    uint32_t   seed, start, want;

    seed = 41;
    p = malloc(70000);

    for (t = 0; t < 400; t++) {
        n = t < 100 ? (size_t) t : rnd(&seed) % 70000;

        for (i = 0; i < n; i++) {
            p[i] = t % 3 == 0 ? 255 : (u_char) rnd(&seed);
        }

        start = t % 2 ? 1 : (rnd(&seed) % 65521) << 16 | rnd(&seed) % 65521;
        want = (uint32_t) adler32(start, p, (uInt) n);

        for (isa = BUBBLE_PNG_ISA_SCALAR; isa <= bubble_png_fast_isa(); isa++)
        {
            assert_int_equal(bubble_png_rows(isa)->adler(start, p, n), want);
        }
    }

    free(p);
}


/*
 * Streaming: at 4096 px a row (RGBA, text), what the encoder holds besides
 * its first output buffer stays within bubble_estimate.c's
 * BUBBLE_EST_PNG_STATE (384 KiB): rows, window, hash, never the image.
 */

static void
test_memory(void **state)
{
    int               w, h;
    size_t            first;
    uint32_t          seed, *px;
    arena_t          *arena;
    bubble_error_t    err;
    bubble_output_t   out;

    w = 4096;
    h = 256;
    seed = 7;
    px = malloc((size_t) w * h * 4);
    fill(px, w, h, &seed, 2, 1);

    arena = arena_new();
    memset(&err, 0, sizeof(err));
    assert_int_equal(bubble_png_fast_encode(&arena->alloc, (const u_char *) px,
                                            w, h, w * 4, BUBBLE_PNG_ISA_AUTO,
                                            &out, &err),
                     0);

    first = (size_t) w * 4 * h / 16 + 4096;
    assert_true(out.len < first);

    if (arena->peak > first + 384 * 1024) {
        fail_msg("peak %zu bytes: %zu besides the output", arena->peak,
                 arena->peak - first);
    }

    arena_destroy(arena);
    free(px);
}


/* noise: the output outgrows its first buffer (a 16th of the pixels) */

static void
test_large_noise(void **state)
{
    int        i, w, h;
    uint32_t   seed, *px;

    w = 777;
    h = 333;
    seed = 5;
    px = malloc((size_t) w * h * 4);

    for (i = 0; i < w * h; i++) {
        px[i] = rnd(&seed) | 0xff000000;
    }

    assert_true(roundtrip(px, w, h, 1, 1) > (size_t) w * h * 4 / 16);

    free(px);
}


static void
test_allocation_failures(void **state)
{
    int               i, w, h, rc;
    long              n;
    arena_t          *arena;
    uint32_t          seed, *px;
    bubble_error_t    err;
    bubble_output_t   out;

    w = 300;
    h = 200;
    seed = 3;
    px = malloc(w * h * 4);

    for (i = 0; i < w * h; i++) {
        px[i] = rnd(&seed) | (i % 3 ? 0xff000000 : 0x80000000);
        if ((px[i] >> 24) == 0x80) {
            px[i] &= 0xff7f7f7f;
        }
    }

    arena = arena_new();

    for (n = 0; ; n++) {
        arena_reset(arena);
        arena->fail_at = n;
        memset(&err, 0, sizeof(err));
        memset(&out, 0, sizeof(out));

        rc = bubble_png_fast_encode(&arena->alloc, (const u_char *) px, w, h,
                                    w * 4, BUBBLE_PNG_ISA_AUTO, &out, &err);

        if (rc == 0) {
            assert_true(n > 3);             /* the output grew */
            assert_int_equal(arena->blocks, 1);
            break;
        }

        assert_int_equal(rc, -1);
        assert_int_equal(err.status, 500);
        assert_null(out.data);
        assert_int_equal(arena->blocks, 0);
        assert_int_equal(arena->bad_frees, 0);
    }

    arena_destroy(arena);
    free(px);
}


static void
test_bad_arguments(void **state)
{
    uint32_t          px[4];
    arena_t          *arena;
    bubble_error_t    err;
    bubble_output_t   out;

    arena = arena_new();
    memset(px, 0, sizeof(px));
    memset(&out, 0, sizeof(out));
    memset(&err, 0, sizeof(err));

    assert_int_equal(bubble_png_fast_encode(&arena->alloc,
                                            (const u_char *) px, 0, 1, 4,
                                            BUBBLE_PNG_ISA_AUTO, &out, &err),
                     -1);
    assert_int_equal(bubble_png_fast_encode(&arena->alloc,
                                            (const u_char *) px, 2, 2, 4,
                                            BUBBLE_PNG_ISA_AUTO, &out, &err),
                     -1);
    assert_int_equal(err.status, 500);
    assert_int_equal(arena->blocks, 0);

    arena_destroy(arena);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_random_images),
        cmocka_unit_test(test_flat_and_repeated),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_adler),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_large_noise),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_bad_arguments),
    };

    fprintf(stderr, "bubble_png_fast: kernel level %d on this CPU\n",
            bubble_png_fast_isa());

    return cmocka_run_group_tests(tests, NULL, NULL);
}

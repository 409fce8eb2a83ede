/*
 * bubble_png.c: cairo ARGB32 -> PNG.
 *
 * Every PNG is read back with cairo's reader (libpng: chunk CRCs, zlib
 * checksum, filters) and must give the very pixels encoded: exact for
 * opaque images, and for premultiplied pixels too, since unpremultiplying
 * then premultiplying with rounding returns the same value when the colour
 * does not exceed alpha.  Also: RGB for opaque images and RGBA otherwise,
 * the row-equal-to-the-one-above path, images larger than the first output
 * buffer and than one IDAT chunk, every allocation failing in turn (error,
 * nothing left allocated), and bad arguments.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cairo.h>

#include "bubble.h"
#include "bubble_png.h"

#include "arena.h"
#include "png_decode.h"


/* a premultiplied pixel whose colour channels do not exceed alpha */

static uint32_t
pixel(uint32_t a, uint32_t r, uint32_t g, uint32_t b)
{
    r = a ? r % (a + 1) : 0;
    g = a ? g % (a + 1) : 0;
    b = a ? b % (a + 1) : 0;

    return a << 24 | r << 16 | g << 8 | b;
}


static uint32_t
rnd(uint32_t *state)
{
    *state = *state * 1103515245 + 12345;
    return *state >> 8;
}


/* encodes, decodes with cairo, and compares every pixel */

static void
roundtrip(const uint32_t *px, int w, int h, int expect_color_type)
{
    int                 x, y, stride;
    arena_t            *arena;
    size_t              used;
    uint32_t            want, got;
    const u_char       *data;
    bubble_error_t      err;
    bubble_output_t     out;
    cairo_surface_t    *s;

    arena = arena_new();
    assert_non_null(arena);

    memset(&err, 0, sizeof(err));
    memset(&out, 0, sizeof(out));

    assert_int_equal(bubble_png_encode(&arena->alloc, (const u_char *) px,
                                       w, h, w * 4, &out, &err), 0);
    assert_non_null(out.data);

    /* signature, then IHDR with the colour type we promise */
    assert_memory_equal(out.data, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
    assert_int_equal(out.data[24], 8);
    assert_int_equal(out.data[25], expect_color_type);
    assert_memory_equal(out.data + out.len - 12,
                        "\0\0\0\0IEND\xae\x42\x60\x82", 12);

    /* only the output is still held */
    assert_int_equal(arena->blocks, 1);
    assert_int_equal(arena->bad_frees, 0);

    s = png_decode(out.data, out.len, &used);
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    assert_int_equal(cairo_image_surface_get_width(s), w);
    assert_int_equal(cairo_image_surface_get_height(s), h);
    assert_int_equal(used, out.len);

    cairo_surface_flush(s);
    data = cairo_image_surface_get_data(s);
    stride = cairo_image_surface_get_stride(s);

    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            want = px[y * w + x];
            memcpy(&got, data + y * stride + x * 4, 4);

            if (expect_color_type == 2) {
                /* cairo reads RGB as RGB24: the alpha byte is unspecified */
                want &= 0xffffff;
                got &= 0xffffff;
            }

            if (want != got) {
                fail_msg("pixel %d,%d: encoded %08x, decoded %08x", x, y,
                         want, got);
            }
        }
    }

    cairo_surface_destroy(s);
    arena_destroy(arena);
}


static void
test_opaque_is_rgb(void **state)
{
    int       i, w, h;
    uint32_t  seed, *px;

    /* odd widths: the four-pixel fast path and its remainder */
    for (w = 1; w <= 9; w++) {
        h = 5;
        px = malloc(w * h * 4);
        seed = w;

        for (i = 0; i < w * h; i++) {
            px[i] = pixel(255, rnd(&seed), rnd(&seed), rnd(&seed));
        }

        roundtrip(px, w, h, 2);
        free(px);
    }
}


static void
test_alpha_is_rgba_unpremultiplied(void **state)
{
    int       i, w, h;
    uint32_t  seed, *px;

    w = 256;
    h = 4;
    px = malloc(w * h * 4);
    seed = 7;

    /* every alpha, with colours up to it; one opaque pixel is not enough */
    for (i = 0; i < w * h; i++) {
        px[i] = pixel(i % 256, rnd(&seed), rnd(&seed), rnd(&seed));
    }

    roundtrip(px, w, h, 6);

    /* a single transparent pixel in an opaque image makes it RGBA */
    for (i = 0; i < w * h; i++) {
        px[i] = pixel(255, i, i * 3, i * 7);
    }
    px[w * h - 1] = 0;

    roundtrip(px, w, h, 6);

    free(px);
}


static void
test_repeated_rows(void **state)
{
    int       x, y, w, h;
    uint32_t  *px;

    /* bands of equal rows, as a chart's background and panels are */
    w = 37;
    h = 40;
    px = malloc(w * h * 4);

    for (y = 0; y < h; y++) {
        for (x = 0; x < w; x++) {
            px[y * w + x] = pixel(255, (y / 7) * 40, x * 6, 200);
        }
    }

    roundtrip(px, w, h, 2);
    free(px);
}


static void
test_large_noise(void **state)
{
    int       i, w, h;
    uint32_t  seed, *px;

    /*
     * Incompressible: the PNG outgrows the first buffer (pixels / 16) and
     * spans many 64 KiB IDAT chunks.
     */
    w = 700;
    h = 500;
    px = malloc(w * h * 4);
    seed = 1;

    for (i = 0; i < w * h; i++) {
        px[i] = pixel(255, rnd(&seed), rnd(&seed), rnd(&seed));
    }

    roundtrip(px, w, h, 2);
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
    px = malloc(w * h * 4);
    seed = 3;

    for (i = 0; i < w * h; i++) {
        px[i] = pixel(i % 3 ? 255 : 128, rnd(&seed), rnd(&seed), 0);
    }

    arena = arena_new();

    /* fail the n-th allocation and all after it, for every n */
    for (n = 0; ; n++) {
        arena_reset(arena);
        arena->fail_at = n;
        memset(&err, 0, sizeof(err));
        memset(&out, 0, sizeof(out));

        rc = bubble_png_encode(&arena->alloc, (const u_char *) px, w, h,
                               w * 4, &out, &err);

        if (rc == 0) {
            assert_true(n > 3);
            assert_int_equal(arena->blocks, 1);
            break;
        }

        assert_int_equal(rc, -1);
        assert_int_equal(err.status, 500);
        assert_non_null(err.code);
        assert_null(out.data);

        /* everything given back on the error path */
        assert_int_equal(arena->blocks, 0);
        assert_int_equal(arena->bad_frees, 0);
    }

    arena_destroy(arena);
    free(px);
}


static void
test_bad_arguments(void **state)
{
    arena_t          *arena;
    uint32_t          px[4] = { 0 };
    bubble_error_t    err;
    bubble_output_t   out;

    arena = arena_new();

    memset(&err, 0, sizeof(err));
    assert_int_equal(bubble_png_encode(&arena->alloc, (const u_char *) px,
                                       0, 1, 4, &out, &err), -1);
    assert_int_equal(err.status, 500);

    memset(&err, 0, sizeof(err));
    assert_int_equal(bubble_png_encode(&arena->alloc, (const u_char *) px,
                                       2, 2, 4, &out, &err), -1);

    assert_int_equal(arena->nallocs, 0);
    arena_destroy(arena);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_opaque_is_rgb),
        cmocka_unit_test(test_alpha_is_rgba_unpremultiplied),
        cmocka_unit_test(test_repeated_rows),
        cmocka_unit_test(test_large_noise),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_bad_arguments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

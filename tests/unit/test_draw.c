/*
 * The PNG shows the SVG: bubble_draw.c (display list -> cairo, what PNG
 * and PDF are drawn with) against librsvg drawing the SVG bubble_svg.c
 * writes from the same display list, for every example spec and the
 * bench workloads.
 *
 * Text is where the two differ pixel by pixel: cairo 1.16 puts cached
 * glyphs on whole pixels and rasterises them with FreeType, librsvg
 * fills each glyph's outline at its exact position.  So the images are
 * compared in 8 x 8 px blocks (each channel's mean): a block that differs
 * by more than BLOCK_MAX (of 255) fails, as does a mean over all blocks
 * above MEAN_MAX.  The test shows it can fail: the same chart with one
 * text item left out, or one bubble moved by 3 px, must exceed them.
 *
 * librsvg is used by this test only; the module does not link it.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cairo.h>
#include <librsvg/rsvg.h>

#include "bubble.h"
#include "bubble_dlist.h"
#include "arena.h"


#define BLOCK       8
#define BLOCK_MAX   40                      /* of 255, a channel's mean */
#define MEAN_MAX    1.0                     /* of 255 */


typedef struct {
    double                   mean;          /* over all blocks */
    int                      max;           /* the worst block */
    int                      max_x, max_y;  /* where, px */
} diff_t;


static char *
read_file(const char *path, size_t *len)
{
    long   n;
    char  *buf;
    FILE  *f;

    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);

    buf = malloc(n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, n, f), (size_t) n);
    fclose(f);

    *len = n;
    return buf;
}


static cairo_surface_t *
surface_new(const bubble_dlist_t *dl, double scale, cairo_t **cr)
{
    cairo_surface_t  *s;

    s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32,
                                   (int) lround(dl->width * scale),
                                   (int) lround(dl->height * scale));
    assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);

    *cr = cairo_create(s);
    cairo_scale(*cr, scale, scale);

    return s;
}


/* ours: what bubble_raster() draws a PNG with, bubbles into the canvas */

static cairo_surface_t *
draw_ours(arena_t *arena, const bubble_dlist_t *dl, double scale)
{
    cairo_t          *cr;
    bubble_error_t    err;
    bubble_canvas_t   canvas;
    cairo_surface_t  *s;

    s = surface_new(dl, scale, &cr);

    canvas.pixels = cairo_image_surface_get_data(s);
    canvas.width = cairo_image_surface_get_width(s);
    canvas.height = cairo_image_surface_get_height(s);
    canvas.stride = cairo_image_surface_get_stride(s);
    canvas.cover = calloc(bubble_disc_cells(canvas.width), sizeof(int32_t));
    assert_non_null(canvas.cover);

    assert_int_equal(bubble_draw(&arena->alloc, cr, &canvas, dl, &err), 0);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    free(canvas.cover);

    return s;
}


/* librsvg drawing the SVG the module serves for the same list */

static cairo_surface_t *
draw_rsvg(arena_t *arena, bubble_dlist_t *dl, double scale)
{
    cairo_t          *cr;
    GError           *error;
    RsvgHandle       *svg;
    RsvgRectangle     viewport;
    bubble_error_t    err;
    bubble_output_t   out;
    cairo_surface_t  *s;

    assert_int_equal(bubble_svg_write(&arena->alloc, dl, &out, &err), 0);

    error = NULL;
    svg = rsvg_handle_new_from_data(out.data, out.len, &error);
    assert_non_null(svg);

    s = surface_new(dl, scale, &cr);

    viewport.x = 0;
    viewport.y = 0;
    viewport.width = dl->width;
    viewport.height = dl->height;

    assert_true(rsvg_handle_render_document(svg, cr, &viewport, &error));

    cairo_destroy(cr);
    g_object_unref(svg);
    cairo_surface_flush(s);

    return s;
}


static diff_t
compare(cairo_surface_t *a, cairo_surface_t *b)
{
    int            w, h, sa, sb, bx, by, x, y, k, d, m;
    long           n, ca, cb;
    double         sum;
    diff_t         r;
    const u_char  *pa, *pb;

    w = cairo_image_surface_get_width(a);
    h = cairo_image_surface_get_height(a);
    assert_int_equal(w, cairo_image_surface_get_width(b));
    assert_int_equal(h, cairo_image_surface_get_height(b));

    pa = cairo_image_surface_get_data(a);
    pb = cairo_image_surface_get_data(b);
    sa = cairo_image_surface_get_stride(a);
    sb = cairo_image_surface_get_stride(b);

    memset(&r, 0, sizeof(diff_t));
    sum = 0;
    n = 0;

    for (by = 0; by + BLOCK <= h; by += BLOCK) {
        for (bx = 0; bx + BLOCK <= w; bx += BLOCK) {
            m = 0;

            for (k = 0; k < 4; k++) {
                ca = 0;
                cb = 0;

                for (y = by; y < by + BLOCK; y++) {
                    for (x = bx; x < bx + BLOCK; x++) {
                        ca += pa[y * sa + x * 4 + k];
                        cb += pb[y * sb + x * 4 + k];
                    }
                }

                d = labs(ca - cb) / (BLOCK * BLOCK);
                m = (d > m) ? d : m;
            }

            if (m > r.max) {
                r.max = m;
                r.max_x = bx;
                r.max_y = by;
            }

            sum += m;
            n++;
        }
    }

    r.mean = n ? sum / n : 0;

    return r;
}


static int
layout_spec(arena_t *arena, const char *name, const char *spec, size_t len,
    bubble_dlist_t *dl, double *scale)
{
    bubble_error_t    err;
    bubble_chart_t   *chart;
    bubble_limits_t   limits;

    bubble_limits_default(&limits);

    memset(&err, 0, sizeof(bubble_error_t));
    chart = bubble_spec_parse(&arena->alloc, &limits, (u_char *) spec, len,
                              &err);

    if (chart == NULL) {
        print_error("%s: %s\n", name, err.message);
        return -1;
    }

    *scale = chart->scale;

    if (bubble_layout(&arena->alloc, chart, dl, &err) != 0) {
        print_error("%s: %s\n", name, err.message);
        return -1;
    }

    return 0;
}


static int
layout_file(arena_t *arena, const char *path, bubble_dlist_t *dl,
    double *scale)
{
    int      rc;
    char    *spec;
    size_t   len;

    spec = read_file(path, &len);
    rc = layout_spec(arena, path, spec, len, dl, scale);
    free(spec);

    return rc;
}


/* a file's chart, or with path NULL the chart of the spec text */

static diff_t
compare_spec(const char *path, const char *spec, int quiet)
{
    double            scale;
    diff_t            d;
    arena_t          *arena;
    bubble_dlist_t    dl;
    cairo_surface_t  *ours, *ref;

    arena = arena_new();
    assert_non_null(arena);

    if (path != NULL) {
        assert_int_equal(layout_file(arena, path, &dl, &scale), 0);

    } else {
        assert_int_equal(layout_spec(arena, spec, spec, strlen(spec), &dl,
                                     &scale), 0);
        path = "(spec)";
    }

    ours = draw_ours(arena, &dl, scale);
    ref = draw_rsvg(arena, &dl, scale);
    d = compare(ours, ref);

    if (!quiet) {
        print_message("%-48s blocks: mean %.2f, worst %3d at (%d, %d)\n",
                      path, d.mean, d.max, d.max_x, d.max_y);
    }

    cairo_surface_destroy(ours);
    cairo_surface_destroy(ref);
    arena_destroy(arena);

    return d;
}


static void
test_examples_match_svg(void **state)
{
    int             n;
    char            path[512];
    diff_t          d;
    DIR            *dir;
    struct dirent  *de;

    static const char  *dirs[] = {
        "../../examples", "../../tests/bench/workloads"
    };

    n = 0;

    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        dir = opendir(dirs[i]);
        assert_non_null(dir);

        while ((de = readdir(dir)) != NULL) {
            if (strlen(de->d_name) < 6
                || strcmp(de->d_name + strlen(de->d_name) - 5, ".json") != 0)
            {
                continue;
            }

            snprintf(path, sizeof(path), "%s/%s", dirs[i], de->d_name);
            d = compare_spec(path, NULL, 0);

            assert_true(d.max <= BLOCK_MAX);
            assert_true(d.mean <= MEAN_MAX);
            n++;
        }

        closedir(dir);
    }

    /* 14 examples and 3 workloads when this was written */
    assert_true(n >= 17);
}


/*
 * Labels padded by a printf width: pango draws every space, and the SVG
 * keeps them (xml:space="preserve") where XML would strip and collapse
 * them -- centred x labels would sit half the padding off in the SVG.
 */

static void
test_padded_labels_match_svg(void **state)
{
    diff_t  d;

    d = compare_spec(NULL, "{\"width\":800,\"height\":400,"
                     "\"data\":{\"x\":[1,2,3],\"y\":[1,2,3]},"
                     "\"title\":\"  two  spaces  \","
                     "\"x\":{\"labels\":\"%-24.1f|\"},"
                     "\"y\":{\"labels\":\"%30.2e\"}}", 0);

    assert_true(d.max <= BLOCK_MAX);
    assert_true(d.mean <= MEAN_MAX);
}


/* the comparison sees a missing label, and a bubble 3 px off */

static void
test_comparison_can_fail(void **state)
{
    int               moved;
    double            scale;
    size_t            i;
    diff_t            d;
    arena_t          *arena;
    bubble_dlist_t    dl;
    cairo_surface_t  *ours, *ref;

    arena = arena_new();
    assert_non_null(arena);
    assert_int_equal(layout_file(arena, "../../examples/gapminder-log10.json",
                                 &dl, &scale), 0);

    ref = draw_rsvg(arena, &dl, scale);

    /* the first text item (the title) drawn as nothing */
    for (i = 0; i < dl.nitems; i++) {
        if (dl.items[i].type == BUBBLE_ITEM_TEXT) {
            dl.items[i].text.len = 0;
            break;
        }
    }

    assert_true(i < dl.nitems);

    ours = draw_ours(arena, &dl, scale);
    d = compare(ours, ref);
    print_message("without the title: worst block %d\n", d.max);
    assert_true(d.max > BLOCK_MAX);
    cairo_surface_destroy(ours);
    cairo_surface_destroy(ref);

    /* the largest bubble 3 px to the right */
    assert_int_equal(layout_file(arena, "../../examples/gapminder-log10.json",
                                 &dl, &scale), 0);
    ref = draw_rsvg(arena, &dl, scale);

    moved = 0;

    for (i = 0; i < dl.nitems; i++) {
        if (dl.items[i].type == BUBBLE_ITEM_CIRCLE) {
            dl.items[i].x += 3;
            moved = 1;
            break;
        }
    }

    assert_true(moved);

    ours = draw_ours(arena, &dl, scale);
    d = compare(ours, ref);
    print_message("a bubble 3 px off: worst block %d\n", d.max);
    assert_true(d.max > BLOCK_MAX);

    cairo_surface_destroy(ours);
    cairo_surface_destroy(ref);
    arena_destroy(arena);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_examples_match_svg),
        cmocka_unit_test(test_padded_labels_match_svg),
        cmocka_unit_test(test_comparison_can_fail),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

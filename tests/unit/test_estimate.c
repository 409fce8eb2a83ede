/*
 * Unit tests of the render memory estimate (core/bubble_estimate.c).
 *
 * The constants are calibrated against measured peaks by
 * tests/bench/calibrate_estimate.sh (docs/memory.md); these tests pin the
 * estimate's shape: what grows it, by how much, and its bounds.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bubble.h"
#include "bubble_estimate.h"
#include "bubble_dlist.h"
#include "arena.h"


#define MiB  ((size_t) 1024 * 1024)


static bubble_chart_t *
parse(arena_t *a, const char *json)
{
    bubble_error_t    err;
    bubble_limits_t   limits;
    bubble_chart_t   *chart;

    memset(&err, 0, sizeof(bubble_error_t));
    err.offset = -1;

    bubble_limits_default(&limits);

    chart = bubble_spec_parse(&a->alloc, &limits, (const u_char *) json,
                              strlen(json), &err);
    if (chart == NULL) {
        fail_msg("%s: %s", json, err.message);
    }

    return chart;
}


static const char  *small =
    "{\"width\":800,\"height\":600,\"data\":{\"x\":[1,2,3],\"y\":[3,1,2]}}";


/* the pixel buffer is exactly stride x height, and scale counts squared */

static void
test_pixels(void **state)
{
    arena_t            *a = arena_new();
    bubble_chart_t     *c;
    bubble_estimate_t   e1, e2;

    c = parse(a, small);

    bubble_estimate(c, &e1);
    assert_int_equal(e1.pixels, 800 * 4 * 600);

    c->scale = 2;
    bubble_estimate(c, &e2);
    assert_int_equal(e2.pixels, 4 * e1.pixels);
    assert_true(e2.total - e1.total >= 3 * e1.pixels);

    /* parts add up */
    assert_int_equal(e2.total, e2.model + e2.layout + e2.svg + e2.draw
                               + e2.pixels + e2.encoder + e2.fixed);

    arena_destroy(a);
}


/* no canvas for SVG and PDF; only SVG writes SVG, only PNG/PDF draw */

static void
test_formats(void **state)
{
    arena_t            *a = arena_new();
    bubble_chart_t     *c;
    bubble_estimate_t   png, svg, pdf;

    c = parse(a, small);

    bubble_estimate(c, &png);

    c->format = BUBBLE_FORMAT_SVG;
    bubble_estimate(c, &svg);

    c->format = BUBBLE_FORMAT_PDF;
    bubble_estimate(c, &pdf);

    assert_int_equal(svg.pixels, 0);
    assert_int_equal(svg.draw, 0);
    assert_true(svg.svg > 0);
    assert_int_equal(pdf.pixels, 0);
    assert_int_equal(pdf.svg, 0);
    assert_true(pdf.draw > 0);
    assert_int_equal(png.svg, 0);
    assert_true(png.draw > 0);

    assert_true(svg.total < pdf.total);
    assert_true(svg.total < png.total);

    assert_int_equal(svg.output, svg.svg);

    arena_destroy(a);
}


/* a 4096 x 4096 PNG: the canvas, a 16th of it for the output, no more */

static void
test_big_canvas(void **state)
{
    arena_t            *a = arena_new();
    bubble_chart_t     *c;
    bubble_estimate_t   e;

    c = parse(a, "{\"width\":4096,\"height\":4096,"
                 "\"data\":{\"x\":[1,2],\"y\":[1,2]}}");

    bubble_estimate(c, &e);

    assert_int_equal(e.pixels, 64 * MiB);
    assert_true(e.encoder >= 4 * MiB);          /* the first buffer */
    assert_true(e.total >= e.pixels + e.pixels / 16);
    assert_true(e.total < e.pixels / 8 * 9);    /* calibrated: 1.08x */

    arena_destroy(a);
}


/* rows cost their elements; labels stop at 2000, tooltips do not */

static void
test_rows(void **state)
{
    int                 i;
    char               *json, *p;
    size_t              size;
    arena_t            *a = arena_new();
    bubble_chart_t     *c;
    bubble_estimate_t   e[3];
    static const char  *tails[3] = { "", ",\"label\":[", ",\"tooltip\":[" };

    size = 20000 * 40 + 256;
    json = malloc(size);
    assert_non_null(json);

    for (int k = 0; k < 3; k++) {
        p = json;
        p += sprintf(p, "{\"width\":800,\"height\":600,\"data\":{\"x\":[");

        for (i = 0; i < 10000; i++) {
            p += sprintf(p, "%s%d", i ? "," : "", i);
        }

        p += sprintf(p, "],\"y\":[");

        for (i = 0; i < 10000; i++) {
            p += sprintf(p, "%s%d", i ? "," : "", i % 7);
        }

        p += sprintf(p, "]");

        if (k > 0) {
            p += sprintf(p, "%s", tails[k]);

            for (i = 0; i < 10000; i++) {
                p += sprintf(p, "%s\"r%d\"", i ? "," : "", i);
            }

            p += sprintf(p, "]");
        }

        sprintf(p, "}}");

        c = parse(a, json);
        bubble_estimate(c, &e[k]);
    }

    free(json);

    assert_int_equal(e[1].elements - e[0].elements, 2000);
    assert_int_equal(e[2].elements - e[0].elements, 10000);

    /* a row: at least its point and its display-list item */
    assert_true(e[0].layout >= 10000 * (48 + sizeof(bubble_item_t)));
    assert_true(e[1].draw > e[0].draw);

    arena_destroy(a);
}


/* the colour legend: a key a category, up to 64 */

static void
test_categories(void **state)
{
    arena_t            *a = arena_new();
    bubble_chart_t     *c;
    bubble_estimate_t   two, many, continuous;
    char                json[8192], *p;
    int                 i;

    c = parse(a, "{\"data\":{\"x\":[1,2,3,4],\"y\":[1,2,3,4],"
                 "\"color\":[\"a\",\"b\",\"a\",\"b\"]}}");
    bubble_estimate(c, &two);

    p = json;
    p += sprintf(p, "{\"data\":{\"x\":[");
    for (i = 0; i < 200; i++) {
        p += sprintf(p, "%s%d", i ? "," : "", i);
    }
    p += sprintf(p, "],\"y\":[");
    for (i = 0; i < 200; i++) {
        p += sprintf(p, "%s%d", i ? "," : "", i);
    }
    p += sprintf(p, "],\"color\":[");
    for (i = 0; i < 200; i++) {
        p += sprintf(p, "%s\"c%d\"", i ? "," : "", i);
    }
    sprintf(p, "]}}");

    c = parse(a, json);
    bubble_estimate(c, &many);

    c = parse(a, "{\"data\":{\"x\":[1,2,3,4],\"y\":[1,2,3,4],"
                 "\"color\":[1,2,3,4]}}");
    bubble_estimate(c, &continuous);

    /* 2 categories + missing: 3 keys, 3 labels and a title */
    assert_true(many.elements > two.elements);

    /* 196 more rows, and 64 + 1 - 3 more keys and their labels */
    assert_int_equal(many.elements - two.elements,
                     196 + 2 * (64 + 1 - 3) - 2);

    assert_true(continuous.elements > two.elements);

    arena_destroy(a);
}


/* after the render: the model and the layout, not the canvas */

static void
test_retained(void **state)
{
    arena_t            *a = arena_new();
    bubble_chart_t     *c;
    bubble_estimate_t   e;

    c = parse(a, small);
    bubble_estimate(c, &e);

    assert_int_equal(e.retained, e.model + e.layout);
    assert_true(e.retained < e.total / 4);
    assert_true(e.output > 0);

    arena_destroy(a);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_pixels),
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_big_canvas),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_retained),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

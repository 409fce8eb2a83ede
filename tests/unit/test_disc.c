/*
 * bubble_disc.c: bubbles drawn into the canvas without cairo, against
 * cairo drawing the same bubble as bubble_draw.c did (cairo_arc(), fill,
 * stroke, under a rectangular clip).
 *
 * Properties, over random discs and rings (radius 0.05 to 60 px, centres
 * on and off the canvas, fractional clips, translucent and opaque colours,
 * random backgrounds):
 *
 *   - each pixel's coverage is the exact area of the bubble and the clip
 *     within it (1024 exact sub-rows a pixel), to COVER_MAX of 255: x is
 *     exact, y is taken in 15 sub-rows (5 where every edge is steep);
 *   - against cairo: a pixel 1.5 px or more inside the bubble and the clip
 *     is the same ARGB word (the colour and the OVER are cairo's and
 *     pixman's), one 1.5 px or more outside either is untouched, and the
 *     mean difference is under MEAN_MAX.  At the edge cairo draws a
 *     polygon up to 0.1 px inside the circle, its CAIRO_EDGE_MAX; and an
 *     outline wider than the radius, cairo's open arc with butt caps,
 *     not the closed circle SVG strokes, is not compared there;
 *   - the covered area is the circle's (pi r^2), down to tiny radii;
 *   - nothing is written outside the canvas, and the cells are left
 *     zeroed, whatever the input: NaN, infinities, huge radii, empty and
 *     inverted clips.
 *
 * The comparisons can fail: a disc moved by 0.5 px breaks both.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cairo.h>

#include "bubble.h"
#include "bubble_disc.h"


#define SIZE        64                      /* canvas, px */
#define GUARD       16                      /* guard words about it */
#define CASES       3000
#define COVER_MAX   12                      /* of 255, against the area */
#define CAIRO_EDGE_MAX  48                  /* of 255, against cairo */
#define MEAN_MAX    0.25                    /* of 255, over the canvas */
#define REF_SUBROWS 1024                    /* a pixel row, exact area */


typedef struct {
    double                   cx, cy;
    double                   r;
    double                   stroke;        /* width; 0: a fill only */
    bubble_rgba_t            fill, line;
    double                   opacity;
    bubble_clip_t            clip;
} disc_case_t;

typedef struct {
    int                      max_edge;      /* of 255 */
    double                   mean;
    int                      inner_differ;  /* surely-inside pixels */
    int                      outer_differ;  /* surely-outside pixels */
} disc_diff_t;


static uint64_t  rng = 0x2545f4914f6cdd1dULL;


static double
rnd(void)
{
    /* xorshift64*: the same cases on every machine */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;

    return (double) ((rng * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}


static bubble_rgba_t
rnd_rgba(int opaque)
{
    uint32_t  a;

    a = opaque ? 255 : (uint32_t) (rnd() * 256);

    return (uint32_t) (rnd() * 256) << 24 | (uint32_t) (rnd() * 256) << 16
           | (uint32_t) (rnd() * 256) << 8 | (a > 255 ? 255 : a);
}


static disc_case_t
rnd_case(void)
{
    disc_case_t  c;

    c.cx = rnd() * (SIZE + 40) - 20;
    c.cy = rnd() * (SIZE + 40) - 20;

    /* log-uniform: as many sub-pixel bubbles as big ones */
    c.r = 0.05 * pow(60 / 0.05, rnd());

    c.stroke = (rnd() < 0.4) ? rnd() * 4 : 0;
    c.fill = rnd_rgba(rnd() < 0.3);
    c.line = rnd_rgba(rnd() < 0.5);
    c.opacity = (rnd() < 0.3) ? 1 : rnd();

    if (rnd() < 0.5) {
        c.clip.x0 = 0;
        c.clip.y0 = 0;
        c.clip.x1 = SIZE;
        c.clip.y1 = SIZE;

    } else {
        c.clip.x0 = rnd() * SIZE / 2;
        c.clip.y0 = rnd() * SIZE / 2;
        c.clip.x1 = SIZE / 2 + rnd() * SIZE / 2;
        c.clip.y1 = SIZE / 2 + rnd() * SIZE / 2;
    }

    return c;
}


/* a premultiplied background: a gradient, or noise, or transparent */

static void
background(uint32_t *px, int stride_words)
{
    int       x, y, kind;
    uint32_t  a, r, g, b;

    kind = (int) (rnd() * 3);

    for (y = 0; y < SIZE; y++) {
        for (x = 0; x < SIZE; x++) {
            switch (kind) {
            case 0:
                a = 255;
                r = (uint32_t) x * 4;
                g = (uint32_t) y * 4;
                b = 128;
                break;

            case 1:
                a = (uint32_t) (rnd() * 256) & 0xff;
                r = (uint32_t) (rnd() * (a + 1));
                g = (uint32_t) (rnd() * (a + 1));
                b = (uint32_t) (rnd() * (a + 1));
                break;

            default:
                a = r = g = b = 0;
            }

            px[y * stride_words + x] = a << 24 | r << 16 | g << 8 | b;
        }
    }
}


static void
set_source(cairo_t *cr, bubble_rgba_t c, double opacity)
{
    /* as bubble_draw.c's bubble_draw_source() */
    cairo_set_source_rgba(cr, BUBBLE_R(c) / 255.0, BUBBLE_G(c) / 255.0,
                          BUBBLE_B(c) / 255.0, BUBBLE_A(c) / 255.0 * opacity);
}


/* cairo: the path bubble_draw.c draws when there is no canvas (PDF) */

static void
draw_cairo(uint32_t *px, const disc_case_t *c)
{
    cairo_t          *cr;
    cairo_surface_t  *s;

    s = cairo_image_surface_create_for_data((u_char *) px,
                                            CAIRO_FORMAT_ARGB32, SIZE, SIZE,
                                            SIZE * 4);
    cr = cairo_create(s);

    cairo_rectangle(cr, c->clip.x0, c->clip.y0, c->clip.x1 - c->clip.x0,
                    c->clip.y1 - c->clip.y0);
    cairo_clip(cr);

    cairo_new_sub_path(cr);
    cairo_arc(cr, c->cx, c->cy, c->r, 0, 2 * M_PI);
    set_source(cr, c->fill, c->opacity);

    if (c->stroke > 0) {
        cairo_fill_preserve(cr);
        cairo_set_line_width(cr, c->stroke);
        set_source(cr, c->line, 1);
        cairo_stroke(cr);

    } else {
        cairo_fill(cr);
    }

    assert_int_equal(cairo_status(cr), CAIRO_STATUS_SUCCESS);
    cairo_destroy(cr);
    cairo_surface_flush(s);
    cairo_surface_destroy(s);
}


static void
draw_ours(bubble_canvas_t *cv, const disc_case_t *c)
{
    bubble_disc_draw(cv, &c->clip, c->cx, c->cy, c->r, 0,
                     bubble_disc_color(c->fill, c->opacity));

    if (c->stroke > 0) {
        bubble_disc_draw(cv, &c->clip, c->cx, c->cy, c->r + c->stroke / 2,
                         c->r - c->stroke / 2, bubble_disc_color(c->line, 1));
    }
}


/* a SIZE x SIZE canvas inside GUARD words of a known pattern each side */

typedef struct {
    uint32_t                 buf[(SIZE + 2 * GUARD) * (SIZE + 2 * GUARD)];
    int32_t                  cells[SIZE + 2 + 2 * GUARD];
    bubble_canvas_t          cv;
} guarded_t;

#define GUARDED_STRIDE  (SIZE + 2 * GUARD)
#define GUARD_WORD      0xa5c3e1f7u


static void
guarded_init(guarded_t *g)
{
    size_t  i;

    for (i = 0; i < sizeof(g->buf) / 4; i++) {
        g->buf[i] = GUARD_WORD;
    }

    for (i = 0; i < sizeof(g->cells) / 4; i++) {
        g->cells[i] = (int32_t) GUARD_WORD;
    }

    memset(&g->cells[GUARD], 0, bubble_disc_cells(SIZE) * sizeof(int32_t));

    g->cv.pixels = (u_char *) &g->buf[GUARD * GUARDED_STRIDE + GUARD];
    g->cv.width = SIZE;
    g->cv.height = SIZE;
    g->cv.stride = GUARDED_STRIDE * 4;
    g->cv.cover = &g->cells[GUARD];
}


/* every guard word intact, every cell zeroed */

static void
guarded_check(const guarded_t *g)
{
    int     x, y;
    size_t  i;

    for (y = 0; y < GUARDED_STRIDE; y++) {
        for (x = 0; x < GUARDED_STRIDE; x++) {
            if (y >= GUARD && y < GUARD + SIZE
                && x >= GUARD && x < GUARD + SIZE)
            {
                continue;
            }

            assert_int_equal(g->buf[y * GUARDED_STRIDE + x], GUARD_WORD);
        }
    }

    for (i = 0; i < sizeof(g->cells) / 4; i++) {
        if (i >= GUARD && i < GUARD + bubble_disc_cells(SIZE)) {
            assert_int_equal(g->cells[i], 0);

        } else {
            assert_int_equal(g->cells[i], (int32_t) GUARD_WORD);
        }
    }
}


/* a guarded canvas of transparent black */

static void
guarded_clear(guarded_t *g)
{
    int  y;

    guarded_init(g);

    for (y = 0; y < SIZE; y++) {
        memset(g->cv.pixels + (size_t) y * g->cv.stride, 0, SIZE * 4);
    }
}


static disc_diff_t
compare(const uint32_t *theirs, const uint32_t *ours, int ours_stride,
    const disc_case_t *c)
{
    int          x, y, k, d, max, sum;
    double       px, py, dist, r_out, r_in, margin;
    uint32_t     a, b;
    disc_diff_t  diff;

    memset(&diff, 0, sizeof(disc_diff_t));
    sum = 0;

    r_out = c->r + c->stroke / 2;
    r_in = (c->stroke > 0) ? c->r - c->stroke / 2 : -1;

    for (y = 0; y < SIZE; y++) {
        for (x = 0; x < SIZE; x++) {
            a = theirs[y * SIZE + x];
            b = ours[y * ours_stride + x];

            max = 0;

            for (k = 0; k < 32; k += 8) {
                d = abs((int) ((a >> k) & 0xff) - (int) ((b >> k) & 0xff));
                max = (d > max) ? d : max;
                sum += d;
            }

            diff.max_edge = (max > diff.max_edge) ? max : diff.max_edge;

            px = x + 0.5;
            py = y + 0.5;
            dist = hypot(px - c->cx, py - c->cy);

            /* how far the pixel's centre is inside the clip */
            margin = fmin(fmin(px - c->clip.x0, c->clip.x1 - px),
                          fmin(py - c->clip.y0, c->clip.y1 - py));

            if (dist > r_out + 1.5 || margin < -1.5) {
                diff.outer_differ += (a != b);

            } else if (margin > 1.5 && dist < c->r - 1.5
                       && (c->stroke == 0 || dist < r_in - 1.5))
            {
                /* inside the fill, clear of the outline */
                diff.inner_differ += (a != b);
            }
        }
    }

    diff.mean = sum / (4.0 * SIZE * SIZE);

    return diff;
}


static void
test_matches_cairo(void **state)
{
    int           i, worst, wide;
    double        mean, worst_mean;
    uint32_t      theirs[SIZE * SIZE];
    guarded_t    *g;
    disc_case_t   c;
    disc_diff_t   d;

    (void) state;

    g = malloc(sizeof(guarded_t));
    assert_non_null(g);

    worst = 0;
    worst_mean = 0;
    mean = 0;

    for (i = 0; i < CASES; i++) {
        c = rnd_case();

        guarded_init(g);
        background((uint32_t *) g->cv.pixels, GUARDED_STRIDE);

        for (int y = 0; y < SIZE; y++) {
            memcpy(&theirs[y * SIZE],
                   g->cv.pixels + (size_t) y * g->cv.stride, SIZE * 4);
        }

        draw_cairo(theirs, &c);
        draw_ours(&g->cv, &c);
        guarded_check(g);

        d = compare(theirs, (uint32_t *) g->cv.pixels, GUARDED_STRIDE, &c);

        /* an outline wider than the radius: cairo's arc is not SVG's */
        wide = (c.stroke > c.r);

        if ((!wide && (d.max_edge > CAIRO_EDGE_MAX || d.mean > MEAN_MAX))
            || d.inner_differ || d.outer_differ)
        {
            print_message("case %d: centre %.3f,%.3f r %.3f stroke %.3f "
                          "clip %.2f,%.2f-%.2f,%.2f: max %d mean %.3f "
                          "inner %d outer %d\n", i, c.cx, c.cy, c.r,
                          c.stroke, c.clip.x0, c.clip.y0, c.clip.x1,
                          c.clip.y1, d.max_edge, d.mean, d.inner_differ,
                          d.outer_differ);
        }

        assert_int_equal(d.inner_differ, 0);
        assert_int_equal(d.outer_differ, 0);
        assert_true(wide || d.max_edge <= CAIRO_EDGE_MAX);
        assert_true(wide || d.mean <= MEAN_MAX);

        worst = (!wide && d.max_edge > worst) ? d.max_edge : worst;
        worst_mean = (!wide && d.mean > worst_mean) ? d.mean : worst_mean;
        mean += d.mean;
    }

    print_message("%d cases: worst edge pixel %d of 255, worst mean %.4f, "
                  "mean %.5f\n", CASES, worst, worst_mean, mean / CASES);

    free(g);
}


/*
 * The reference coverage of pixel x, y: REF_SUBROWS sub-rows, each
 * chord's overlap with the pixel and the clip exact in x.  Its error is
 * under 1 / (2 REF_SUBROWS) of a pixel's area: an eighth of a level.
 */

static double
exact_cover(int x, int y, double cx, double cy, double r_out, double r_in,
    const bubble_clip_t *clip)
{
    int     j, n;
    double  sy, dy, ho, hi, a, b, lo, hi_x, sum;

    n = REF_SUBROWS;
    lo = fmax(x, clip->x0);
    hi_x = fmin(x + 1, clip->x1);
    sum = 0;

    if (!(lo < hi_x)) {
        return 0;
    }

    for (j = 0; j < n; j++) {
        sy = y + (j + 0.5) / n;

        if (sy < clip->y0 || sy >= clip->y1) {
            continue;
        }

        dy = sy - cy;

        if (dy * dy >= r_out * r_out) {
            continue;
        }

        ho = sqrt(r_out * r_out - dy * dy);
        hi = (dy * dy < r_in * r_in) ? sqrt(r_in * r_in - dy * dy) : 0;

        /* the left chord cx - ho .. cx - hi, and the right one (a disc's
         * halves meet at cx) */
        a = fmax(cx - ho, lo);
        b = fmin(cx - hi, hi_x);
        sum += (b > a) ? b - a : 0;

        a = fmax(cx + hi, lo);
        b = fmin(cx + ho, hi_x);
        sum += (b > a) ? b - a : 0;
    }

    return sum / n;
}


/* each pixel's alpha, for opaque white on transparent, against its area */

static int
cover_error(guarded_t *g, double cx, double cy, double r_out, double r_in,
    const bubble_clip_t *clip, double shift, int *worst_x, int *worst_y)
{
    int       x, y, err, worst;
    double    cover, margin, d;
    uint32_t  alpha;

    guarded_clear(g);

    /* shift: drawn that far right of where it is measured */
    bubble_disc_draw(&g->cv, clip, cx + shift, cy, r_out, r_in, 0xffffffff);
    guarded_check(g);

    worst = 0;

    for (y = 0; y < SIZE; y++) {
        for (x = 0; x < SIZE; x++) {
            alpha = ((uint32_t *) (g->cv.pixels
                                   + (size_t) y * g->cv.stride))[x] >> 24;

            /* far from every edge the pixel is surely 0 or 1 */
            d = hypot(x + 0.5 - cx, y + 0.5 - cy);
            margin = fmin(fabs(d - r_out), fabs(d - r_in));
            margin = fmin(margin, fmin(fabs(x + 0.5 - clip->x0),
                                       fabs(x + 0.5 - clip->x1)));
            margin = fmin(margin, fmin(fabs(y + 0.5 - clip->y0),
                                       fabs(y + 0.5 - clip->y1)));

            if (margin > 1) {
                cover = (d < r_out && d >= r_in
                         && x + 0.5 > clip->x0 && x + 0.5 < clip->x1
                         && y + 0.5 > clip->y0 && y + 0.5 < clip->y1);

            } else {
                cover = exact_cover(x, y, cx, cy, r_out, r_in, clip);
            }

            err = abs((int) alpha - (int) lround(cover * 255));

            if (err > worst) {
                worst = err;
                *worst_x = x;
                *worst_y = y;
            }
        }
    }

    return worst;
}


static void
test_exact_coverage(void **state)
{
    int           i, err, worst, wx, wy;
    double        r_in;
    guarded_t    *g;
    disc_case_t   c;

    (void) state;

    g = malloc(sizeof(guarded_t));
    assert_non_null(g);

    worst = 0;

    for (i = 0; i < 400; i++) {
        c = rnd_case();
        r_in = (c.stroke > 0) ? fmax(c.r - c.stroke / 2, 0) : 0;

        err = cover_error(g, c.cx, c.cy, c.r + c.stroke / 2, r_in, &c.clip,
                          0, &wx, &wy);

        if (err > COVER_MAX) {
            print_message("case %d: centre %.3f,%.3f r %.3f..%.3f clip "
                          "%.2f,%.2f-%.2f,%.2f: pixel %d,%d off by %d\n", i,
                          c.cx, c.cy, r_in, c.r + c.stroke / 2, c.clip.x0,
                          c.clip.y0, c.clip.x1, c.clip.y1, wx, wy, err);
        }

        assert_true(err <= COVER_MAX);
        worst = (err > worst) ? err : worst;
    }

    print_message("coverage within %d of 255 of the exact area\n", worst);

    /*
     * A sub-row whose whole chord the clip or the 1/256 px grid removes
     * leaves the row's middle partly covered, not whole: the top of a
     * disc just right of a panel's edge, and the top of a large disc
     * whose first sub-row's chord is 0.001 px.
     */
    {
        bubble_clip_t  left = { 0, 0, 32, SIZE };
        bubble_clip_t  all = { 0, 0, SIZE, SIZE };

        err = cover_error(g, 32.25, 10 + 1.0 / 30 - 0.0005 + 20, 20, 0,
                          &left, 0, &wx, &wy);
        assert_true(err <= COVER_MAX);

        err = cover_error(g, 32.3, 10 + 1.0 / 30 - 1e-9 + 200, 200, 0,
                          &all, 0, &wx, &wy);
        assert_true(err <= COVER_MAX);
    }

    /* the check is not blind: the disc 0.5 px off fails it */
    {
        bubble_clip_t  all = { 0, 0, SIZE, SIZE };

        err = cover_error(g, 31.3, 30.8, 12, 0, &all, 0.5, &wx, &wy);
        assert_true(err > COVER_MAX);
    }

    free(g);
}


/* the comparison is not blind: half a pixel off fails it */

static void
test_comparison_can_fail(void **state)
{
    uint32_t      theirs[SIZE * SIZE];
    guarded_t    *g;
    disc_case_t   c;
    disc_diff_t   d;

    (void) state;

    g = malloc(sizeof(guarded_t));
    assert_non_null(g);

    memset(&c, 0, sizeof(disc_case_t));
    c.cx = 31.3;
    c.cy = 30.8;
    c.r = 12;
    c.fill = 0x336699ff;
    c.opacity = 1;
    c.clip.x1 = SIZE;
    c.clip.y1 = SIZE;

    /* both on transparent black: only the shift can differ */
    guarded_clear(g);
    memset(theirs, 0, sizeof(theirs));
    draw_cairo(theirs, &c);

    c.cx += 0.5;
    draw_ours(&g->cv, &c);
    c.cx -= 0.5;

    d = compare(theirs, (uint32_t *) g->cv.pixels, GUARDED_STRIDE, &c);
    assert_true(d.max_edge > CAIRO_EDGE_MAX);

    free(g);
}


/* opaque white on transparent: the alpha summed is the area drawn */

static double
drawn_area(guarded_t *g, double cx, double cy, double r_out, double r_in,
    const bubble_clip_t *clip)
{
    int     x, y;
    double  sum;

    guarded_clear(g);

    bubble_disc_draw(&g->cv, clip, cx, cy, r_out, r_in, 0xffffffff);
    guarded_check(g);

    sum = 0;

    for (y = 0; y < SIZE; y++) {
        for (x = 0; x < SIZE; x++) {
            sum += ((uint32_t *) (g->cv.pixels
                                  + (size_t) y * g->cv.stride))[x] >> 24;
        }
    }

    return sum / 255;
}


static void
test_area(void **state)
{
    int             i;
    double          r, ri, area, want, worst;
    guarded_t      *g;
    bubble_clip_t   all = { 0, 0, SIZE, SIZE };

    (void) state;

    g = malloc(sizeof(guarded_t));
    assert_non_null(g);

    worst = 0;

    for (i = 0; i < 500; i++) {
        r = 0.1 * pow(28 / 0.1, rnd());
        ri = (i % 2) ? r * rnd() : 0;

        area = drawn_area(g, 32 + rnd() - 0.5, 32 + rnd() - 0.5, r, ri, &all);
        want = M_PI * (r * r - ri * ri);

        /* 8-bit coverage: half a level a pixel touched */
        assert_true(fabs(area - want)
                    <= 0.01 * want + (2 * r + 2) * 4 * 0.5 / 255 + 0.02);

        worst = fmax(worst, fabs(area - want));
    }

    print_message("areas within %.3f px^2 of pi r^2\n", worst);

    /* a bubble half out of the clip: half its area */
    {
        bubble_clip_t  half = { 0, 0, 32, SIZE };

        area = drawn_area(g, 32, 32, 10, 0, &half);
        assert_true(fabs(area - M_PI * 50) < 0.5);
    }

    free(g);
}


static void
test_hostile(void **state)
{
    size_t          i, j;
    guarded_t      *g;
    bubble_clip_t   clips[4] = {
        { 0, 0, SIZE, SIZE },
        { -1e300, -1e300, 1e300, 1e300 },
        { 40, 40, 20, 20 },                  /* inverted: empty */
        { NAN, NAN, NAN, NAN }
    };
    double          v[] = {
        NAN, INFINITY, -INFINITY, 0, -1, 1e-300, 0.3, 32, 63.999, 64,
        1e9, -1e9, 1e300, -1e300, DBL_MAX
    };
    size_t          nv = sizeof(v) / sizeof(v[0]);

    (void) state;

    g = malloc(sizeof(guarded_t));
    assert_non_null(g);

    for (i = 0; i < 4; i++) {
        for (j = 0; j < nv * nv * nv; j++) {
            guarded_init(g);
            bubble_disc_draw(&g->cv, &clips[i], v[j % nv], v[j / nv % nv],
                             v[j / nv / nv], v[(j * 7) % nv], 0x80402010);
            guarded_check(g);
        }
    }

    /* a huge disc covers the canvas: every pixel is the colour */
    guarded_init(g);
    bubble_disc_draw(&g->cv, &clips[1], 32, 32, 1e6, 0, 0xff102030);
    guarded_check(g);

    for (i = 0; i < SIZE; i++) {
        assert_int_equal(((uint32_t *) g->cv.pixels)[i], 0xff102030);
    }

    free(g);
}


static void
test_color(void **state)
{
    (void) state;

    /* cairo's 16-bit premultiplied shorts, high bytes */
    assert_int_equal(bubble_disc_color(0xffffffff, 1), 0xffffffff);
    assert_int_equal(bubble_disc_color(0x336699ff, 0), 0);
    assert_int_equal(bubble_disc_color(0x33669900, 1), 0);
    assert_int_equal(bubble_disc_color(0xff0000ff, 0.5), 0x80800000);
    assert_int_equal(bubble_disc_color(0xff000080, 2), 0xffff0000);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_matches_cairo),
        cmocka_unit_test(test_comparison_can_fail),
        cmocka_unit_test(test_exact_coverage),
        cmocka_unit_test(test_area),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_color),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

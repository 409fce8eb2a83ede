/*
 * ngx_bubble core: bubbles drawn straight into an ARGB32 canvas.
 *
 * cairo draws a circle as any path: an arc cut into curves, flattened to
 * segments, sorted into edges, scan-converted and composited span by span
 * through pixman, some 10 us a bubble whatever its size: most of a chart
 * with thousands of them (docs/performance.md).  A disc needs none of
 * that: each sub-row's chord is cx -+ sqrt(r^2 - dy^2).
 *
 * The coverage is cairo's: 15 sub-rows a pixel row, each chord's x extent
 * exact to 1/256 px, summed into cells as cairo's tor scan converter does
 * and mapped to 0..255 as it maps them.  The blend is pixman's OVER with
 * its rounding, so a pixel the disc covers whole comes out as cairo makes
 * it.  At an edge cairo draws the flattened polygon, up to its 0.1 px
 * tolerance inside the true circle; here the edge is the circle itself.
 */

#include <math.h>
#include <string.h>

#if (defined __SSE2__)
#include <emmintrin.h>
#endif

#include "bubble.h"
#include "bubble_disc.h"


#define BUBBLE_DISC_SUBROWS  15        /* a pixel row: cairo's GRID_Y */
#define BUBBLE_DISC_ONE      256       /* a pixel of x: cairo's GRID_X */


/* the sub-rows' centres, px below a row's top */
static const double  bubble_disc_subrow[BUBBLE_DISC_SUBROWS] = {
    0.5 / 15, 1.5 / 15, 2.5 / 15, 3.5 / 15, 4.5 / 15, 5.5 / 15, 6.5 / 15,
    7.5 / 15, 8.5 / 15, 9.5 / 15, 10.5 / 15, 11.5 / 15, 12.5 / 15,
    13.5 / 15, 14.5 / 15
};


/* the sub-rows of a pixel row whose edges are all steep: 5 of the 15 */
#define BUBBLE_DISC_STEEP    5

static const double  bubble_disc_steep[BUBBLE_DISC_STEEP] = {
    1.5 / 15, 4.5 / 15, 7.5 / 15, 10.5 / 15, 13.5 / 15
};


/* a disc or ring, x relative to its first column */
typedef struct {
    double       cx, cy;
    double       ro2, ri2;        /* outer and inner radius, squared */
    double       lo, hi;          /* the clip's x */
    double       y0, y1;          /* the clip's y */
} bubble_disc_shape_t;

/* one pixel row's cells */
typedef struct {
    int32_t     *cover;           /* n + 2 cells */
    int          n;               /* pixels */
    int          first, last;     /* cells changed */
    int32_t      inner_l;         /* chords' latest start, 1/256 px */
    int32_t      inner_r;         /* chords' earliest end */
} bubble_disc_row_t;


static int bubble_disc_chords(const bubble_disc_shape_t *sh, int py,
    bubble_disc_row_t *cells);
static int bubble_disc_span(bubble_disc_row_t *cells, double a, double b,
    const bubble_disc_shape_t *sh, int weight);
static void bubble_disc_row(uint32_t *row, bubble_disc_row_t *cells,
    uint32_t color);
static void bubble_disc_over(uint32_t *p, int n, uint32_t color,
    uint32_t inverse);
static void bubble_disc_pixel(uint32_t *p, int32_t sum, uint32_t color,
    uint32_t inverse);
static uint32_t bubble_disc_mul(uint32_t x, uint32_t a);


uint32_t
bubble_disc_color(bubble_rgba_t rgba, double opacity)
{
    double    alpha;
    uint32_t  a, r, g, b;

    /* cairo_set_source_rgba(): clamped, then 16-bit premultiplied shorts */
    alpha = BUBBLE_A(rgba) / 255.0 * opacity;
    alpha = (alpha > 1) ? 1 : (alpha > 0) ? alpha : 0;

    a = (uint16_t) (alpha * 65535.0 + 0.5);
    r = (uint16_t) (BUBBLE_R(rgba) / 255.0 * alpha * 65535.0 + 0.5);
    g = (uint16_t) (BUBBLE_G(rgba) / 255.0 * alpha * 65535.0 + 0.5);
    b = (uint16_t) (BUBBLE_B(rgba) / 255.0 * alpha * 65535.0 + 0.5);

    /* pixman's solid fill keeps the high byte of each */
    return (a >> 8) << 24 | (r >> 8) << 16 | (g >> 8) << 8 | (b >> 8);
}


void
bubble_disc_draw(bubble_canvas_t *cv, const bubble_clip_t *clip, double cx,
    double cy, double r_out, double r_in, uint32_t color)
{
    int                    bx0, bx1, by0, by1, py, k;
    double                 x0, y0, x1, y1, left, right, top, bottom;
    uint32_t              *row;
    bubble_disc_shape_t    sh;
    bubble_disc_row_t      cells;

    if (color == 0 || !(r_out > 0)) {
        /* OVER with a transparent source changes nothing */
        return;
    }

    r_in = (r_in > 0) ? r_in : 0;

    if (!(r_in < r_out)) {
        return;
    }

    x0 = (clip->x0 > 0) ? clip->x0 : 0;
    y0 = (clip->y0 > 0) ? clip->y0 : 0;
    x1 = (clip->x1 < cv->width) ? clip->x1 : cv->width;
    y1 = (clip->y1 < cv->height) ? clip->y1 : cv->height;

    /* the disc's box within the clip; false for NaN and infinities too */
    left = (cx - r_out > x0) ? cx - r_out : x0;
    right = (cx + r_out < x1) ? cx + r_out : x1;
    top = (cy - r_out > y0) ? cy - r_out : y0;
    bottom = (cy + r_out < y1) ? cy + r_out : y1;

    if (!(left < right && top < bottom)) {
        return;
    }

    bx0 = (int) floor(left);
    bx1 = (int) ceil(right);
    by0 = (int) floor(top);
    by1 = (int) ceil(bottom);

    /* cells and x from here on are relative to column bx0 */
    sh.cx = cx - bx0;
    sh.cy = cy;
    sh.ro2 = r_out * r_out;
    sh.ri2 = r_in * r_in;
    sh.lo = x0 - bx0;
    sh.hi = x1 - bx0;
    sh.y0 = y0;
    sh.y1 = y1;

    cells.cover = cv->cover;
    cells.n = bx1 - bx0;

    for (py = by0; py < by1; py++) {

        if (py + 1 < by1) {
            /*
             * the canvas is megabytes, rows a stride apart: ask for the
             * next row's pixels while this row's chords are computed
             */
            row = (uint32_t *) (cv->pixels + (size_t) (py + 1) * cv->stride);

            for (k = bx0; k < bx1; k += 16) {
                __builtin_prefetch(&row[k], 1);
            }

            __builtin_prefetch(&row[bx1 - 1], 1);
        }

        if (bubble_disc_chords(&sh, py, &cells) == 0) {
            row = (uint32_t *) (cv->pixels + (size_t) py * cv->stride) + bx0;
            bubble_disc_row(row, &cells, color);
        }
    }
}


/*
 * One pixel row's chords into cells: 15 sub-rows where the edge is
 * shallow or the row is cut, 5 weighing 3 each where every edge in the
 * row is steeper than 45 degrees: there x is exact and y matters less,
 * by less than cairo's 0.1 px tolerance.  Returns -1 if nothing is
 * covered.
 */

static int
bubble_disc_chords(const bubble_disc_shape_t *sh, int py,
    bubble_disc_row_t *cells)
{
    int            k, step, weight, full;
    double         sy, dy, d2, ho, hi, dtop, dbot, dmin, dmax;
    const double  *offset;

    cells->first = cells->n + 1;
    cells->last = -1;
    cells->inner_l = 0;
    cells->inner_r = INT32_MAX;

    dtop = fabs(py - sh->cy);
    dbot = fabs(py + 1 - sh->cy);
    dmax = (dtop > dbot) ? dtop : dbot;
    dmin = (sh->cy > py && sh->cy < py + 1) ? 0 : (dtop < dbot) ? dtop : dbot;

    if (py >= sh->y0 && py + 1 <= sh->y1
        && 2 * dmax * dmax <= sh->ro2
        && (dmin * dmin >= sh->ri2 || 2 * dmax * dmax <= sh->ri2))
    {
        offset = bubble_disc_steep;
        step = BUBBLE_DISC_SUBROWS / BUBBLE_DISC_STEEP;

    } else {
        offset = bubble_disc_subrow;
        step = 1;
    }

    full = 0;

    for (k = 0; k < BUBBLE_DISC_SUBROWS; k += step) {
        sy = py + *offset++;

        if (sy < sh->y0 || sy >= sh->y1) {
            continue;
        }

        dy = sy - sh->cy;
        d2 = dy * dy;

        if (!(d2 < sh->ro2)) {
            continue;
        }

        ho = sqrt(sh->ro2 - d2);
        weight = step;

        if (sh->ri2 > d2) {
            /* a ring's sub-row: two chords either side of the hole */
            hi = sqrt(sh->ri2 - d2);
            bubble_disc_span(cells, sh->cx - ho, sh->cx - hi, sh, weight);
            bubble_disc_span(cells, sh->cx + hi, sh->cx + ho, sh, weight);
            continue;
        }

        if (bubble_disc_span(cells, sh->cx - ho, sh->cx + ho, sh, weight)) {
            full += weight;
        }
    }

    if (full < BUBBLE_DISC_SUBROWS) {
        /*
         * some sub-row added no whole chord (none, a ring's two, one
         * clipped away or under 1/256 px): no pixel is surely whole
         */
        cells->inner_l = 0;
        cells->inner_r = 0;
    }

    return (cells->last < 0) ? -1 : 0;
}


/*
 * Adds the chord a..b (px from column bx0, clipped to lo..hi) to the
 * cells, weight times: the cells' running sum is then each pixel's
 * covered width, in 1/256 px, summed over the sub-rows.  Returns 0 if
 * nothing of it is left to add.
 */

static int
bubble_disc_span(bubble_disc_row_t *cells, double a, double b,
    const bubble_disc_shape_t *sh, int weight)
{
    int32_t   fa, fb, ia, ib, ra, rb;
    int32_t  *cover;

    a = (a > sh->lo) ? a : sh->lo;
    b = (b < sh->hi) ? b : sh->hi;

    if (!(a < b)) {
        return 0;
    }

    fa = (int32_t) (a * BUBBLE_DISC_ONE + 0.5);
    fb = (int32_t) (b * BUBBLE_DISC_ONE + 0.5);

    if (fa >= fb) {
        return 0;
    }

    ia = fa >> 8;
    ra = fa & (BUBBLE_DISC_ONE - 1);
    ib = fb >> 8;
    rb = fb & (BUBBLE_DISC_ONE - 1);
    cover = cells->cover;

    if (ia == ib) {
        cover[ia] += (fb - fa) * weight;
        cover[ia + 1] -= (fb - fa) * weight;

    } else {
        cover[ia] += (BUBBLE_DISC_ONE - ra) * weight;
        cover[ia + 1] += ra * weight;
        cover[ib] += (rb - BUBBLE_DISC_ONE) * weight;
        cover[ib + 1] -= rb * weight;
    }

    cells->first = (ia < cells->first) ? ia : cells->first;
    cells->last = (ib + 1 > cells->last) ? ib + 1 : cells->last;

    /* pixels every chord covers whole: right of the last start, ... */
    cells->inner_l = (fa > cells->inner_l) ? fa : cells->inner_l;
    cells->inner_r = (fb < cells->inner_r) ? fb : cells->inner_r;

    return 1;
}


/*
 * One pixel row: the cells' running sum is coverage; cells end zeroed.
 * Between the chords' latest start and earliest end every pixel is
 * covered whole, and no cell there holds a change: a plain OVER.
 */

static void
bubble_disc_row(uint32_t *row, bubble_disc_row_t *cells, uint32_t color)
{
    int       i, il, ir, end;
    int32_t   sum, *cover;
    uint32_t  inverse;

    cover = cells->cover;
    inverse = 255 - (color >> 24);

    /* cells il + 1 .. ir - 1 are whole (see bubble_disc_span()) */
    il = (cells->inner_l + BUBBLE_DISC_ONE - 1) >> 8;
    ir = cells->inner_r >> 8;

    if (il + 1 >= ir) {
        il = cells->last;
        ir = cells->last + 1;
    }

    sum = 0;

    for (i = cells->first; i <= il; i++) {
        sum += cover[i];
        cover[i] = 0;

        if (i < cells->n) {
            bubble_disc_pixel(row + i, sum, color, inverse);
        }
    }

    if (il + 1 < ir) {
        bubble_disc_over(row + il + 1, ir - il - 1, color, inverse);
    }

    end = cells->last;

    for (i = ir; i <= end; i++) {
        sum += cover[i];
        cover[i] = 0;

        if (i < cells->n) {
            bubble_disc_pixel(row + i, sum, color, inverse);
        }
    }
}


/*
 * n pixels covered whole: color OVER each.  SSE2 (every x86-64 has it)
 * does 4 at a time with pixman's own sequence for its MUL_UN8 (x y +
 * 0x80, then x 0x0101 >> 16), which equals the scalar one bit for bit.
 */

static void
bubble_disc_over(uint32_t *p, int n, uint32_t color, uint32_t inverse)
{
    int       i;
#if (defined __SSE2__)
    __m128i   px, lo, hi, src, inv, zero, half, one;

    src = _mm_set1_epi32((int) color);
    inv = _mm_set1_epi16((short) inverse);
    zero = _mm_setzero_si128();
    half = _mm_set1_epi16(0x80);
    one = _mm_set1_epi16(0x0101);

    for (i = 0; i + 4 <= n; i += 4) {
        px = _mm_loadu_si128((__m128i *) (p + i));

        lo = _mm_unpacklo_epi8(px, zero);
        lo = _mm_mulhi_epu16(_mm_add_epi16(_mm_mullo_epi16(lo, inv), half),
                             one);
        hi = _mm_unpackhi_epi8(px, zero);
        hi = _mm_mulhi_epu16(_mm_add_epi16(_mm_mullo_epi16(hi, inv), half),
                             one);

        /* premultiplied: no byte of the sum passes 255 */
        px = _mm_add_epi8(_mm_packus_epi16(lo, hi), src);
        _mm_storeu_si128((__m128i *) (p + i), px);
    }
#else
    i = 0;
#endif

    for ( /* void */ ; i < n; i++) {
        p[i] = color + bubble_disc_mul(p[i], inverse);
    }
}


/* a pixel covered sum (of 15 x 256) OVER: cairo's coverage, pixman's OVER */

static void
bubble_disc_pixel(uint32_t *p, int32_t sum, uint32_t color, uint32_t inverse)
{
    uint32_t  alpha, src;

    if (sum <= 0) {
        return;
    }

    /* cairo's GRID_AREA_TO_ALPHA for its 2 x 256 x 15 grid, on sum x 2 */
    alpha = (uint32_t) (sum * 34 + 256) >> 9;

    if (alpha >= 255) {
        *p = color + bubble_disc_mul(*p, inverse);
        return;
    }

    src = bubble_disc_mul(color, alpha);
    *p = src + bubble_disc_mul(*p, 255 - (src >> 24));
}


/* pixman's UN8x4_MUL_UN8: each byte of x times a / 255, rounded */

static uint32_t
bubble_disc_mul(uint32_t x, uint32_t a)
{
    uint32_t  rb, ag;

    rb = (x & 0x00ff00ff) * a + 0x00800080;
    rb = ((rb + ((rb >> 8) & 0x00ff00ff)) >> 8) & 0x00ff00ff;

    ag = ((x >> 8) & 0x00ff00ff) * a + 0x00800080;
    ag = (ag + ((ag >> 8) & 0x00ff00ff)) & 0xff00ff00;

    return rb | ag;
}

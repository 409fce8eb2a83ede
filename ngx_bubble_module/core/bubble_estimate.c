/*
 * ngx_bubble core: the render memory estimate.
 *
 * A render's peak (bubble_render(): layout -> SVG, or layout -> cairo ->
 * encoder) is the sum of:
 *
 *   model     the parsed columns: 8 bytes a number, 16 + length a string;
 *   layout    points (48 bytes a row) and the display list (items of
 *             sizeof(bubble_item_t), an array doubling from 256);
 *   svg       SVG only, the SVG buffer: 1 KiB + 320 bytes an item + 6 x
 *             text (the bound bubble_svg.c allocates);
 *   draw      PNG and PDF, bubble_draw.c: a buffer for the longest text
 *             and one pango layout at a time;
 *   pixels    stride x height of ARGB32 for PNG, calloc()ed;
 *   encoder   PNG: the output buffer, a 16th of the canvas to start,
 *             doubled until it holds the PNG (estimated from the bubbles
 *             and their radius, at most the raw canvas), zlib's state;
 *             PDF: cairo's recorded operations and the output (no more
 *             than the SVG of the same items);
 *   fixed     what any render allocates: cairo's and pango's per-render
 *             objects, glyph caches, malloc's slack.
 *
 * Every part is an upper bound, and they are added although some are
 * freed before others are allocated (the pixels before a PNG's last
 * copy): the total is what admission reserves, so it errs high.  The
 * constants come from tests/bench/calibrate_estimate.sh; docs/memory.md
 * has the table.
 *
 * The time a render takes is estimated the same way, as a sum of upper
 * bounds (bubble_estimate_time()): text shaped (pango's cost grows with
 * the bytes of a label: a legend of 64 labels of 20 KB of Arabic took
 * 1.3 s), bubbles filled (their area at the largest radius), the canvas
 * cleared and encoded, elements written to SVG or PDF.
 */

#include <math.h>
#include <string.h>

#include "bubble_estimate.h"
#include "bubble_scale.h"
#include "bubble_dlist.h"


/* elements (counts): upper bounds from bubble_layout.c */
#define BUBBLE_EST_LABELS_MAX       2000     /* BUBBLE_LABELS_MAX */
#define BUBBLE_EST_CATEGORIES       BUBBLE_MAX_CATEGORIES
#define BUBBLE_EST_COLORBAR         116      /* 1 px steps, 5 x 23.04 px keys */
#define BUBBLE_EST_AUTO_BREAKS      16       /* "nice" breaks, an axis */
#define BUBBLE_EST_PAGE             16       /* backgrounds, titles */

/* bytes, measured (docs/memory.md), rounded up */
#define BUBBLE_EST_ITEM             sizeof(bubble_item_t)
#define BUBBLE_EST_POINT            48       /* layout, a row */
#define BUBBLE_EST_SVG_ITEM         320      /* bubble_svg.c's bound */
#define BUBBLE_EST_LAYOUT           (64 * 1024)    /* a pango layout */
#define BUBBLE_EST_LAYOUT_BYTE      40       /* of it, a byte of its text */
#define BUBBLE_EST_PDF_ELEMENT      1024     /* cairo-pdf, an element */
#define BUBBLE_EST_PNG_STATE        (384 * 1024)   /* zlib, libpng rows */
#define BUBBLE_EST_PNG_BASE         (256 * 1024)   /* PNG: grid, text */
#define BUBBLE_EST_PNG_EDGE         64       /* PNG bytes a px of w + h */
#define BUBBLE_EST_PNG_ROW          256      /* PNG bytes a bubble, and */
#define BUBBLE_EST_PNG_RADIUS       16       /* per px of its radius */
#define BUBBLE_EST_FIXED            (512 * 1024)   /* cairo, pango, slack */

/*
 * Time, in nanoseconds of one core's CPU (Debian 12, cairo 1.16, pango
 * 1.50): fitted to tests/bench/calibrate_estimate.sh's renders on a
 * shared 2-core machine, then doubled, so that every calibration render
 * takes less (docs/memory.md, "The time estimate").
 */
#define BUBBLE_EST_T_FIXED          4000000  /* layout, fonts, setup */
#define BUBBLE_EST_T_ROW            4000     /* a row: scales, sort, draw */
#define BUBBLE_EST_T_AREA           3        /* a px of a bubble, filled */
#define BUBBLE_EST_T_STROKE         20       /* a px of outline, 1 px wide */
#define BUBBLE_EST_T_PIXEL          8        /* a px of canvas, encoded */
#define BUBBLE_EST_T_PIXEL_ZLIB     40       /* bubble_png_compression small */
#define BUBBLE_EST_T_TEXT           30000    /* a label laid out, drawn */
#define BUBBLE_EST_T_TEXT_BYTE      1000     /* a byte of it, shaped */
#define BUBBLE_EST_T_SVG_ITEM       2000     /* an element written */
#define BUBBLE_EST_T_PDF_ITEM       40000    /* an element in cairo-pdf */


static void bubble_estimate_furniture(const bubble_chart_t *chart,
    size_t *shapes, size_t *texts);
static size_t bubble_estimate_breaks(size_t nbreaks, size_t dflt);
static size_t bubble_estimate_categories(const bubble_column_t *c,
    size_t *bytes);
static size_t bubble_estimate_text(const bubble_chart_t *chart, int aes);
static size_t bubble_estimate_keys(const bubble_chart_t *chart,
    size_t *longest);
static size_t bubble_estimate_longest(const bubble_column_t *c);
static void bubble_estimate_time(const bubble_chart_t *chart,
    bubble_estimate_t *e, size_t texts, size_t text_bytes);


#define bubble_est_max(a, b)           ((a) > (b) ? (a) : (b))


void
bubble_estimate(const bubble_chart_t *chart, bubble_estimate_t *e)
{
    size_t                  i, j, items, shapes, texts, titles, text_bytes;
    size_t                  rows, labels, pw, ph, stride, start, size;
    size_t                  radius, png, raw, svg, longest;
    const bubble_column_t  *c;

    rows = chart->nrows;

    /* model: what the parser built (allocated before admission) */

    e->model = sizeof(bubble_chart_t)
               + chart->ncolumns * sizeof(bubble_column_t);

    for (i = 0; i < chart->ncolumns; i++) {
        c = &chart->columns[i];

        if (c->type != BUBBLE_COLUMN_STRING) {
            e->model += c->cap * sizeof(double);
            continue;
        }

        e->model += c->cap * sizeof(bubble_str_t);

        for (j = 0; j < c->n; j++) {
            e->model += c->str[j].len + 1;
        }
    }

    /* elements: a circle a row, labels, tooltips, the furniture */

    bubble_estimate_furniture(chart, &shapes, &texts);

    shapes += rows;
    titles = 0;
    text_bytes = chart->title.len + chart->subtitle.len + chart->caption.len
                 + texts * 64;

    if (chart->aes[BUBBLE_AES_LABEL] >= 0) {
        labels = rows < BUBBLE_EST_LABELS_MAX ? rows : BUBBLE_EST_LABELS_MAX;
        texts += labels;
        text_bytes += bubble_estimate_text(chart, BUBBLE_AES_LABEL);
    }

    if (chart->aes[BUBBLE_AES_TOOLTIP] >= 0) {
        /* a <title> inside each circle: an element, not an item */
        titles = rows;
        text_bytes += bubble_estimate_text(chart, BUBBLE_AES_TOOLTIP);
    }

    /*
     * the labels of the colour legend's keys and of facet strips: in the
     * display list and the SVG, and, the longest of them, in the one pango
     * layout drawn at a time (~28 bytes a byte of Arabic, measured)
     */
    longest = 0;
    text_bytes += bubble_estimate_keys(chart, &longest);

    items = shapes + texts;
    e->elements = items + titles;

    /* layout: points, and the display list at its last doubling */

    size = 256;
    while (size < items) {
        size *= 2;
    }

    e->layout = rows * BUBBLE_EST_POINT
                + (size + size / 2) * BUBBLE_EST_ITEM;

    /* the SVG buffer, as bubble_svg_write() sizes it */

    svg = 1024 + items * BUBBLE_EST_SVG_ITEM + 6 * text_bytes;

    e->svg = 0;
    e->draw = 0;
    e->pixels = 0;
    e->encoder = 0;
    e->fixed = BUBBLE_EST_FIXED;

    if (chart->format == BUBBLE_FORMAT_SVG) {
        e->svg = svg;

    } else {
        e->draw = text_bytes + BUBBLE_EST_LAYOUT
                  + longest * BUBBLE_EST_LAYOUT_BYTE;
    }

    switch (chart->format) {

    case BUBBLE_FORMAT_PNG:
        pw = (size_t) lround(chart->width * chart->scale);
        ph = (size_t) lround(chart->height * chart->scale);
        stride = (pw * 4 + 3) & ~(size_t) 3;

        e->pixels = stride * ph;

        /*
         * The encoded PNG: measured ~300 bytes a bubble of 20 px radius,
         * more for larger ones (edges), plus the background, grid and
         * text; never more than the raw canvas (zlib's stored blocks).
         */
        radius = (size_t) ceil((chart->size.has_range ? chart->size.range[1]
                                                       : 20)
                               * chart->scale);

        png = BUBBLE_EST_PNG_BASE + (pw + ph) * BUBBLE_EST_PNG_EDGE
              + rows * (BUBBLE_EST_PNG_ROW + BUBBLE_EST_PNG_RADIUS * radius);

        raw = e->pixels + ph + e->pixels / 1000 + 65536;

        if (png > raw) {
            png = raw;
        }

        /*
         * bubble_png.c starts its output at a 16th of the canvas and
         * doubles it when full: at a copy the old buffer and as much of
         * the new are resident, the last buffer's size.  At the end a
         * buffer much larger than the PNG is swapped for one of the PNG's
         * size: twice the PNG at that copy.
         */
        start = stride * ph / 16 + 4096;

        size = start;

        while (size < png) {
            size *= 2;
        }

        e->encoder = bubble_est_max(size, 2 * png) + BUBBLE_EST_PNG_STATE;
        e->output = png;
        break;

    case BUBBLE_FORMAT_PDF:
        e->encoder = e->elements * BUBBLE_EST_PDF_ELEMENT + svg;
        break;

    default: /* BUBBLE_FORMAT_SVG */
        break;
    }

    e->total = e->model + e->layout + e->svg + e->draw + e->pixels
               + e->encoder + e->fixed;

    /* after the render: the model and the points stay with the request */

    e->retained = e->model + e->layout;

    if (chart->format == BUBBLE_FORMAT_PDF) {
        e->output = e->encoder;

    } else if (chart->format == BUBBLE_FORMAT_SVG) {
        e->output = e->svg;
    }

    bubble_estimate_time(chart, e, texts, text_bytes);
}


/*
 * Microseconds: a fixed part; per row; per text laid out and per byte of
 * text shaped (the labels of bubbles, legends and facet strips, titles);
 * per px of bubble area filled, at the largest radius; per px of canvas
 * encoded (PNG); per element written (SVG, PDF).
 */

static void
bubble_estimate_time(const bubble_chart_t *chart, bubble_estimate_t *e,
    size_t texts, size_t text_bytes)
{
    double                  ns, radius, area, pixels, scale;
    const bubble_column_t  *c;

    scale = chart->scale > 0 ? chart->scale : 1;

    /* the facet strips: a text each (their bytes are in text_bytes) */

    if (chart->facet >= 0 && (size_t) chart->facet < chart->ncolumns) {
        c = &chart->columns[chart->facet];
        texts += bubble_estimate_categories(c, NULL);
    }

    ns = BUBBLE_EST_T_FIXED
         + (double) chart->nrows * BUBBLE_EST_T_ROW
         + (double) texts * BUBBLE_EST_T_TEXT
         + (double) text_bytes * BUBBLE_EST_T_TEXT_BYTE;

    switch (chart->format) {

    case BUBBLE_FORMAT_PNG:
        radius = (chart->size.has_range ? chart->size.range[1] : 20) * scale;
        pixels = (double) chart->width * chart->height * scale * scale;

        /* filled area: no more than the canvas a bubble, and in all */
        area = 3.1416 * (radius + 1) * (radius + 1);

        if (area > pixels) {
            area = pixels;
        }

        ns += (double) chart->nrows * area * BUBBLE_EST_T_AREA
              + pixels * (chart->png_small ? BUBBLE_EST_T_PIXEL_ZLIB
                                           : BUBBLE_EST_T_PIXEL);

        if (chart->stroke_width > 0) {
            ns += (double) chart->nrows * 6.2832 * (radius + 1)
                  * (chart->stroke_width * scale + 1) * BUBBLE_EST_T_STROKE;
        }

        break;

    case BUBBLE_FORMAT_PDF:
        ns += (double) e->elements * BUBBLE_EST_T_PDF_ITEM;
        break;

    default: /* BUBBLE_FORMAT_SVG */
        ns += (double) e->elements * BUBBLE_EST_T_SVG_ITEM;
        break;
    }

    e->time_us = (uint64_t) (ns / 1000);
}


/*
 * Elements besides the bubbles and their labels: per axis the major and
 * minor grid lines, ticks and tick labels; the legends' keys and labels;
 * backgrounds and titles.
 */

static void
bubble_estimate_furniture(const bubble_chart_t *chart, size_t *shapes,
    size_t *texts)
{
    size_t                  b, n;
    const bubble_column_t  *c;

    *shapes = BUBBLE_EST_PAGE;
    *texts = BUBBLE_EST_PAGE;

    /* grid b + minor 2b + 2, ticks b, the axis line; labels b, title */

    b = bubble_estimate_breaks(chart->x.breaks ? chart->x.nbreaks : 0,
                               BUBBLE_EST_AUTO_BREAKS);
    *shapes += 4 * b + 3;
    *texts += b + 1;

    b = bubble_estimate_breaks(chart->y.breaks ? chart->y.nbreaks : 0,
                               BUBBLE_EST_AUTO_BREAKS);
    *shapes += 4 * b + 3;
    *texts += b + 1;

    if (chart->aes[BUBBLE_AES_SIZE] >= 0) {
        b = bubble_estimate_breaks(chart->size.breaks ? chart->size.nbreaks
                                                      : 0,
                                   BUBBLE_EST_AUTO_BREAKS);
        *shapes += b;
        *texts += b + 1;
    }

    if (chart->aes[BUBBLE_AES_COLOR] >= 0) {
        c = &chart->columns[chart->aes[BUBBLE_AES_COLOR]];

        if (c->type == BUBBLE_COLUMN_STRING
            || chart->color.type == BUBBLE_COLOR_CATEGORICAL)
        {
            n = bubble_estimate_categories(c, NULL);

            if (n < chart->color.ncategories) {
                n = chart->color.ncategories;
            }

            n = (n < BUBBLE_EST_CATEGORIES) ? n : BUBBLE_EST_CATEGORIES;

            *shapes += n;
            *texts += n + 1;

        } else {
            *shapes += BUBBLE_EST_COLORBAR + BUBBLE_EST_AUTO_BREAKS;
            *texts += BUBBLE_EST_AUTO_BREAKS + 1;
        }
    }
}


static size_t
bubble_estimate_breaks(size_t nbreaks, size_t dflt)
{
    if (nbreaks == 0) {
        return dflt;
    }

    return (nbreaks < BUBBLE_MAX_BREAKS) ? nbreaks : BUBBLE_MAX_BREAKS;
}


/*
 * Distinct values of a column, counted up to BUBBLE_EST_CATEGORIES: the
 * colour legend has a key for each.  Numbers count as one each, and as 24
 * bytes in BYTES (when not NULL), strings as their length.
 */

static size_t
bubble_estimate_categories(const bubble_column_t *c, size_t *bytes)
{
    size_t              i, j, n, len;
    const bubble_str_t *s, *seen[BUBBLE_EST_CATEGORIES];

    if (c->type != BUBBLE_COLUMN_STRING) {
        n = (c->n < BUBBLE_EST_CATEGORIES) ? c->n : BUBBLE_EST_CATEGORIES;

        if (bytes) {
            *bytes = n * 24;
        }

        return n;
    }

    n = 0;
    len = 0;

    for (i = 0; i < c->n; i++) {
        s = &c->str[i];

        if (s->data == NULL) {
            continue;
        }

        for (j = 0; j < n; j++) {
            if (seen[j]->len == s->len
                && memcmp(seen[j]->data, s->data, s->len) == 0)
            {
                break;
            }
        }

        if (j < n) {
            continue;
        }

        if (n == BUBBLE_EST_CATEGORIES) {
            break;
        }

        seen[n++] = s;
        len += s->len;
    }

    if (bytes) {
        *bytes = len;
    }

    /* and one for missing values */
    return n + 1;
}


/*
 * Bytes of the labels of the colour legend's keys (categories of a string
 * column) and of the facet strips, and the longest of them.
 */

static size_t
bubble_estimate_keys(const bubble_chart_t *chart, size_t *longest)
{
    size_t                  i, bytes, total;
    const bubble_column_t  *c;

    total = 0;
    *longest = 0;

    for (i = 0; i < 2; i++) {
        c = NULL;

        if (i == 0 && chart->aes[BUBBLE_AES_COLOR] >= 0) {
            c = &chart->columns[chart->aes[BUBBLE_AES_COLOR]];

        } else if (i == 1 && chart->facet >= 0
                   && (size_t) chart->facet < chart->ncolumns)
        {
            c = &chart->columns[chart->facet];
        }

        if (c == NULL || c->type != BUBBLE_COLUMN_STRING) {
            continue;
        }

        (void) bubble_estimate_categories(c, &bytes);
        total += bytes;

        bytes = bubble_estimate_longest(c);

        if (bytes > *longest) {
            *longest = bytes;
        }
    }

    return total;
}


/* bytes of the longest string of a string column */

static size_t
bubble_estimate_longest(const bubble_column_t *c)
{
    size_t  i, len;

    len = 0;

    for (i = 0; i < c->n; i++) {
        if (c->str[i].len > len) {
            len = c->str[i].len;
        }
    }

    return len;
}


/* bytes of the text of the column an aesthetic maps, numbers as 24 */

static size_t
bubble_estimate_text(const bubble_chart_t *chart, int aes)
{
    size_t                  i, len;
    const bubble_column_t  *c;

    c = &chart->columns[chart->aes[aes]];

    if (c->type != BUBBLE_COLUMN_STRING) {
        return c->n * 24;
    }

    len = 0;

    for (i = 0; i < c->n; i++) {
        len += c->str[i].len;
    }

    return len;
}

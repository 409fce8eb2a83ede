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
 */

#include <math.h>
#include <string.h>

#include "bubble_estimate.h"
#include "bubble_layout.h"


/* elements (counts): upper bounds from bubble_layout.c */
#define BUBBLE_EST_LABELS_MAX       2000     /* BUBBLE_LABELS_MAX */
#define BUBBLE_EST_CATEGORIES       64       /* BUBBLE_MAX_CATEGORIES */
#define BUBBLE_EST_COLORBAR         116      /* 1 px steps, 5 x 23.04 px keys */
#define BUBBLE_EST_AUTO_BREAKS      16       /* "nice" breaks, an axis */
#define BUBBLE_EST_PAGE             16       /* backgrounds, titles */

/* bytes, measured (docs/memory.md), rounded up */
#define BUBBLE_EST_ITEM             sizeof(bubble_item_t)
#define BUBBLE_EST_POINT            48       /* layout, a row */
#define BUBBLE_EST_SVG_ITEM         320      /* bubble_svg.c's bound */
#define BUBBLE_EST_LAYOUT           (64 * 1024)    /* a pango layout */
#define BUBBLE_EST_PDF_ELEMENT      1024     /* cairo-pdf, an element */
#define BUBBLE_EST_PNG_STATE        (384 * 1024)   /* zlib, libpng rows */
#define BUBBLE_EST_PNG_BASE         (256 * 1024)   /* PNG: grid, text */
#define BUBBLE_EST_PNG_EDGE         64       /* PNG bytes a px of w + h */
#define BUBBLE_EST_PNG_ROW          256      /* PNG bytes a bubble, and */
#define BUBBLE_EST_PNG_RADIUS       16       /* per px of its radius */
#define BUBBLE_EST_FIXED            (512 * 1024)   /* cairo, pango, slack */


static void bubble_estimate_furniture(const bubble_chart_t *chart,
    size_t *shapes, size_t *texts);
static size_t bubble_estimate_breaks(size_t nbreaks, size_t dflt);
static size_t bubble_estimate_categories(const bubble_column_t *c);
static size_t bubble_estimate_text(const bubble_chart_t *chart, int aes);


#define bubble_est_max(a, b)           ((a) > (b) ? (a) : (b))


void
bubble_estimate(const bubble_chart_t *chart, bubble_estimate_t *e)
{
    size_t                  i, j, items, shapes, texts, titles, text_bytes;
    size_t                  rows, labels, pw, ph, stride, start, size;
    size_t                  radius, png, raw, svg;
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
        e->draw = text_bytes + BUBBLE_EST_LAYOUT;
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
            n = bubble_estimate_categories(c);

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
 * colour legend has a key for each.  Numbers count as one each.
 */

static size_t
bubble_estimate_categories(const bubble_column_t *c)
{
    size_t              i, j, n;
    const bubble_str_t *s, *seen[BUBBLE_EST_CATEGORIES];

    if (c->type != BUBBLE_COLUMN_STRING) {
        return (c->n < BUBBLE_EST_CATEGORIES) ? c->n : BUBBLE_EST_CATEGORIES;
    }

    n = 0;

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
    }

    /* and one for missing values */
    return n + 1;
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

/*
 * ngx_bubble core: the display list's constructors (items, text, rects,
 * lines) and text measured or fitted for the layout.
 */

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bubble.h"
#include "bubble_json.h"
#include "bubble_layout.h"


/* display list */


bubble_item_t *
bubble_item(bubble_layout_ctx_t *ctx, bubble_item_type_e type)
{
    size_t           n;
    bubble_item_t   *items, *it;
    bubble_dlist_t  *dl = ctx->dl;

    if (dl->nitems == dl->nalloc) {
        n = dl->nalloc ? 2 * dl->nalloc : 256;

        items = bubble_alloc(ctx->alloc, n * sizeof(bubble_item_t));
        if (items == NULL) {
            bubble_error_set(ctx->err, 500, "internal", "", "out of memory");
            return NULL;
        }

        if (dl->nitems) {
            memcpy(items, dl->items, dl->nitems * sizeof(bubble_item_t));
        }

        bubble_free(ctx->alloc, dl->items);
        dl->items = items;
        dl->nalloc = n;
    }

    it = &dl->items[dl->nitems++];
    memset(it, 0, sizeof(bubble_item_t));
    it->type = type;
    it->opacity = 1;

    return it;
}


int
bubble_text(bubble_layout_ctx_t *ctx, double x, double y, const char *s,
    size_t len, double size, bubble_rgba_t color, bubble_anchor_e anchor,
    int rotate, int bold)
{
    bubble_item_t  *it;

    if (len == 0) {
        return 0;
    }

    it = bubble_item(ctx, BUBBLE_ITEM_TEXT);
    if (it == NULL) {
        return -1;
    }

    /* labels point into buffers that die with the layout: copy */
    it->text.data = bubble_strndup(ctx->alloc, s, len);
    if (it->text.data == NULL) {
        bubble_error_set(ctx->err, 500, "internal", "", "out of memory");
        return -1;
    }

    it->text.len = len;
    it->x = x;
    it->y = y;
    it->font_size = size;
    it->fill = color;
    it->anchor = anchor;
    it->rotate = rotate;
    it->bold = bold;

    ctx->dl->text_bytes += len;

    return 0;
}


int
bubble_rect(bubble_layout_ctx_t *ctx, double x, double y, double w, double h,
    bubble_rgba_t fill)
{
    bubble_item_t  *it;

    if (BUBBLE_A(fill) == 0) {
        return 0;
    }

    it = bubble_item(ctx, BUBBLE_ITEM_RECT);
    if (it == NULL) {
        return -1;
    }

    it->x = x;
    it->y = y;
    it->w = w;
    it->h = h;
    it->fill = fill;

    return 0;
}


int
bubble_line(bubble_layout_ctx_t *ctx, double x1, double y1, double x2,
    double y2, bubble_rgba_t color, double width)
{
    bubble_item_t  *it;

    if (BUBBLE_A(color) == 0) {
        return 0;
    }

    it = bubble_item(ctx, BUBBLE_ITEM_LINE);
    if (it == NULL) {
        return -1;
    }

    it->x = x1;
    it->y = y1;
    it->w = x2;
    it->h = y2;
    it->stroke = color;
    it->stroke_width = width;

    return 0;
}


double
bubble_measure(bubble_layout_ctx_t *ctx, const char *s, size_t len,
    double size, int bold, bubble_text_metrics_t *m)
{
    bubble_text_measure(ctx->family, size, bold, s, len, m);
    return m->width;
}


/*
 * Text that fits in max_w px: s itself, or its longest prefix of whole
 * characters followed by an ellipsis (allocated).  ggplot2 lets a title
 * run off the page; a cut glyph at the canvas edge looks like a bug, so
 * titles are shortened instead.  NULL: out of memory (err is set).
 */

const char *
bubble_fit(bubble_layout_ctx_t *ctx, const char *s, size_t *len, double size,
    double max_w)
{
    char                   *buf;
    size_t                  lo, hi, mid, n;
    bubble_text_metrics_t   m;

    if (bubble_measure(ctx, s, *len, size, 0, &m) <= max_w) {
        return s;
    }

    buf = bubble_alloc(ctx->alloc, *len + sizeof("\xe2\x80\xa6"));
    if (buf == NULL) {
        bubble_error_set(ctx->err, 500, "internal", "", "out of memory");
        return NULL;
    }

    /* the longest prefix that fits with the ellipsis: binary search */
    lo = 0;
    hi = *len;

    while (lo < hi) {
        mid = (lo + hi + 1) / 2;

        /* back to the start of a character */
        for (n = mid; n > lo && n < *len && ((u_char) s[n] & 0xc0) == 0x80;
             n--)
        {
            /* void */
        }

        if (n == lo) {
            hi = mid - 1;
            continue;
        }

        memcpy(buf, s, n);
        memcpy(buf + n, "\xe2\x80\xa6", 3);          /* U+2026 */

        if (bubble_measure(ctx, buf, n + 3, size, 0, &m) <= max_w) {
            lo = n;

        } else {
            hi = n - 1;
        }
    }

    /* trailing spaces before the ellipsis read as a gap */
    while (lo > 0 && s[lo - 1] == ' ') {
        lo--;
    }

    memcpy(buf, s, lo);
    memcpy(buf + lo, "\xe2\x80\xa6", 3);
    *len = lo + 3;

    return buf;
}

/*
 * ngx_bubble core: display list -> cairo, for PNG and PDF.
 *
 * The same list bubble_svg.c writes as SVG, drawn as that SVG draws: a
 * rectangle is filled, a line stroked with butt caps, a circle filled
 * then stroked, text placed by its baseline (bubble_text.c), CLIP ...
 * CLIP_END clipped to a rectangle.  Drawn directly, not through an SVG
 * renderer: text stays in cairo's glyph cache, and no element tree is
 * built (docs/performance.md has the figures).
 */

#include <math.h>
#include <string.h>

#include <cairo.h>

#include "bubble.h"
#include "bubble_dlist.h"
#include "bubble_text.h"


static void bubble_draw_source(cairo_t *cr, bubble_rgba_t c, double opacity);


int
bubble_draw(bubble_allocator_t *a, cairo_t *cr, const bubble_dlist_t *dl,
    bubble_error_t *err)
{
    char                 *buf;
    size_t                i, max;
    const bubble_item_t  *it;

    /* one buffer for the longest text, cleaned up by bubble_text_draw() */
    max = 0;

    for (i = 0; i < dl->nitems; i++) {
        if (dl->items[i].type == BUBBLE_ITEM_TEXT) {
            max = (dl->items[i].text.len > max) ? dl->items[i].text.len : max;
        }
    }

    buf = bubble_alloc(a, max + 1);
    if (buf == NULL) {
        bubble_error_set(err, 500, "internal", "", "out of memory");
        return -1;
    }

    for (i = 0; i < dl->nitems; i++) {
        it = &dl->items[i];

        switch (it->type) {

        case BUBBLE_ITEM_RECT:
            cairo_rectangle(cr, it->x, it->y, it->w, it->h);
            bubble_draw_source(cr, it->fill, 1);
            cairo_fill(cr);
            break;

        case BUBBLE_ITEM_LINE:
            cairo_move_to(cr, it->x, it->y);
            cairo_line_to(cr, it->w, it->h);
            cairo_set_line_width(cr, it->stroke_width);
            bubble_draw_source(cr, it->stroke, 1);
            cairo_stroke(cr);
            break;

        case BUBBLE_ITEM_CIRCLE:
            if (it->r <= 0) {
                /* SVG draws nothing for r="0", not even the stroke */
                break;
            }

            cairo_new_sub_path(cr);
            cairo_arc(cr, it->x, it->y, it->r, 0, 2 * M_PI);
            bubble_draw_source(cr, it->fill, it->opacity);

            if (BUBBLE_A(it->stroke) == 0) {
                cairo_fill(cr);
                break;
            }

            cairo_fill_preserve(cr);
            cairo_set_line_width(cr, it->stroke_width);
            bubble_draw_source(cr, it->stroke, 1);
            cairo_stroke(cr);
            break;

        case BUBBLE_ITEM_TEXT:
            /* font_family is NUL-terminated (bubble_layout.c) */
            bubble_text_draw(cr, dl->font_family.data, it, buf);
            break;

        case BUBBLE_ITEM_CLIP:
            cairo_save(cr);
            cairo_rectangle(cr, it->x, it->y, it->w, it->h);
            cairo_clip(cr);
            break;

        case BUBBLE_ITEM_CLIP_END:
            cairo_restore(cr);
            break;
        }
    }

    bubble_free(a, buf);

    return 0;
}


static void
bubble_draw_source(cairo_t *cr, bubble_rgba_t c, double opacity)
{
    cairo_set_source_rgba(cr, BUBBLE_R(c) / 255.0, BUBBLE_G(c) / 255.0,
                          BUBBLE_B(c) / 255.0, BUBBLE_A(c) / 255.0 * opacity);
}

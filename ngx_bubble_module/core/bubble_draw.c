/*
 * ngx_bubble core: display list -> cairo, for PNG and PDF.
 *
 * The same list bubble_svg.c writes as SVG, drawn as that SVG draws: a
 * rectangle is filled, a line stroked with butt caps, a circle filled
 * then stroked, text placed by its baseline (bubble_text.c), CLIP ...
 * CLIP_END clipped to a rectangle.  Drawn directly, not through an SVG
 * renderer: text stays in cairo's glyph cache, and no element tree is
 * built (docs/performance.md has the figures).
 *
 * On a PNG's canvas the circles skip cairo: bubble_disc.c writes them
 * into the pixels, a tenth of cairo's cost, clipped to the same
 * rectangles; cairo is flushed before and told after.
 */

#include <math.h>
#include <string.h>

#include <cairo.h>

#include "bubble.h"
#include "bubble_disc.h"
#include "bubble_dlist.h"
#include "bubble_text.h"


#define BUBBLE_DRAW_CLIPS  8          /* nested CLIPs drawn by bubble_disc.c */


typedef struct {
    bubble_canvas_t     *canvas;      /* NULL: cairo draws every circle */
    cairo_surface_t     *target;
    cairo_matrix_t       ctm;         /* CSS px -> device px */
    bubble_clip_t         clip[BUBBLE_DRAW_CLIPS];
    int                  depth;       /* clip[depth] is in force */
    unsigned             writing:1;   /* canvas written since cairo drew */
} bubble_draw_direct_t;


static void bubble_draw_direct_init(bubble_draw_direct_t *d, cairo_t *cr,
    bubble_canvas_t *canvas);
static int bubble_draw_direct_circle(bubble_draw_direct_t *d,
    const bubble_item_t *it);
static void bubble_draw_direct_clip(bubble_draw_direct_t *d,
    const bubble_item_t *it);
static void bubble_draw_direct_done(bubble_draw_direct_t *d);
static void bubble_draw_source(cairo_t *cr, bubble_rgba_t c, double opacity);


int
bubble_draw(bubble_allocator_t *a, cairo_t *cr, bubble_canvas_t *canvas,
    const bubble_dlist_t *dl, bubble_error_t *err)
{
    char                  *buf;
    size_t                 i, max;
    const bubble_item_t   *it;
    bubble_draw_direct_t   direct;

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

    bubble_draw_direct_init(&direct, cr, canvas);

    for (i = 0; i < dl->nitems; i++) {
        it = &dl->items[i];

        if (bubble_draw_direct_circle(&direct, it)) {
            continue;
        }

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
            bubble_draw_direct_clip(&direct, it);
            break;

        case BUBBLE_ITEM_CLIP_END:
            cairo_restore(cr);
            bubble_draw_direct_clip(&direct, it);
            break;
        }
    }

    bubble_draw_direct_done(&direct);
    bubble_free(a, buf);

    return 0;
}


static void
bubble_draw_direct_init(bubble_draw_direct_t *d, cairo_t *cr,
    bubble_canvas_t *canvas)
{
    memset(d, 0, sizeof(bubble_draw_direct_t));

    cairo_get_matrix(cr, &d->ctm);

    /* a uniform scale and a shift keep circles circles */
    if (canvas == NULL || d->ctm.xy != 0 || d->ctm.yx != 0
        || d->ctm.xx != d->ctm.yy || !(d->ctm.xx > 0))
    {
        return;
    }

    d->canvas = canvas;
    d->target = cairo_get_target(cr);
    d->clip[0].x1 = canvas->width;
    d->clip[0].y1 = canvas->height;
}


/* 1 if the item is a circle drawn into the canvas, 0 for cairo to draw */

static int
bubble_draw_direct_circle(bubble_draw_direct_t *d, const bubble_item_t *it)
{
    double  s, half;

    if (d->canvas == NULL) {
        return 0;
    }

    if (it->type != BUBBLE_ITEM_CIRCLE || d->depth >= BUBBLE_DRAW_CLIPS) {
        if (d->writing) {
            /* cairo may keep pixels it drew: it must see ours */
            cairo_surface_mark_dirty(d->target);
            d->writing = 0;
        }

        return 0;
    }

    if (!d->writing) {
        cairo_surface_flush(d->target);
        d->writing = 1;
    }

    s = d->ctm.xx;

    if (it->r <= 0) {
        /* SVG draws nothing for r="0", not even the stroke */
        return 1;
    }

    bubble_disc_draw(d->canvas, &d->clip[d->depth], it->x * s + d->ctm.x0,
                     it->y * s + d->ctm.y0, it->r * s, 0,
                     bubble_disc_color(it->fill, it->opacity));

    if (BUBBLE_A(it->stroke) != 0) {
        /* cairo_stroke(): the ring the line's width covers */
        half = it->stroke_width / 2;
        bubble_disc_draw(d->canvas, &d->clip[d->depth],
                         it->x * s + d->ctm.x0, it->y * s + d->ctm.y0,
                         (it->r + half) * s, (it->r - half) * s,
                         bubble_disc_color(it->stroke, 1));
    }

    return 1;
}


/* CLIP: the next clip[] is this rectangle within the last; CLIP_END: pop */

static void
bubble_draw_direct_clip(bubble_draw_direct_t *d, const bubble_item_t *it)
{
    double         s;
    bubble_clip_t  *up, *box;

    if (it->type == BUBBLE_ITEM_CLIP_END) {
        d->depth -= (d->depth > 0);
        return;
    }

    d->depth++;

    if (d->depth >= BUBBLE_DRAW_CLIPS) {
        /* deeper than clip[]: cairo draws the circles there */
        return;
    }

    s = d->ctm.xx;
    up = &d->clip[d->depth - 1];
    box = &d->clip[d->depth];

    box->x0 = fmax(up->x0, it->x * s + d->ctm.x0);
    box->y0 = fmax(up->y0, it->y * s + d->ctm.y0);
    box->x1 = fmin(up->x1, (it->x + it->w) * s + d->ctm.x0);
    box->y1 = fmin(up->y1, (it->y + it->h) * s + d->ctm.y0);
}


static void
bubble_draw_direct_done(bubble_draw_direct_t *d)
{
    if (d->writing) {
        cairo_surface_mark_dirty(d->target);
        d->writing = 0;
    }
}


static void
bubble_draw_source(cairo_t *cr, bubble_rgba_t c, double opacity)
{
    cairo_set_source_rgba(cr, BUBBLE_R(c) / 255.0, BUBBLE_G(c) / 255.0,
                          BUBBLE_B(c) / 255.0, BUBBLE_A(c) / 255.0 * opacity);
}

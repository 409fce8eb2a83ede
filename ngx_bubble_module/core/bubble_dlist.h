/*
 * ngx_bubble core: the display list between layout and output, and the
 * functions on either side of it (layout, SVG, cairo, raster).
 *
 * bubble_layout.c turns a chart model into a flat list of simple shapes in
 * CSS pixels; bubble_svg.c writes it as SVG, bubble_draw.c draws it with
 * cairo for PNG and PDF.  Only what every SVG viewer draws alike:
 * rectangles, lines, circles with fill-opacity, plain text, rectangular
 * clips.
 */

#ifndef _BUBBLE_DLIST_H_INCLUDED_
#define _BUBBLE_DLIST_H_INCLUDED_


#include <cairo.h>

#include "bubble.h"
#include "bubble_disc.h"


typedef enum {
    BUBBLE_ITEM_RECT = 0,
    BUBBLE_ITEM_LINE,
    BUBBLE_ITEM_CIRCLE,
    BUBBLE_ITEM_TEXT,
    BUBBLE_ITEM_CLIP,                       /* items up to CLIP_END are
                                               clipped to x, y, w, h */
    BUBBLE_ITEM_CLIP_END
} bubble_item_type_e;

typedef enum {
    BUBBLE_ANCHOR_START = 0,
    BUBBLE_ANCHOR_MIDDLE,
    BUBBLE_ANCHOR_END
} bubble_anchor_e;

typedef struct {
    bubble_item_type_e       type;
    double                   x, y;          /* rect, line start, centre */
    double                   w, h;          /* rect size; line end */
    double                   r;             /* circle radius */
    bubble_rgba_t            fill;          /* alpha 0: none */
    bubble_rgba_t            stroke;        /* alpha 0: none */
    double                   stroke_width;
    double                   opacity;       /* fill-opacity, 0..1 */
    bubble_str_t             text;          /* text; circle: tooltip */
    double                   font_size;     /* px */
    bubble_anchor_e          anchor;
    unsigned                 bold:1;
    unsigned                 rotate:1;      /* -90 degrees about (x, y) */
} bubble_item_t;

typedef struct {
    int                      width;         /* CSS px */
    int                      height;
    bubble_str_t             font_family;
    bubble_str_t             title;         /* accessible name */
    bubble_str_t             desc;
    bubble_item_t           *items;
    size_t                   nitems;
    size_t                   nalloc;
    size_t                   text_bytes;    /* sum of text lengths */
    size_t                   dropped_rows;
} bubble_dlist_t;


/* bubble_layout.c */
int bubble_layout(bubble_allocator_t *a, bubble_chart_t *chart,
    bubble_dlist_t *dl, bubble_error_t *err);

/* bubble_svg.c */
int bubble_svg_write(bubble_allocator_t *a, bubble_dlist_t *dl,
    bubble_output_t *out, bubble_error_t *err);

/* bubble_draw.c; canvas: cr's image surface's pixels (PNG), or NULL */
int bubble_draw(bubble_allocator_t *a, cairo_t *cr, bubble_canvas_t *canvas,
    const bubble_dlist_t *dl, bubble_error_t *err);

/* bubble_raster.c */
int bubble_raster(bubble_allocator_t *a, bubble_chart_t *chart,
    const bubble_dlist_t *dl, bubble_output_t *out, bubble_error_t *err);


#endif /* _BUBBLE_DLIST_H_INCLUDED_ */

/*
 * ngx_bubble core: bubbles drawn straight into an ARGB32 canvas
 * (bubble_disc.c), for PNG; PDF keeps cairo's paths.
 */

#ifndef _BUBBLE_DISC_H_INCLUDED_
#define _BUBBLE_DISC_H_INCLUDED_


#include <stdint.h>

#include "bubble.h"


typedef struct {
    u_char      *pixels;       /* cairo's ARGB32: premultiplied, native */
    int          width;        /* px */
    int          height;
    int          stride;       /* bytes a row */
    int32_t     *cover;        /* width + 2 zeroed cells, kept zeroed */
} bubble_canvas_t;

/* a clip rectangle in device px: x0 <= x < x1, y0 <= y < y1 */
typedef struct {
    double       x0, y0;
    double       x1, y1;
} bubble_clip_t;


/* the int32_t cells a canvas of this width needs in cover */
#define bubble_disc_cells(width)  ((size_t) (width) + 2)

/*
 * cairo_set_source_rgba()'s colour as the premultiplied ARGB32 pixel
 * pixman composites: rgba's channels, its alpha times opacity (0..1)
 */
uint32_t bubble_disc_color(bubble_rgba_t rgba, double opacity);

/*
 * Composites color OVER the canvas where the ring between r_in and r_out
 * (device px about cx, cy; r_in 0: a disc) meets clip, antialiased as
 * cairo's scan converter does.  Any finite or non-finite input is safe:
 * what lies outside the canvas is not drawn.
 */
void bubble_disc_draw(bubble_canvas_t *cv, const bubble_clip_t *clip,
    double cx, double cy, double r_out, double r_in, uint32_t color);


#endif /* _BUBBLE_DISC_H_INCLUDED_ */

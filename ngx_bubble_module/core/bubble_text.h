/*
 * ngx_bubble core: text, measured for the layout and drawn for PNG and
 * PDF with one pango context (bubble_text.c), and the pinned fonts.
 */

#ifndef _BUBBLE_TEXT_H_INCLUDED_
#define _BUBBLE_TEXT_H_INCLUDED_


#include <cairo.h>

#include "bubble.h"
#include "bubble_dlist.h"


#define BUBBLE_FONT_FAMILY       "DejaVu Sans"
/*
 * after the spec's family, for the glyphs it lacks (CJK): named, so that
 * every machine picks the same font rather than fontconfig's first match
 * (Droid Sans Fallback, or Noto's JP cut for Chinese text)
 */
#define BUBBLE_FONT_FALLBACK     "Noto Sans CJK SC"

/* ggplot2 sizes are in points; we draw at 96 px per inch */
#define BUBBLE_PT                (96.0 / 72.0)


typedef struct {
    double                   width;         /* px */
    double                   height;        /* line height, px */
    double                   ascent;        /* baseline from the top, px */
} bubble_text_metrics_t;


void bubble_text_measure(const char *family, double size, int bold,
    const char *text, size_t len, bubble_text_metrics_t *m);
void bubble_text_draw(cairo_t *cr, const char *family,
    const bubble_item_t *it, char *buf);


#endif /* _BUBBLE_TEXT_H_INCLUDED_ */

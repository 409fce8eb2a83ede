/*
 * ngx_bubble core: the PNG encoder (bubble_png.c).
 */

#ifndef _BUBBLE_PNG_H_INCLUDED_
#define _BUBBLE_PNG_H_INCLUDED_


#include "bubble.h"


/*
 * Encodes cairo's ARGB32 pixels (premultiplied, one native-endian 32-bit
 * word a pixel, rows stride bytes apart) as a PNG in out->data, allocated
 * from a: 8-bit RGB when every pixel is opaque, else RGBA with the colours
 * unpremultiplied exactly as cairo's own writer does.  The pixels are only
 * read.  Returns 0, or -1 with err set (500: out of memory, zlib failed).
 */
int bubble_png_encode(bubble_allocator_t *a, const u_char *pixels,
    int width, int height, int stride, bubble_output_t *out,
    bubble_error_t *err);


#endif /* _BUBBLE_PNG_H_INCLUDED_ */

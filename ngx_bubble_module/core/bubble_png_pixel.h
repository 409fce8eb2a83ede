/*
 * ngx_bubble core: one cairo ARGB32 pixel (premultiplied, native endian)
 * as PNG's RGBA, unpremultiplied as cairo's own PNG writer rounds: the
 * row kernels (bubble_png_rows.c), which both encoders pack pixels with.
 */

#ifndef _BUBBLE_PNG_PIXEL_H_INCLUDED_
#define _BUBBLE_PNG_PIXEL_H_INCLUDED_


#include <stdint.h>

#include "bubble.h"


static inline void
bubble_png_unpremultiply(uint32_t p, u_char *dst)
{
    uint32_t  a;

    a = p >> 24;

    if (a == 255) {
        dst[0] = (u_char) (p >> 16);
        dst[1] = (u_char) (p >> 8);
        dst[2] = (u_char) p;

    } else if (a == 0) {
        dst[0] = 0;
        dst[1] = 0;
        dst[2] = 0;

    } else {
        dst[0] = (((p >> 16) & 0xff) * 255 + a / 2) / a;
        dst[1] = (((p >> 8) & 0xff) * 255 + a / 2) / a;
        dst[2] = ((p & 0xff) * 255 + a / 2) / a;
    }

    dst[3] = (u_char) a;
}


#endif /* _BUBBLE_PNG_PIXEL_H_INCLUDED_ */

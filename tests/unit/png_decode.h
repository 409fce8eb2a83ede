/*
 * A PNG in memory decoded by cairo's reader (libpng): the unit tests'
 * and the encoder bench's check that an encoder's output is a PNG any
 * decoder reads, and what pixels it holds (premultiplied ARGB32).
 */

#ifndef _BUBBLE_TEST_PNG_DECODE_H_INCLUDED_
#define _BUBBLE_TEST_PNG_DECODE_H_INCLUDED_


#include <string.h>

#include <cairo.h>

#include "bubble.h"


typedef struct {
    const u_char  *data;
    size_t         len;
    size_t         pos;
} png_reader_t;


static cairo_status_t
png_reader_read(void *closure, unsigned char *data, unsigned int length)
{
    png_reader_t  *r = closure;

    if (r->len - r->pos < length) {
        return CAIRO_STATUS_READ_ERROR;
    }

    memcpy(data, r->data + r->pos, length);
    r->pos += length;

    return CAIRO_STATUS_SUCCESS;
}


/* the image surface (check its status); *used: the bytes libpng read */

static inline cairo_surface_t *
png_decode(const u_char *data, size_t len, size_t *used)
{
    png_reader_t      r;
    cairo_surface_t  *s;

    r.data = data;
    r.len = len;
    r.pos = 0;

    s = cairo_image_surface_create_from_png_stream(png_reader_read, &r);

    if (used) {
        *used = r.pos;
    }

    return s;
}


#endif /* _BUBBLE_TEST_PNG_DECODE_H_INCLUDED_ */

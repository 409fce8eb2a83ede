/*
 * ngx_bubble core: display list -> PNG or PDF: the surface, drawing by
 * bubble_draw.c, PNG bytes from bubble_png.c, PDF from cairo's PDF
 * surface.
 *
 * The pixel buffer and the encoded bytes come from the caller's allocator
 * (cairo_image_surface_create_for_data on our memory); cairo's own
 * objects are destroyed on every path.
 */

#include <math.h>
#include <string.h>

#include <cairo.h>
#include <cairo-pdf.h>

#include "bubble.h"
#include "bubble_dlist.h"
#include "bubble_png.h"
#include "bubble_png_fast.h"


typedef struct {
    bubble_allocator_t      *alloc;
    u_char                  *data;
    size_t                   len;
    size_t                   size;
    unsigned                 failed:1;
} bubble_stream_t;


static cairo_status_t bubble_stream_write(void *closure,
    const unsigned char *data, unsigned int length);


int
bubble_raster(bubble_allocator_t *a, bubble_chart_t *chart,
    const bubble_dlist_t *dl, bubble_output_t *out, bubble_error_t *err)
{
    int               rc, pw, ph, stride;
    u_char           *pixels;
    cairo_t          *cr;
    bubble_canvas_t   canvas, *direct;
    bubble_stream_t   stream;
    cairo_status_t    status;
    cairo_surface_t  *surface;

    memset(&stream, 0, sizeof(bubble_stream_t));
    stream.alloc = a;

    surface = NULL;
    pixels = NULL;
    direct = NULL;
    canvas.cover = NULL;
    pw = 0;
    ph = 0;
    stride = 0;
    rc = -1;

    if (chart->format == BUBBLE_FORMAT_PDF) {
        /* PDF pages are in points: 1 CSS px = 0.75 pt */
        surface = cairo_pdf_surface_create_for_stream(bubble_stream_write,
                                                      &stream,
                                                      chart->width * 0.75,
                                                      chart->height * 0.75);
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR,
                                       "ngx_bubble " BUBBLE_VERSION);
        /* no creation date: the same spec gives the same bytes */
        cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE,
                                       "");

    } else {
        pw = (int) lround(chart->width * chart->scale);
        ph = (int) lround(chart->height * chart->scale);

        stride = cairo_format_stride_for_width(CAIRO_FORMAT_ARGB32, pw);
        if (stride < 0) {
            bubble_error_set(err, 413, "too_large", "width",
                             "width: %d px is more than cairo draws", pw);
            goto done;
        }

        /* zeroed: a transparent background must start transparent */
        pixels = bubble_calloc(a, (size_t) stride * ph);
        if (pixels == NULL) {
            bubble_error_set(err, 500, "internal", "", "out of memory");
            goto done;
        }

        surface = cairo_image_surface_create_for_data(pixels,
                                                      CAIRO_FORMAT_ARGB32,
                                                      pw, ph, stride);

        /* bubble_disc.c draws the bubbles into these pixels */
        canvas.cover = bubble_calloc(a, bubble_disc_cells(pw)
                                        * sizeof(int32_t));
        if (canvas.cover == NULL) {
            bubble_error_set(err, 500, "internal", "", "out of memory");
            goto done;
        }

        canvas.pixels = pixels;
        canvas.width = pw;
        canvas.height = ph;
        canvas.stride = stride;
        direct = &canvas;
    }

    status = cairo_surface_status(surface);
    if (status != CAIRO_STATUS_SUCCESS) {
        bubble_error_set(err, 500, "render_failed", "",
                         "cairo surface failed: %s",
                         cairo_status_to_string(status));
        goto done;
    }

    cr = cairo_create(surface);

    if (chart->format == BUBBLE_FORMAT_PDF) {
        cairo_scale(cr, 0.75, 0.75);
    } else {
        cairo_scale(cr, chart->scale, chart->scale);
    }

    rc = bubble_draw(a, cr, direct, dl, err);

    status = cairo_status(cr);
    cairo_destroy(cr);

    if (rc != 0) {
        goto done;
    }

    if (status != CAIRO_STATUS_SUCCESS) {
        bubble_error_set(err, 500, "render_failed", "", "cairo failed: %s",
                         cairo_status_to_string(status));
        rc = -1;
        goto done;
    }

    if (chart->format == BUBBLE_FORMAT_PDF) {
        cairo_surface_finish(surface);
        status = cairo_surface_status(surface);

    } else {
        cairo_surface_flush(surface);

        /*
         * bubble_png_fast.c (bubble_png_compression fast, the default): a
         * fraction of zlib's CPU for bigger files; bubble_png.c (small):
         * zlib level 1; both far cheaper than cairo's writer
         * (docs/performance.md)
         */
        if (chart->png_small) {
            rc = bubble_png_encode(a, pixels, pw, ph, stride, out, err);

        } else {
            rc = bubble_png_fast_encode(a, pixels, pw, ph, stride,
                                        BUBBLE_PNG_ISA_AUTO, out, err);
        }

        goto done;
    }

    if (status != CAIRO_STATUS_SUCCESS || stream.failed) {
        bubble_error_set(err, 500, "render_failed", "",
                         "encoding failed: %s",
                         cairo_status_to_string(status));
        rc = -1;
        goto done;
    }

    out->data = stream.data;
    out->len = stream.len;
    rc = 0;

done:

    if (surface) {
        cairo_surface_destroy(surface);
    }

    /* the pixels are dead once encoded: give them back early */
    bubble_free(a, canvas.cover);
    bubble_free(a, pixels);

    return rc;
}


/* cairo's write callback: append to a buffer that doubles when full */

static cairo_status_t
bubble_stream_write(void *closure, const unsigned char *data,
    unsigned int length)
{
    size_t            size;
    u_char           *p;
    bubble_stream_t  *s = closure;

    if (s->failed) {
        return CAIRO_STATUS_WRITE_ERROR;
    }

    if (s->len + length > s->size) {
        size = s->size ? s->size : 16384;
        while (size < s->len + length) {
            size *= 2;
        }

        p = bubble_alloc(s->alloc, size);
        if (p == NULL) {
            s->failed = 1;
            return CAIRO_STATUS_WRITE_ERROR;
        }

        if (s->len) {
            memcpy(p, s->data, s->len);
        }

        bubble_free(s->alloc, s->data);
        s->data = p;
        s->size = size;
    }

    memcpy(s->data + s->len, data, length);
    s->len += length;

    return CAIRO_STATUS_SUCCESS;
}

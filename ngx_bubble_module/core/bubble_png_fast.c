/*
 * ngx_bubble core: cairo ARGB32 pixels -> PNG in one pass, with our own
 * deflate, for charts: flat fills, antialiased edges and text.
 *
 * zlib level 1 spends its time looking for matches in a 32 KiB window at
 * every byte; a chart's filtered rows are mostly runs of one byte, and
 * what is left, edges and glyphs, a small part.  So (after the published
 * fpnge design, with a match finder for text):
 *
 *   - each row is packed (unpremultiplied) and filtered None, Sub and Up
 *     by vector kernels (bubble_png_rows.c), which also count where runs
 *     break in each; see bubble_png_filter_row() for the choice;
 *   - the row goes into deflate's window, where bubble_png_deflate.c
 *     codes it at once: runs, matches for repeated glyphs, literals;
 *   - adler32 by a vector kernel, a row at a time.
 *
 * The rows are read from cairo's buffer as they are coded: three rows,
 * the window (64 KiB and a row) and the hash table (128 KiB), 260 KiB at
 * 4096 px RGBA (tests/unit/test_png_fast.c checks it stays within what
 * bubble_estimate.c reserves), not a copy of the image.  The output
 * buffer grows as bubble_png.c's does.
 */

#include <stdint.h>
#include <string.h>

#include <zlib.h>

#include "bubble.h"
#include "bubble_png_fast.h"
#include "bubble_png_deflate.h"
#include "bubble_png_rows.h"


typedef struct {
    const bubble_png_rows_t *k;
    const u_char            *pixels;
    int                      width;
    int                      stride;
    int                      opaque;
    int                      bpp;
    size_t                   n;             /* bytes a row, filter byte not */
    u_char                  *cur;           /* BUBBLE_PNG_ROW_PAD in */
    u_char                  *prev;
    u_char                  *sub;
} bubble_png_rowset_t;


static void bubble_png_filter_row(bubble_png_rowset_t *rs, int y,
    u_char *dst);
static void bubble_png_put32(u_char *p, uint32_t v);


int
bubble_png_fast_isa(void)
{
    return bubble_png_rows_best();
}


int
bubble_png_fast_encode(bubble_allocator_t *a, const u_char *pixels,
    int width, int height, int stride, int isa, bubble_output_t *out,
    bubble_error_t *err)
{
    int                    y;
    u_char                 ihdr[13], *p, *bufs, *row;
    size_t                 rowbuf, idat, n;
    uint32_t               crc, adler;
    bubble_png_rowset_t    rs;
    bubble_png_deflate_t  *d;

    if (width <= 0 || height <= 0 || stride < width * 4) {
        bubble_error_set(err, 500, "internal", "",
                         "png: bad image %dx%d, stride %d",
                         width, height, stride);
        return -1;
    }

    memset(&rs, 0, sizeof(bubble_png_rowset_t));
    rs.k = bubble_png_rows(isa);
    rs.pixels = pixels;
    rs.width = width;
    rs.stride = stride;

    rs.opaque = 1;
    for (y = 0; y < height && rs.opaque; y++) {
        rs.opaque = rs.k->opaque((const uint32_t *) (pixels
                                                     + (size_t) y * stride),
                                 width);
    }

    rs.bpp = rs.opaque ? 3 : 4;
    rs.n = (size_t) width * rs.bpp;

    /* three rows, zeroed (row 0's "above"), pad before and slack after */
    rowbuf = BUBBLE_PNG_ROW_PAD + rs.n + BUBBLE_PNG_ROW_PAD;

    d = bubble_alloc(a, sizeof(bubble_png_deflate_t));
    bufs = bubble_calloc(a, 3 * rowbuf);

    if (d == NULL || bufs == NULL) {
        bubble_free(a, bufs);
        bubble_free(a, d);
        bubble_error_set(err, 500, "internal", "", "out of memory");
        return -1;
    }

    rs.cur = bufs + BUBBLE_PNG_ROW_PAD;
    rs.prev = rs.cur + rowbuf;
    rs.sub = rs.prev + rowbuf;

    /* output: as bubble_png.c starts it, what bubble_estimate() reserves */
    if (bubble_png_deflate_init(d, a, (size_t) stride * height / 16 + 4096,
                                rs.n + 1, (uint64_t) (rs.n + 1) * height,
                                rs.bpp)
        != 0)
    {
        goto nomem;
    }

    memcpy(d->data, "\x89PNG\r\n\x1a\n", 8);
    p = d->data + 8;

    bubble_png_put32(ihdr, width);
    bubble_png_put32(ihdr + 4, height);
    ihdr[8] = 8;                            /* bits a sample */
    ihdr[9] = rs.opaque ? 2 : 6;            /* RGB, RGBA */
    ihdr[10] = 0;                           /* deflate */
    ihdr[11] = 0;                           /* adaptive filtering */
    ihdr[12] = 0;                           /* no interlace */

    bubble_png_put32(p, 13);
    memcpy(p + 4, "IHDR", 4);
    memcpy(p + 8, ihdr, 13);
    bubble_png_put32(p + 21, crc32(0, p + 4, 17));

    /* one IDAT: its length and CRC are written when it is complete */
    idat = 8 + 25;
    memcpy(d->data + idat + 4, "IDAT", 4);
    d->len = idat + 8;

    bubble_png_deflate_start(d);
    adler = 1;

    for (y = 0; y < height; y++) {
        row = bubble_png_deflate_room(d, rs.n + 1);
        bubble_png_filter_row(&rs, y, row);
        adler = rs.k->adler(adler, row, rs.n + 1);

        if (bubble_png_deflate_row(d, rs.n + 1) != 0) {
            goto nomem;
        }
    }

    /* the stream's end, IDAT's length and CRC, IEND */

    if (bubble_png_deflate_finish(d, adler) != 0
        || bubble_png_deflate_reserve(d, 16) != 0)
    {
        goto nomem;
    }

    n = d->len - idat - 8;
    bubble_png_put32(d->data + idat, (uint32_t) n);
    crc = crc32(0, d->data + idat + 4, (uInt) (n + 4));
    bubble_png_put32(d->data + d->len, crc);
    d->len += 4;

    bubble_png_put32(d->data + d->len, 0);
    memcpy(d->data + d->len + 4, "IEND\xae\x42\x60\x82", 8);
    d->len += 12;

    bubble_png_deflate_free(d);
    bubble_free(a, bufs);

    /* a buffer near the PNG's size: it lives until the response is sent */
    if (d->size - d->len > d->len / 4 + 65536) {
        p = bubble_alloc(a, d->len);
        if (p != NULL) {
            memcpy(p, d->data, d->len);
            bubble_free(a, d->data);
            d->data = p;
        }
    }

    out->data = d->data;
    out->len = d->len;

    bubble_free(a, d);

    return 0;

nomem:

    bubble_png_deflate_free(d);
    bubble_free(a, d->data);
    bubble_free(a, bufs);
    bubble_free(a, d);

    bubble_error_set(err, 500, "internal", "", "png: out of memory");

    return -1;
}


/*
 * Row y packed into cur (prev holds row y - 1, or zeros for row 0) and
 * filtered into dst: the filter type, then the row.  Up is written there
 * at once, Sub or None copied over it.
 *
 * None is kept unless Sub or Up at least halves the runs it breaks into:
 * None repeats a glyph exactly wherever it is drawn, whatever is above
 * it, and the match finder codes the repeat as a match (the sizes this
 * rule gave: docs/performance.md).
 */

static void
bubble_png_filter_row(bubble_png_rowset_t *rs, int y, u_char *dst)
{
    u_char  *t;
    size_t   cost[3];

    t = rs->prev;
    rs->prev = rs->cur;
    rs->cur = t;

    rs->k->pack((const uint32_t *) (rs->pixels + (size_t) y * rs->stride),
                rs->width, rs->opaque, rs->cur);

    /* the pack's vector stores may have run into the next row's pad */
    memset(rs->cur + rs->n, 0, BUBBLE_PNG_ROW_PAD);

    rs->k->filter(rs->cur, rs->prev, rs->n, rs->bpp, rs->sub, dst + 1, cost);

    if (cost[0] <= 2 * cost[1] && cost[0] <= 2 * cost[2]) {
        dst[0] = BUBBLE_PNG_FT_NONE;
        memcpy(dst + 1, rs->cur, rs->n);

    } else if (cost[2] <= cost[1]) {
        dst[0] = BUBBLE_PNG_FT_UP;

    } else {
        dst[0] = BUBBLE_PNG_FT_SUB;
        memcpy(dst + 1, rs->sub, rs->n);
    }
}


static void
bubble_png_put32(u_char *p, uint32_t v)
{
    p[0] = (u_char) (v >> 24);
    p[1] = (u_char) (v >> 16);
    p[2] = (u_char) (v >> 8);
    p[3] = (u_char) v;
}

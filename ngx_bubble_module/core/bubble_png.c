/*
 * ngx_bubble core: cairo ARGB32 pixels -> PNG, with zlib
 * (bubble_png_compression small; bubble_png_fast.c is the default).
 *
 * Charts are flat colour, antialiased edges and text, so
 * (docs/performance.md, tests/bench/png_encoders.sh):
 *
 *   - zlib level 1 (deflate_fast) compresses them as well as level 6;
 *   - filter None beats Sub/Up/Paeth/adaptive on such rows (a filter turns
 *     repeated colours into varied differences at every edge), except for
 *     a row identical to the one above, which Up turns into zeros;
 *   - RGB, not RGBA, when every pixel is opaque (themes paint an opaque
 *     page): a quarter fewer bytes to compress;
 *   - unpremultiply only pixels with 0 < alpha < 255.
 *
 * The PNG is written here (signature, IHDR, IDAT, IEND, zlib's crc32):
 * deflate writes straight into the output buffer, rows are filtered as
 * above, and nothing longjmps.  Every byte (zlib's state, two rows, the
 * output) comes from the caller's allocator, and is released on every
 * path but the returned output.
 */

#include <stdint.h>
#include <string.h>

#include <zlib.h>

#include "bubble.h"
#include "bubble_png.h"
#include "bubble_png_rows.h"


#define BUBBLE_PNG_LEVEL         1          /* zlib: deflate_fast */
#define BUBBLE_PNG_CHUNK         65536      /* bytes of data an IDAT */

/* PNG's filter types (ISO 15948, 9.2) */
#define BUBBLE_PNG_FILTER_NONE   0
#define BUBBLE_PNG_FILTER_UP     2


typedef struct {
    bubble_allocator_t      *alloc;
    u_char                  *data;
    size_t                   len;           /* bytes of finished chunks */
    size_t                   size;
    u_char                  *chunk;         /* the open IDAT, or NULL */
    z_stream                 zs;
} bubble_png_t;


static int bubble_png_opaque(const bubble_png_rows_t *rows,
    const u_char *pixels, int width, int height, int stride);
static int bubble_png_deflate(bubble_png_t *png, const u_char *in,
    size_t len, int flush);
static int bubble_png_idat_open(bubble_png_t *png);
static void bubble_png_idat_close(bubble_png_t *png);
static int bubble_png_reserve(bubble_png_t *png, size_t n);
static void bubble_png_chunk(bubble_png_t *png, const char *type,
    const u_char *data, size_t len);
static void bubble_png_put32(u_char *p, uint32_t v);
static voidpf bubble_png_zalloc(voidpf opaque, uInt items, uInt size);
static void bubble_png_zfree(voidpf opaque, voidpf p);


int
bubble_png_encode(bubble_allocator_t *a, const u_char *pixels, int width,
    int height, int stride, bubble_output_t *out, bubble_error_t *err)
{
    int                       y, opaque, rc, zinit;
    u_char                   *cur, *prev, *zero, *t, *p, ihdr[13];
    size_t                    n;
    bubble_png_t              png;
    const bubble_png_rows_t  *rows;

    if (width <= 0 || height <= 0 || stride < width * 4) {
        bubble_error_set(err, 500, "internal", "",
                         "png: bad image %dx%d, stride %d",
                         width, height, stride);
        return -1;
    }

    /* the fast encoder's pixel kernels: the same bytes, SIMD where it can */
    rows = bubble_png_rows(bubble_png_rows_best());

    opaque = bubble_png_opaque(rows, pixels, width, height, stride);

    /* a row: its filter type, then RGB or RGBA */
    n = (size_t) width * (opaque ? 3 : 4);

    memset(&png, 0, sizeof(bubble_png_t));
    png.alloc = a;

    rc = -1;
    zinit = 0;

    /* pack() may write BUBBLE_PNG_ROW_PAD bytes past a row */
    cur = bubble_alloc(a, n + 1 + BUBBLE_PNG_ROW_PAD);
    prev = bubble_alloc(a, n + 1 + BUBBLE_PNG_ROW_PAD);
    zero = bubble_calloc(a, n + 1);

    /*
     * Output: what bubble_estimate() reserves for it (the pixels / 16 +
     * 4 KiB; W1 needs 1/17, W3 1/18), doubling when a chart is busier.
     */
    png.size = (size_t) stride * height / 16 + 4096;
    png.data = bubble_alloc(a, png.size);

    if (cur == NULL || prev == NULL || zero == NULL || png.data == NULL) {
        bubble_error_set(err, 500, "internal", "", "out of memory");
        goto done;
    }

    png.zs.zalloc = bubble_png_zalloc;
    png.zs.zfree = bubble_png_zfree;
    png.zs.opaque = a;

    if (deflateInit2(&png.zs, BUBBLE_PNG_LEVEL, Z_DEFLATED, 15, 8,
                     Z_DEFAULT_STRATEGY)
        != Z_OK)
    {
        bubble_error_set(err, 500, "internal", "", "png: deflateInit2() "
                         "failed: %s", png.zs.msg ? png.zs.msg : "no memory");
        goto done;
    }

    zinit = 1;

    /* signature and IHDR: 8 + 25 bytes, within the first allocation */

    memcpy(png.data, "\x89PNG\r\n\x1a\n", 8);
    png.len = 8;

    bubble_png_put32(ihdr, width);
    bubble_png_put32(ihdr + 4, height);
    ihdr[8] = 8;                            /* bits a sample */
    ihdr[9] = opaque ? 2 : 6;               /* RGB, RGBA */
    ihdr[10] = 0;                           /* deflate */
    ihdr[11] = 0;                           /* adaptive filtering */
    ihdr[12] = 0;                           /* no interlace */
    bubble_png_chunk(&png, "IHDR", ihdr, sizeof(ihdr));

    if (bubble_png_idat_open(&png) != 0) {
        goto nomem;
    }

    zero[0] = BUBBLE_PNG_FILTER_UP;

    for (y = 0; y < height; y++) {
        cur[0] = BUBBLE_PNG_FILTER_NONE;
        rows->pack((const uint32_t *) (pixels + (size_t) y * stride),
                   width, opaque, cur + 1);

        /* a row like the one above: Up makes it n zeros */
        p = (y > 0 && memcmp(cur + 1, prev + 1, n) == 0) ? zero : cur;

        if (bubble_png_deflate(&png, p, n + 1,
                               y == height - 1 ? Z_FINISH : Z_NO_FLUSH)
            != 0)
        {
            goto nomem;
        }

        t = prev;
        prev = cur;
        cur = t;
    }

    bubble_png_idat_close(&png);

    if (bubble_png_reserve(&png, 12) != 0) {
        goto nomem;
    }

    bubble_png_chunk(&png, "IEND", NULL, 0);

    /*
     * Hand back a buffer near the PNG's size: it lives until the response
     * is sent, and a sparse 4096x4096 chart compresses 200:1.
     */
    if (png.size - png.len > png.len / 4 + 65536) {
        p = bubble_alloc(a, png.len);
        if (p != NULL) {
            memcpy(p, png.data, png.len);
            bubble_free(a, png.data);
            png.data = p;
            png.size = png.len;
        }
    }

    out->data = png.data;
    out->len = png.len;
    png.data = NULL;

    rc = 0;
    goto done;

nomem:

    bubble_error_set(err, 500, "internal", "", "png: %s",
                     png.zs.msg ? png.zs.msg : "out of memory");

done:

    if (zinit) {
        (void) deflateEnd(&png.zs);
    }

    bubble_free(a, png.data);
    bubble_free(a, zero);
    bubble_free(a, prev);
    bubble_free(a, cur);

    return rc;
}


/* 1 if every pixel's alpha is 255 */

static int
bubble_png_opaque(const bubble_png_rows_t *rows, const u_char *pixels,
    int width, int height, int stride)
{
    int  y;

    for (y = 0; y < height; y++) {
        if (!rows->opaque((const uint32_t *) (pixels + (size_t) y * stride),
                          width))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Feeds len bytes to deflate, closing full IDAT chunks and opening new
 * ones as its output fills them; Z_FINISH also ends the zlib stream.
 */

static int
bubble_png_deflate(bubble_png_t *png, const u_char *in, size_t len,
    int flush)
{
    int  rc;

    png->zs.next_in = (Bytef *) in;
    png->zs.avail_in = (uInt) len;

    for ( ;; ) {

        if (png->zs.avail_out == 0) {
            bubble_png_idat_close(png);

            if (bubble_png_idat_open(png) != 0) {
                return -1;
            }
        }

        rc = deflate(&png->zs, flush);

        if (rc == Z_STREAM_END) {
            return 0;
        }

        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return -1;
        }

        if (png->zs.avail_out == 0) {
            continue;
        }

        /* room left: deflate has taken all it can for now */

        if (flush == Z_FINISH || png->zs.avail_in != 0) {
            /* no progress with output space to spare: zlib is broken */
            return -1;
        }

        return 0;
    }
}


/* an IDAT whose data deflate writes in place: length and CRC come after */

static int
bubble_png_idat_open(bubble_png_t *png)
{
    if (bubble_png_reserve(png, 12 + BUBBLE_PNG_CHUNK) != 0) {
        return -1;
    }

    png->chunk = png->data + png->len;
    png->zs.next_out = png->chunk + 8;
    png->zs.avail_out = BUBBLE_PNG_CHUNK;

    return 0;
}


static void
bubble_png_idat_close(bubble_png_t *png)
{
    size_t    n;
    uint32_t  crc;

    if (png->chunk == NULL) {
        return;
    }

    n = BUBBLE_PNG_CHUNK - png->zs.avail_out;
    png->zs.avail_out = 0;

    if (n > 0) {
        bubble_png_put32(png->chunk, (uint32_t) n);
        memcpy(png->chunk + 4, "IDAT", 4);
        crc = crc32(0, png->chunk + 4, (uInt) (4 + n));
        bubble_png_put32(png->chunk + 8 + n, crc);
        png->len += 12 + n;
    }

    png->chunk = NULL;
}


/* room for n more bytes after len; never called with an IDAT open */

static int
bubble_png_reserve(bubble_png_t *png, size_t n)
{
    size_t   size;
    u_char  *p;

    if (png->size - png->len >= n) {
        return 0;
    }

    size = png->size * 2;
    while (size - png->len < n) {
        size *= 2;
    }

    p = bubble_alloc(png->alloc, size);
    if (p == NULL) {
        return -1;
    }

    memcpy(p, png->data, png->len);
    bubble_free(png->alloc, png->data);

    png->data = p;
    png->size = size;

    return 0;
}


/* a whole chunk; the caller has reserved 12 + len bytes */

static void
bubble_png_chunk(bubble_png_t *png, const char *type, const u_char *data,
    size_t len)
{
    u_char    *p;
    uint32_t   crc;

    p = png->data + png->len;

    bubble_png_put32(p, (uint32_t) len);
    memcpy(p + 4, type, 4);
    if (len) {
        memcpy(p + 8, data, len);
    }

    crc = crc32(0, p + 4, (uInt) (4 + len));
    bubble_png_put32(p + 8 + len, crc);

    png->len += 12 + len;
}


static void
bubble_png_put32(u_char *p, uint32_t v)
{
    p[0] = (u_char) (v >> 24);
    p[1] = (u_char) (v >> 16);
    p[2] = (u_char) (v >> 8);
    p[3] = (u_char) v;
}


/*
 * zlib's memory from the caller's allocator.  Zeroed: deflate may read
 * window bytes it has not written (harmless, but valgrind, which the unit
 * tests run under, reports it).
 */

static voidpf
bubble_png_zalloc(voidpf opaque, uInt items, uInt size)
{
    if (size != 0 && items > SIZE_MAX / size) {
        return Z_NULL;
    }

    return bubble_calloc(opaque, (size_t) items * size);
}


static void
bubble_png_zfree(voidpf opaque, voidpf p)
{
    bubble_free(opaque, p);
}

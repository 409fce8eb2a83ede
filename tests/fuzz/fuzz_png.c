/*
 * libFuzzer target: bubble_png_fast.c round trip.
 *
 * The input is an image: byte 0 its width - 1 (1..64 px), byte 1 its
 * height - 1, times 16 when byte 2 bit 2 is set (up to 1024 rows: the
 * deflate's window slides, blocks follow one another); byte 2 bit 0
 * opaque or not, bit 1 a chart-like image or raw noise; the rest the
 * pixels, repeated.  In a chart-like image each input byte also chooses
 * what a pixel is: the one before (runs), one a few pixels or rows back
 * (repeats the match finder looks for), or the next input colour.  Every
 * PNG must be the same bytes from the scalar and the best kernels,
 * inflate (zlib, adler32 checked) and unfilter to the straight-alpha
 * pixels expected.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "bubble.h"
#include "bubble_png_fast.h"
#include "fuzz_arena.h"


static uint32_t
get32(const u_char *p)
{
    return (uint32_t) p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}


static int
paeth(int a, int b, int c)
{
    int  p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);

    if (pa <= pb && pa <= pc) {
        return a;
    }

    return pb <= pc ? b : c;
}


/* IHDR's colour type, the IDATs inflated and unfiltered into img */

static void
check(const bubble_output_t *o, const uint32_t *px, int w, int h)
{
    int        y, i, bpp, n, ft, l;
    size_t     pos, clen, zlen;
    u_char    *z, *raw, *img, *row, *prev, e[4];
    uint32_t   p, a;
    uLongf     rawlen;

    if (o->len < 57 || memcmp(o->data, "\x89PNG\r\n\x1a\n", 8) != 0) {
        abort();
    }

    z = malloc(o->len);
    zlen = 0;
    bpp = 0;

    for (pos = 8; pos + 12 <= o->len; pos += 12 + clen) {
        clen = get32(o->data + pos);

        if (pos + 12 + clen > o->len
            || get32(o->data + pos + 8 + clen)
               != crc32(0, o->data + pos + 4, clen + 4))
        {
            abort();
        }

        if (memcmp(o->data + pos + 4, "IHDR", 4) == 0) {
            if (get32(o->data + pos + 8) != (uint32_t) w
                || get32(o->data + pos + 12) != (uint32_t) h)
            {
                abort();
            }

            bpp = o->data[pos + 17] == 2 ? 3 : 4;

        } else if (memcmp(o->data + pos + 4, "IDAT", 4) == 0) {
            memcpy(z + zlen, o->data + pos + 8, clen);
            zlen += clen;
        }
    }

    if (pos != o->len || bpp == 0) {
        abort();
    }

    n = w * bpp;
    rawlen = (uLongf) (n + 1) * h;
    raw = malloc(rawlen);
    img = calloc((size_t) n * (h + 1), 1);

    if (uncompress(raw, &rawlen, z, zlen) != Z_OK
        || rawlen != (uLongf) (n + 1) * h)
    {
        abort();
    }

    prev = img + (size_t) n * h;

    for (y = 0; y < h; y++) {
        ft = raw[(size_t) y * (n + 1)];
        row = img + (size_t) y * n;
        memcpy(row, raw + (size_t) y * (n + 1) + 1, n);

        for (i = 0; i < n; i++) {
            l = i >= bpp ? row[i - bpp] : 0;

            switch (ft) {
            case 0:
                break;
            case 1:
                row[i] += l;
                break;
            case 2:
                row[i] += prev[i];
                break;
            case 3:
                row[i] += (l + prev[i]) / 2;
                break;
            case 4:
                row[i] += paeth(l, prev[i], i >= bpp ? prev[i - bpp] : 0);
                break;
            default:
                abort();
            }
        }

        prev = row;
    }

    for (i = 0; i < w * h; i++) {
        p = px[i];
        a = p >> 24;

        if (bpp == 3 && a != 255) {
            abort();
        }

        e[0] = a ? (((p >> 16) & 0xff) * 255 + a / 2) / a : 0;
        e[1] = a ? (((p >> 8) & 0xff) * 255 + a / 2) / a : 0;
        e[2] = a ? ((p & 0xff) * 255 + a / 2) / a : 0;
        e[3] = (u_char) a;

        if (memcmp(img + (size_t) i * bpp, e, bpp) != 0) {
            abort();
        }
    }

    free(img);
    free(raw);
    free(z);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int               w, h, i, opaque, chart, back;
    size_t            k, m;
    u_char            c;
    uint32_t         *px, p, a, r, g, b;
    fuzz_arena_t      arena;
    bubble_allocator_t  alloc;
    bubble_error_t    err;
    bubble_output_t   o1, o2;

    if (size < 7) {
        return 0;
    }

    w = data[0] % 64 + 1;
    h = (data[1] % 64 + 1) * (data[2] & 4 ? 16 : 1);
    opaque = data[2] & 1;
    chart = data[2] & 2;
    data += 3;
    size -= 3;
    m = size / 4;

    px = malloc((size_t) w * h * 4);

    for (i = 0, k = 0; i < w * h; i++) {
        c = data[k % size];

        /* back: 1 (a run), a few pixels, or rows and pixels */
        back = (c & 3) == 1 ? 1
               : (c & 3) == 2 ? 2 + (c >> 2) % 16
               : (c & 3) == 3 ? w * (1 + (c >> 2) % 8) + (c >> 5)
               : 0;

        if (chart && back > 0 && back <= i) {
            p = px[i - back];

        } else {
            p = get32(data + 4 * (k % m));
        }

        k++;

        if (opaque) {
            p |= 0xff000000;
        }

        /* premultiplied: colour <= alpha */
        a = p >> 24;
        r = a ? ((p >> 16) & 0xff) % (a + 1) : 0;
        g = a ? ((p >> 8) & 0xff) % (a + 1) : 0;
        b = a ? (p & 0xff) % (a + 1) : 0;
        px[i] = a << 24 | r << 16 | g << 8 | b;
    }

    fuzz_arena_init(&arena, &alloc, 0);
    memset(&err, 0, sizeof(err));

    if (bubble_png_fast_encode(&alloc, (const u_char *) px, w, h, w * 4,
                               BUBBLE_PNG_ISA_SCALAR, &o1, &err) != 0
        || bubble_png_fast_encode(&alloc, (const u_char *) px, w, h,
                                  w * 4, BUBBLE_PNG_ISA_AUTO, &o2, &err) != 0)
    {
        abort();
    }

    if (o1.len != o2.len || memcmp(o1.data, o2.data, o1.len) != 0) {
        abort();
    }

    check(&o1, px, w, h);

    fuzz_arena_destroy(&arena);
    free(px);

    return 0;
}

/*
 * ngx_bubble core: cairo ARGB32 pixels -> PNG in one pass, with our own
 * deflate, for charts: flat fills, antialiased edges and text.
 *
 * zlib level 1 spends its time looking for matches in a 32 KiB window;
 * a chart's filtered rows are mostly runs of one byte (a flat fill after
 * Sub, a row like the one above after Up) and a few hundred distinct
 * literals at edges and glyphs.  So (after the published fpnge design):
 *
 *   - each row is packed (unpremultiplied) and filtered None, Sub and Up
 *     by vector kernels (bubble_png_rows.c), and the filter with the
 *     fewest bytes that are neither zero nor a repeat is kept;
 *   - deflate is one dynamic-Huffman block: literals, and runs of the
 *     previous byte as matches at distance 1; its code is built before
 *     the first row from the symbols of up to 64 rows spread over the
 *     image (every symbol gets a code, so any row can be coded);
 *   - adler32 is updated a literal at a time and a run in closed form.
 *
 * The rows are read from cairo's buffer as they are coded: four rows of
 * state, not a copy of the image.  The output buffer grows as
 * bubble_png.c's does (bubble_estimate.c reserves for it).
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "bubble.h"
#include "bubble_png_fast.h"
#include "bubble_png_rows.h"


#define BUBBLE_PNG_SAMPLES       64         /* rows the code is fit to */
#define BUBBLE_PNG_MAX_BITS      15         /* deflate's longest code */
#define BUBBLE_PNG_NLIT          286        /* literal/length symbols */
#define BUBBLE_PNG_EOB           256
#define BUBBLE_PNG_MIN_RUN       3          /* deflate's shortest match */
#define BUBBLE_PNG_MAX_RUN       258
#define BUBBLE_PNG_ADLER_MOD     65521
#define BUBBLE_PNG_ADLER_NMAX    5552       /* zlib: bytes before b overflows */


typedef struct {
    bubble_allocator_t      *alloc;
    u_char                  *data;
    size_t                   len;
    size_t                   size;

    uint64_t                 bits;          /* not yet written, LSB first */
    unsigned                 nbits;

    uint32_t                 adler_a;
    uint32_t                 adler_b;
    unsigned                 adler_n;       /* literals since the last mod */

    uint32_t                *freq;          /* counting, not coding */

    uint16_t                 lit_code[BUBBLE_PNG_NLIT];  /* bit-reversed */
    uint8_t                  lit_len[BUBBLE_PNG_NLIT];

    /* a run of 3..258: length symbol, extra bits, distance code 0 */
    uint32_t                 run_code[BUBBLE_PNG_MAX_RUN + 1];
    uint8_t                  run_len[BUBBLE_PNG_MAX_RUN + 1];
    uint16_t                 run_sym[BUBBLE_PNG_MAX_RUN + 1];
} bubble_pngw_t;


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
    u_char                  *up;
} bubble_png_rowset_t;


static const u_char *bubble_png_filter_row(bubble_png_rowset_t *rs, int y,
    int packed_prev, u_char *type);
static void bubble_png_emit(bubble_pngw_t *w, const u_char *f, size_t n,
    u_char type);
static void bubble_png_tokens(bubble_pngw_t *w, const u_char *f, size_t n);
static void bubble_png_lengths(const uint32_t *freq, int n, uint8_t *len);
static void bubble_png_codes(bubble_pngw_t *w);
static void bubble_png_header(bubble_pngw_t *w);
static int bubble_png_reserve(bubble_pngw_t *w, size_t n);
static void bubble_png_put32(u_char *p, uint32_t v);


/* deflate's length symbols 257..285: the shortest length of each */
static const uint16_t  bubble_png_len_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258
};

static const uint8_t  bubble_png_len_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0
};

/* the order of the code length code's lengths (RFC 1951, 3.2.7) */
static const uint8_t  bubble_png_clen_order[19] = {
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15
};



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
    int                   y, i, s, nsamples, last;
    u_char                type, ihdr[13], *p, *bufs;
    size_t                rowbuf, idat, n;
    uint32_t              crc, freq[BUBBLE_PNG_NLIT];
    const u_char         *f;
    bubble_pngw_t        *w;
    bubble_png_rowset_t   rs;

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

    /* four rows, each with its zeroed pad before and store slack after */
    rowbuf = BUBBLE_PNG_ROW_PAD + rs.n + BUBBLE_PNG_ROW_PAD;

    w = bubble_alloc(a, sizeof(bubble_pngw_t));
    bufs = bubble_calloc(a, 4 * rowbuf);

    if (w == NULL || bufs == NULL) {
        bubble_free(a, bufs);
        bubble_free(a, w);
        bubble_error_set(err, 500, "internal", "", "out of memory");
        return -1;
    }

    memset(w, 0, sizeof(bubble_pngw_t));
    w->alloc = a;

    for (i = 0, s = 0; i <= BUBBLE_PNG_MAX_RUN; i++) {
        while (s < 28 && i >= bubble_png_len_base[s + 1]) {
            s++;
        }

        w->run_sym[i] = (uint16_t) (257 + s);
    }

    rs.cur = bufs + BUBBLE_PNG_ROW_PAD;
    rs.prev = rs.cur + rowbuf;
    rs.sub = rs.prev + rowbuf;
    rs.up = rs.sub + rowbuf;

    /*
     * The code, fit to sample rows: every row when there are few, else
     * BUBBLE_PNG_SAMPLES spread evenly; each symbol counts at least 1.
     */

    for (i = 0; i < BUBBLE_PNG_NLIT; i++) {
        freq[i] = 1;
    }

    w->freq = freq;
    nsamples = height < BUBBLE_PNG_SAMPLES ? height : BUBBLE_PNG_SAMPLES;
    last = -2;

    for (s = 0; s < nsamples; s++) {
        y = (int) ((int64_t) s * height / nsamples);
        f = bubble_png_filter_row(&rs, y, y == last + 1, &type);
        bubble_png_emit(w, f, rs.n, type);
        last = y;
    }

    w->freq = NULL;

    bubble_png_lengths(freq, BUBBLE_PNG_NLIT, w->lit_len);
    bubble_png_codes(w);

    /* output: as bubble_png.c starts it, what bubble_estimate() reserves */
    w->size = (size_t) stride * height / 16 + 4096;
    w->data = bubble_alloc(a, w->size);
    if (w->data == NULL) {
        goto nomem;
    }

    memcpy(w->data, "\x89PNG\r\n\x1a\n", 8);
    p = w->data + 8;

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
    memcpy(w->data + idat + 4, "IDAT", 4);
    w->len = idat + 8;

    /* zlib header: deflate, 32 KiB window, no dictionary, check bits */
    w->data[w->len++] = 0x78;
    w->data[w->len++] = 0x01;

    w->adler_a = 1;
    w->adler_b = 0;

    bubble_png_header(w);

    last = -2;

    for (y = 0; y < height; y++) {
        /* worst case: 15 bits a byte, plus the bit buffer's 8 bytes */
        if (bubble_png_reserve(w, 2 * (rs.n + 1) + 16) != 0) {
            goto nomem;
        }

        f = bubble_png_filter_row(&rs, y, y == last + 1, &type);
        bubble_png_emit(w, f, rs.n, type);
        last = y;
    }

    /* end of block, the last bits, adler32, IDAT's length and CRC, IEND */

    if (bubble_png_reserve(w, 64) != 0) {
        goto nomem;
    }

    w->bits |= (uint64_t) w->lit_code[BUBBLE_PNG_EOB] << w->nbits;
    w->nbits += w->lit_len[BUBBLE_PNG_EOB];

    while (w->nbits > 0) {
        w->data[w->len++] = (u_char) w->bits;
        w->bits >>= 8;
        w->nbits = w->nbits > 8 ? w->nbits - 8 : 0;
    }

    w->adler_a %= BUBBLE_PNG_ADLER_MOD;
    w->adler_b %= BUBBLE_PNG_ADLER_MOD;
    bubble_png_put32(w->data + w->len, w->adler_b << 16 | w->adler_a);
    w->len += 4;

    n = w->len - idat - 8;
    bubble_png_put32(w->data + idat, (uint32_t) n);
    crc = crc32(0, w->data + idat + 4, (uInt) (n + 4));
    bubble_png_put32(w->data + w->len, crc);
    w->len += 4;

    bubble_png_put32(w->data + w->len, 0);
    memcpy(w->data + w->len + 4, "IEND\xae\x42\x60\x82", 8);
    w->len += 12;

    bubble_free(a, bufs);

    /* a buffer near the PNG's size: it lives until the response is sent */
    if (w->size - w->len > w->len / 4 + 65536) {
        p = bubble_alloc(a, w->len);
        if (p != NULL) {
            memcpy(p, w->data, w->len);
            bubble_free(a, w->data);
            w->data = p;
        }
    }

    out->data = w->data;
    out->len = w->len;

    bubble_free(a, w);

    return 0;

nomem:

    bubble_free(a, w->data);
    bubble_free(a, bufs);
    bubble_free(a, w);

    bubble_error_set(err, 500, "internal", "", "png: out of memory");

    return -1;
}


/*
 * Row y packed into cur (prev holds row y - 1 packed if packed_prev, else
 * it is packed again, or zeroed for row 0), filtered; returns the chosen
 * filtered bytes, with a byte before them for the filter type.
 */

static const u_char *
bubble_png_filter_row(bubble_png_rowset_t *rs, int y, int packed_prev,
    u_char *type)
{
    u_char  *t;
    size_t   cost[3];

    t = rs->prev;
    rs->prev = rs->cur;
    rs->cur = t;

    if (!packed_prev) {
        if (y == 0) {
            memset(rs->prev, 0, rs->n);

        } else {
            rs->k->pack((const uint32_t *) (rs->pixels
                                            + (size_t) (y - 1) * rs->stride),
                        rs->width, rs->opaque, rs->prev);
        }
    }

    rs->k->pack((const uint32_t *) (rs->pixels + (size_t) y * rs->stride),
                rs->width, rs->opaque, rs->cur);

    /* the pack's vector stores may have run into the next row's pad */
    memset(rs->cur + rs->n, 0, BUBBLE_PNG_ROW_PAD);

    rs->k->filter(rs->cur, rs->prev, rs->n, rs->bpp, rs->sub, rs->up, cost);

    /* ties: Up, then Sub, then None */

    if (cost[2] <= cost[1] && cost[2] <= cost[0]) {
        *type = BUBBLE_PNG_FT_UP;
        return rs->up;
    }

    if (cost[1] <= cost[0]) {
        *type = BUBBLE_PNG_FT_SUB;
        return rs->sub;
    }

    *type = BUBBLE_PNG_FT_NONE;
    return rs->cur;
}


/*
 * A filtered row with its type byte in front: the byte before a row
 * buffer is its pad, which must be 0 again for the next row's filters.
 */

static void
bubble_png_emit(bubble_pngw_t *w, const u_char *f, size_t n, u_char type)
{
    u_char  *t;

    t = (u_char *) f - 1;
    *t = type;
    bubble_png_tokens(w, t, n + 1);
    *t = 0;
}


/* bytes from p on equal to v, at most max */

static size_t
bubble_png_run(const u_char *p, size_t max, u_char v)
{
    size_t    k;
#if (defined __BYTE_ORDER__ && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    uint64_t  pat, x;

    pat = 0x0101010101010101ULL * v;

    for (k = 0; k + 8 <= max; k += 8) {
        memcpy(&x, p + k, 8);
        x ^= pat;

        if (x) {
            return k + (__builtin_ctzll(x) >> 3);
        }
    }
#else
    k = 0;
#endif

    while (k < max && p[k] == v) {
        k++;
    }

    return k;
}


/*
 * Codes (or, with w->freq, counts) n bytes: literals, and runs of the
 * byte before as matches at distance 1.
 */

static void
bubble_png_tokens(bubble_pngw_t *w, const u_char *f, size_t n)
{
    size_t     i, k, r;
    u_char    *o;
    uint32_t   v, a, b;
    uint64_t   bits, ka, kb;
    unsigned   nbits, an;

    bits = w->bits;
    nbits = w->nbits;
    a = w->adler_a;
    b = w->adler_b;
    an = w->adler_n;
    o = w->freq ? NULL : w->data + w->len;

    i = 0;

    while (i < n) {
        v = f[i++];

        if (w->freq) {
            w->freq[v]++;

        } else {
            bits |= (uint64_t) w->lit_code[v] << nbits;
            nbits += w->lit_len[v];

            a += v;
            b += a;

            if (++an == BUBBLE_PNG_ADLER_NMAX) {
                a %= BUBBLE_PNG_ADLER_MOD;
                b %= BUBBLE_PNG_ADLER_MOD;
                an = 0;
            }

            if (nbits >= 32) {
                o[0] = (u_char) bits;
                o[1] = (u_char) (bits >> 8);
                o[2] = (u_char) (bits >> 16);
                o[3] = (u_char) (bits >> 24);
                o += 4;
                bits >>= 32;
                nbits -= 32;
            }
        }

        if (i + BUBBLE_PNG_MIN_RUN > n || f[i] != v) {
            continue;
        }

        k = bubble_png_run(f + i, n - i, (u_char) v);

        if (k < BUBBLE_PNG_MIN_RUN) {
            continue;
        }

        /* runs of 3..258; what is left under 3 goes as literals */
        k -= k % BUBBLE_PNG_MAX_RUN < BUBBLE_PNG_MIN_RUN
             ? k % BUBBLE_PNG_MAX_RUN : 0;

        if (w->freq == NULL) {
            /* adler32 over k bytes v: a += k v, b += k a + v k (k + 1) / 2 */
            ka = (uint64_t) a % BUBBLE_PNG_ADLER_MOD;
            kb = (uint64_t) b % BUBBLE_PNG_ADLER_MOD
                 + (uint64_t) k * ka
                 + (uint64_t) v * ((uint64_t) k * (k + 1) / 2);
            a = (uint32_t) ((ka + (uint64_t) k * v) % BUBBLE_PNG_ADLER_MOD);
            b = (uint32_t) (kb % BUBBLE_PNG_ADLER_MOD);
        }

        i += k;

        while (k > 0) {
            r = k < BUBBLE_PNG_MAX_RUN ? k : BUBBLE_PNG_MAX_RUN;
            k -= r;

            if (w->freq) {
                w->freq[w->run_sym[r]]++;
                continue;
            }

            bits |= (uint64_t) w->run_code[r] << nbits;
            nbits += w->run_len[r];

            if (nbits >= 32) {
                o[0] = (u_char) bits;
                o[1] = (u_char) (bits >> 8);
                o[2] = (u_char) (bits >> 16);
                o[3] = (u_char) (bits >> 24);
                o += 4;
                bits >>= 32;
                nbits -= 32;
            }
        }
    }

    if (w->freq == NULL) {
        w->bits = bits;
        w->nbits = nbits;
        w->adler_a = a;
        w->adler_b = b;
        w->adler_n = an;
        w->len = o - w->data;
    }
}


/* a few bits into the stream, outside the hot loop */

static void
bubble_png_bits(bubble_pngw_t *w, uint32_t v, unsigned n)
{
    w->bits |= (uint64_t) v << w->nbits;
    w->nbits += n;

    while (w->nbits >= 8) {
        w->data[w->len++] = (u_char) w->bits;
        w->bits >>= 8;
        w->nbits -= 8;
    }
}


static int
bubble_png_cmp(const void *one, const void *two)
{
    uint64_t  a = *(const uint64_t *) one, b = *(const uint64_t *) two;

    return (a > b) - (a < b);
}


/*
 * Huffman code lengths of n symbols (2 <= n <= 286, every freq >= 1),
 * none longer than 15 bits: when the tree is deeper, the counts are
 * halved (rounding up) and the tree built again.
 */

static void
bubble_png_lengths(const uint32_t *freq, int n, uint8_t *len)
{
    int       i, m, nl, ni, leaf, node, a, b, maxd;
    uint32_t  f[BUBBLE_PNG_NLIT];
    uint64_t  key[BUBBLE_PNG_NLIT], w[2 * BUBBLE_PNG_NLIT];
    uint16_t  sym[BUBBLE_PNG_NLIT], parent[2 * BUBBLE_PNG_NLIT];
    uint8_t   depth[2 * BUBBLE_PNG_NLIT];

    for (i = 0; i < n; i++) {
        f[i] = freq[i];
    }

    for ( ;; ) {
        /* leaves by count, ties by symbol: the same code on every CPU */
        for (i = 0; i < n; i++) {
            key[i] = (uint64_t) f[i] << 16 | (uint64_t) i;
        }

        qsort(key, n, sizeof(uint64_t), bubble_png_cmp);

        for (i = 0; i < n; i++) {
            sym[i] = (uint16_t) (key[i] & 0xffff);
            w[i] = key[i] >> 16;
        }

        /* two queues: leaves 0..n-1 sorted, internal nodes n.. in order */
        leaf = 0;
        node = n;

        for (m = n; m < 2 * n - 1; m++) {
            for (i = 0; i < 2; i++) {
                if (leaf < n && (node >= m || w[leaf] <= w[node])) {
                    nl = leaf++;

                } else {
                    nl = node++;
                }

                if (i == 0) {
                    a = nl;
                } else {
                    b = nl;
                }
            }

            w[m] = w[a] + w[b];
            parent[a] = (uint16_t) m;
            parent[b] = (uint16_t) m;
        }

        ni = 2 * n - 2;                     /* the root */
        depth[ni] = 0;
        maxd = 0;

        for (i = ni - 1; i >= 0; i--) {
            depth[i] = (uint8_t) (depth[parent[i]] + 1);

            if (i < n && depth[i] > maxd) {
                maxd = depth[i];
            }
        }

        if (maxd <= BUBBLE_PNG_MAX_BITS) {
            break;
        }

        for (i = 0; i < n; i++) {
            f[i] = (f[i] + 1) / 2;
        }
    }

    for (i = 0; i < n; i++) {
        len[sym[i]] = depth[i];
    }
}


static uint32_t
bubble_png_reverse(uint32_t code, unsigned len)
{
    uint32_t  r;

    for (r = 0; len > 0; len--) {
        r = r << 1 | (code & 1);
        code >>= 1;
    }

    return r;
}


/* canonical codes of the lengths (RFC 1951, 3.2.2), and the runs' codes */

static void
bubble_png_codes(bubble_pngw_t *w)
{
    int       i, s;
    unsigned  l, e;
    uint32_t  code, count[BUBBLE_PNG_MAX_BITS + 1],
              next[BUBBLE_PNG_MAX_BITS + 1];

    memset(count, 0, sizeof(count));

    for (i = 0; i < BUBBLE_PNG_NLIT; i++) {
        count[w->lit_len[i]]++;
    }

    count[0] = 0;
    code = 0;

    for (l = 1; l <= BUBBLE_PNG_MAX_BITS; l++) {
        code = (code + count[l - 1]) << 1;
        next[l] = code;
    }

    for (i = 0; i < BUBBLE_PNG_NLIT; i++) {
        l = w->lit_len[i];
        w->lit_code[i] = (uint16_t) bubble_png_reverse(next[l]++, l);
    }

    /* distance code 0 (distance 1) is the 1-bit code 0: nothing to add */

    for (i = BUBBLE_PNG_MIN_RUN; i <= BUBBLE_PNG_MAX_RUN; i++) {
        s = w->run_sym[i] - 257;
        l = w->lit_len[257 + s];
        e = bubble_png_len_extra[s];

        w->run_code[i] = w->lit_code[257 + s]
                         | (uint32_t) (i - bubble_png_len_base[s]) << l;
        w->run_len[i] = (uint8_t) (l + e + 1);
    }
}


/*
 * The block's header: final, dynamic; 286 literal/length and 2 distance
 * lengths, each sent as a 4-bit code (the code length code gives 0..15
 * four bits each, and the repeat codes none): 150 bytes, once.
 */

static void
bubble_png_header(bubble_pngw_t *w)
{
    int  i;

    bubble_png_bits(w, 1 | 2 << 1, 3);      /* BFINAL, BTYPE 2 */
    bubble_png_bits(w, BUBBLE_PNG_NLIT - 257, 5);
    bubble_png_bits(w, 2 - 1, 5);
    bubble_png_bits(w, 19 - 4, 4);

    for (i = 0; i < 19; i++) {
        bubble_png_bits(w, bubble_png_clen_order[i] < 16 ? 4 : 0, 3);
    }

    for (i = 0; i < BUBBLE_PNG_NLIT; i++) {
        bubble_png_bits(w, bubble_png_reverse(w->lit_len[i], 4), 4);
    }

    bubble_png_bits(w, bubble_png_reverse(1, 4), 4);
    bubble_png_bits(w, bubble_png_reverse(1, 4), 4);
}


/* room for n more bytes after len (the bit buffer is flushed to len) */

static int
bubble_png_reserve(bubble_pngw_t *w, size_t n)
{
    size_t   size;
    u_char  *p;

    if (w->size - w->len >= n) {
        return 0;
    }

    size = w->size * 2;
    while (size - w->len < n) {
        size *= 2;
    }

    p = bubble_alloc(w->alloc, size);
    if (p == NULL) {
        return -1;
    }

    memcpy(p, w->data, w->len);
    bubble_free(w->alloc, w->data);

    w->data = p;
    w->size = size;

    return 0;
}


static void
bubble_png_put32(u_char *p, uint32_t v)
{
    p[0] = (u_char) (v >> 24);
    p[1] = (u_char) (v >> 16);
    p[2] = (u_char) (v >> 8);
    p[3] = (u_char) v;
}

/*
 * ngx_bubble core: the fast PNG encoder's deflate: filtered rows -> a zlib
 * stream in one pass, for charts.
 *
 * A chart's filtered rows are mostly runs of one byte (flat fills): they
 * are found 16 bytes at a time and coded as matches at distance 1,
 * without a look at the hash.  What is left is antialiased edges and,
 * above all, text, which repeats at longer distances: the same glyphs on
 * rows a few labels apart.  For those, a hash of the next 4 bytes gives
 * the last position they were seen at within the last 32 KiB: one
 * candidate, no chains, greedy.  It is looked up at the first two bytes
 * after a run or match, then once a pixel (a repeat of pixels is met in
 * step); positions are inserted where they are looked up and once a
 * pixel inside matches, never inside runs: flat fills stay at memory
 * speed.  Where the hash does not pay (a block gaining less than
 * BUBBLE_PNG_LZ_PAY bytes a lookup, as over translucent bubbles that
 * overlap), it is left alone for a few blocks.
 *
 * Tokens are coded as they are found: each block's Huffman code is fit to
 * the symbols of the block before it (every symbol gets a code), so no
 * token is stored; the first block, before any count, has deflate's fixed
 * code.  Blocks switch at row starts and grow from BUBBLE_PNG_BLOCK_FIRST
 * to BUBBLE_PNG_BLOCK_MAX tokens.  adler32 is the caller's (row kernels).
 *
 * Why each part is there, and what it gained: docs/performance.md.
 */

#include <stdint.h>
#include <string.h>

#include "bubble.h"
#include "bubble_png_deflate.h"

#if (defined __SSE2__)
#include <emmintrin.h>
#endif


#define BUBBLE_PNG_WINDOW        32768      /* deflate's farthest distance */
#define BUBBLE_PNG_MIN_RUN       3          /* deflate's shortest match */
#define BUBBLE_PNG_MIN_MATCH     5          /* shorter: literals cost less */
#define BUBBLE_PNG_HASH_BITS     15         /* 128 KiB of positions */
#define BUBBLE_PNG_BLOCK_FIRST   1024       /* tokens: the fixed code's */
#define BUBBLE_PNG_BLOCK_MAX     65536      /* its code fits the one before */
#define BUBBLE_PNG_EOB           256
#define BUBBLE_PNG_MAX_BITS      15         /* deflate's longest code */
#define BUBBLE_PNG_STEAL         2          /* see bubble_png_deflate_row() */
#define BUBBLE_PNG_LZ_PAY        2          /* bytes a lookup: see below */
#define BUBBLE_PNG_LZ_RETRY      4          /* blocks */
#define BUBBLE_PNG_LZ_MIN        256        /* lookups to judge a block */


static void bubble_png_block(bubble_png_deflate_t *d, int fixed, int last);
static void bubble_png_lengths(const uint32_t *freq, int n, uint8_t *len);
static void bubble_png_codes(const uint8_t *len, int n, uint16_t *code);
static uint32_t bubble_png_codes_reverse(uint32_t code, unsigned len);
static void bubble_png_bits(bubble_png_deflate_t *d, uint32_t v, unsigned n);

/* in the hot loop: inlined whatever the optimisation level (nginx: -O) */
#if (defined __GNUC__)
#define bubble_png_hot  static inline __attribute__((always_inline))
#else
#define bubble_png_hot  static inline
#endif

bubble_png_hot size_t bubble_png_same(const u_char *p, const u_char *q,
    size_t max);
bubble_png_hot size_t bubble_png_run(const u_char *p, size_t max, u_char v);


/* deflate's length symbols 257..285: the shortest length of each */
static const uint16_t  bubble_png_len_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258
};

static const uint8_t  bubble_png_len_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
    3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0
};

/* distance symbols 0..29: the shortest distance - 1 of each */
static const uint16_t  bubble_png_dist_base[30] = {
    0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192,
    256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096, 6144,
    8192, 12288, 16384, 24576
};

static const uint8_t  bubble_png_dist_extra[30] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
    7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13
};

/* the order of the code length code's lengths (RFC 1951, 3.2.7) */
static const uint8_t  bubble_png_clen_order[19] = {
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15
};


static inline unsigned
bubble_png_log2(unsigned v)
{
#if (defined __GNUC__)
    return 31 - (unsigned) __builtin_clz(v);
#else
    unsigned  b;

    for (b = 0; v > 1; v >>= 1) {
        b++;
    }

    return b;
#endif
}


/* deflate's length symbol, less 257, of a length 3..258 */

static inline unsigned
bubble_png_len_sym(unsigned len)
{
    unsigned  l, b;

    if (len == BUBBLE_PNG_MAX_MATCH) {
        return 28;
    }

    l = len - 3;

    if (l < 8) {
        return l;
    }

    b = bubble_png_log2(l);                 /* 3..7 */

    return 4 * (b - 1) + ((l >> (b - 2)) & 3);
}


/* deflate's distance symbol of a distance - 1, 0..32767 */

static inline unsigned
bubble_png_dist_sym(unsigned d)
{
    unsigned  b;

    if (d < 4) {
        return d;
    }

    b = bubble_png_log2(d);                 /* 2..14 */

    return 2 * b + ((d >> (b - 1)) & 1);
}


/* the hash of p[0..3], the same on every CPU */
#define bubble_png_hash(p, shift)                                             \
    (bubble_png_load32(p) * 2654435761u >> (shift))


static inline uint32_t
bubble_png_load32(const u_char *p)
{
#if (defined __BYTE_ORDER__ && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    uint32_t  v;

    memcpy(&v, p, 4);
    return v;
#else
    return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16
           | (uint32_t) p[3] << 24;
#endif
}


/* 32 bits of the bit buffer out (the output has 8 bytes of slack) */
#if (defined __BYTE_ORDER__ && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
#define bubble_png_flush32(o, bits, nbits)                                    \
    if (nbits >= 32) {                                                        \
        memcpy(o, &bits, 8);                                                  \
        o += 4;                                                               \
        bits >>= 32;                                                          \
        nbits -= 32;                                                          \
    }
#else
#define bubble_png_flush32(o, bits, nbits)                                    \
    if (nbits >= 32) {                                                        \
        o[0] = (u_char) bits;                                                 \
        o[1] = (u_char) (bits >> 8);                                          \
        o[2] = (u_char) (bits >> 16);                                         \
        o[3] = (u_char) (bits >> 24);                                         \
        o += 4;                                                               \
        bits >>= 32;                                                          \
        nbits -= 32;                                                          \
    }
#endif


int
bubble_png_deflate_init(bubble_png_deflate_t *d, bubble_allocator_t *a,
    size_t size, size_t rowlen, uint64_t total, unsigned step)
{
    unsigned  bits;

    memset(d, 0, sizeof(bubble_png_deflate_t));
    d->alloc = a;

    /* a small image needs fewer slots: less to clear */
    for (bits = 10;
         bits < BUBBLE_PNG_HASH_BITS && ((uint64_t) 1 << bits) < total;
         bits++)
    {
        /* void */
    }

    d->hshift = 32 - bits;
    d->step = step;
    d->lz = 1;

    /* two windows and a row: the window slides once per 32 KiB coded */
    d->wcap = 2 * BUBBLE_PNG_WINDOW + rowlen;

    d->size = size;
    d->data = bubble_alloc(a, size);
    d->win = bubble_alloc(a, d->wcap);
    d->head = bubble_calloc(a, sizeof(uint32_t) << bits);

    if (d->data == NULL || d->win == NULL || d->head == NULL) {
        return -1;
    }

    return 0;
}


void
bubble_png_deflate_start(bubble_png_deflate_t *d)
{
    /* deflate, 32 KiB window, no dictionary, check bits */
    d->data[d->len++] = 0x78;
    d->data[d->len++] = 0x01;

    bubble_png_block(d, 1, 0);
}


void
bubble_png_deflate_free(bubble_png_deflate_t *d)
{
    bubble_free(d->alloc, d->head);
    bubble_free(d->alloc, d->win);

    d->head = NULL;
    d->win = NULL;
}


u_char *
bubble_png_deflate_room(bubble_png_deflate_t *d, size_t rowlen)
{
    size_t  drop;

    if (d->wlen + rowlen > d->wcap) {
        /* keep the last 32 KiB; the hash holds stream positions */
        drop = d->wlen - BUBBLE_PNG_WINDOW;
        memmove(d->win, d->win + drop, BUBBLE_PNG_WINDOW);
        d->wlen = BUBBLE_PNG_WINDOW;
        d->base += (uint32_t) drop;
    }

    return d->win + d->wlen;
}


int
bubble_png_deflate_row(bubble_png_deflate_t *d, size_t rowlen)
{
    u_char         v, *o;
    size_t         i, end, hend, k, hk, max, j, step, probes, gain, nlit,
                   phase, ntok;
    unsigned       shift, nbits, s, l;
    uint32_t      *head, *lf, *df, pos, dist, h, base;
    uint64_t       bits;
    const u_char  *win;

    /* a new block at a row's start; at most 16 bits a byte coded */

    if (d->ntok >= d->limit) {
        if (bubble_png_deflate_reserve(d, 512) != 0) {
            return -1;
        }

        bubble_png_block(d, 0, 0);
    }

    if (bubble_png_deflate_reserve(d, 2 * rowlen + 64) != 0) {
        return -1;
    }

    /* in locals: the output's byte stores could alias d's fields */

    win = d->win;
    head = d->head;
    lf = d->lit_freq;
    df = d->dist_freq;
    base = d->base;
    shift = d->hshift;
    step = d->step;
    bits = d->bits;
    nbits = d->nbits;
    o = d->data + d->len;

    i = d->wlen;
    end = i + rowlen;
    d->wlen = end;

    /* no hash in this block: no 4 bytes to look up are before hend */
    hend = d->lz ? end : 0;
    probes = 0;
    gain = 0;
    nlit = 0;                               /* literals since a run, match */
    phase = 0;                              /* nlit % step */
    ntok = 0;

    while (i < end) {
        ntok++;
        v = win[i];
        max = end - i;

        if (max > BUBBLE_PNG_MAX_MATCH) {
            max = BUBBLE_PNG_MAX_MATCH;
        }

        /* a run of the byte before: as long as it can be, no hash */

        k = 0;

        if (i > 0 && v == win[i - 1]) {
            k = bubble_png_run(win + i, max, v);

            if (k == max && k >= BUBBLE_PNG_MIN_RUN) {
                goto run;
            }
        }

        /* the last position of the next 4 bytes, and this one for later */

        hk = 0;
        dist = 0;
        pos = base + (uint32_t) i;

        if (i + 4 <= hend && (nlit < 2 || phase == 0)) {
            probes++;
            h = bubble_png_hash(win + i, shift);
            dist = pos - head[h];
            head[h] = pos;

            if (dist - 1 < BUBBLE_PNG_WINDOW) {
                hk = bubble_png_same(win + i, win + i - dist, max);
            }
        }

        /*
         * A match that is mostly the run after the next byte loses to the
         * run: "x 0 0 0 0 0 y" costs a literal and a short match at
         * distance 1, where the match at a distance (12 bits more) would
         * stop the run after "y".
         */

        if (hk >= BUBBLE_PNG_MIN_MATCH && hk > k
            && !(hk < max && win[i + 2] == win[i + 1]
                 && hk <= BUBBLE_PNG_STEAL + 2
                           + bubble_png_run(win + i + 2, hk - 1, win[i + 1])))
        {
            gain += hk - 3;
            nlit = 0;
            phase = 0;
            l = (unsigned) hk;
            lf[257 + bubble_png_len_sym(l)]++;
            bits |= (uint64_t) d->len_code[l] << nbits;
            nbits += d->len_bits[l];
            bubble_png_flush32(o, bits, nbits);

            s = bubble_png_dist_sym(dist - 1);
            df[s]++;
            bits |= (uint64_t) (d->dist_code[s]
                                | (dist - 1 - bubble_png_dist_base[s])
                                  << d->dist_len[s])
                    << nbits;
            nbits += d->dist_len[s] + bubble_png_dist_extra[s];
            bubble_png_flush32(o, bits, nbits);

            /* its pixels, for a later repeat */
            for (j = i + step; j < i + hk && j + 4 <= end; j += step) {
                head[bubble_png_hash(win + j, shift)] = base + (uint32_t) j;
            }

            i += hk;
            continue;
        }

        if (k >= BUBBLE_PNG_MIN_RUN) {

        run:

            nlit = 0;
            phase = 0;
            l = (unsigned) k;
            lf[257 + bubble_png_len_sym(l)]++;
            df[0]++;
            bits |= (uint64_t) d->len_code[l] << nbits;
            nbits += d->len_bits[l];
            bubble_png_flush32(o, bits, nbits);
            bits |= (uint64_t) d->dist_code[0] << nbits;
            nbits += d->dist_len[0];
            bubble_png_flush32(o, bits, nbits);

            i += k;
            continue;
        }

        /* a literal, and those after it up to a run or the next lookup */

        if (hend == 0) {
            for ( ;; ) {
                lf[v]++;
                bits |= (uint64_t) d->lit_code[v] << nbits;
                nbits += d->lit_len[v];
                bubble_png_flush32(o, bits, nbits);

                if (++i == end || win[i] == v) {
                    break;
                }

                v = win[i];
                ntok++;
            }

            continue;
        }

        for ( ;; ) {
            nlit++;
            phase = phase + 1 < step ? phase + 1 : 0;
            lf[v]++;
            bits |= (uint64_t) d->lit_code[v] << nbits;
            nbits += d->lit_len[v];
            bubble_png_flush32(o, bits, nbits);

            if (++i == end || win[i] == v || phase == 0 || nlit < 2) {
                break;
            }

            v = win[i];
            ntok++;
        }
    }

    d->bits = bits;
    d->nbits = nbits;
    d->len = o - d->data;
    d->ntok += ntok;
    d->probes += probes;
    d->gain += gain;

    return 0;
}


int
bubble_png_deflate_finish(bubble_png_deflate_t *d, uint32_t adler)
{
    if (bubble_png_deflate_reserve(d, 64) != 0) {
        return -1;
    }

    /* an empty final block ends the stream: the open one is not final */
    bubble_png_block(d, 1, 1);
    bubble_png_bits(d, d->lit_code[BUBBLE_PNG_EOB], d->lit_len[BUBBLE_PNG_EOB]);

    while (d->nbits > 0) {
        d->data[d->len++] = (u_char) d->bits;
        d->bits >>= 8;
        d->nbits = d->nbits > 8 ? d->nbits - 8 : 0;
    }

    d->data[d->len++] = (u_char) (adler >> 24);
    d->data[d->len++] = (u_char) (adler >> 16);
    d->data[d->len++] = (u_char) (adler >> 8);
    d->data[d->len++] = (u_char) adler;

    return 0;
}


int
bubble_png_deflate_reserve(bubble_png_deflate_t *d, size_t n)
{
    size_t   size;
    u_char  *p;

    n += 8;                                 /* bubble_png_flush32()'s slack */

    if (d->size - d->len >= n) {
        return 0;
    }

    size = d->size * 2;
    while (size - d->len < n) {
        size *= 2;
    }

    p = bubble_alloc(d->alloc, size);
    if (p == NULL) {
        return -1;
    }

    memcpy(p, d->data, d->len);
    bubble_free(d->alloc, d->data);

    d->data = p;
    d->size = size;

    return 0;
}


/*
 * Ends the open block (if any) and opens the next: fixed, with deflate's
 * fixed code (the first block, and the empty last one), else with a code
 * fit to the counts since the last block (every symbol at least 1).
 */

static void
bubble_png_block(bubble_png_deflate_t *d, int fixed, int last)
{
    int       i;
    unsigned  l, s;

    if (d->limit > 0) {
        bubble_png_bits(d, d->lit_code[BUBBLE_PNG_EOB],
                        d->lit_len[BUBBLE_PNG_EOB]);
    }

    /*
     * The hash pays in text (W1: 4 to 9 bytes matched beyond 3 a lookup),
     * not over translucent bubbles that overlap (W3: 1 to 2, for no
     * smaller a file): a block where it gained less than
     * BUBBLE_PNG_LZ_PAY is followed by blocks without, and every
     * BUBBLE_PNG_LZ_RETRY-th block tries again.
     */

    if (d->lz && d->probes >= BUBBLE_PNG_LZ_MIN
        && d->gain < d->probes * BUBBLE_PNG_LZ_PAY)
    {
        d->lz = 0;
        d->lz_off = 0;

    } else if (!d->lz && ++d->lz_off >= BUBBLE_PNG_LZ_RETRY) {
        d->lz = 1;
    }

    d->probes = 0;
    d->gain = 0;

    if (fixed) {
        /* RFC 1951, 3.2.6: 288 symbols make the code */
        for (i = 0; i < BUBBLE_PNG_NLIT_FIXED; i++) {
            d->lit_len[i] = i < 144 ? 8 : i < 256 ? 9 : i < 280 ? 7 : 8;
        }

        for (i = 0; i < BUBBLE_PNG_NDIST; i++) {
            d->dist_len[i] = 5;
        }

        d->limit = BUBBLE_PNG_BLOCK_FIRST;

    } else {
        for (i = 0; i < BUBBLE_PNG_NLIT; i++) {
            d->lit_freq[i]++;
        }

        for (i = 0; i < BUBBLE_PNG_NDIST; i++) {
            d->dist_freq[i]++;
        }

        bubble_png_lengths(d->lit_freq, BUBBLE_PNG_NLIT, d->lit_len);
        bubble_png_lengths(d->dist_freq, BUBBLE_PNG_NDIST, d->dist_len);

        d->limit = 2 * d->limit < BUBBLE_PNG_BLOCK_MAX ? 2 * d->limit
                                                       : BUBBLE_PNG_BLOCK_MAX;
    }

    bubble_png_codes(d->lit_len, fixed ? BUBBLE_PNG_NLIT_FIXED
                                       : BUBBLE_PNG_NLIT, d->lit_code);
    bubble_png_codes(d->dist_len, BUBBLE_PNG_NDIST, d->dist_code);

    for (l = BUBBLE_PNG_MIN_RUN; l <= BUBBLE_PNG_MAX_MATCH; l++) {
        s = bubble_png_len_sym(l);
        d->len_code[l] = d->lit_code[257 + s]
                         | (uint32_t) (l - bubble_png_len_base[s])
                           << d->lit_len[257 + s];
        d->len_bits[l] = (uint8_t) (d->lit_len[257 + s]
                                    + bubble_png_len_extra[s]);
    }

    /* the header: BFINAL, BTYPE 1 (fixed) or 2 (dynamic) */

    bubble_png_bits(d, (last ? 1 : 0) | (fixed ? 1 : 2) << 1, 3);

    if (!fixed) {
        /*
         * 286 literal/length and 30 distance lengths, each sent as a 4-bit
         * code (the code length code gives 0..15 four bits each, the
         * repeat codes none): 168 bytes.
         */
        bubble_png_bits(d, BUBBLE_PNG_NLIT - 257, 5);
        bubble_png_bits(d, BUBBLE_PNG_NDIST - 1, 5);
        bubble_png_bits(d, 19 - 4, 4);

        for (i = 0; i < 19; i++) {
            bubble_png_bits(d, bubble_png_clen_order[i] < 16 ? 4 : 0, 3);
        }

        for (i = 0; i < BUBBLE_PNG_NLIT; i++) {
            bubble_png_bits(d, bubble_png_codes_reverse(d->lit_len[i], 4), 4);
        }

        for (i = 0; i < BUBBLE_PNG_NDIST; i++) {
            bubble_png_bits(d, bubble_png_codes_reverse(d->dist_len[i], 4),
                            4);
        }
    }

    d->ntok = 0;
    memset(d->lit_freq, 0, sizeof(d->lit_freq));
    memset(d->dist_freq, 0, sizeof(d->dist_freq));
}


/* a few bits into the output, outside the hot loop */

static void
bubble_png_bits(bubble_png_deflate_t *d, uint32_t v, unsigned n)
{
    d->bits |= (uint64_t) v << d->nbits;
    d->nbits += n;

    while (d->nbits >= 8) {
        d->data[d->len++] = (u_char) d->bits;
        d->bits >>= 8;
        d->nbits -= 8;
    }
}


/*
 * n keys in ascending order: LSD radix sort, a byte a pass, none for the
 * high bytes no key has set; tmp: room for n more.
 */

static void
bubble_png_sort(uint32_t *key, uint32_t *tmp, int n)
{
    int        i, shift;
    uint32_t   all, *t, count[256];

    all = 0;

    for (i = 0; i < n; i++) {
        all |= key[i];
    }

    for (shift = 0; shift < 32 && (all >> shift) != 0; shift += 8) {
        memset(count, 0, sizeof(count));

        for (i = 0; i < n; i++) {
            count[(key[i] >> shift) & 0xff]++;
        }

        for (i = 1; i < 256; i++) {
            count[i] += count[i - 1];
        }

        for (i = n - 1; i >= 0; i--) {
            tmp[--count[(key[i] >> shift) & 0xff]] = key[i];
        }

        t = key;
        key = tmp;
        tmp = t;
    }

    if (shift % 16 != 0) {
        /* an odd number of passes ended in the caller's tmp: back to key */
        memcpy(tmp, key, n * sizeof(uint32_t));
    }
}


/*
 * Huffman code lengths of n symbols (2 <= n <= 286, every freq >= 1 and
 * below 2^23: a key is count << 9 | symbol), none longer than 15 bits:
 * when the tree is deeper, the counts are halved (rounding up) and the
 * tree built again.
 */

static void
bubble_png_lengths(const uint32_t *freq, int n, uint8_t *len)
{
    int       i, m, nl, ni, leaf, node, a, b, maxd;
    uint32_t  f[BUBBLE_PNG_NLIT];
    uint32_t  key[BUBBLE_PNG_NLIT], tmp[BUBBLE_PNG_NLIT];
    uint64_t  w[2 * BUBBLE_PNG_NLIT];
    uint16_t  sym[BUBBLE_PNG_NLIT], parent[2 * BUBBLE_PNG_NLIT];
    uint8_t   depth[2 * BUBBLE_PNG_NLIT];

    for (i = 0; i < n; i++) {
        f[i] = freq[i];
    }

    for ( ;; ) {
        /* leaves by count, ties by symbol: the same code on every CPU */
        for (i = 0; i < n; i++) {
            key[i] = f[i] << 9 | (uint32_t) i;
        }

        bubble_png_sort(key, tmp, n);

        for (i = 0; i < n; i++) {
            sym[i] = (uint16_t) (key[i] & 0x1ff);
            w[i] = key[i] >> 9;
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


/* the len low bits of code, in reverse order (len <= 16) */

static uint32_t
bubble_png_codes_reverse(uint32_t code, unsigned len)
{
    code = (code & 0x5555) << 1 | (code >> 1 & 0x5555);
    code = (code & 0x3333) << 2 | (code >> 2 & 0x3333);
    code = (code & 0x0f0f) << 4 | (code >> 4 & 0x0f0f);
    code = (code & 0x00ff) << 8 | (code >> 8 & 0x00ff);

    return code >> (16 - len);
}


/* canonical codes of n lengths (RFC 1951, 3.2.2), bit-reversed */

static void
bubble_png_codes(const uint8_t *len, int n, uint16_t *code)
{
    int       i;
    unsigned  l;
    uint32_t  c, count[BUBBLE_PNG_MAX_BITS + 1],
              next[BUBBLE_PNG_MAX_BITS + 1];

    memset(count, 0, sizeof(count));

    for (i = 0; i < n; i++) {
        count[len[i]]++;
    }

    count[0] = 0;
    next[0] = 0;
    c = 0;

    for (l = 1; l <= BUBBLE_PNG_MAX_BITS; l++) {
        c = (c + count[l - 1]) << 1;
        next[l] = c;
    }

    for (i = 0; i < n; i++) {
        l = len[i];
        code[i] = (uint16_t) bubble_png_codes_reverse(next[l]++, l);
    }
}


/*
 * bytes from p on equal to those from q (bubble_png_same) or to v
 * (bubble_png_run), at most max: 16 bytes a step with SSE2 (every x86-64
 * has it), else 8 in a word, then one at a time.
 */

bubble_png_hot size_t
bubble_png_same(const u_char *p, const u_char *q, size_t max)
{
    size_t    k;
#if (defined __SSE2__)
    unsigned  m;

    for (k = 0; k + 16 <= max; k += 16) {
        m = (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(
                _mm_loadu_si128((const __m128i *) (p + k)),
                _mm_loadu_si128((const __m128i *) (q + k))));

        if (m != 0xffff) {
            return k + (unsigned) __builtin_ctz(~m);
        }
    }
#elif (defined __BYTE_ORDER__ && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    uint64_t  x, y;

    for (k = 0; k + 8 <= max; k += 8) {
        memcpy(&x, p + k, 8);
        memcpy(&y, q + k, 8);
        x ^= y;

        if (x) {
            return k + (__builtin_ctzll(x) >> 3);
        }
    }
#else
    k = 0;
#endif

    while (k < max && p[k] == q[k]) {
        k++;
    }

    return k;
}


bubble_png_hot size_t
bubble_png_run(const u_char *p, size_t max, u_char v)
{
    size_t    k;
#if (defined __SSE2__)
    unsigned  m;
    __m128i   pat;

    pat = _mm_set1_epi8((char) v);

    for (k = 0; k + 16 <= max; k += 16) {
        m = (unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(
                _mm_loadu_si128((const __m128i *) (p + k)), pat));

        if (m != 0xffff) {
            return k + (unsigned) __builtin_ctz(~m);
        }
    }
#elif (defined __BYTE_ORDER__ && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
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

/*
 * ngx_bubble core: the fast PNG encoder's row kernels: pack (unpremultiply,
 * ARGB32 -> RGB or RGBA), filter (Sub, Up) and their costs, adler32.
 *
 * A portable scalar version, and SSE4.1 and AVX2 versions chosen at run
 * time (__builtin_cpu_supports; the functions carry target attributes, so
 * the module builds for any x86-64).  The vector versions compute the very
 * same bytes and costs: integer arithmetic only, the scalar code for tails
 * and for pixels with 0 < alpha < 255 (rare in charts: antialiased edges
 * on a transparent background), so every level writes the same PNG.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <zlib.h>

#include "bubble.h"
#include "bubble_png_fast.h"
#include "bubble_png_rows.h"
#include "bubble_png_pixel.h"

#if (defined __GNUC__ && (defined __x86_64__ || defined __i386__))
#define BUBBLE_PNG_X86  1
#include <immintrin.h>
#endif


#define BUBBLE_PNG_ADLER_MOD     65521
#define BUBBLE_PNG_ADLER_NMAX    5536       /* zlib's 5552, in 32s */


static int
bubble_png_opaque_scalar(const uint32_t *src, int width)
{
    int       x;
    uint32_t  acc;

    acc = 0xff000000;

    for (x = 0; x < width; x++) {
        acc &= src[x];
    }

    return acc == 0xff000000;
}


static void
bubble_png_pack_scalar_from(const uint32_t *src, int x, int width,
    int opaque, u_char *dst)
{
    uint32_t  p;

    if (opaque) {
        for (dst += 3 * x; x < width; x++) {
            p = src[x];
            dst[0] = (u_char) (p >> 16);
            dst[1] = (u_char) (p >> 8);
            dst[2] = (u_char) p;
            dst += 3;
        }

        return;
    }

    for (dst += 4 * x; x < width; x++) {
        bubble_png_unpremultiply(src[x], dst);
        dst += 4;
    }
}


static void
bubble_png_pack_scalar(const uint32_t *src, int width, int opaque,
    u_char *dst)
{
    bubble_png_pack_scalar_from(src, 0, width, opaque, dst);
}


/* the costs of bytes i >= from, as the header defines them */

static void
bubble_png_filter_scalar_from(const u_char *cur, const u_char *prev,
    size_t i, size_t n, int bpp, u_char *sub, u_char *up, size_t cost[3])
{
    u_char         c, cp, s, sp, u, upp;
    const u_char  *pc, *pp;

    for ( /* void */ ; i < n; i++) {
        pc = cur + i;                       /* pc[-1]: the pad at i 0 */
        pp = prev + i;

        c = pc[0];
        cp = pc[-1];
        s = (u_char) (c - pc[-bpp]);
        sp = (u_char) (cp - pc[-1 - bpp]);
        u = (u_char) (c - pp[0]);
        upp = (u_char) (cp - pp[-1]);

        sub[i] = s;
        up[i] = u;

        cost[0] += c != cp;
        cost[1] += s != sp;
        cost[2] += u != upp;
    }
}


static void
bubble_png_filter_scalar(const u_char *cur, const u_char *prev, size_t n,
    int bpp, u_char *sub, u_char *up, size_t cost[3])
{
    cost[0] = 0;
    cost[1] = 0;
    cost[2] = 0;

    bubble_png_filter_scalar_from(cur, prev, 0, n, bpp, sub, up, cost);
}


/* zlib's own (the vector versions do its tails too) */

static uint32_t
bubble_png_adler_scalar(uint32_t adler, const u_char *p, size_t n)
{
    return (uint32_t) adler32(adler, p, (uInt) n);
}


static const bubble_png_rows_t  bubble_png_rows_scalar = {
    bubble_png_opaque_scalar,
    bubble_png_pack_scalar,
    bubble_png_filter_scalar,
    bubble_png_adler_scalar
};


#if (BUBBLE_PNG_X86)

/*
 * SSE4.1: 4 pixels, 16 filtered bytes a step.  pshufb picks R, G, B (and
 * A) out of B, G, R, A words; a group of 4 pixels that is not all opaque
 * (RGBA) goes through the scalar unpremultiply.
 */

#define BUBBLE_PNG_SSE  __attribute__((target("sse4.1,popcnt")))


BUBBLE_PNG_SSE
static int
bubble_png_opaque_sse41(const uint32_t *src, int width)
{
    int      x;
    __m128i  acc, m;

    acc = _mm_set1_epi32(-1);

    for (x = 0; x + 4 <= width; x += 4) {
        acc = _mm_and_si128(acc,
                            _mm_loadu_si128((const __m128i *) (src + x)));
    }

    m = _mm_set1_epi32((int) 0xff000000);

    if (!_mm_test_all_ones(_mm_or_si128(acc, _mm_xor_si128(m,
                                        _mm_set1_epi32(-1)))))
    {
        return 0;
    }

    return bubble_png_opaque_scalar(src + x, width - x);
}


BUBBLE_PNG_SSE
static void
bubble_png_pack_sse41(const uint32_t *src, int width, int opaque,
    u_char *dst)
{
    int      x;
    __m128i  p, rgb, rgba, a, ones;

    rgb = _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12,
                        -1, -1, -1, -1);
    rgba = _mm_setr_epi8(2, 1, 0, 3, 6, 5, 4, 7, 10, 9, 8, 11,
                         14, 13, 12, 15);
    ones = _mm_set1_epi32((int) 0xff000000);

    x = 0;

    if (opaque) {
        for ( /* void */ ; x + 4 <= width; x += 4) {
            p = _mm_loadu_si128((const __m128i *) (src + x));
            _mm_storeu_si128((__m128i *) (dst + 3 * x),
                             _mm_shuffle_epi8(p, rgb));
        }

        bubble_png_pack_scalar_from(src, x, width, 1, dst);
        return;
    }

    for ( /* void */ ; x + 4 <= width; x += 4) {
        p = _mm_loadu_si128((const __m128i *) (src + x));
        a = _mm_and_si128(p, ones);

        if (_mm_movemask_epi8(_mm_cmpeq_epi32(a, ones)) == 0xffff) {
            _mm_storeu_si128((__m128i *) (dst + 4 * x),
                             _mm_shuffle_epi8(p, rgba));

        } else if (_mm_testz_si128(a, a)) {
            _mm_storeu_si128((__m128i *) (dst + 4 * x),
                             _mm_setzero_si128());

        } else {
            bubble_png_unpremultiply(src[x], dst + 4 * x);
            bubble_png_unpremultiply(src[x + 1], dst + 4 * x + 4);
            bubble_png_unpremultiply(src[x + 2], dst + 4 * x + 8);
            bubble_png_unpremultiply(src[x + 3], dst + 4 * x + 12);
        }
    }

    bubble_png_pack_scalar_from(src, x, width, 0, dst);
}


/* equal bytes of a and b, counted */
#define bubble_png_eq128(a, b)                                                \
    __builtin_popcount((unsigned) _mm_movemask_epi8(_mm_cmpeq_epi8(a, b)))


BUBBLE_PNG_SSE
static void
bubble_png_filter_sse41(const u_char *cur, const u_char *prev, size_t n,
    int bpp, u_char *sub, u_char *up, size_t cost[3])
{
    size_t   i, eq[3];
    __m128i  c, cp, s, sp, u, upp;

    eq[0] = 0;
    eq[1] = 0;
    eq[2] = 0;

    for (i = 0; i + 16 <= n; i += 16) {
        c = _mm_loadu_si128((const __m128i *) (cur + i));
        cp = _mm_loadu_si128((const __m128i *) (cur + i - 1));
        s = _mm_sub_epi8(c, _mm_loadu_si128((const __m128i *)
                                            (cur + i - bpp)));
        sp = _mm_sub_epi8(cp, _mm_loadu_si128((const __m128i *)
                                              (cur + i - 1 - bpp)));
        u = _mm_sub_epi8(c, _mm_loadu_si128((const __m128i *) (prev + i)));
        upp = _mm_sub_epi8(cp, _mm_loadu_si128((const __m128i *)
                                               (prev + i - 1)));

        _mm_storeu_si128((__m128i *) (sub + i), s);
        _mm_storeu_si128((__m128i *) (up + i), u);

        eq[0] += bubble_png_eq128(c, cp);
        eq[1] += bubble_png_eq128(s, sp);
        eq[2] += bubble_png_eq128(u, upp);
    }

    /* the bytes, less those equal to the byte before */
    cost[0] = i - eq[0];
    cost[1] = i - eq[1];
    cost[2] = i - eq[2];

    bubble_png_filter_scalar_from(cur, prev, i, n, bpp, sub, up, cost);
}


/*
 * adler32 16 bytes a step.  Over a block of C steps from (a, b), byte j
 * of step c adds to b (16 - j) + 16 (C - 1 - c) times: the first part by
 * a multiply-add with weights 16..1, the second from the sums of the
 * steps before each step (ps).  Blocks of NMAX bytes keep the 32-bit
 * lanes from overflowing, as zlib's do.
 */

BUBBLE_PNG_SSE
static uint32_t
bubble_png_adler_sse41(uint32_t adler, const u_char *p, size_t n)
{
    size_t    blk, c;
    uint32_t  a, b, t[4];
    uint64_t  s1, s2, ps;
    __m128i   v, z, w, ones, vs1, vs2, vps;

    a = adler & 0xffff;
    b = adler >> 16;
    z = _mm_setzero_si128();
    w = _mm_setr_epi8(16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1);
    ones = _mm_set1_epi16(1);

    while (n >= 16) {
        blk = (n < BUBBLE_PNG_ADLER_NMAX ? n : BUBBLE_PNG_ADLER_NMAX) & ~15;
        n -= blk;

        vs1 = z;
        vs2 = z;
        vps = z;

        for (c = 0; c < blk; c += 16) {
            v = _mm_loadu_si128((const __m128i *) (p + c));
            vps = _mm_add_epi32(vps, vs1);
            vs1 = _mm_add_epi32(vs1, _mm_sad_epu8(v, z));
            vs2 = _mm_add_epi32(vs2, _mm_madd_epi16(_mm_maddubs_epi16(v, w),
                                                    ones));
        }

        p += blk;

        _mm_storeu_si128((__m128i *) t, vs1);
        s1 = (uint64_t) t[0] + t[2];
        _mm_storeu_si128((__m128i *) t, vps);
        ps = (uint64_t) t[0] + t[2];
        _mm_storeu_si128((__m128i *) t, vs2);
        s2 = (uint64_t) t[0] + t[1] + t[2] + t[3];

        b = (uint32_t) ((b + (uint64_t) a * blk + 16 * ps + s2)
                        % BUBBLE_PNG_ADLER_MOD);
        a = (uint32_t) ((a + s1) % BUBBLE_PNG_ADLER_MOD);
    }

    return bubble_png_adler_scalar(b << 16 | a, p, n);
}


static const bubble_png_rows_t  bubble_png_rows_sse41 = {
    bubble_png_opaque_sse41,
    bubble_png_pack_sse41,
    bubble_png_filter_sse41,
    bubble_png_adler_sse41
};


/* AVX2: 8 pixels, 32 filtered bytes a step; pshufb works in 128-bit lanes */

#define BUBBLE_PNG_AVX2  __attribute__((target("avx2,popcnt")))


BUBBLE_PNG_AVX2
static int
bubble_png_opaque_avx2(const uint32_t *src, int width)
{
    int      x;
    __m256i  acc, m;

    acc = _mm256_set1_epi32(-1);

    for (x = 0; x + 8 <= width; x += 8) {
        acc = _mm256_and_si256(acc,
                          _mm256_loadu_si256((const __m256i *) (src + x)));
    }

    m = _mm256_set1_epi32((int) 0xff000000);

    if (!_mm256_testc_si256(acc, m)) {
        return 0;
    }

    return bubble_png_opaque_scalar(src + x, width - x);
}


BUBBLE_PNG_AVX2
static void
bubble_png_pack_avx2(const uint32_t *src, int width, int opaque,
    u_char *dst)
{
    int      x;
    __m256i  p, q, rgb, rgba, a, ones;

    rgb = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12,
                           -1, -1, -1, -1,
                           2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12,
                           -1, -1, -1, -1);
    rgba = _mm256_setr_epi8(2, 1, 0, 3, 6, 5, 4, 7, 10, 9, 8, 11,
                            14, 13, 12, 15,
                            2, 1, 0, 3, 6, 5, 4, 7, 10, 9, 8, 11,
                            14, 13, 12, 15);
    ones = _mm256_set1_epi32((int) 0xff000000);

    x = 0;

    if (opaque) {
        for ( /* void */ ; x + 8 <= width; x += 8) {
            p = _mm256_loadu_si256((const __m256i *) (src + x));
            q = _mm256_shuffle_epi8(p, rgb);
            _mm_storeu_si128((__m128i *) (dst + 3 * x),
                             _mm256_castsi256_si128(q));
            _mm_storeu_si128((__m128i *) (dst + 3 * x + 12),
                             _mm256_extracti128_si256(q, 1));
        }

        bubble_png_pack_scalar_from(src, x, width, 1, dst);
        return;
    }

    for ( /* void */ ; x + 8 <= width; x += 8) {
        p = _mm256_loadu_si256((const __m256i *) (src + x));
        a = _mm256_and_si256(p, ones);

        if (_mm256_movemask_epi8(_mm256_cmpeq_epi32(a, ones)) == -1) {
            _mm256_storeu_si256((__m256i *) (dst + 4 * x),
                                _mm256_shuffle_epi8(p, rgba));

        } else if (_mm256_testz_si256(a, a)) {
            _mm256_storeu_si256((__m256i *) (dst + 4 * x),
                                _mm256_setzero_si256());

        } else {
            bubble_png_pack_scalar_from(src, x, x + 8, 0, dst);
        }
    }

    bubble_png_pack_scalar_from(src, x, width, 0, dst);
}


#define bubble_png_eq256(a, b)                                                \
    __builtin_popcount((unsigned) _mm256_movemask_epi8(                       \
                                                   _mm256_cmpeq_epi8(a, b)))


BUBBLE_PNG_AVX2
static void
bubble_png_filter_avx2(const u_char *cur, const u_char *prev, size_t n,
    int bpp, u_char *sub, u_char *up, size_t cost[3])
{
    size_t   i, eq[3];
    __m256i  c, cp, s, sp, u, upp;

    eq[0] = 0;
    eq[1] = 0;
    eq[2] = 0;

    for (i = 0; i + 32 <= n; i += 32) {
        c = _mm256_loadu_si256((const __m256i *) (cur + i));
        cp = _mm256_loadu_si256((const __m256i *) (cur + i - 1));
        s = _mm256_sub_epi8(c, _mm256_loadu_si256((const __m256i *)
                                                  (cur + i - bpp)));
        sp = _mm256_sub_epi8(cp, _mm256_loadu_si256((const __m256i *)
                                                    (cur + i - 1 - bpp)));
        u = _mm256_sub_epi8(c, _mm256_loadu_si256((const __m256i *)
                                                  (prev + i)));
        upp = _mm256_sub_epi8(cp, _mm256_loadu_si256((const __m256i *)
                                                     (prev + i - 1)));

        _mm256_storeu_si256((__m256i *) (sub + i), s);
        _mm256_storeu_si256((__m256i *) (up + i), u);

        eq[0] += bubble_png_eq256(c, cp);
        eq[1] += bubble_png_eq256(s, sp);
        eq[2] += bubble_png_eq256(u, upp);
    }

    cost[0] = i - eq[0];
    cost[1] = i - eq[1];
    cost[2] = i - eq[2];

    bubble_png_filter_scalar_from(cur, prev, i, n, bpp, sub, up, cost);
}


/* as bubble_png_adler_sse41(), 32 bytes a step: weights 32..1 */

BUBBLE_PNG_AVX2
static uint32_t
bubble_png_adler_avx2(uint32_t adler, const u_char *p, size_t n)
{
    size_t    blk, c;
    uint32_t  a, b, t[8];
    uint64_t  s1, s2, ps;
    __m256i   v, z, w, ones, vs1, vs2, vps;

    a = adler & 0xffff;
    b = adler >> 16;
    z = _mm256_setzero_si256();
    w = _mm256_setr_epi8(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20,
                         19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6,
                         5, 4, 3, 2, 1);
    ones = _mm256_set1_epi16(1);

    while (n >= 32) {
        blk = (n < BUBBLE_PNG_ADLER_NMAX ? n : BUBBLE_PNG_ADLER_NMAX) & ~31;
        n -= blk;

        vs1 = z;
        vs2 = z;
        vps = z;

        for (c = 0; c < blk; c += 32) {
            v = _mm256_loadu_si256((const __m256i *) (p + c));
            vps = _mm256_add_epi32(vps, vs1);
            vs1 = _mm256_add_epi32(vs1, _mm256_sad_epu8(v, z));
            vs2 = _mm256_add_epi32(vs2,
                           _mm256_madd_epi16(_mm256_maddubs_epi16(v, w), ones));
        }

        p += blk;

        _mm256_storeu_si256((__m256i *) t, vs1);
        s1 = (uint64_t) t[0] + t[2] + t[4] + t[6];
        _mm256_storeu_si256((__m256i *) t, vps);
        ps = (uint64_t) t[0] + t[2] + t[4] + t[6];
        _mm256_storeu_si256((__m256i *) t, vs2);
        s2 = (uint64_t) t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];

        b = (uint32_t) ((b + (uint64_t) a * blk + 32 * ps + s2)
                        % BUBBLE_PNG_ADLER_MOD);
        a = (uint32_t) ((a + s1) % BUBBLE_PNG_ADLER_MOD);
    }

    return bubble_png_adler_scalar(b << 16 | a, p, n);
}


static const bubble_png_rows_t  bubble_png_rows_avx2 = {
    bubble_png_opaque_avx2,
    bubble_png_pack_avx2,
    bubble_png_filter_avx2,
    bubble_png_adler_avx2
};

#endif /* BUBBLE_PNG_X86 */


int
bubble_png_rows_best(void)
{
#if (BUBBLE_PNG_X86)
    __builtin_cpu_init();

    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) {
        return BUBBLE_PNG_ISA_AVX2;
    }

    if (__builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("popcnt"))
    {
        return BUBBLE_PNG_ISA_SSE41;
    }
#endif

    return BUBBLE_PNG_ISA_SCALAR;
}


const bubble_png_rows_t *
bubble_png_rows(int isa)
{
    int  best;

    best = bubble_png_rows_best();

    if (isa < 0 || isa > best) {
        isa = best;
    }

#if (BUBBLE_PNG_X86)
    switch (isa) {
    case BUBBLE_PNG_ISA_AVX2:
        return &bubble_png_rows_avx2;
    case BUBBLE_PNG_ISA_SSE41:
        return &bubble_png_rows_sse41;
    }
#endif

    return &bubble_png_rows_scalar;
}

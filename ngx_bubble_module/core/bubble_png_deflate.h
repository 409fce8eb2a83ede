/*
 * ngx_bubble core: the fast PNG encoder's deflate (bubble_png_deflate.c).
 */

#ifndef _BUBBLE_PNG_DEFLATE_H_INCLUDED_
#define _BUBBLE_PNG_DEFLATE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "bubble.h"


#define BUBBLE_PNG_NLIT          286        /* literal/length symbols */
#define BUBBLE_PNG_NLIT_FIXED    288        /* the fixed code's, 2 unused */
#define BUBBLE_PNG_NDIST         30         /* distance symbols */
#define BUBBLE_PNG_MAX_MATCH     258


typedef struct {
    bubble_allocator_t      *alloc;

    /* the output (the PNG's other chunks are written into it too) */
    u_char                  *data;
    size_t                   len;
    size_t                   size;

    uint64_t                 bits;          /* not yet written, LSB first */
    unsigned                 nbits;

    /* the stream's last bytes (type bytes and filtered rows) */
    u_char                  *win;
    size_t                   wlen;
    size_t                   wcap;
    uint32_t                 base;          /* stream position of win[0] */

    /* a hash of 4 bytes -> the last stream position they were seen at */
    uint32_t                *head;
    unsigned                 hshift;        /* 32 - bits of the hash */
    unsigned                 step;          /* hashed: every step-th byte */
    unsigned                 lz:1;          /* the hash is used this block */
    unsigned                 lz_off;        /* blocks since it was */
    size_t                   probes;        /* this block: hash looked up */
    size_t                   gain;          /* bytes matched beyond 3 each */

    /* tokens of this block; its limit; the next block's counts */
    size_t                   ntok;
    size_t                   limit;
    uint32_t                 lit_freq[BUBBLE_PNG_NLIT];
    uint32_t                 dist_freq[BUBBLE_PNG_NDIST];

    /* this block's codes, bit-reversed; a length's with its extra bits */
    uint16_t                 lit_code[BUBBLE_PNG_NLIT_FIXED];
    uint8_t                  lit_len[BUBBLE_PNG_NLIT_FIXED];
    uint32_t                 len_code[BUBBLE_PNG_MAX_MATCH + 1];
    uint8_t                  len_bits[BUBBLE_PNG_MAX_MATCH + 1];
    uint16_t                 dist_code[BUBBLE_PNG_NDIST];
    uint8_t                  dist_len[BUBBLE_PNG_NDIST];
} bubble_png_deflate_t;


/*
 * Allocates the output (size bytes to start), the window (32 KiB and
 * room for rows of rowlen bytes) and the hash table (smaller for a
 * stream of few bytes: total).  The caller writes what goes before the
 * zlib stream into the output, then bubble_png_deflate_start().
 * Returns 0, or -1 when out of memory (then bubble_png_deflate_free()
 * is still safe).
 */
int bubble_png_deflate_init(bubble_png_deflate_t *d, bubble_allocator_t *a,
    size_t size, size_t rowlen, uint64_t total, unsigned step);

/* the zlib header and the first block's */
void bubble_png_deflate_start(bubble_png_deflate_t *d);

/* window room for the next rowlen bytes of the stream, to be filled */
u_char *bubble_png_deflate_room(bubble_png_deflate_t *d, size_t rowlen);

/* codes the bytes last given by bubble_png_deflate_room(); 0 or -1 */
int bubble_png_deflate_row(bubble_png_deflate_t *d, size_t rowlen);

/* the last block, up to whole bytes, and the stream's adler32; 0 or -1 */
int bubble_png_deflate_finish(bubble_png_deflate_t *d, uint32_t adler);

/* everything but the output, which the caller takes or frees */
void bubble_png_deflate_free(bubble_png_deflate_t *d);

/* room for n more bytes of output; 0 or -1 */
int bubble_png_deflate_reserve(bubble_png_deflate_t *d, size_t n);


#endif /* _BUBBLE_PNG_DEFLATE_H_INCLUDED_ */

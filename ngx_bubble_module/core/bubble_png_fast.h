/*
 * ngx_bubble core: the fast PNG encoder (bubble_png_fast.c).
 */

#ifndef _BUBBLE_PNG_FAST_H_INCLUDED_
#define _BUBBLE_PNG_FAST_H_INCLUDED_


#include "bubble.h"


/* the row kernels: the best the CPU has, or one forced by a test */
#define BUBBLE_PNG_ISA_AUTO      -1
#define BUBBLE_PNG_ISA_SCALAR    0
#define BUBBLE_PNG_ISA_SSE41     1
#define BUBBLE_PNG_ISA_AVX2      2


/*
 * Encodes cairo's ARGB32 pixels (premultiplied, native-endian words, rows
 * stride bytes apart) as a PNG in out->data, allocated from a, exactly as
 * bubble_png_encode() promises (RGB when every pixel is opaque, else RGBA
 * unpremultiplied as cairo's writer does), with one pass over the rows
 * and its own deflate: charts about the size zlib level 1 makes them, in
 * a third of its CPU.
 * isa: BUBBLE_PNG_ISA_AUTO, or a level the tests force (lowered to what
 * the CPU has); every level writes the same bytes.  Returns 0, or -1 with
 * err set (500: out of memory).
 */
int bubble_png_fast_encode(bubble_allocator_t *a, const u_char *pixels,
    int width, int height, int stride, int isa, bubble_output_t *out,
    bubble_error_t *err);

/* the level BUBBLE_PNG_ISA_AUTO picks on this CPU */
int bubble_png_fast_isa(void);


#endif /* _BUBBLE_PNG_FAST_H_INCLUDED_ */

/*
 * ngx_bubble core: the PNG encoders' row kernels (bubble_png_rows.c):
 * opaque() and pack() for both, filter() and adler() for the fast one.
 */

#ifndef _BUBBLE_PNG_ROWS_H_INCLUDED_
#define _BUBBLE_PNG_ROWS_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "bubble.h"


/*
 * Bytes a row buffer keeps zeroed before its first byte (PNG's "left" and
 * "above-left" of the first pixel are 0) and writable after its last: the
 * vector stores of pack() write up to 16 bytes past the row.
 */
#define BUBBLE_PNG_ROW_PAD       32


/* PNG's filter types (ISO 15948, 9.2) that the fast encoder uses */
#define BUBBLE_PNG_FT_NONE       0
#define BUBBLE_PNG_FT_SUB        1
#define BUBBLE_PNG_FT_UP         2


typedef struct {
    /* 1 if every pixel of the row has alpha 255 */
    int   (*opaque)(const uint32_t *src, int width);

    /* ARGB32 premultiplied -> RGB (opaque) or RGBA unpremultiplied */
    void  (*pack)(const uint32_t *src, int width, int opaque, u_char *dst);

    /*
     * Sub and Up of a packed row of n bytes (bpp 3 or 4), and the cost of
     * None, Sub and Up: the filtered bytes f[i] != f[i - 1], f[-1] = 0,
     * where a run of any byte ends.  cur and prev have BUBBLE_PNG_ROW_PAD
     * zeros before.
     */
    void  (*filter)(const u_char *cur, const u_char *prev, size_t n,
                    int bpp, u_char *sub, u_char *up, size_t cost[3]);

    /* zlib's adler32 (start: 1) of n more bytes */
    uint32_t  (*adler)(uint32_t adler, const u_char *p, size_t n);
} bubble_png_rows_t;


/* the kernels of a level (BUBBLE_PNG_ISA_*), lowered to what the CPU has */
const bubble_png_rows_t *bubble_png_rows(int isa);

/* the best level this CPU has */
int bubble_png_rows_best(void);


#endif /* _BUBBLE_PNG_ROWS_H_INCLUDED_ */

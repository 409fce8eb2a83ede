/*
 * ngx_bubble core: R's floating point, as the scale files (bubble_scale.c,
 * bubble_breaks.c, bubble_format.c, bubble_palette.c) compute it, and
 * their shared helpers.  Internal to them.
 */

#ifndef _BUBBLE_R_H_INCLUDED_
#define _BUBBLE_R_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/*
 * R rounds after every multiplication; a fused multiply-add (which gcc
 * forms on its own where the CPU has one, e.g. arm64) would round once
 * and move ties -- and then a break or a colour
 */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize ("fp-contract=off")
#endif


/* <float.h> values, spelled out so that only the headers above are used */
#define BUBBLE_DBL_EPSILON   0x1p-52
#define BUBBLE_DBL_MIN       0x1p-1022
#define BUBBLE_DBL_MAX       0x1.fffffffffffffp+1023

/* 2^53: doubles below it hold every integer exactly */
#define BUBBLE_EXACT_INT     9007199254740992.0

#define BUBBLE_PI            3.14159265358979323846
#define BUBBLE_LOG10_2       0.301029995663981195213738894724

/* ggplot2's na.value for continuous colour scales: "grey50" */
#define BUBBLE_GREY50        0x7f7f7fffU

#define BUBBLE_RGBA_OPAQUE(rgb)  (((uint32_t) (rgb) << 8) | 0xffU)


double bubble_decimal(double mantissa, int exp10);
size_t bubble_extended_censor(const double *v, size_t n, double lo,
    double hi, double *out, size_t max);
double bubble_r_fmod(double x1, double x2);
int bubble_same_labels(const double *a, const double *b, size_t n);
size_t bubble_seq_length_out(double from, double to, double n,
    double *out, size_t max);
int bubble_zero_range(double lo, double hi);


#endif /* _BUBBLE_R_H_INCLUDED_ */

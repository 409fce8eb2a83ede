/*
 * ngx_bubble core: ranges and size scales; the other scale files are
 * bubble_breaks.c, bubble_format.c and bubble_palette.c.
 *
 * Everything here reproduces what R and ggplot2 (R 4.2, scales 1.2,
 * labeling 0.4, farver 2.1, viridisLite 0.4) compute, step by step and in
 * the same floating point order, because users put our charts next to
 * ggplot2's and any difference in a tick, a label or a colour shows.
 * tests/unit/test_scale.c checks the results against tables that R itself
 * produced (tests/unit/gen_scale_refs.R).
 *
 * Pure functions: no allocation, no global state, no I/O.
 */


#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "bubble_scale.h"
#include "bubble_r.h"


/* ---------------------------------------------------------------------- */
/* ranges                                                                   */
/* ---------------------------------------------------------------------- */


/*
 * scales::zero_range(): equal ends, or ends so close relative to their
 * size (1000 * .Machine$double.eps) that the range has no width.
 */

int
bubble_zero_range(double lo, double hi)
{
    double  m;

    if (lo == hi) {
        return 1;
    }

    if (isinf(lo) && isinf(hi)) {
        return 0;
    }

    m = fmin(fabs(lo), fabs(hi));

    if (m == 0) {
        return 0;
    }

    return fabs((lo - hi) / m) < 1000 * BUBBLE_DBL_EPSILON;
}


/*
 * scales::expand_range(range, mul = mult, zero_width = 1), which ggplot2's
 * default continuous expansion (expansion(mult = 0.05)) calls: each side
 * moves out by mult times the width; a range with no width counts as one
 * unit wide, so c(5, 5) becomes c(4.95, 5.05) -- as ggplot2 draws a single
 * value, with ticks 4.950 ... 5.050.
 */

void
bubble_expand_range(double *lo, double *hi, double mult)
{
    double  width, pad;

    if (!isfinite(*lo) || !isfinite(*hi)) {
        return;
    }

    width = bubble_zero_range(*lo, *hi) ? 1 : *hi - *lo;

    /* range + c(-1, 1) * (width * mul + add), with add = 0 */
    pad = width * mult;

    *lo = *lo - pad;
    *hi = *hi + pad;
}


/*
 * The test the layout applies to every position scale, and the legacy
 * URL converter to the axis ranges it writes, so that the converter
 * refuses by its own parameter's name what the layout would refuse.
 */

int
bubble_range_drawable(double lo, double hi, double mult)
{
    if (!isfinite(lo) || !isfinite(hi)) {
        return 0;
    }

    bubble_expand_range(&lo, &hi, mult);

    return isfinite(lo) && isfinite(hi) && isfinite(hi - lo);
}


double
bubble_rescale(double v, double lo, double hi)
{
    if (isfinite(hi - lo)) {
        return (v - lo) / (hi - lo);
    }

    /* halving is exact for numbers this large, and |hi/2 - lo/2| <= max */
    return (v / 2 - lo / 2) / (hi / 2 - lo / 2);
}


/*
 * R's x %% y for doubles (myfmod() in src/main/arithmetic.c, R 4.x): the
 * result has the sign of y; the remainder is taken in long double.
 */

double
bubble_r_fmod(double x1, double x2)
{
    double       q;
    long double  tmp;

    if (x2 == 0.0) {
        return NAN;
    }

    if (fabs(x2) * BUBBLE_DBL_EPSILON > 1 && isfinite(x1)
        && fabs(x1) <= fabs(x2))
    {
        return (fabs(x1) == fabs(x2)) ? 0
               : ((x1 < 0 && x2 > 0) || (x2 < 0 && x1 > 0)) ? x1 + x2 : x1;
    }

    q = x1 / x2;
    tmp = (long double) x1 - floor(q) * (long double) x2;

    return (double) (tmp - floorl(tmp / x2) * x2);
}


/*
 * mantissa * 10^exp10 as the double nearest to that decimal, i.e. what the
 * literal "3e-1" reads as (0.3), not what 3 * 0.1 computes
 * (0.30000000000000004).  mantissa must be an integer below 2^53.
 */

double
bubble_decimal(double mantissa, int exp10)
{
    char  buf[64];

    if (mantissa == 0) {
        return 0.0;
    }

    snprintf(buf, sizeof(buf), "%.0fe%d", mantissa, exp10);

    return strtod(buf, NULL);
}


/*
 * R's seq(from, to, length.out = n) (seq.default): the ends exactly, the
 * inside points from + i * ((to - from) / (n - 1)).
 */

size_t
bubble_seq_length_out(double from, double to, double n, double *out,
    size_t max)
{
    size_t  i, len;
    double  by;

    len = (size_t) ceil(n);

    if (len > max) {
        return 0;
    }

    if (len == 0) {
        return 0;
    }

    if (len <= 2) {
        out[0] = from;
        if (len == 2) {
            out[1] = to;
        }
        return len;
    }

    if (from == to) {
        for (i = 0; i < len; i++) {
            out[i] = from;
        }
        return len;
    }

    if (isfinite(to - from)) {
        by = (to - from) / (double) (len - 1);

        out[0] = from;
        for (i = 1; i < len - 1; i++) {
            out[i] = from + (double) i * by;
        }
        out[len - 1] = to;

        return len;
    }

    /* to - from overflows: R works on quarters */

    by = (to / 4 - from / 4) / (double) (len - 1);

    out[0] = from / 4 * 4;
    for (i = 1; i < len - 1; i++) {
        out[i] = (from / 4 + (double) i * by) * 4;
    }
    out[len - 1] = to / 4 * 4;

    return len;
}


/* ggplot2 censors breaks outside the (expanded) limits: x < lo | x > hi */

size_t
bubble_extended_censor(const double *v, size_t n, double lo, double hi,
    double *out, size_t max)
{
    size_t  i, k;

    for (i = 0, k = 0; i < n; i++) {
        if (v[i] < lo || v[i] > hi) {
            continue;
        }

        if (k == max) {
            return 0;
        }

        out[k++] = v[i];
    }

    return k;
}


/* whether format(a, trim = TRUE) and format(b, trim = TRUE) read the same */

int
bubble_same_labels(const double *a, const double *b, size_t n)
{
    char    abuf[BUBBLE_MAX_BREAKS * 40], bbuf[BUBBLE_MAX_BREAKS * 40];
    char   *alab[BUBBLE_MAX_BREAKS], *blab[BUBBLE_MAX_BREAKS];
    size_t  i;

    if (n > BUBBLE_MAX_BREAKS
        || bubble_format_breaks(a, n, abuf, sizeof(abuf), alab) != 0
        || bubble_format_breaks(b, n, bbuf, sizeof(bbuf), blab) != 0)
    {
        return 1;
    }

    for (i = 0; i < n; i++) {
        if (strcmp(alab[i], blab[i]) != 0) {
            return 0;
        }
    }

    return 1;
}


/* ---------------------------------------------------------------------- */
/* size scales                                                              */
/* ---------------------------------------------------------------------- */


/*
 * scale_size_area(max_size = rmax): rescale_max() then abs_area(), i.e.
 * sqrt(|v / vmax|) * rmax, so that area is proportional to value and 0
 * has no area.  Values beyond vmax, which ggplot2 would drop as out of
 * bounds, are held at rmax; NaN and a useless vmax give 0.
 */

double
bubble_size_area(double v, double vmax, double rmax)
{
    double  ratio;

    if (isnan(v) || !(vmax > 0) || !isfinite(vmax)) {
        return 0;
    }

    ratio = fabs(v / vmax);

    if (ratio > 1) {
        ratio = 1;
    }

    return sqrt(ratio) * rmax;
}


/*
 * scale_radius(range = c(rmin, rmax)): rescale() onto [0, 1] by the limits
 * [lo, hi], then rescale_pal() onto [rmin, rmax]; limits of zero width
 * give the middle of the range, as scales::rescale() does.  Out-of-range
 * values are clamped (ggplot2 drops them); NaN gives 0.
 */

double
bubble_size_radius(double v, double lo, double hi, double rmin,
    double rmax)
{
    double  t;

    if (isnan(v)) {
        return 0;
    }

    /* rescale(x, to, from) = (x - from[1]) / diff(from) * diff(to) + to[1] */

    if (bubble_zero_range(lo, hi)) {
        t = 0.5;

    } else {
        t = bubble_rescale(v, lo, hi);
        t = t < 0 ? 0 : t > 1 ? 1 : t;
    }

    return t * (rmax - rmin) + rmin;
}


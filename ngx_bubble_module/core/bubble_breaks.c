/*
 * ngx_bubble core: axis and legend breaks as R computes them:
 * labeling::extended() (ggplot2's default), log10 breaks, pretty().
 * Pure functions; tests/unit/test_scale.c checks them against R.
 */


#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "bubble_scale.h"
#include "bubble_r.h"


/* ---------------------------------------------------------------------- */
/* labeling::extended()                                                     */
/* ---------------------------------------------------------------------- */


/*
 * Talbot, Lin and Hanrahan, "An Extension of Wilkinson's Algorithm for
 * Positioning Tick Labels on Axes" (InfoVis 2010), as the R package
 * labeling 0.4 implements it, with its defaults: Q = 1, 5, 2, 2.5, 4, 3;
 * weights (simplicity, coverage, density, legibility) = 0.25, 0.2, 0.5,
 * 0.05; only.loose = FALSE; legibility always 1.  Every expression below
 * keeps R's order of operations so that the scores -- and so the winner
 * among near ties -- are bit for bit R's.
 */

static const double  bubble_ext_q[] = { 1, 5, 2, 2.5, 4, 3 };

#define BUBBLE_EXT_NQ  6

static const double  bubble_ext_w[] = { 0.25, 0.2, 0.5, 0.05 };


/* .simplicity(): qi is the 0-based index of q in Q */

static double
bubble_ext_simplicity(int qi, double j, double lmin, double lmax,
    double lstep)
{
    double  eps, v;

    eps = BUBBLE_DBL_EPSILON * 100;

    /* 1 when 0 is one of the labels */
    v = ((bubble_r_fmod(lmin, lstep) < eps
          || lstep - bubble_r_fmod(lmin, lstep) < eps)
         && lmin <= 0 && lmax >= 0) ? 1 : 0;

    return 1 - (double) qi / (BUBBLE_EXT_NQ - 1) - j + v;
}


static double
bubble_ext_simplicity_max(int qi, double j)
{
    return 1 - (double) qi / (BUBBLE_EXT_NQ - 1) - j + 1;
}


static double
bubble_ext_coverage(double dmin, double dmax, double lmin, double lmax)
{
    double  range, hi, lo, tenth;

    range = dmax - dmin;
    hi = dmax - lmax;
    lo = dmin - lmin;
    tenth = 0.1 * range;

    return 1 - 0.5 * (hi * hi + lo * lo) / (tenth * tenth);
}


static double
bubble_ext_coverage_max(double dmin, double dmax, double span)
{
    double  range, half, tenth;

    range = dmax - dmin;

    if (span > range) {
        half = (span - range) / 2;
        tenth = 0.1 * range;
        return 1 - 0.5 * (half * half + half * half) / (tenth * tenth);
    }

    return 1;
}


static double
bubble_ext_density(double k, double m, double dmin, double dmax,
    double lmin, double lmax)
{
    double  r, rt;

    r = (k - 1) / (lmax - lmin);
    rt = (m - 1) / (fmax(lmax, dmax) - fmin(dmin, lmin));

    return 2 - fmax(r / rt, rt / r);
}


static double
bubble_ext_density_max(double k, double m)
{
    return (k >= m) ? 2 - (k - 1) / (m - 1) : 1;
}


size_t
bubble_breaks_extended(double lo, double hi, int m, double *out, size_t max)
{
    int            qi, found;
    double         dmin, dmax, mm, j, k, q, z, sm, dm, cm, delta, step;
    double         min_start, max_start, start, lmin, lmax, lstep, score;
    double         best_score, best_lmin, best_lmax, best_lstep;
    double         best_start, best_j, best_q, best_z, del, nsteps, mant, v;
    double         raw[BUBBLE_MAX_BREAKS];
    size_t         i, n, count;
    const double  *w;

    if (!isfinite(lo) || !isfinite(hi) || out == NULL || max == 0 || m < 2) {
        return 0;
    }

    dmin = fmin(lo, hi);
    dmax = fmax(lo, hi);

    /*
     * ggplot2 (ScaleContinuous$get_breaks) gives a zero-width scale one
     * break at its value instead of asking labeling
     */

    if (bubble_zero_range(dmin, dmax)) {
        out[0] = dmin;
        return 1;
    }

    mm = m;

    /* labeling's degenerate cases: m evenly spaced values, as R returns */

    if (dmax - dmin < BUBBLE_DBL_EPSILON * 100
        || dmax - dmin > sqrt(BUBBLE_DBL_MAX))
    {
        n = bubble_seq_length_out(dmin, dmax, mm, raw, BUBBLE_MAX_BREAKS);
        return bubble_extended_censor(raw, n, dmin, dmax, out, max);
    }

    w = bubble_ext_w;
    best_score = -2;
    best_lmin = best_lmax = best_lstep = 0;
    best_start = best_j = best_q = best_z = 0;
    found = 0;

    /*
     * The search: j skips (use every j-th multiple of q), q from Q, k
     * labels, z the power of ten.  Each loop stops once even a perfect
     * score in the remaining dimensions cannot beat the best so far.  The
     * bounds on j and k only guard against a loop that R would never
     * leave; with finite input they are never reached.
     */

    for (j = 1; j < 1000; j++) {

        for (qi = 0; qi < BUBBLE_EXT_NQ; qi++) {
            q = bubble_ext_q[qi];
            sm = bubble_ext_simplicity_max(qi, j);

            if (w[0] * sm + w[1] + w[2] + w[3] < best_score) {
                goto done;
            }

            for (k = 2; k < 10000; k++) {
                dm = bubble_ext_density_max(k, mm);

                if (w[0] * sm + w[1] + w[2] * dm + w[3] < best_score) {
                    break;
                }

                delta = (dmax - dmin) / (k + 1) / j / q;
                z = ceil(log10(delta));

                for ( ;; ) {
                    step = j * q * pow(10, z);
                    cm = bubble_ext_coverage_max(dmin, dmax, step * (k - 1));

                    if (w[0] * sm + w[1] * cm + w[2] * dm + w[3]
                        < best_score)
                    {
                        break;
                    }

                    min_start = floor(dmax / step) * j - (k - 1) * j;
                    max_start = ceil(dmin / step) * j;

                    /*
                     * past 2^53 start++ would stand still and R would
                     * hang; only ranges that ggplot2 calls zero ranges
                     * (narrower than 1e-12 of their distance from 0) could
                     * get there
                     */

                    if (min_start > max_start
                        || !(fabs(min_start) < BUBBLE_EXACT_INT)
                        || !(fabs(max_start) < BUBBLE_EXACT_INT))
                    {
                        z = z + 1;
                        continue;
                    }

                    for (start = min_start; start <= max_start; start++) {
                        lmin = start * (step / j);
                        lmax = lmin + step * (k - 1);
                        lstep = step;

                        score = w[0] * bubble_ext_simplicity(qi, j, lmin,
                                                             lmax, lstep)
                                + w[1] * bubble_ext_coverage(dmin, dmax,
                                                             lmin, lmax)
                                + w[2] * bubble_ext_density(k, mm, dmin,
                                                            dmax, lmin, lmax)
                                + w[3] * 1;

                        if (score > best_score) {
                            best_score = score;
                            best_lmin = lmin;
                            best_lmax = lmax;
                            best_lstep = lstep;
                            best_start = start;
                            best_j = j;
                            best_q = q;
                            best_z = z;
                            found = 1;
                        }
                    }

                    z = z + 1;
                }
            }
        }
    }

done:

    if (!found) {
        return 0;
    }

    /*
     * seq(best$lmin, best$lmax, by = best$lstep) as seq.default() computes
     * it; those (float-noisy) values decide which breaks ggplot2 censors
     */

    del = best_lmax - best_lmin;

    if (del == 0 && best_lmax == 0) {
        n = 1;

    } else if (fabs(del) / fmax(fabs(best_lmax), fabs(best_lmin))
               < 100 * BUBBLE_DBL_EPSILON)
    {
        n = 1;

    } else {
        nsteps = del / best_lstep;
        n = (size_t) (nsteps + 1e-10) + 1;
    }

    if (n > BUBBLE_MAX_BREAKS) {
        return 0;
    }

    count = 0;

    for (i = 0; i < n; i++) {
        v = fmin(best_lmin + (double) i * best_lstep, best_lmax);

        if (v < dmin || v > dmax) {
            continue;
        }

        if (count == max) {
            return 0;
        }

        raw[count] = v;

        /*
         * The break is (start + i * j) * q * 10^z exactly; write it as the
         * decimal it is, so that 3 * 0.1 comes out as 0.3 (q * 10 is an
         * integer: 10, 50, 20, 25, 40, 30)
         */

        mant = (best_start + (double) i * best_j) * (best_q * 10);

        if (fabs(mant) < BUBBLE_EXACT_INT && fabs(best_z) < 400) {
            v = bubble_decimal(mant, (int) best_z - 1);
        }

        out[count++] = v;
    }

    /*
     * The exact decimals change no label -- except where a break needs more
     * than R's 7 significant digits and the 8th is a 5: R then rounds the
     * float noise (31603.975000000002 -> "31603.98", where the double
     * nearest 31603.975 gives "31603.97").  A single value 31604 is such a
     * case.  There, R's own values go out, so the labels are ggplot2's.
     */

    if (!bubble_same_labels(out, raw, count)) {
        memcpy(out, raw, count * sizeof(double));
    }

    return count;
}


/* ---------------------------------------------------------------------- */
/* pretty()                                                                 */
/* ---------------------------------------------------------------------- */


/*
 * scales::breaks_log(n = 5, base = 10) (scales 1.2.1) on [lo, hi] in data
 * units: powers of ten every `by` decades, `by` shrinking until n - 2
 * breaks fall inside; failing that log_sub_breaks(): multipliers added in
 * the order that best fills each decade (3, then 5, 2, 7, ...), and as the
 * last resort extended breaks.  Breaks are not clipped here (ggplot2 clips
 * them to the expanded range afterwards).
 */

static size_t
bubble_log_relevant(const double *b, size_t n, double lo, double hi)
{
    size_t  i, k;

    for (i = 0, k = 0; i < n; i++) {
        if (lo <= b[i] && b[i] <= hi) {
            k++;
        }
    }

    return k;
}


static int
bubble_double_cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


size_t
bubble_breaks_log(double lo, double hi, int n, double *out, size_t max)
{
    int     min, maxe, by, e, steps[10], nsteps, cand[10], ncand, i, j, k;
    int     best;
    double  rng0, rng1, b[BUBBLE_MAX_BREAKS * 10], d, dmin, bestd, t[12];
    size_t  nb, first, last, m;

    if (!(lo > 0) || !(hi > 0) || !isfinite(lo) || !isfinite(hi)
        || hi < lo || max == 0)
    {
        return 0;
    }

    rng0 = log10(lo);
    rng1 = log10(hi);
    min = (int) floor(rng0);
    maxe = (int) ceil(rng1);

    /*
     * R tests breaks against base^rng, not against the range itself:
     * 10^log10(20) is 20.000000000000004, so 20 is not "relevant" there.
     * The same round trip gives the same breaks.
     */
    lo = pow(10, rng0);
    hi = pow(10, rng1);

    if (maxe == min) {
        out[0] = pow(10, min);
        return 1;
    }

    if (maxe - min > 600) {
        return 0;
    }

    /* powers of ten, every "by" decades */

    for (by = (maxe - min) / n + 1; by >= 1; by--) {
        nb = 0;
        for (e = min; e <= maxe && nb < sizeof(b) / sizeof(double); e += by) {
            b[nb++] = pow(10, e);
        }

        if (bubble_log_relevant(b, nb, lo, hi) >= (size_t) (n - 2)) {
            m = nb < max ? nb : max;
            memcpy(out, b, m * sizeof(double));
            return m;
        }
    }

    /* log_sub_breaks(): add multipliers 2..9 one by one */

    steps[0] = 1;
    nsteps = 1;
    ncand = 0;
    for (k = 2; k < 10; k++) {
        cand[ncand++] = k;
    }

    nb = 0;

    while (ncand > 0) {
        best = 0;
        bestd = -1;

        for (i = 0; i < ncand; i++) {
            /* delta(x): the smallest gap in log10(sort(c(x, steps, 10))) */
            m = 0;
            t[m++] = cand[i];
            for (j = 0; j < nsteps; j++) {
                t[m++] = steps[j];
            }
            t[m++] = 10;
            qsort(t, m, sizeof(double), bubble_double_cmp);

            dmin = INFINITY;
            for (j = 1; j < (int) m; j++) {
                d = log10(t[j]) - log10(t[j - 1]);
                dmin = d < dmin ? d : dmin;
            }

            /* which.max(): the first of equals wins */
            if (dmin > bestd) {
                bestd = dmin;
                best = i;
            }
        }

        steps[nsteps++] = cand[best];
        for (i = best; i < ncand - 1; i++) {
            cand[i] = cand[i + 1];
        }
        ncand--;

        /* outer(10^(min:max), steps), column-major as R vectorises it */
        nb = 0;
        for (j = 0; j < nsteps; j++) {
            for (e = min; e <= maxe && nb < sizeof(b) / sizeof(double); e++) {
                b[nb++] = pow(10, e) * steps[j];
            }
        }

        if (bubble_log_relevant(b, nb, lo, hi) >= (size_t) (n - 2)) {
            break;
        }
    }

    if (bubble_log_relevant(b, nb, lo, hi) >= (size_t) (n - 2)) {
        qsort(b, nb, sizeof(double), bubble_double_cmp);

        /* one break beyond the data on each side */
        for (first = 0; first < nb && b[first] < lo; first++) {
            /* void */
        }
        for (last = nb; last > 0 && b[last - 1] > hi; last--) {
            /* void */
        }

        first = first > 0 ? first - 1 : 0;
        last = last < nb ? last + 1 : nb;

        m = last - first < max ? last - first : max;
        memcpy(out, b + first, m * sizeof(double));
        return m;
    }

    return bubble_breaks_extended(lo, hi, n, out, max);
}


/*
 * pretty(c(lo, hi), n): pretty.default() with its defaults (min.n =
 * n %/% 3, shrink.sml = 0.75, high.u.bias = 1.5, u5.bias = .5 + 1.5 * 1.5,
 * eps.correct = 0, f.min = 2^-20) around R_pretty() of src/appl/pretty.c.
 * The values are (ns + i) * unit with unit one of 1, 2, 5, 10 times a
 * power of ten; we return them as exact decimals (0.6, not
 * 0.6000000000000001 as seq.int() makes it).
 */

size_t
bubble_breaks_pretty(double lo, double hi, int n, double *out, size_t max)
{
    int     ndiv, min_n, k, i_small, e10, unit_digit, guard;
    double  h, h5, f_min, shrink, lo_, up_, dx, cell, u_bound, subsmall;
    double  base, unit, u, ns, nu, rounding_eps, mant, v;
    size_t  i, count;

    if (out == NULL || max == 0 || n < 0) {
        return 0;
    }

    /* pretty() drops non-finite values, then takes min() and max() */

    if (!isfinite(lo) && !isfinite(hi)) {
        return 0;
    }

    if (!isfinite(lo)) {
        lo = hi;

    } else if (!isfinite(hi)) {
        hi = lo;
    }

    lo_ = fmin(lo, hi);
    up_ = fmax(lo, hi);

    ndiv = n;
    min_n = n / 3;
    shrink = 0.75;
    h = 1.5;
    h5 = .5 + 1.5 * h;
    f_min = 0x1p-20;
    rounding_eps = 1e-10;

    dx = up_ - lo_;

    /* cell: the "scale" of the data */

    if (dx == 0 && up_ == 0) {
        cell = 1;
        i_small = 1;

    } else {
        cell = fmax(fabs(lo_), fabs(up_));
        /* an upper bound on cell / unit */
        u_bound = 1 + ((h5 >= 1.5 * h + .5) ? 1 / (1 + h) : 1.5 / (1 + h5));
        u_bound *= (ndiv > 1 ? ndiv : 1) * BUBBLE_DBL_EPSILON;
        i_small = dx < cell * u_bound * 3;
    }

    if (i_small) {
        if (cell > 10) {
            cell = 9 + cell / 10;
        }

        cell *= shrink;

        if (min_n > 1) {
            cell /= min_n;
        }

    } else {
        cell = dx;

        if (isfinite(dx)) {
            if (ndiv > 1) {
                cell /= ndiv;
            }

        } else if (ndiv >= 2) {
            cell = up_ / ndiv - lo_ / ndiv;
        }
    }

    subsmall = f_min * BUBBLE_DBL_MIN;
    if (subsmall == 0.) {
        subsmall = BUBBLE_DBL_MIN;
    }

    if (cell < subsmall) {
        cell = subsmall;

    } else if (cell > BUBBLE_DBL_MAX / 1.25) {
        cell = BUBBLE_DBL_MAX / 1.25;
    }

    /* unit from { 1, 2, 5, 10 } * base, base <= cell < 10 * base */

    e10 = (int) floor(log10(cell));
    base = pow(10.0, floor(log10(cell)));
    unit = base;
    unit_digit = 1;

    if ((u = 2 * base) - cell < h * (cell - unit)) {
        unit = u;
        unit_digit = 2;

        if ((u = 5 * base) - cell < h5 * (cell - unit)) {
            unit = u;
            unit_digit = 5;

            if ((u = 10 * base) - cell < h * (cell - unit)) {
                unit = u;
                unit_digit = 10;
            }
        }
    }

    ns = floor(lo_ / unit + rounding_eps);
    nu = ceil(up_ / unit - rounding_eps);

    /*
     * R's loops below step ns and nu by one; from 2^53 on a step changes
     * nothing and R would spin forever.  Finite data never gets there.
     */

    if (!(fabs(ns) < BUBBLE_EXACT_INT && fabs(nu) < BUBBLE_EXACT_INT)) {
        return 0;
    }

    for (guard = 0; ns * unit > lo_ + rounding_eps * unit; guard++) {
        if (guard == 1000) {
            return 0;
        }
        ns--;
    }

    for (guard = 0; !isfinite(ns * unit); guard++) {
        if (guard == 1000) {
            return 0;
        }
        ns++;
    }

    for (guard = 0; nu * unit < up_ - rounding_eps * unit; guard++) {
        if (guard == 1000) {
            return 0;
        }
        nu++;
    }

    for (guard = 0; !isfinite(nu * unit); guard++) {
        if (guard == 1000) {
            return 0;
        }
        nu--;
    }

    k = (int) (0.5 + nu - ns);

    if (k < min_n) {
        /* ensure that nu - ns == min_n */
        k = min_n - k;

        if (lo_ == 0. && ns == 0. && up_ != 0.) {
            nu += k;

        } else if (up_ == 0. && nu == 0. && lo_ != 0.) {
            ns -= k;

        } else if (ns >= 0.) {
            nu += k / 2;
            ns -= k / 2 + k % 2;

        } else {
            ns -= k / 2;
            nu += k / 2 + k % 2;
        }

        ndiv = min_n;

    } else {
        ndiv = k;
    }

    if ((size_t) ndiv + 1 > max) {
        return 0;
    }

    count = 0;

    for (i = 0; i <= (size_t) ndiv; i++) {
        mant = (ns + (double) i) * unit_digit;

        if (fabs(mant) < BUBBLE_EXACT_INT) {
            v = bubble_decimal(mant, e10);

        } else {
            v = (ns + (double) i) * unit;
        }

        out[count++] = v;
    }

    return count;
}



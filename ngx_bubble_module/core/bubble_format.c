/*
 * ngx_bubble core: numbers formatted as R's format() prints them (common
 * decimals, scientific where shorter).  Pure functions;
 * tests/unit/test_scale.c checks them against R.
 */


#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "bubble_scale.h"
#include "bubble_r.h"


static void bubble_r_scientific(double x, int *neg, int *kpower, int *nsig,
    int *roundingwidens);
static void bubble_r_format_real(const double *x, size_t n, int *w, int *d,
    int *e);


/* ---------------------------------------------------------------------- */
/* format()                                                                 */
/* ---------------------------------------------------------------------- */


/* getOption("digits"), the precision R prints and format()s with */
#define BUBBLE_R_DIGITS  7

/* R_print.scipen: getOption("scipen") */
#define BUBBLE_R_SCIPEN  0

#define BUBBLE_KP_MAX    27

/*
 * Powers of ten for scientific() (src/main/format.c).  As in R, the
 * literals are doubles widened to long double, so 1e23 and up carry the
 * double's error -- which R's decisions then include.
 */

static const long double  bubble_r_tbl[] = {
    1e-1,
    1e00, 1e01, 1e02, 1e03, 1e04, 1e05, 1e06, 1e07, 1e08, 1e09,
    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27
};


/*
 * scientific() of src/main/format.c (the long double variant, which R
 * uses on x86_64): for x = alpha * 10^kpower, 1 <= alpha < 10, the number
 * of significant digits (at most 7) needed to show x to 7 digits.
 */

static void
bubble_r_scientific(double x, int *neg, int *kpower, int *nsig,
    int *roundingwidens)
{
    int          kp, j, rgt;
    double       r, alpha, fuzz;
    long double  r_prec;

    if (x == 0.0) {
        *kpower = 0;
        *nsig = 1;
        *neg = 0;
        *roundingwidens = 0;
        return;
    }

    if (x < 0.0) {
        *neg = 1;
        r = -x;

    } else {
        *neg = 0;
        r = x;
    }

    /* r = |x|; 10^(kp + digits - 1) <= r */
    kp = (int) floor(log10(r)) - BUBBLE_R_DIGITS + 1;

    r_prec = r;

    if (abs(kp) <= BUBBLE_KP_MAX) {
        if (kp > 0) {
            r_prec /= bubble_r_tbl[kp + 1];

        } else if (kp < 0) {
            r_prec *= bubble_r_tbl[-kp + 1];
        }

    } else {
        r_prec /= powl(10.0, (long double) kp);
    }

    if (r_prec < bubble_r_tbl[BUBBLE_R_DIGITS]) {
        r_prec *= 10.0;
        kp--;
    }

    /* alpha: the digits, as an integer 10^(digits-1) <= alpha <= 10^digits */
    alpha = (double) nearbyintl(r_prec);

    *nsig = BUBBLE_R_DIGITS;

    for (j = 1; j <= BUBBLE_R_DIGITS; j++) {
        alpha /= 10.0;

        if (alpha == floor(alpha)) {
            (*nsig)--;

        } else {
            break;
        }
    }

    if (*nsig == 0) {
        *nsig = 1;
        kp += 1;
    }

    *kpower = kp + BUBBLE_R_DIGITS - 1;

    /*
     * Scientific format may round more than fixed: 9999999.6 is 1e+07
     * with 7 digits but 10000000 in fixed, one digit wider
     */

    rgt = BUBBLE_R_DIGITS - *kpower;
    rgt = rgt < 0 ? 0 : rgt > BUBBLE_KP_MAX ? BUBBLE_KP_MAX : rgt;
    fuzz = 0.5 / (double) bubble_r_tbl[1 + rgt];

    *roundingwidens = *kpower > 0 && *kpower <= BUBBLE_KP_MAX
                      && r < bubble_r_tbl[*kpower + 1] - fuzz;
}


/*
 * formatReal() of src/main/format.c with nsmall = 0: the common width w,
 * decimals d and exponent flag e (0: fixed) for the finite values of x.
 * Fixed notation wins unless it is wider than scientific (+ scipen).
 */

#define BUBBLE_R_NONE  (-1000000)

static void
bubble_r_format_real(const double *x, size_t n, int *w, int *d, int *e)
{
    int     left, right, sleft, mnl, mxl, rgt, mxsl, mxns, wF;
    int     neg_i, neg, kpower, nsig, roundingwidens;
    size_t  i;

    neg = 0;
    rgt = mxl = mxsl = mxns = BUBBLE_R_NONE;
    mnl = -BUBBLE_R_NONE;

    for (i = 0; i < n; i++) {
        if (!isfinite(x[i])) {
            continue;
        }

        bubble_r_scientific(x[i], &neg_i, &kpower, &nsig, &roundingwidens);

        left = kpower + 1;
        if (roundingwidens) {
            left--;
        }

        sleft = neg_i + ((left <= 0) ? 1 : left);
        right = nsig - left;

        if (neg_i) {
            neg = 1;
        }

        if (right > rgt) {
            rgt = right;
        }

        if (left > mxl) {
            mxl = left;
        }

        if (left < mnl) {
            mnl = left;
        }

        if (sleft > mxsl) {
            mxsl = sleft;
        }

        if (nsig > mxns) {
            mxns = nsig;
        }
    }

    if (mxl < 0) {
        mxsl = 1 + neg;
    }

    if (rgt < 0) {
        rgt = 0;
    }

    wF = mxsl + rgt + (rgt != 0);

    *e = (mxl > 100 || mnl <= -99) ? 2 : 1;

    if (mxns != BUBBLE_R_NONE) {
        *d = mxns - 1;
        *w = neg + (*d > 0) + *d + 4 + *e;

        if (wF <= *w + BUBBLE_R_SCIPEN) {
            *e = 0;
            *d = rgt;
            *w = wF;
        }

    } else {
        *w = 0;
        *d = 0;
        *e = 0;
    }
}


int
bubble_format_breaks(const double *v, size_t n, char *buf, size_t size,
    char **labels)
{
    int     w, d, e, len;
    char   *p, *last;
    double  x;
    size_t  i;

    if (n == 0) {
        return 0;
    }

    if (v == NULL || buf == NULL || labels == NULL || size == 0) {
        return -1;
    }

    bubble_r_format_real(v, n, &w, &d, &e);

    p = buf;
    last = buf + size;

    for (i = 0; i < n; i++) {
        /* encodeReal0() with w = 0 (trim = TRUE) */

        x = v[i];

        if (x == 0.0) {
            x = 0.0;    /* no "-0" */
        }

        if (isnan(x)) {
            len = snprintf(p, last - p, "NaN");

        } else if (isinf(x)) {
            len = snprintf(p, last - p, x > 0 ? "Inf" : "-Inf");

        } else if (e) {
            len = snprintf(p, last - p, d ? "%#.*e" : "%.*e", d, x);

        } else {
            len = snprintf(p, last - p, "%.*f", d, x);
        }

        if (len < 0 || (size_t) len >= (size_t) (last - p)) {
            return -1;
        }

        labels[i] = p;
        p += len + 1;
    }

    return 0;
}


/* "d.ddde+XX" strings: the same exponent and the same mantissa value */

static int
bubble_same_digits(const char *a, const char *b)
{
    char        ma[32], mb[32];
    const char  *ea, *eb;

    ea = strchr(a, 'e');
    eb = strchr(b, 'e');

    if (ea == NULL || eb == NULL || atoi(ea + 1) != atoi(eb + 1)
        || (size_t) (ea - a) >= sizeof(ma) || (size_t) (eb - b) >= sizeof(mb))
    {
        return 0;
    }

    memcpy(ma, a, ea - a);
    ma[ea - a] = '\0';
    memcpy(mb, b, eb - b);
    mb[eb - b] = '\0';

    return strtod(ma, NULL) == strtod(mb, NULL);
}


/*
 * A number as R's as.character() prints it, which is how ggplot2 names
 * numeric categories and labels: the fewest significant digits (at most
 * 15) that give v to 15 digits, in fixed notation unless scientific is
 * narrower ("10", "123456", "0.1", "1e+05", "1e-04", "1234567.1").
 * Returns the length, or 0 (buf set to "") when buf is too small;
 * non-finite values print as R prints them.
 */

size_t
bubble_format_number(double v, char *buf, size_t size)
{
    int     sig, exp10, decimals, len, flen, elen;
    char    tmp[64], fixed[400], sci[64], want[64], *e;

    if (buf == NULL || size == 0) {
        return 0;
    }

    if (isnan(v)) {
        len = snprintf(tmp, sizeof(tmp), "NaN");

    } else if (isinf(v)) {
        len = snprintf(tmp, sizeof(tmp), v > 0 ? "Inf" : "-Inf");

    } else if (v == 0) {
        len = snprintf(tmp, sizeof(tmp), "0");

    } else {
        /*
         * The value to R's 15 digits, then the fewest digits that say the
         * same: mantissas and exponents compared apart, so neither DBL_MAX
         * (whose 15 digits overflow) nor denormals fool the comparison.
         */
        snprintf(want, sizeof(want), "%.14e", v);

        for (sig = 1; sig < 15; sig++) {
            snprintf(sci, sizeof(sci), "%.*e", sig - 1, v);
            if (bubble_same_digits(sci, want)) {
                break;
            }
        }

        snprintf(sci, sizeof(sci), "%.*e", sig - 1, v);

        /* R writes at least two exponent digits: 1e+05, 1e-04, 1e+300 */
        e = strchr(sci, 'e');
        exp10 = atoi(e + 1);
        elen = snprintf(e, sizeof(sci) - (e - sci), "e%c%02d",
                        exp10 < 0 ? '-' : '+', abs(exp10));
        elen += (int) (e - sci);

        decimals = sig - 1 - exp10;
        if (decimals < 0) {
            decimals = 0;
        }

        flen = snprintf(fixed, sizeof(fixed), "%.*f", decimals, v);

        /* fixed wins ties, as R's scipen = 0 */
        if (flen <= elen) {
            len = snprintf(tmp, sizeof(tmp), "%s", fixed);
        } else {
            len = snprintf(tmp, sizeof(tmp), "%s", sci);
        }
    }

    if (len < 0 || (size_t) len >= size) {
        buf[0] = '\0';
        return 0;
    }

    memcpy(buf, tmp, len + 1);

    return len;
}



/*
 * ngx_bubble core: scales, breaks, number formatting and palettes
 * (bubble_scale.c).  Pure functions: no allocation, no I/O.
 */

#ifndef _BUBBLE_SCALE_H_INCLUDED_
#define _BUBBLE_SCALE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define BUBBLE_MAX_BREAKS  32


/*
 * ggplot2's default continuous expansion (mult = 0.05): mult times the
 * width on each side; a zero-width range counts as 1 wide, as
 * scales::expand_range(zero_width = 1) does: c(5, 5) -> c(4.95, 5.05).
 * Non-finite ends are left alone.
 */
void bubble_expand_range(double *lo, double *hi, double mult);

/*
 * Whether [lo, hi] can be a position scale's domain: once expanded by
 * mult on each side (bubble_expand_range()), its ends and its width are
 * finite doubles.  Past that there is no width to divide by: with
 * ggplot2's 5%, [-1e308, 1e308] (2.2e308 wide) or [1e308, 1.79e308] (its
 * upper margin ends past the largest double).  Non-finite ends fail.
 */
int bubble_range_drawable(double lo, double hi, double mult);

/*
 * (v - lo) / (hi - lo): where v is on [lo, hi], 0 at lo, 1 at hi.  When
 * hi - lo overflows (lo = -1e308, hi = 1e308) it is computed on halves,
 * which cannot overflow; otherwise exactly as written, so charts that
 * always drew keep their bits.  NaN if lo == hi or anything is NaN.
 */
double bubble_rescale(double v, double lo, double hi);

/*
 * "Nice" breaks as ggplot2 chooses them (scales::extended_breaks(), i.e.
 * labeling::extended(lo, hi, m = 5) with Q = 1, 5, 2, 2.5, 4, 3).
 * Pass the expanded limits: ggplot2 computes breaks on them and drops the
 * breaks outside [lo, hi].  Breaks are exact decimals (0.3, never
 * 0.30000000000000004) unless that would change a label: where a break
 * needs more than 7 significant digits and R's label rounds its float
 * noise (data 31604 alone: 31603.975000000002, "31603.98"), R's values
 * are returned.  A zero-width range gets one break at its value.
 * Writes at most max breaks into out, returns how many; 0 on failure
 * (non-finite ends, m < 2, more than max breaks).
 */
size_t bubble_breaks_extended(double lo, double hi, int m, double *out,
    size_t max);

/*
 * scales::breaks_log(n, base = 10) on [lo, hi] in data units (both > 0),
 * which ggplot2 uses for scale_x_log10(); not clipped.  Returns how many.
 */
size_t bubble_breaks_log(double lo, double hi, int n, double *out,
    size_t max);

/*
 * R's pretty(c(lo, hi), n) (R_pretty in src/appl/pretty.c), not clipped,
 * as exact decimals; 0 on failure (n < 0, no finite end, more than max).
 */
size_t bubble_breaks_pretty(double lo, double hi, int n, double *out,
    size_t max);

/*
 * Tick labels as R's format(breaks, trim = TRUE) prints them, which is
 * what ggplot2 shows: each value to 7 significant digits (R's default
 * getOption("digits"), so 0.30000000000000004 is "0.3"), a common number
 * of decimals for the whole vector ("0.0" "2.5" "5.0"), fixed notation
 * unless scientific is narrower ("1e+05" "1e+06"); NaN, Inf print as R
 * prints them.  labels[i] points into buf.  Returns 0, or -1 if buf (size
 * bytes) is too small.
 */
int bubble_format_breaks(const double *v, size_t n, char *buf, size_t size,
    char **labels);

/*
 * The shortest decimal ("%.Ng") that reads back as v: "0.1", "1e+300",
 * "-2.5", "1e+05".  Returns its length; 0 and "" if buf is too small.
 */
size_t bubble_format_number(double v, char *buf, size_t size);


/*
 * Palettes: colours as 0xRRGGBBAA, alpha 0xff.
 */

/* scales::hue_pal()(n): h = 15..375, c = 100, l = 65, as ggplot2 */
void bubble_palette_hue(size_t n, uint32_t *out);

/*
 * A named palette (any case): "hue", "set2", "dark2" (discrete,
 * ColorBrewer, cycled if n exceeds their 8 colours) or "viridis",
 * "magma", "plasma", "inferno", "cividis" (exactly viridisLite::viridis(n),
 * which interpolates the map in Lab).  Returns 0, or -1 for an unknown
 * name.
 */
int bubble_palette_named(const char *name, size_t n, uint32_t *out);

/*
 * A continuous map ("viridis", "magma", "plasma", "inferno", "cividis") at
 * t in [0, 1], clamped: linear between the map's 256 entries; NaN gives
 * ggplot2's na.value, grey50.  -1 for any other name.
 */
int bubble_palette_continuous(const char *name, double t, uint32_t *out);

/*
 * ggplot2's continuous scale at t in [0, 1] (scale_colour_viridis_c):
 * viridis(6) blended in CIE Lab, as scales::gradient_n_pal(space = "Lab").
 * This is what charts use; -1 for an unknown name.
 */
int bubble_palette_gradient(const char *name, double t, uint32_t *out);

/*
 * Size scale, ggplot2's scale_size_area(max_size): radius of value v when
 * the largest |value| is vmax: sqrt(|v| / vmax) * rmax; 0 maps to 0.
 * |v| > vmax gives rmax; NaN v or vmax <= 0 gives 0.
 */
double bubble_size_area(double v, double vmax, double rmax);

/*
 * scale_radius(range): linear radius from [lo, hi] onto [rmin, rmax],
 * clamped; zero-width limits give the middle; NaN v gives 0.  Any
 * finite lo < hi works, even [-1e308, 1e308] (bubble_rescale()).
 */
double bubble_size_radius(double v, double lo, double hi, double rmin,
    double rmax);


#endif /* _BUBBLE_SCALE_H_INCLUDED_ */

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
 * ggplot2's default continuous expansion: 5% of the range on each side;
 * a zero-width range widens as scales::expand_range() does.
 */
void bubble_expand_range(double *lo, double *hi, double mult);

/*
 * "Nice" breaks as ggplot2 chooses them (scales::extended_breaks(), i.e.
 * labeling::extended(lo, hi, m = 5) with Q = 1, 5, 2, 2.5, 4, 3).
 * Writes at most max breaks into out, returns how many (0 on failure).
 * Breaks outside [lo, hi] are dropped as ggplot2 drops them.
 */
size_t bubble_breaks_extended(double lo, double hi, int m, double *out,
    size_t max);

/* R's pretty(c(lo, hi), n) (R_pretty in src/appl/pretty.c), not clipped */
size_t bubble_breaks_pretty(double lo, double hi, int n, double *out,
    size_t max);

/*
 * Tick labels as R's format(breaks, trim = TRUE) prints them, which is
 * what ggplot2 shows: a common number of decimals for the whole vector,
 * at most 15 significant digits (no 0.30000000000000004), fixed notation
 * unless scientific is narrower ("1e+05").  labels[i] points into buf.
 * Returns 0, or -1 if buf (size bytes) is too small.
 */
int bubble_format_breaks(const double *v, size_t n, char *buf, size_t size,
    char **labels);

/* the shortest decimal that reads back as v ("0.1", "1e+300", "-2.5") */
size_t bubble_format_number(double v, char *buf, size_t size);


/*
 * Palettes: colours as 0xRRGGBBAA, alpha 0xff.
 */

/* scales::hue_pal()(n): h = 15..375, c = 100, l = 65, as ggplot2 */
void bubble_palette_hue(size_t n, uint32_t *out);

/*
 * A named palette: "hue", "set2", "dark2" (discrete, ColorBrewer, cycled
 * if n exceeds their 8 colours) or "viridis", "magma", "plasma",
 * "inferno", "cividis" (n colours evenly spaced along the map, as
 * viridisLite::viridis(n)).  Returns 0, or -1 for an unknown name.
 */
int bubble_palette_named(const char *name, size_t n, uint32_t *out);

/* a continuous map at t in [0, 1] ("viridis", ...); -1 for unknown name */
int bubble_palette_continuous(const char *name, double t, uint32_t *out);

/*
 * Size scale, ggplot2's scale_size_area(max_size): radius of value v when
 * the largest |value| is vmax: sqrt(|v| / vmax) * rmax; 0 maps to 0.
 */
double bubble_size_area(double v, double vmax, double rmax);

/* scale_radius(range): linear radius from [lo, hi] onto [rmin, rmax] */
double bubble_size_radius(double v, double lo, double hi, double rmin,
    double rmax);


#endif /* _BUBBLE_SCALE_H_INCLUDED_ */

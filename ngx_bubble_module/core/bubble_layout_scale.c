/*
 * ngx_bubble core: the layout's scales: position (breaks, labels,
 * transformations), size and colour, as ggplot2 trains them.
 */

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bubble.h"
#include "bubble_json.h"
#include "bubble_layout.h"


static double bubble_untrans(bubble_trans_e trans, double v);
static void bubble_layout_cell_path(bubble_layout_ctx_t *ctx, int column,
    size_t row, char *buf, size_t size);
static int bubble_format_label(char *buf, size_t size, const char *fmt,
    double v);


double
bubble_trans(bubble_trans_e trans, double v)
{
    switch (trans) {
    case BUBBLE_TRANS_LOG10:
        return v > 0 ? log10(v) : NAN;
    case BUBBLE_TRANS_SQRT:
        return v >= 0 ? sqrt(v) : NAN;
    default:
        return v;
    }
}


static double
bubble_untrans(bubble_trans_e trans, double v)
{
    switch (trans) {
    case BUBBLE_TRANS_LOG10:
        return pow(10, v);
    case BUBBLE_TRANS_SQRT:
        return v * v;
    default:
        return v;
    }
}


double
bubble_pscale_map(bubble_pscale_t *ps, double v)
{
    double  p;

    /*
     * A single value far from 0 (1e20) keeps no width after expansion:
     * 1e20 - 0.05 is 1e20.  scales::rescale() puts a zero range in the
     * middle, and so does ggplot2.
     */
    if (!(ps->hi > ps->lo)) {
        return (ps->from + ps->to) / 2;
    }

    p = ps->from + (v - ps->lo) / (ps->hi - ps->lo) * (ps->to - ps->from);

    /* cairo < 1.17 crashes outside 24.8 fixed point: keep far inside */
    return fmax(-1e6, fmin(1e6, p));
}


/*
 * A position scale: domain from the data (or limits), expanded 5% as
 * ggplot2 does, breaks computed on the expanded range and clipped to it.
 * A domain too wide for a double once expanded ([-1e308, 1e308]) is
 * refused, naming the limits or the data cell at its far end: there is
 * no width to place anything on.  name is "x" or "y".
 */

int
bubble_layout_pscale(bubble_layout_ctx_t *ctx, bubble_pscale_t *ps,
    bubble_axis_t *axis, const char *name, int column)
{
    char                   path[128], label[BUBBLE_LABEL_MAX];
    size_t                 i, n, k, lo_row, hi_row;
    double                 lo, hi, v, step, olo, ohi, ob[BUBBLE_MAX_BREAKS];
    bubble_text_metrics_t  m;

    ps->trans = axis->trans;

    lo = INFINITY;
    hi = -INFINITY;
    lo_row = 0;
    hi_row = 0;

    for (i = 0; i < ctx->npoints; i++) {
        v = (ps == &ctx->x) ? ctx->points[i].x : ctx->points[i].y;

        if (v < lo) {
            lo = v;
            lo_row = ctx->points[i].row;
        }

        if (v > hi) {
            hi = v;
            hi_row = ctx->points[i].row;
        }
    }

    if (axis->has_limits) {
        lo = bubble_trans(ps->trans, axis->limits[0]);
        hi = bubble_trans(ps->trans, axis->limits[1]);
    }

    /* only a linear scale can get there: log10 and sqrt shrink a double */

    if (!bubble_range_drawable(lo, hi, 0.05)) {
        if (axis->has_limits) {
            snprintf(path, sizeof(path), "%s.limits", name);
            bubble_error_set(ctx->err, 400, "invalid_spec", path,
                             "%s: [%g, %g] is too wide to draw: with 5%% "
                             "margins the axis would pass the largest "
                             "double, 1.8e308", path, axis->limits[0],
                             axis->limits[1]);

        } else {
            bubble_layout_cell_path(ctx, column,
                                    fabs(hi) >= fabs(lo) ? hi_row : lo_row,
                                    path, sizeof(path));
            bubble_error_set(ctx->err, 400, "invalid_spec", path,
                             "%s: %s runs from %g to %g, too wide to draw: "
                             "with 5%% margins the axis would pass the "
                             "largest double, 1.8e308", path, name, lo, hi);
        }

        return -1;
    }

    bubble_expand_range(&lo, &hi, 0.05);
    ps->lo = lo;
    ps->hi = hi;

    /* breaks in data units, then transformed */

    n = 0;

    if (axis->breaks) {
        for (i = 0; i < axis->nbreaks && n < BUBBLE_MAX_BREAKS; i++) {
            v = bubble_trans(ps->trans, axis->breaks[i]);
            if (isfinite(v) && v >= lo && v <= hi) {
                ob[n] = axis->breaks[i];
                ps->breaks[n++] = v;
            }
        }

    } else if (ps->trans == BUBBLE_TRANS_LOG10) {
        /* scales::breaks_log() on the expanded range, then clipped to it */
        size_t  m;
        double  all[BUBBLE_MAX_BREAKS];

        m = bubble_breaks_log(pow(10, lo), pow(10, hi), 5, all,
                              BUBBLE_MAX_BREAKS);

        for (i = 0; i < m; i++) {
            v = log10(all[i]);
            if (v >= lo && v <= hi) {
                ob[n] = all[i];
                ps->breaks[n++] = v;
            }
        }

        /*
         * Past 600 decades, or where the expanded ends leave the doubles
         * (10^338 is inf: data from 1e-300 to 1e308), breaks_log() has no
         * answer (R's has none either): nice breaks of the exponents,
         * powers of ten all the same (1e-200, 1, 1e+200)
         */

        if (m == 0) {
            m = bubble_breaks_extended(lo, hi, 5, all, BUBBLE_MAX_BREAKS);

            for (i = 0; i < m; i++) {
                v = pow(10, all[i]);
                if (v > 0 && isfinite(v)) {
                    ob[n] = v;
                    ps->breaks[n++] = all[i];
                }
            }
        }

    } else {
        olo = bubble_untrans(ps->trans, lo);
        ohi = bubble_untrans(ps->trans, hi);

        if (ps->trans == BUBBLE_TRANS_SQRT && lo < 0) {
            olo = 0;
        }

        /* sqrt: the square of 1.4e154 expanded is past the doubles */
        if (ohi > DBL_MAX) {
            ohi = DBL_MAX;
        }

        n = bubble_breaks_extended(olo, ohi, 5, ob, BUBBLE_MAX_BREAKS);

        for (i = 0; i < n; i++) {
            ps->breaks[i] = bubble_trans(ps->trans, ob[i]);
        }
    }

    ps->nbreaks = n;

    /* labels */

    if (axis->labels) {
        for (i = 0, k = 0; i < axis->nbreaks && k < n; i++) {
            v = bubble_trans(ps->trans, axis->breaks[i]);
            if (isfinite(v) && v >= lo && v <= hi) {
                ps->labels[k++] = (char *) axis->labels[i].data;
            }
        }

    } else if (axis->label_format.data) {
        int  len;

        /* each drawn whole: "%99.2e" is 99 bytes, "%.99f" of 1e300 410 */

        for (i = 0; i < n; i++) {
            len = bubble_format_label(label, sizeof(label),
                                      axis->label_format.data, ob[i]);

            if (len < 0 || (size_t) len >= sizeof(label)) {
                snprintf(path, sizeof(path), "%s.labels", name);
                bubble_error_set(ctx->err, 400, "invalid_spec", path,
                                 "%s: the label of %g would be longer than "
                                 "%d bytes", path, ob[i],
                                 BUBBLE_LABEL_MAX - 1);
                return -1;
            }

            ps->labels[i] = bubble_strndup(ctx->alloc, label, len);
            if (ps->labels[i] == NULL) {
                bubble_error_set(ctx->err, 500, "internal", "",
                                 "out of memory");
                return -1;
            }
        }

    } else if (bubble_format_breaks(ob, n, ps->buf, sizeof(ps->buf),
                                    ps->labels) != 0)
    {
        for (i = 0; i < n; i++) {
            ps->labels[i] = "";
        }
    }

    /* minor breaks: midway between majors, one step past each end */

    ps->nminor = 0;

    /* in transformed space, as scales::regular_minor_breaks() */
    if (n >= 2) {
        step = ps->breaks[1] - ps->breaks[0];

        /*
         * Bounded by steps, not only by minors found: near +-1.8e308 the
         * first v overflows to -inf, and v += step then never moves.
         */
        for (v = ps->breaks[0] - step / 2, k = 0;
             v <= hi && k < sizeof(ps->minor) / sizeof(double)
             && ps->nminor < sizeof(ps->minor) / sizeof(double);
             v += step, k++)
        {
            if (v >= lo) {
                ps->minor[ps->nminor++] = v;
            }
        }
    }

    /* widest and tallest label, for the axis size */

    ps->label_w = 0;
    ps->label_h = 0;
    ps->label_ascent = 0;

    for (i = 0; i < n; i++) {
        bubble_measure(ctx, ps->labels[i], strlen(ps->labels[i]),
                       ctx->base * 0.8, 0, &m);
        ps->label_w = fmax(ps->label_w, m.width);
        ps->label_h = fmax(ps->label_h, m.height);
        ps->label_ascent = fmax(ps->label_ascent, m.ascent);
    }

    return 0;
}


/* the path of a data cell as the spec writes it: data[3].x or data.x[3] */

static void
bubble_layout_cell_path(bubble_layout_ctx_t *ctx, int column, size_t row,
    char *buf, size_t size)
{
    const char               *name;
    const bubble_json_doc_t  *doc = ctx->chart->source;

    name = ctx->chart->columns[column].name.data;

    if (doc != NULL && doc->rows_form) {
        snprintf(buf, size, "data[%zu].%s", row, name);

    } else {
        snprintf(buf, size, "data.%s[%zu]", name, row);
    }
}


/*
 * A tick label from a user's format (checked in bubble_spec.c: one %f, %e
 * or %g, flags "+- #0'", widths of two digits).  The "'" flag groups
 * thousands with commas; glibc does that only in a locale that says so,
 * and nginx runs in the C locale, so the digits are grouped here.
 * Returns what snprintf() returns: the length, perhaps past size; -1 if
 * the conversion alone does not fit BUBBLE_LABEL_MAX (it always does).
 */

static int
bubble_format_label(char *buf, size_t size, const char *fmt, double v)
{
    int          n, digits, k;
    char         spec[80], num[BUBBLE_LABEL_MAX];
    char         grouped[BUBBLE_LABEL_MAX + BUBBLE_LABEL_MAX / 3];
    size_t       len, out, i;
    const char  *conv, *end, *p;

    /* the conversion: the first '%' that is not "%%" */
    for (conv = fmt; *conv; conv++) {
        if (conv[0] == '%') {
            if (conv[1] != '%') {
                break;
            }
            conv++;
        }
    }

    end = conv + 1 + strspn(conv + 1, "+- #0'.0123456789");

    if (*conv == '\0' || memchr(conv, '\'', end - conv) == NULL
        || (size_t) (end - conv) + 2 > sizeof(spec))
    {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        return snprintf(buf, size, fmt, v);
#pragma GCC diagnostic pop
    }

    /* the conversion alone, without "'" */
    len = 0;
    for (p = conv; p <= end; p++) {
        if (*p != '\'') {
            spec[len++] = *p;
        }
    }
    spec[len] = '\0';

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    n = snprintf(num, sizeof(num), spec, v);
#pragma GCC diagnostic pop

    if (n < 0 || (size_t) n >= sizeof(num)) {
        return -1;
    }

    /* "  -1234567.5" -> "  -1,234,567.5": the integer digits only */
    i = strspn(num, " +-");
    digits = (int) strspn(num + i, "0123456789");

    out = 0;
    memcpy(grouped, num, i);
    out = i;

    for (k = 0; k < digits; k++) {
        if (k > 0 && (digits - k) % 3 == 0) {
            grouped[out++] = ',';
        }
        grouped[out++] = num[i + k];
    }

    memcpy(grouped + out, num + i + digits, n - i - digits + 1);

    /* the text around it, "%%" as "%" */
    out = 0;
    for (p = fmt; *p; p++) {
        if (p == conv) {
            for (i = 0; grouped[i]; i++) {
                if (out + 1 < size) {
                    buf[out] = grouped[i];
                }
                out++;
            }
            p = end;
            continue;
        }

        if (p[0] == '%' && p[1] == '%') {
            p++;
        }

        if (out + 1 < size) {
            buf[out] = *p;
        }
        out++;
    }

    if (size) {
        buf[out < size ? out : size - 1] = '\0';
    }

    return (int) out;
}


void
bubble_layout_size_scale(bubble_layout_ctx_t *ctx)
{
    size_t                i, n;
    double                v, lo, hi;
    bubble_chart_t       *chart = ctx->chart;
    bubble_size_scale_t  *sz = &chart->size;

    ctx->rmin = sz->has_range ? sz->range[0] : 1;
    ctx->rmax = sz->has_range ? sz->range[1] : 20;

    if (ctx->size_col == NULL) {
        return;
    }

    lo = INFINITY;
    hi = -INFINITY;

    for (i = 0; i < ctx->npoints; i++) {
        v = ctx->size_col->num[ctx->points[i].row];
        lo = fmin(lo, v);
        hi = fmax(hi, v);
    }

    if (sz->has_limits) {
        lo = sz->limits[0];
        hi = sz->limits[1];
    }

    ctx->size_lo = lo;
    ctx->size_hi = hi;
    ctx->size_max = fmax(fabs(lo), fabs(hi));

    if (sz->breaks) {
        n = 0;
        for (i = 0; i < sz->nbreaks && n < BUBBLE_MAX_BREAKS; i++) {
            if (sz->breaks[i] >= lo && sz->breaks[i] <= hi) {
                ctx->size_breaks[n++] = sz->breaks[i];
            }
        }

    } else {
        n = bubble_breaks_extended(lo, hi, 5, ctx->size_breaks,
                                   BUBBLE_MAX_BREAKS);
    }

    /* a break of radius 0 draws nothing in the legend */
    if (sz->type == BUBBLE_SIZE_AREA && n && ctx->size_breaks[0] == 0) {
        memmove(ctx->size_breaks, ctx->size_breaks + 1,
                (n - 1) * sizeof(double));
        n--;
    }

    ctx->nsize_breaks = n;

    if (bubble_format_breaks(ctx->size_breaks, n, ctx->size_buf,
                             sizeof(ctx->size_buf), ctx->size_labels) != 0)
    {
        ctx->nsize_breaks = 0;
    }
}


double
bubble_layout_radius(bubble_layout_ctx_t *ctx, double v)
{
    double  r;

    if (ctx->chart->size.type == BUBBLE_SIZE_RADIUS) {
        r = bubble_size_radius(v, ctx->size_lo, ctx->size_hi, ctx->rmin,
                               ctx->rmax);

    } else {
        r = bubble_size_area(v, ctx->size_max, ctx->rmax);
    }

    return fmax(0, fmin(r, 1e4));
}


int
bubble_layout_color_scale(bubble_layout_ctx_t *ctx)
{
    size_t                 i, j, n;
    double                 v, lo, hi;
    bubble_column_t       *c = ctx->color_col;
    bubble_color_scale_t  *cs = &ctx->chart->color;

    if (c == NULL || c->type == BUBBLE_COLUMN_EMPTY) {
        return 0;
    }

    ctx->continuous = (cs->type == BUBBLE_COLOR_CONTINUOUS)
                      || (cs->type == BUBBLE_COLOR_AUTO
                          && c->type == BUBBLE_COLUMN_NUMBER);

    if (ctx->continuous && c->type != BUBBLE_COLUMN_NUMBER) {
        bubble_error_set(ctx->err, 400, "invalid_spec", "color.type",
                         "color.type: \"continuous\" needs a numeric column, "
                         "\"%s\" holds strings", c->name.data);
        return -1;
    }

    if (ctx->continuous) {
        ctx->palette = cs->palette.data ? cs->palette.data : "viridis";

        if (cs->colors == NULL && cs->palette.data
            && bubble_palette_gradient(ctx->palette, 0, &(uint32_t){0})
               != 0)
        {
            bubble_error_set(ctx->err, 400, "invalid_spec", "color.palette",
                             "color.palette: \"%s\" is a discrete palette; "
                             "a continuous scale takes viridis, magma, "
                             "plasma, inferno or cividis", ctx->palette);
            return -1;
        }

        lo = INFINITY;
        hi = -INFINITY;

        for (i = 0; i < ctx->npoints; i++) {
            v = c->num[ctx->points[i].row];
            if (isfinite(v)) {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
        }

        if (cs->has_limits) {
            lo = cs->limits[0];
            hi = cs->limits[1];
        }

        if (!isfinite(lo)) {
            lo = 0;
            hi = 1;
        }

        ctx->color_lo = lo;
        ctx->color_hi = hi;

        ctx->ncolor_breaks = bubble_breaks_extended(lo, hi, 5,
                                                    ctx->color_breaks,
                                                    BUBBLE_MAX_BREAKS);
        if (bubble_format_breaks(ctx->color_breaks, ctx->ncolor_breaks,
                                 ctx->color_buf, sizeof(ctx->color_buf),
                                 ctx->color_labels) != 0)
        {
            ctx->ncolor_breaks = 0;
        }

        return 0;
    }

    /* categorical: the given order, or sorted as R sorts factor levels */

    n = 0;

    if (cs->categories) {
        for (i = 0; i < cs->ncategories && n < BUBBLE_MAX_CATEGORIES; i++) {
            ctx->categories[n++] = cs->categories[i];
        }

    } else {
        for (i = 0; i < ctx->npoints; i++) {
            bubble_str_t  s;
            char          num[32];

            if (c->type == BUBBLE_COLUMN_STRING) {
                s = c->str[ctx->points[i].row];
                if (s.data == NULL) {
                    continue;
                }

            } else {
                v = c->num[ctx->points[i].row];
                if (isnan(v)) {
                    continue;
                }
                s.len = bubble_format_number(v, num, sizeof(num));
                s.data = num;
            }

            for (j = 0; j < n; j++) {
                if (ctx->categories[j].len == s.len
                    && memcmp(ctx->categories[j].data, s.data, s.len) == 0)
                {
                    break;
                }
            }

            if (j < n) {
                continue;
            }

            if (n == BUBBLE_MAX_CATEGORIES) {
                bubble_error_set(ctx->err, 400, "invalid_spec",
                                 "mapping.color",
                                 "mapping.color: column \"%s\" has more "
                                 "than %d distinct values; use a "
                                 "continuous scale", c->name.data,
                                 BUBBLE_MAX_CATEGORIES);
                return -1;
            }

            if (s.data == num) {
                s.data = bubble_strndup(ctx->alloc, num, s.len);
                if (s.data == NULL) {
                    bubble_error_set(ctx->err, 500, "internal", "",
                                     "out of memory");
                    return -1;
                }
            }

            ctx->categories[n++] = s;
        }

        /* factor levels: numbers in numeric order (4, 8, 10), not text */
        qsort(ctx->categories, n, sizeof(bubble_str_t),
              c->type == BUBBLE_COLUMN_NUMBER ? bubble_num_str_cmp
                                              : bubble_str_cmp);
    }

    ctx->ncategories = n;

    if (cs->colors) {
        for (i = 0; i < n; i++) {
            ctx->category_colors[i] = cs->colors[i % cs->ncolors];
        }

    } else if (bubble_palette_named(cs->palette.data ? cs->palette.data
                                                     : "hue",
                                    n, ctx->category_colors) != 0)
    {
        bubble_error_set(ctx->err, 400, "invalid_spec", "color.palette",
                         "color.palette: unknown palette");
        return -1;
    }

    return 0;
}


/* a continuous colour scale's colour for v; NA outside its limits */

bubble_rgba_t
bubble_layout_gradient_of(bubble_layout_ctx_t *ctx, double v)
{
    uint32_t  rgba;

    if (isnan(v) || v < ctx->color_lo || v > ctx->color_hi) {
        return BUBBLE_NA_COLOR;
    }

    /* limits of -1e308 and 1e308 are 2e308 apart: rescaled on halves */
    v = (ctx->color_hi > ctx->color_lo)
        ? bubble_rescale(v, ctx->color_lo, ctx->color_hi) : 0.5;

    if (bubble_palette_gradient(ctx->palette, v, &rgba) != 0) {
        return BUBBLE_NA_COLOR;
    }

    return rgba;
}


bubble_rgba_t
bubble_layout_color_of(bubble_layout_ctx_t *ctx, size_t row)
{
    size_t            i, len;
    const char       *s;
    char              num[32];
    bubble_column_t  *c = ctx->color_col;

    if (c == NULL) {
        return ctx->chart->color.has_value ? ctx->chart->color.value
                                           : ctx->theme.point;
    }

    if (c->type == BUBBLE_COLUMN_EMPTY) {
        return BUBBLE_NA_COLOR;
    }

    if (ctx->continuous) {
        return bubble_layout_gradient_of(ctx, c->num[row]);
    }

    if (c->type == BUBBLE_COLUMN_STRING) {
        if (c->str[row].data == NULL) {
            return BUBBLE_NA_COLOR;
        }

        s = c->str[row].data;
        len = c->str[row].len;

    } else {
        if (isnan(c->num[row])) {
            return BUBBLE_NA_COLOR;
        }

        len = bubble_format_number(c->num[row], num, sizeof(num));
        s = num;
    }

    for (i = 0; i < ctx->ncategories; i++) {
        if (ctx->categories[i].len == len
            && memcmp(ctx->categories[i].data, s, len) == 0)
        {
            return ctx->category_colors[i];
        }
    }

    return BUBBLE_NA_COLOR;
}


int
bubble_str_cmp(const void *a, const void *b)
{
    const bubble_str_t  *s = a, *t = b;
    size_t               n;
    int                  rc;

    n = s->len < t->len ? s->len : t->len;
    rc = memcmp(s->data, t->data, n);

    return rc ? rc : (s->len > t->len) - (s->len < t->len);
}


/* numbers printed by bubble_format_number(), compared as numbers */

int
bubble_num_str_cmp(const void *a, const void *b)
{
    double  x, y;

    x = strtod(((const bubble_str_t *) a)->data, NULL);
    y = strtod(((const bubble_str_t *) b)->data, NULL);

    return (x > y) - (x < y);
}

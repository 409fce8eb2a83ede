/*
 * ngx_bubble core: chart model -> display list.
 *
 * Measures follow ggplot2's theme_grey() (base size 11 pt, half_line
 * 5.5 pt): sizes in points become CSS px at 96 dpi (BUBBLE_PT), and line
 * widths in ggplot2's mm units become px as R's lwd does (1 lwd = 1/96 in,
 * linewidth 0.5 -> 0.5 * 72.27 / 25.4 = 1.42 px).
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bubble.h"
#include "bubble_layout.h"


#define BUBBLE_LWD(mm)           ((mm) * 72.27 / 25.4)
#define BUBBLE_NA_COLOR          BUBBLE_RGBA(0x7f, 0x7f, 0x7f, 0xff)
#define BUBBLE_MAX_CATEGORIES    64
#define BUBBLE_MAX_PANELS        64


typedef struct {
    bubble_rgba_t            background;
    bubble_rgba_t            panel;
    bubble_rgba_t            grid;          /* alpha 0: no grid */
    bubble_rgba_t            text;
    bubble_rgba_t            axis_text;
    bubble_rgba_t            ticks;
    bubble_rgba_t            axis_line;     /* alpha 0: none */
    bubble_rgba_t            key;           /* legend key background */
    bubble_rgba_t            point;         /* unmapped bubble colour */
    unsigned                 minor:1;       /* minor grid lines */
} bubble_theme_t;


typedef struct {
    bubble_trans_e           trans;
    double                   lo, hi;        /* transformed, expanded */
    double                   from, to;      /* pixels for lo and hi */
    double                   breaks[BUBBLE_MAX_BREAKS];
    double                   minor[2 * BUBBLE_MAX_BREAKS + 2];
    char                    *labels[BUBBLE_MAX_BREAKS];
    char                     buf[BUBBLE_MAX_BREAKS * 32];
    size_t                   nbreaks;
    size_t                   nminor;
    double                   label_w;       /* widest label, px */
    double                   label_h;
    double                   label_ascent;  /* the tallest label's, px */
} bubble_pscale_t;


typedef struct {
    size_t                   row;
    size_t                   panel;         /* facet panel */
    double                   x, y;          /* data units, then px */
    double                   r;             /* px */
    bubble_rgba_t            color;
} bubble_point_t;


typedef struct {
    bubble_allocator_t      *alloc;
    bubble_chart_t          *chart;
    bubble_dlist_t          *dl;
    bubble_error_t          *err;
    bubble_theme_t           theme;
    const char              *family;
    double                   base;          /* base font size, px */

    bubble_pscale_t          x, y;
    bubble_column_t         *size_col;
    bubble_column_t         *color_col;
    bubble_column_t         *label_col;
    bubble_column_t         *tooltip_col;

    double                   size_max;      /* |value| mapped to range max */
    double                   size_lo, size_hi;
    double                   rmin, rmax;    /* px */
    double                   size_breaks[BUBBLE_MAX_BREAKS];
    char                    *size_labels[BUBBLE_MAX_BREAKS];
    char                     size_buf[BUBBLE_MAX_BREAKS * 32];
    size_t                   nsize_breaks;

    int                      continuous;    /* colour scale kind */
    int                      merged;        /* one legend: size, coloured */
    double                   color_lo, color_hi;
    const char              *palette;
    bubble_str_t             categories[BUBBLE_MAX_CATEGORIES];
    bubble_rgba_t            category_colors[BUBBLE_MAX_CATEGORIES];
    size_t                   ncategories;
    double                   color_breaks[BUBBLE_MAX_BREAKS];
    char                    *color_labels[BUBBLE_MAX_BREAKS];
    char                     color_buf[BUBBLE_MAX_BREAKS * 32];
    size_t                   ncolor_breaks;

    bubble_point_t          *points;
    size_t                   npoints;

    /* facet_wrap: one panel per value of the facet column */
    bubble_column_t         *facet_col;
    bubble_str_t             panels[BUBBLE_MAX_PANELS];
    size_t                   npanels;
    size_t                   ncol, nrow;
} bubble_layout_ctx_t;


static void bubble_layout_theme(bubble_layout_ctx_t *ctx);
static int bubble_layout_points(bubble_layout_ctx_t *ctx);
static void bubble_layout_pscale(bubble_layout_ctx_t *ctx,
    bubble_pscale_t *ps, bubble_axis_t *axis, int column);
static int bubble_format_label(char *buf, size_t size, const char *fmt,
    double v);
static const char *bubble_fit(bubble_layout_ctx_t *ctx, const char *s,
    size_t *len, double size, double max_w);
static void bubble_layout_size_scale(bubble_layout_ctx_t *ctx);
static int bubble_layout_color_scale(bubble_layout_ctx_t *ctx);
static bubble_rgba_t bubble_layout_gradient_of(bubble_layout_ctx_t *ctx,
    double v);
static bubble_rgba_t bubble_layout_color_of(bubble_layout_ctx_t *ctx,
    size_t row);
static double bubble_layout_radius(bubble_layout_ctx_t *ctx, double v);
static double bubble_trans(bubble_trans_e trans, double v);
static double bubble_untrans(bubble_trans_e trans, double v);
static double bubble_pscale_map(bubble_pscale_t *ps, double v);
static int bubble_point_cmp(const void *a, const void *b);
static int bubble_str_cmp(const void *a, const void *b);
static int bubble_num_str_cmp(const void *a, const void *b);

static bubble_item_t *bubble_item(bubble_layout_ctx_t *ctx,
    bubble_item_type_e type);
static int bubble_text(bubble_layout_ctx_t *ctx, double x, double y,
    const char *s, size_t len, double size, bubble_rgba_t color,
    bubble_anchor_e anchor, int rotate, int bold);
static int bubble_rect(bubble_layout_ctx_t *ctx, double x, double y,
    double w, double h, bubble_rgba_t fill);
static int bubble_line(bubble_layout_ctx_t *ctx, double x1, double y1,
    double x2, double y2, bubble_rgba_t color, double width);
static double bubble_measure(bubble_layout_ctx_t *ctx, const char *s,
    size_t len, double size, int bold, bubble_text_metrics_t *m);

static int bubble_layout_legends(bubble_layout_ctx_t *ctx, double x,
    double y, int draw, double *w, double *h);
static int bubble_layout_labels(bubble_layout_ctx_t *ctx, size_t panel,
    double px0, double py0, double px1, double py1);
static int bubble_layout_facets(bubble_layout_ctx_t *ctx);
static int bubble_layout_panel(bubble_layout_ctx_t *ctx, size_t panel,
    double px0, double py0, double px1, double py1, int y_axis, int x_axis);
static int bubble_layout_strip(bubble_layout_ctx_t *ctx, size_t panel,
    double x, double y, double w, double h);
static bubble_str_t bubble_layout_value(bubble_layout_ctx_t *ctx,
    bubble_column_t *col, size_t row, char *num, size_t size);


int
bubble_layout(bubble_allocator_t *a, bubble_chart_t *chart,
    bubble_dlist_t *dl, bubble_error_t *err)
{
    int                    has_legend;
    size_t                 i;
    double                 W, H, margin, left, right, top, bottom, lw, lh;
    double                 tick, x_axis_h, y_axis_w, px0, px1, py0, py1;
    double                 v, strip_h, spacing, cell_w, cell_h;
    size_t                 len;
    const char            *xtitle, *ytitle, *s;
    bubble_layout_ctx_t    ctx;
    bubble_text_metrics_t  m, title_m, sub_m, cap_m, xt_m, yt_m;

    memset(&ctx, 0, sizeof(bubble_layout_ctx_t));
    ctx.alloc = a;
    ctx.chart = chart;
    ctx.dl = dl;
    ctx.err = err;
    ctx.family = chart->font_family.data ? chart->font_family.data
                                         : BUBBLE_FONT_FAMILY;
    ctx.base = chart->font_size * BUBBLE_PT;

    memset(dl, 0, sizeof(bubble_dlist_t));
    dl->width = chart->width;
    dl->height = chart->height;
    dl->font_family.data = ctx.family;
    dl->font_family.len = strlen(ctx.family);
    dl->title = chart->title;

    bubble_layout_theme(&ctx);

    if (bubble_layout_points(&ctx) != 0) {
        return -1;
    }

    W = chart->width;
    H = chart->height;
    margin = 5.5 * BUBBLE_PT;
    tick = 2.75 * BUBBLE_PT;

    /* the page */
    if (bubble_rect(&ctx, 0, 0, W, H, ctx.theme.background) != 0) {
        return -1;
    }

    left = margin;
    right = W - margin;
    top = margin;
    bottom = H - margin;

    /* titles above, caption below (sizes: rel(1.2), 1, rel(0.8)) */

    memset(&title_m, 0, sizeof(title_m));
    memset(&sub_m, 0, sizeof(sub_m));
    memset(&cap_m, 0, sizeof(cap_m));

    if (chart->title.data) {
        bubble_measure(&ctx, chart->title.data, chart->title.len,
                       ctx.base * 1.2, 0, &title_m);
        top += title_m.height + margin;
    }

    if (chart->subtitle.data) {
        bubble_measure(&ctx, chart->subtitle.data, chart->subtitle.len,
                       ctx.base, 0, &sub_m);
        top += sub_m.height + margin;
    }

    if (chart->caption.data) {
        bubble_measure(&ctx, chart->caption.data, chart->caption.len,
                       ctx.base * 0.8, 0, &cap_m);
        bottom -= cap_m.height + margin;
    }

    /* legends */

    lw = 0;
    lh = 0;
    has_legend = 0;

    if (chart->legend != BUBBLE_LEGEND_NONE) {
        if (bubble_layout_legends(&ctx, 0, 0, 0, &lw, &lh) != 0) {
            return -1;
        }

        has_legend = (lw > 0);
    }

    if (has_legend) {
        switch (chart->legend) {
        /* legend.box.spacing: 2 * half_line between panel and box */
        case BUBBLE_LEGEND_LEFT:
            left += lw + 2 * margin;
            break;
        case BUBBLE_LEGEND_TOP:
            top += lh + 2 * margin;
            break;
        case BUBBLE_LEGEND_BOTTOM:
            bottom -= lh + 2 * margin;
            break;
        default:
            right -= lw + 2 * margin;
            break;
        }
    }

    /* axes: titles default to the mapped column names */

    xtitle = chart->x.title.data ? chart->x.title.data
             : chart->columns[chart->aes[BUBBLE_AES_X]].name.data;
    ytitle = chart->y.title.data ? chart->y.title.data
             : chart->columns[chart->aes[BUBBLE_AES_Y]].name.data;

    bubble_measure(&ctx, xtitle, strlen(xtitle), ctx.base, 0, &xt_m);
    bubble_measure(&ctx, ytitle, strlen(ytitle), ctx.base, 0, &yt_m);

    bubble_layout_pscale(&ctx, &ctx.x, &chart->x, chart->aes[BUBBLE_AES_X]);
    bubble_layout_pscale(&ctx, &ctx.y, &chart->y, chart->aes[BUBBLE_AES_Y]);

    x_axis_h = tick + 2.2 * BUBBLE_PT + ctx.x.label_h
               + (xt_m.height ? 2.75 * BUBBLE_PT + xt_m.height : 0);
    y_axis_w = tick + 2.2 * BUBBLE_PT + ctx.y.label_w
               + (yt_m.height ? 2.75 * BUBBLE_PT + yt_m.height : 0);

    px0 = left + y_axis_w;
    px1 = right;
    py0 = top;
    py1 = bottom - x_axis_h;

    /* panels: one, or a facet_wrap grid with strips on top */

    strip_h = 0;

    if (ctx.facet_col) {
        bubble_measure(&ctx, "Ag", 2, ctx.base * 0.8, 0, &m);
        /* strip.text: rel(0.8), margins 0.8 * half_line = 4.4 pt */
        strip_h = m.height + 2 * 4.4 * BUBBLE_PT;
    }

    spacing = 5.5 * BUBBLE_PT;
    cell_w = (px1 - px0 - (ctx.ncol - 1) * spacing) / ctx.ncol;
    cell_h = (py1 - py0 - (ctx.nrow - 1) * spacing) / ctx.nrow;

    if (cell_w < 32 || cell_h - strip_h < 32) {
        bubble_error_set(err, 400, "invalid_spec", "width",
                         "width: %d x %d px leaves no room for %zu panel%s "
                         "after titles, axes and legends", chart->width,
                         chart->height, ctx.npanels,
                         ctx.npanels > 1 ? "s" : "");
        return -1;
    }

    /* bubbles are drawn largest first so small ones stay visible */
    qsort(ctx.points, ctx.npoints, sizeof(bubble_point_t), bubble_point_cmp);

    for (i = 0; i < ctx.npanels; i++) {
        double  cx0, cy0;

        cx0 = px0 + (i % ctx.ncol) * (cell_w + spacing);
        cy0 = py0 + (i / ctx.ncol) * (cell_h + spacing);

        /* y axes on the left column; x axes under the last panel of each
         * column, as facet_wrap draws them */
        if (bubble_layout_panel(&ctx, i, cx0, cy0 + strip_h, cx0 + cell_w,
                                cy0 + cell_h, i % ctx.ncol == 0,
                                i + ctx.ncol >= ctx.npanels)
            != 0)
        {
            return -1;
        }

        if (strip_h > 0
            && bubble_layout_strip(&ctx, i, cx0, cy0, cell_w, strip_h) != 0)
        {
            return -1;
        }
    }

    /*
     * Axis titles, centred on the panel, and titles, left-aligned with
     * it (plot.title.position "panel"): each shortened to what the page
     * has room for (the heights above stay those of the whole text).
     */

    len = strlen(xtitle);
    s = bubble_fit(&ctx, xtitle, &len, ctx.base,
                   2 * fmin((px0 + px1) / 2 - margin,
                            W - margin - (px0 + px1) / 2));

    if (s == NULL
        || bubble_text(&ctx, (px0 + px1) / 2,
                       bottom - xt_m.height + xt_m.ascent, s, len, ctx.base,
                       ctx.theme.text, BUBBLE_ANCHOR_MIDDLE, 0, 0) != 0)
    {
        return -1;
    }

    len = strlen(ytitle);
    s = bubble_fit(&ctx, ytitle, &len, ctx.base,
                   2 * fmin((py0 + py1) / 2 - margin,
                            H - margin - (py0 + py1) / 2));

    if (s == NULL
        || bubble_text(&ctx, left + yt_m.ascent, (py0 + py1) / 2, s, len,
                       ctx.base, ctx.theme.text, BUBBLE_ANCHOR_MIDDLE, 1, 0)
           != 0)
    {
        return -1;
    }

    v = margin;

    if (chart->title.data) {
        len = chart->title.len;
        s = bubble_fit(&ctx, chart->title.data, &len, ctx.base * 1.2,
                       W - margin - px0);

        if (s == NULL
            || bubble_text(&ctx, px0, v + title_m.ascent, s, len,
                           ctx.base * 1.2, ctx.theme.text,
                           BUBBLE_ANCHOR_START, 0, 0) != 0)
        {
            return -1;
        }

        v += title_m.height + margin;
    }

    if (chart->subtitle.data) {
        len = chart->subtitle.len;
        s = bubble_fit(&ctx, chart->subtitle.data, &len, ctx.base,
                       W - margin - px0);

        if (s == NULL
            || bubble_text(&ctx, px0, v + sub_m.ascent, s, len, ctx.base,
                           ctx.theme.text, BUBBLE_ANCHOR_START, 0, 0) != 0)
        {
            return -1;
        }
    }

    if (chart->caption.data) {
        len = chart->caption.len;
        s = bubble_fit(&ctx, chart->caption.data, &len, ctx.base * 0.8,
                       px1 - margin);

        if (s == NULL
            || bubble_text(&ctx, px1, H - margin - cap_m.height + cap_m.ascent,
                           s, len, ctx.base * 0.8, ctx.theme.text,
                           BUBBLE_ANCHOR_END, 0, 0) != 0)
        {
            return -1;
        }
    }

    /* legends beside the panel, centred on it as ggplot2 does */

    if (has_legend) {
        double  lx, ly;

        switch (chart->legend) {
        case BUBBLE_LEGEND_LEFT:
            lx = margin;
            ly = (py0 + py1 - lh) / 2;
            break;
        case BUBBLE_LEGEND_TOP:
            lx = (px0 + px1 - lw) / 2;
            ly = top - lh - 2 * margin;
            break;
        case BUBBLE_LEGEND_BOTTOM:
            lx = (px0 + px1 - lw) / 2;
            ly = bottom + 2 * margin;
            break;
        default:
            lx = right + 2 * margin;
            ly = (py0 + py1 - lh) / 2;
            break;
        }

        /* centred on the panels, but never off the page */
        lx = fmax(margin, fmin(lx, W - margin - lw));

        if (bubble_layout_legends(&ctx, lx, ly, 1, &lw, &lh) != 0) {
            return -1;
        }
    }

    dl->dropped_rows = chart->nrows - ctx.npoints;

    return 0;
}


/*
 * One panel in [px0, px1] x [py0, py1]: background, grid, its bubbles,
 * their labels, and the axes it carries.
 */

static int
bubble_layout_panel(bubble_layout_ctx_t *ctx, size_t panel, double px0,
    double py0, double px1, double py1, int y_axis, int x_axis)
{
    size_t                 i;
    double                 v, tick, major_w, minor_w;
    bubble_item_t         *it;
    bubble_point_t        *pt;
    bubble_chart_t        *chart = ctx->chart;
    bubble_text_metrics_t  m;

    tick = 2.75 * BUBBLE_PT;
    major_w = BUBBLE_LWD(0.5);
    minor_w = BUBBLE_LWD(0.25);

    ctx->x.from = chart->x.reverse ? px1 : px0;
    ctx->x.to = chart->x.reverse ? px0 : px1;
    ctx->y.from = chart->y.reverse ? py0 : py1;
    ctx->y.to = chart->y.reverse ? py1 : py0;

    if (bubble_rect(ctx, px0, py0, px1 - px0, py1 - py0, ctx->theme.panel)
        != 0)
    {
        return -1;
    }

    if (BUBBLE_A(ctx->theme.grid)) {
        if (ctx->theme.minor) {
            for (i = 0; i < ctx->x.nminor; i++) {
                v = bubble_pscale_map(&ctx->x, ctx->x.minor[i]);
                if (bubble_line(ctx, v, py0, v, py1, ctx->theme.grid,
                                minor_w) != 0)
                {
                    return -1;
                }
            }

            for (i = 0; i < ctx->y.nminor; i++) {
                v = bubble_pscale_map(&ctx->y, ctx->y.minor[i]);
                if (bubble_line(ctx, px0, v, px1, v, ctx->theme.grid,
                                minor_w) != 0)
                {
                    return -1;
                }
            }
        }

        for (i = 0; i < ctx->x.nbreaks; i++) {
            v = bubble_pscale_map(&ctx->x, ctx->x.breaks[i]);
            if (bubble_line(ctx, v, py0, v, py1, ctx->theme.grid, major_w)
                != 0)
            {
                return -1;
            }
        }

        for (i = 0; i < ctx->y.nbreaks; i++) {
            v = bubble_pscale_map(&ctx->y, ctx->y.breaks[i]);
            if (bubble_line(ctx, px0, v, px1, v, ctx->theme.grid, major_w)
                != 0)
            {
                return -1;
            }
        }
    }

    /* bubbles are clipped to their panel, as ggplot2 clips them */

    it = bubble_item(ctx, BUBBLE_ITEM_CLIP);
    if (it == NULL) {
        return -1;
    }

    it->x = px0;
    it->y = py0;
    it->w = px1 - px0;
    it->h = py1 - py0;

    /* the points are sorted largest first; each belongs to one panel */

    for (i = 0; i < ctx->npoints; i++) {
        pt = &ctx->points[i];

        if (pt->panel != panel) {
            continue;
        }

        pt->x = bubble_pscale_map(&ctx->x, pt->x);
        pt->y = bubble_pscale_map(&ctx->y, pt->y);

        it = bubble_item(ctx, BUBBLE_ITEM_CIRCLE);
        if (it == NULL) {
            return -1;
        }

        it->x = pt->x;
        it->y = pt->y;
        it->r = pt->r;
        it->fill = pt->color;
        it->opacity = chart->alpha;

        if (chart->stroke_width > 0) {
            it->stroke = chart->has_stroke_color ? chart->stroke_color
                                                 : pt->color;
            it->stroke_width = chart->stroke_width;
        }

        if (ctx->tooltip_col) {
            char          num[32];
            bubble_str_t  s;

            s = bubble_layout_value(ctx, ctx->tooltip_col, pt->row, num,
                                    sizeof(num));

            if (s.data == num) {
                s.data = bubble_strndup(ctx->alloc, num, s.len);
                if (s.data == NULL) {
                    bubble_error_set(ctx->err, 500, "internal", "",
                                     "out of memory");
                    return -1;
                }
            }

            if (s.data) {
                it->text = s;
                ctx->dl->text_bytes += s.len;
            }
        }
    }

    if (bubble_item(ctx, BUBBLE_ITEM_CLIP_END) == NULL) {
        return -1;
    }

    /* labels on top of all bubbles, where they do not collide */

    if (ctx->label_col
        && bubble_layout_labels(ctx, panel, px0, py0, px1, py1) != 0)
    {
        return -1;
    }

    /* axis lines (classic), ticks and tick labels */

    if (BUBBLE_A(ctx->theme.axis_line)) {
        if ((x_axis && bubble_line(ctx, px0, py1, px1, py1,
                                   ctx->theme.axis_line, major_w) != 0)
            || (y_axis && bubble_line(ctx, px0, py0, px0, py1,
                                      ctx->theme.axis_line, major_w) != 0))
        {
            return -1;
        }
    }

    for (i = 0; x_axis && i < ctx->x.nbreaks; i++) {
        v = bubble_pscale_map(&ctx->x, ctx->x.breaks[i]);

        if (bubble_line(ctx, v, py1, v, py1 + tick, ctx->theme.ticks,
                        major_w) != 0)
        {
            return -1;
        }

        /* one baseline for the row, below the tallest label's ink */
        if (bubble_text(ctx, v,
                        py1 + tick + 2.2 * BUBBLE_PT + ctx->x.label_ascent,
                        ctx->x.labels[i], strlen(ctx->x.labels[i]),
                        ctx->base * 0.8, ctx->theme.axis_text,
                        BUBBLE_ANCHOR_MIDDLE, 0, 0) != 0)
        {
            return -1;
        }
    }

    for (i = 0; y_axis && i < ctx->y.nbreaks; i++) {
        v = bubble_pscale_map(&ctx->y, ctx->y.breaks[i]);

        if (bubble_line(ctx, px0 - tick, v, px0, v, ctx->theme.ticks,
                        major_w) != 0)
        {
            return -1;
        }

        bubble_measure(ctx, ctx->y.labels[i], strlen(ctx->y.labels[i]),
                       ctx->base * 0.8, 0, &m);

        /* vertically centred on the tick */
        if (bubble_text(ctx, px0 - tick - 2.2 * BUBBLE_PT,
                        v - m.height / 2 + m.ascent,
                        ctx->y.labels[i], strlen(ctx->y.labels[i]),
                        ctx->base * 0.8, ctx->theme.axis_text,
                        BUBBLE_ANCHOR_END, 0, 0) != 0)
        {
            return -1;
        }
    }

    return 0;
}


/* a facet strip: theme_grey's grey85 band, grey10 text at rel(0.8) */

static int
bubble_layout_strip(bubble_layout_ctx_t *ctx, size_t panel, double x,
    double y, double w, double h)
{
    bubble_rgba_t          fill, text;
    bubble_text_metrics_t  m;

    fill = BUBBLE_RGBA(0xd9, 0xd9, 0xd9, 0xff);
    text = BUBBLE_RGBA(0x1a, 0x1a, 0x1a, 0xff);

    if (ctx->chart->theme == BUBBLE_THEME_DARK) {
        fill = BUBBLE_RGBA(0x26, 0x26, 0x26, 0xff);
        text = BUBBLE_RGBA(0xe6, 0xe6, 0xe6, 0xff);

    } else if (ctx->chart->theme == BUBBLE_THEME_MINIMAL) {
        fill = 0;
    }

    if (bubble_rect(ctx, x, y, w, h, fill) != 0) {
        return -1;
    }

    bubble_measure(ctx, ctx->panels[panel].data, ctx->panels[panel].len,
                   ctx->base * 0.8, 0, &m);

    return bubble_text(ctx, x + w / 2, y + (h - m.height) / 2 + m.ascent,
                       ctx->panels[panel].data, ctx->panels[panel].len,
                       ctx->base * 0.8, text, BUBBLE_ANCHOR_MIDDLE, 0, 0);
}


/*
 * Panels: the facet column's values, sorted as R sorts factor levels
 * (missing values last, as "NA"); the grid as facet_wrap's wrap_dims():
 * ncol = ceiling(sqrt(n)) unless given, nrow = ceiling(n / ncol).
 */

static int
bubble_layout_facets(bubble_layout_ctx_t *ctx)
{
    int            has_na;
    char           num[32];
    size_t         i, j, n;
    bubble_str_t   v;
    bubble_chart_t *chart = ctx->chart;

    ctx->npanels = 1;
    ctx->ncol = 1;
    ctx->nrow = 1;

    if (chart->facet < 0) {
        for (i = 0; i < ctx->npoints; i++) {
            ctx->points[i].panel = 0;
        }

        return 0;
    }

    ctx->facet_col = &chart->columns[chart->facet];

    n = 0;
    has_na = 0;

    for (i = 0; i < ctx->npoints; i++) {
        v = bubble_layout_value(ctx, ctx->facet_col, ctx->points[i].row, num,
                                sizeof(num));
        if (v.data == NULL) {
            has_na = 1;
            continue;
        }

        for (j = 0; j < n; j++) {
            if (ctx->panels[j].len == v.len
                && memcmp(ctx->panels[j].data, v.data, v.len) == 0)
            {
                break;
            }
        }

        if (j < n) {
            continue;
        }

        if (n + has_na >= BUBBLE_MAX_PANELS) {
            bubble_error_set(ctx->err, 400, "invalid_spec", "facet.wrap",
                             "facet.wrap: column \"%s\" has more than %d "
                             "distinct values", ctx->facet_col->name.data,
                             BUBBLE_MAX_PANELS);
            return -1;
        }

        if (v.data == num) {
            v.data = bubble_strndup(ctx->alloc, num, v.len);
            if (v.data == NULL) {
                bubble_error_set(ctx->err, 500, "internal", "",
                                 "out of memory");
                return -1;
            }
        }

        ctx->panels[n++] = v;
    }

    qsort(ctx->panels, n, sizeof(bubble_str_t),
          ctx->facet_col->type == BUBBLE_COLUMN_NUMBER ? bubble_num_str_cmp
                                                       : bubble_str_cmp);

    if (has_na) {
        ctx->panels[n].data = "NA";
        ctx->panels[n].len = 2;
        n++;
    }

    ctx->npanels = n;

    for (i = 0; i < ctx->npoints; i++) {
        v = bubble_layout_value(ctx, ctx->facet_col, ctx->points[i].row, num,
                                sizeof(num));

        ctx->points[i].panel = n - 1;        /* "NA" when missing */

        for (j = 0; v.data && j < n; j++) {
            if (ctx->panels[j].len == v.len
                && memcmp(ctx->panels[j].data, v.data, v.len) == 0)
            {
                ctx->points[i].panel = j;
                break;
            }
        }
    }

    if (chart->facet_ncol > 0) {
        ctx->ncol = ((size_t) chart->facet_ncol < n) ? (size_t) chart->facet_ncol
                                                    : n;
    } else {
        ctx->ncol = (size_t) ceil(sqrt((double) n));
    }

    ctx->nrow = (n + ctx->ncol - 1) / ctx->ncol;

    return 0;
}


/* a cell as text: the string, a number formatted, or data NULL if missing */

static bubble_str_t
bubble_layout_value(bubble_layout_ctx_t *ctx, bubble_column_t *col,
    size_t row, char *num, size_t size)
{
    bubble_str_t  s;

    s.data = NULL;
    s.len = 0;

    if (col->type == BUBBLE_COLUMN_STRING && col->str[row].data) {
        s = col->str[row];

    } else if (col->type == BUBBLE_COLUMN_NUMBER && !isnan(col->num[row])) {
        s.len = bubble_format_number(col->num[row], num, size);
        s.data = num;
    }

    return s;
}


static void
bubble_layout_theme(bubble_layout_ctx_t *ctx)
{
    bubble_theme_t  *t = &ctx->theme;

    /* theme_grey(): grey92 panel, white grid, grey30 tick labels */
    t->background = BUBBLE_RGBA(0xff, 0xff, 0xff, 0xff);
    t->panel = BUBBLE_RGBA(0xeb, 0xeb, 0xeb, 0xff);
    t->grid = BUBBLE_RGBA(0xff, 0xff, 0xff, 0xff);
    t->text = BUBBLE_RGBA(0, 0, 0, 0xff);
    t->axis_text = BUBBLE_RGBA(0x4d, 0x4d, 0x4d, 0xff);
    t->ticks = BUBBLE_RGBA(0x33, 0x33, 0x33, 0xff);
    t->axis_line = 0;
    t->key = BUBBLE_RGBA(0xf2, 0xf2, 0xf2, 0xff);
    t->point = BUBBLE_RGBA(0, 0, 0, 0xff);
    t->minor = 1;

    switch (ctx->chart->theme) {

    case BUBBLE_THEME_MINIMAL:
        /* theme_minimal(): no panel fill, grey92 grid, no ticks */
        t->panel = 0;
        t->grid = BUBBLE_RGBA(0xeb, 0xeb, 0xeb, 0xff);
        t->ticks = 0;
        t->key = 0;
        break;

    case BUBBLE_THEME_CLASSIC:
        /* theme_classic(): axis lines, no grid */
        t->panel = 0;
        t->grid = 0;
        t->axis_line = BUBBLE_RGBA(0, 0, 0, 0xff);
        t->key = 0;
        break;

    case BUBBLE_THEME_DARK:
        /* theme_dark(): grey50 panel, grey42 grid */
        t->panel = BUBBLE_RGBA(0x7f, 0x7f, 0x7f, 0xff);
        t->grid = BUBBLE_RGBA(0x6b, 0x6b, 0x6b, 0xff);
        t->key = BUBBLE_RGBA(0x7f, 0x7f, 0x7f, 0xff);
        t->point = BUBBLE_RGBA(0xff, 0xff, 0xff, 0xff);
        break;

    default:
        break;
    }

    if (ctx->chart->has_background) {
        t->background = ctx->chart->background;
    }
}


/* rows -> points in data units; rows ggplot2 would drop are counted */

static int
bubble_layout_points(bubble_layout_ctx_t *ctx)
{
    size_t            i, n;
    double            x, y, s;
    bubble_chart_t   *chart = ctx->chart;
    bubble_column_t  *xc, *yc, *sc;

    xc = &chart->columns[chart->aes[BUBBLE_AES_X]];
    yc = &chart->columns[chart->aes[BUBBLE_AES_Y]];
    sc = chart->aes[BUBBLE_AES_SIZE] >= 0
         ? &chart->columns[chart->aes[BUBBLE_AES_SIZE]] : NULL;

    ctx->size_col = sc;
    ctx->color_col = chart->aes[BUBBLE_AES_COLOR] >= 0
                     ? &chart->columns[chart->aes[BUBBLE_AES_COLOR]] : NULL;
    ctx->label_col = chart->aes[BUBBLE_AES_LABEL] >= 0
                     ? &chart->columns[chart->aes[BUBBLE_AES_LABEL]] : NULL;
    ctx->tooltip_col = chart->aes[BUBBLE_AES_TOOLTIP] >= 0
                       ? &chart->columns[chart->aes[BUBBLE_AES_TOOLTIP]]
                       : NULL;

    ctx->points = bubble_alloc(ctx->alloc,
                               chart->nrows * sizeof(bubble_point_t));
    if (ctx->points == NULL) {
        bubble_error_set(ctx->err, 500, "internal", "", "out of memory");
        return -1;
    }

    n = 0;

    for (i = 0; i < chart->nrows; i++) {
        x = xc->num ? bubble_trans(chart->x.trans, xc->num[i]) : NAN;
        y = yc->num ? bubble_trans(chart->y.trans, yc->num[i]) : NAN;

        if (!isfinite(x) || !isfinite(y)) {
            continue;
        }

        if (sc) {
            s = sc->num ? sc->num[i] : NAN;
            if (!isfinite(s)) {
                continue;
            }
        }

        ctx->points[n].row = i;
        ctx->points[n].x = x;
        ctx->points[n].y = y;
        n++;
    }

    ctx->npoints = n;

    if (n == 0) {
        bubble_error_set(ctx->err, 400, "invalid_spec", "data",
                         "data: all %zu rows were dropped (missing or "
                         "non-finite x, y or size)", chart->nrows);
        return -1;
    }

    bubble_layout_size_scale(ctx);

    if (bubble_layout_color_scale(ctx) != 0
        || bubble_layout_facets(ctx) != 0)
    {
        return -1;
    }

    for (i = 0; i < n; i++) {
        bubble_point_t  *pt = &ctx->points[i];

        /* without a size mapping: one radius, the range's max if given */
        pt->r = sc ? bubble_layout_radius(ctx, sc->num[pt->row])
                   : (chart->size.has_range ? chart->size.range[1] : 4);

        pt->color = bubble_layout_color_of(ctx, pt->row);
    }

    return 0;
}


static double
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


static double
bubble_pscale_map(bubble_pscale_t *ps, double v)
{
    double  p;

    p = ps->from + (v - ps->lo) / (ps->hi - ps->lo) * (ps->to - ps->from);

    /* cairo < 1.17 crashes outside 24.8 fixed point: keep far inside */
    return fmax(-1e6, fmin(1e6, p));
}


/*
 * A position scale: domain from the data (or limits), expanded 5% as
 * ggplot2 does, breaks computed on the expanded range and clipped to it.
 */

static void
bubble_layout_pscale(bubble_layout_ctx_t *ctx, bubble_pscale_t *ps,
    bubble_axis_t *axis, int column)
{
    size_t                 i, n, k;
    double                 lo, hi, v, step, olo, ohi, ob[BUBBLE_MAX_BREAKS];
    bubble_column_t       *col;
    bubble_text_metrics_t  m;

    ps->trans = axis->trans;
    col = &ctx->chart->columns[column];

    lo = INFINITY;
    hi = -INFINITY;

    for (i = 0; i < ctx->npoints; i++) {
        v = (ps == &ctx->x) ? ctx->points[i].x : ctx->points[i].y;
        lo = fmin(lo, v);
        hi = fmax(hi, v);
    }

    (void) col;

    if (axis->has_limits) {
        lo = bubble_trans(ps->trans, axis->limits[0]);
        hi = bubble_trans(ps->trans, axis->limits[1]);
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

    } else {
        olo = bubble_untrans(ps->trans, lo);
        ohi = bubble_untrans(ps->trans, hi);

        if (ps->trans == BUBBLE_TRANS_SQRT && lo < 0) {
            olo = 0;
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
        size_t  used = 0;

        for (i = 0; i < n; i++) {
            ps->labels[i] = ps->buf + used;
            used += bubble_format_label(ps->buf + used, 32,
                                        axis->label_format.data, ob[i]) + 1;
            if (used > sizeof(ps->buf) - 32) {
                used = sizeof(ps->buf) - 32;
            }
            ps->buf[used - 1] = '\0';
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
}


/*
 * A tick label from a user's format (checked in bubble_spec.c: one %f, %e
 * or %g, flags "+- #0'", widths of two digits).  The "'" flag groups
 * thousands with commas; glibc does that only in a locale that says so,
 * and nginx runs in the C locale, so the digits are grouped here.
 * Returns what snprintf() returns: the length, perhaps past size.
 */

static int
bubble_format_label(char *buf, size_t size, const char *fmt, double v)
{
    int          n, digits, k;
    char         spec[16], num[64], grouped[96];
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
        return snprintf(buf, size, "%s", "");
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


static void
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


static double
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


static int
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

static bubble_rgba_t
bubble_layout_gradient_of(bubble_layout_ctx_t *ctx, double v)
{
    uint32_t  rgba;

    if (isnan(v) || v < ctx->color_lo || v > ctx->color_hi) {
        return BUBBLE_NA_COLOR;
    }

    v = (ctx->color_hi > ctx->color_lo)
        ? (v - ctx->color_lo) / (ctx->color_hi - ctx->color_lo) : 0.5;

    if (bubble_palette_gradient(ctx->palette, v, &rgba) != 0) {
        return BUBBLE_NA_COLOR;
    }

    return rgba;
}


static bubble_rgba_t
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


/*
 * Legends as ggplot2 lays them out (theme_grey): each legend in a box with
 * legend.margin 5.5 pt, boxes 11 pt apart (legend.spacing), size first,
 * then colour.  Right and left: boxes stacked, title above the keys.  Top
 * and bottom: boxes side by side, title left of a row of keys.  Keys are
 * 17.28 pt (1.2 lines), grow with their bubble (2.66 r, as draw_key_point
 * sizes them), and share the widest key's width within a legend.
 * With draw == 0 only the block's size is computed (*w, *h).
 */

#define BUBBLE_KEY              (17.28 * BUBBLE_PT)
#define BUBBLE_LEGEND_MARGIN    (5.5 * BUBBLE_PT)
#define BUBBLE_LEGEND_SPACING   (11 * BUBBLE_PT)
#define BUBBLE_LEGEND_GAP       (5.5 * BUBBLE_PT)  /* key to label */
#define BUBBLE_COLORBAR_TICKS   0.2                /* of the bar's width */

/* geom_point's default size 1.5 as pch 19 draws it: 0.375 * 5.21 pt */
#define BUBBLE_CATEGORY_R       (0.375 * 5.21 * BUBBLE_PT)

typedef enum {
    BUBBLE_LEGEND_SIZE = 0,
    BUBBLE_LEGEND_CATEGORY,
    BUBBLE_LEGEND_BAR
} bubble_legend_kind_e;


static size_t
bubble_legend_count(bubble_layout_ctx_t *ctx, bubble_legend_kind_e kind)
{
    return kind == BUBBLE_LEGEND_SIZE ? ctx->nsize_breaks
           : kind == BUBBLE_LEGEND_CATEGORY ? ctx->ncategories
           : ctx->ncolor_breaks;
}


static bubble_str_t
bubble_legend_label(bubble_layout_ctx_t *ctx, bubble_legend_kind_e kind,
    size_t i)
{
    bubble_str_t  s;

    if (kind == BUBBLE_LEGEND_CATEGORY) {
        return ctx->categories[i];
    }

    s.data = (kind == BUBBLE_LEGEND_SIZE) ? ctx->size_labels[i]
                                          : ctx->color_labels[i];
    s.len = strlen(s.data);

    return s;
}


static double
bubble_legend_key_h(bubble_layout_ctx_t *ctx, bubble_legend_kind_e kind,
    size_t i)
{
    double  r;

    if (kind != BUBBLE_LEGEND_SIZE) {
        return BUBBLE_KEY;
    }

    r = bubble_layout_radius(ctx, ctx->size_breaks[i]);

    return fmax(BUBBLE_KEY, 2.66 * r);
}


static int
bubble_layout_legend_one(bubble_layout_ctx_t *ctx, bubble_legend_kind_e kind,
    const char *title, double x, double y, int draw, int horizontal,
    double *w, double *h)
{
    size_t                 i, n;
    double                 key_w, key_h, kx, ky, lx, bar, t, cw, ch, v;
    uint32_t               rgba;
    bubble_str_t           label;
    bubble_item_t         *it;
    bubble_text_metrics_t  tm, m;

    n = bubble_legend_count(ctx, kind);

    bubble_measure(ctx, title, strlen(title), ctx->base, 0, &tm);

    key_w = BUBBLE_KEY;
    for (i = 0; i < n; i++) {
        key_w = fmax(key_w, bubble_legend_key_h(ctx, kind, i));
    }

    /* where the keys start: below the title, or right of it */
    if (horizontal) {
        kx = x + tm.width + BUBBLE_LEGEND_GAP;
        ky = y;
    } else {
        kx = x;
        ky = y + tm.height + BUBBLE_LEGEND_GAP / 2;
    }

    cw = 0;                                 /* keys' extent */
    ch = 0;

    if (kind == BUBBLE_LEGEND_BAR) {
        /*
         * a colour bar: 1 key wide, 5 keys long.  Its ends are snapped to
         * whole px and it is drawn one 1 px step a row: abutting steps on
         * pixel edges blend into no seams, so every row of the PNG is the
         * palette's exact colour (64 overlapping 1.8 px steps gave rows
         * mixed from two steps, not monotone)
         */
        double  bw, bh, b0, b1;
        size_t  steps;

        bar = 5 * BUBBLE_KEY;
        bw = horizontal ? bar : BUBBLE_KEY;
        bh = horizontal ? BUBBLE_KEY : bar;

        b0 = round(horizontal ? kx : ky);
        b1 = round((horizontal ? kx : ky) + bar);
        steps = (size_t) (b1 - b0);

        for (i = 0; draw && i < steps; i++) {
            t = (i + 0.5) / steps;
            bubble_palette_gradient(ctx->palette, horizontal ? t : 1 - t,
                                    &rgba);

            if ((horizontal
                 && bubble_rect(ctx, b0 + i, ky, 1, bh, rgba) != 0)
                || (!horizontal
                    && bubble_rect(ctx, kx, b0 + i, bw, 1, rgba) != 0))
            {
                return -1;
            }
        }

        for (i = 0; i < n; i++) {
            /* one colour only: its single break sits mid-bar */
            t = (ctx->color_hi > ctx->color_lo)
                ? (ctx->color_breaks[i] - ctx->color_lo)
                  / (ctx->color_hi - ctx->color_lo)
                : 0.5;

            label = bubble_legend_label(ctx, kind, i);
            bubble_measure(ctx, label.data, label.len, ctx->base * 0.8, 0,
                           &m);

            if (draw) {
                /* white ticks across both edges, as guide_colourbar */
                v = horizontal ? b0 + (b1 - b0) * t
                               : b0 + (b1 - b0) * (1 - t);

                if ((horizontal
                     && (bubble_line(ctx, v, ky, v, ky + bh
                                     * BUBBLE_COLORBAR_TICKS,
                                     BUBBLE_RGBA(255, 255, 255, 255), 0.5)
                         != 0
                         || bubble_line(ctx, v, ky + bh * (1 - BUBBLE_COLORBAR_TICKS),
                                        v, ky + bh,
                                        BUBBLE_RGBA(255, 255, 255, 255), 0.5)
                            != 0))
                    || (!horizontal
                        && (bubble_line(ctx, kx, v, kx + bw
                                        * BUBBLE_COLORBAR_TICKS, v,
                                        BUBBLE_RGBA(255, 255, 255, 255), 0.5)
                            != 0
                            || bubble_line(ctx, kx + bw * (1 - BUBBLE_COLORBAR_TICKS),
                                           v, kx + bw, v,
                                           BUBBLE_RGBA(255, 255, 255, 255),
                                           0.5) != 0)))
                {
                    return -1;
                }

                if ((horizontal
                     && bubble_text(ctx, v, ky + bh + BUBBLE_LEGEND_GAP / 2
                                    + m.ascent, label.data, label.len,
                                    ctx->base * 0.8, ctx->theme.text,
                                    BUBBLE_ANCHOR_MIDDLE, 0, 0) != 0)
                    || (!horizontal
                        && bubble_text(ctx, kx + bw + BUBBLE_LEGEND_GAP,
                                       v - m.height / 2 + m.ascent,
                                       label.data, label.len,
                                       ctx->base * 0.8, ctx->theme.text,
                                       BUBBLE_ANCHOR_START, 0, 0) != 0))
                {
                    return -1;
                }
            }

            if (horizontal) {
                ch = fmax(ch, bh + BUBBLE_LEGEND_GAP / 2 + m.height);
            } else {
                cw = fmax(cw, bw + BUBBLE_LEGEND_GAP + m.width);
            }
        }

        cw = fmax(cw, bw);
        ch = fmax(ch, bh);

    } else {
        lx = kx;

        for (i = 0; i < n; i++) {
            key_h = bubble_legend_key_h(ctx, kind, i);
            label = bubble_legend_label(ctx, kind, i);
            bubble_measure(ctx, label.data, label.len, ctx->base * 0.8, 0,
                           &m);

            if (draw) {
                double  ey = horizontal ? ky : ky + ch;

                if (bubble_rect(ctx, lx, ey, key_w, key_h, ctx->theme.key)
                    != 0)
                {
                    return -1;
                }

                it = bubble_item(ctx, BUBBLE_ITEM_CIRCLE);
                if (it == NULL) {
                    return -1;
                }

                it->x = lx + key_w / 2;
                it->y = ey + key_h / 2;
                it->opacity = ctx->chart->alpha;

                if (kind == BUBBLE_LEGEND_SIZE) {
                    it->r = bubble_layout_radius(ctx, ctx->size_breaks[i]);
                    /*
                     * merged with the colour scale: the break's colour;
                     * else the colour bubbles have when colour is not
                     * mapped
                     */
                    it->fill = ctx->merged
                               ? bubble_layout_gradient_of(ctx,
                                                     ctx->size_breaks[i])
                               : ctx->chart->color.has_value
                               ? ctx->chart->color.value : ctx->theme.point;

                } else {
                    it->r = BUBBLE_CATEGORY_R;
                    it->fill = ctx->category_colors[i];
                }

                if (ctx->chart->stroke_width > 0) {
                    it->stroke = ctx->chart->has_stroke_color
                                 ? ctx->chart->stroke_color : it->fill;
                    it->stroke_width = ctx->chart->stroke_width;
                }

                if (bubble_text(ctx, lx + key_w + BUBBLE_LEGEND_GAP,
                                ey + key_h / 2 - m.height / 2 + m.ascent,
                                label.data, label.len, ctx->base * 0.8,
                                ctx->theme.text, BUBBLE_ANCHOR_START, 0, 0)
                    != 0)
                {
                    return -1;
                }
            }

            if (horizontal) {
                lx += key_w + BUBBLE_LEGEND_GAP + m.width
                      + BUBBLE_LEGEND_GAP;
                cw = lx - kx - BUBBLE_LEGEND_GAP;
                ch = fmax(ch, key_h);

            } else {
                ch += key_h;
                cw = fmax(cw, key_w + BUBBLE_LEGEND_GAP + m.width);
            }
        }
    }

    /* the title, last: now the keys' extent is known */

    if (draw) {
        if (bubble_text(ctx, x, horizontal ? y + ch / 2 - tm.height / 2
                                             + tm.ascent
                                           : y + tm.ascent,
                        title, strlen(title), ctx->base, ctx->theme.text,
                        BUBBLE_ANCHOR_START, 0, 0) != 0)
        {
            return -1;
        }
    }

    if (horizontal) {
        *w = kx - x + cw;
        *h = fmax(ch, tm.height);

    } else {
        *w = fmax(tm.width, cw);
        *h = ky - y + ch;
    }

    return 0;
}


static int
bubble_layout_legends(bubble_layout_ctx_t *ctx, double x, double y,
    int draw, double *w, double *h)
{
    int                    horizontal, k, nlegends;
    double                 lw, lh, tw, th, rw, rh;
    const char            *titles[2];
    bubble_chart_t        *chart = ctx->chart;
    bubble_legend_kind_e   kinds[2];

    nlegends = 0;

    if (ctx->size_col && ctx->nsize_breaks) {
        kinds[nlegends] = BUBBLE_LEGEND_SIZE;
        titles[nlegends++] = chart->size.title.data
                             ? chart->size.title.data
                             : ctx->size_col->name.data;
    }

    if (ctx->color_col && ctx->color_col->type != BUBBLE_COLUMN_EMPTY) {
        kinds[nlegends] = ctx->continuous ? BUBBLE_LEGEND_BAR
                                          : BUBBLE_LEGEND_CATEGORY;
        titles[nlegends++] = chart->color.title.data
                             ? chart->color.title.data
                             : ctx->color_col->name.data;
    }

    /*
     * size and a continuous colour of the same column under the same
     * title: one legend of size keys in their breaks' colours, as ggplot2
     * draws them with guides(colour = "legend")
     */
    ctx->merged = (nlegends == 2 && ctx->continuous
                   && ctx->size_col == ctx->color_col
                   && strcmp(titles[0], titles[1]) == 0);

    if (ctx->merged) {
        nlegends = 1;
    }

    horizontal = (chart->legend == BUBBLE_LEGEND_TOP
                  || chart->legend == BUBBLE_LEGEND_BOTTOM);

    /*
     * Side by side at top and bottom, but a legend that would run past the
     * page starts a new row: measured first (draw == 0), so both passes
     * wrap at the same place.
     */

    tw = 0;
    th = 0;
    rw = 0;                                 /* current row */
    rh = 0;

    for (k = 0; k < nlegends; k++) {
        if (bubble_layout_legend_one(ctx, kinds[k], titles[k], 0, 0, 0,
                                     horizontal, &lw, &lh) != 0)
        {
            return -1;
        }

        lw += 2 * BUBBLE_LEGEND_MARGIN;
        lh += 2 * BUBBLE_LEGEND_MARGIN;

        if (horizontal && rw > 0
            && rw + BUBBLE_LEGEND_SPACING + lw
               > chart->width - 2 * BUBBLE_LEGEND_MARGIN)
        {
            th += rh + BUBBLE_LEGEND_SPACING;
            rw = 0;
            rh = 0;
        }

        if (horizontal) {
            rw += (rw > 0) ? BUBBLE_LEGEND_SPACING : 0;
        }

        if (draw
            && bubble_layout_legend_one(ctx, kinds[k], titles[k],
                                        (horizontal ? x + rw : x)
                                        + BUBBLE_LEGEND_MARGIN,
                                        (horizontal ? y + th : y + th)
                                        + BUBBLE_LEGEND_MARGIN, 1,
                                        horizontal, &lw, &lh) != 0)
        {
            return -1;
        }

        if (draw) {
            lw += 2 * BUBBLE_LEGEND_MARGIN;
            lh += 2 * BUBBLE_LEGEND_MARGIN;
        }

        if (horizontal) {
            rw += lw;
            rh = fmax(rh, lh);
            tw = fmax(tw, rw);

        } else {
            th += lh + (k + 1 < nlegends ? BUBBLE_LEGEND_SPACING : 0);
            tw = fmax(tw, lw);
        }
    }

    if (horizontal) {
        th += rh;
    }

    *w = tw;
    *h = th;

    return 0;
}


/*
 * Bubble labels, as geom_text(check_overlap = TRUE) with a little more
 * effort: largest bubbles first, each label tried above, below, right and
 * left of its bubble, kept only where it collides with no placed label
 * and stays inside the panel.  Placed boxes are indexed in a uniform grid
 * so a check costs the labels of a few cells, not all of them.
 */

#define BUBBLE_LABELS_MAX        2000       /* labels tried per chart */
#define BUBBLE_LABEL_CELL        48.0       /* grid cell, px */

typedef struct {
    double                   x0, y0, x1, y1;
} bubble_box_t;

typedef struct bubble_box_link_s  bubble_box_link_t;

struct bubble_box_link_s {
    size_t                   box;
    bubble_box_link_t       *next;
};


static int
bubble_layout_labels(bubble_layout_ctx_t *ctx, size_t panel, double px0,
    double py0, double px1, double py1)
{
    int                     cols, rows, cx, cy, c0, c1, r0, r1, k, ok;
    char                    num[32];
    size_t                  i, nboxes, nmax, tried, len;
    double                  size, gap, w, h, asc, x, y;
    const char             *s;
    bubble_box_t           *boxes, b;
    bubble_point_t         *pt;
    bubble_column_t        *c = ctx->label_col;
    bubble_box_link_t     **grid, *link;
    bubble_text_metrics_t   m;

    size = ctx->base * 0.8;
    gap = 2;

    nmax = ctx->npoints < BUBBLE_LABELS_MAX ? ctx->npoints
                                            : BUBBLE_LABELS_MAX;

    cols = (int) ((px1 - px0) / BUBBLE_LABEL_CELL) + 1;
    rows = (int) ((py1 - py0) / BUBBLE_LABEL_CELL) + 1;

    boxes = bubble_alloc(ctx->alloc, nmax * sizeof(bubble_box_t));
    grid = bubble_calloc(ctx->alloc,
                         (size_t) cols * rows * sizeof(bubble_box_link_t *));
    if (boxes == NULL || grid == NULL) {
        bubble_error_set(ctx->err, 500, "internal", "", "out of memory");
        return -1;
    }

    nboxes = 0;

    /* points are sorted largest first already */

    tried = 0;

    for (i = 0; i < ctx->npoints && tried < nmax; i++) {
        pt = &ctx->points[i];

        if (pt->panel != panel) {
            continue;
        }

        if (c->type == BUBBLE_COLUMN_STRING && c->str[pt->row].data) {
            s = c->str[pt->row].data;
            len = c->str[pt->row].len;

        } else if (c->type == BUBBLE_COLUMN_NUMBER
                   && !isnan(c->num[pt->row]))
        {
            len = bubble_format_number(c->num[pt->row], num, sizeof(num));
            s = num;

        } else {
            continue;
        }

        tried++;

        bubble_measure(ctx, s, len, size, 0, &m);
        w = m.width;
        h = m.height;
        asc = m.ascent;

        for (k = 0; k < 4; k++) {
            switch (k) {
            case 0:                         /* above */
                b.x0 = pt->x - w / 2;
                b.y0 = pt->y - pt->r - gap - h;
                break;
            case 1:                         /* below */
                b.x0 = pt->x - w / 2;
                b.y0 = pt->y + pt->r + gap;
                break;
            case 2:                         /* right */
                b.x0 = pt->x + pt->r + gap;
                b.y0 = pt->y - h / 2;
                break;
            default:                        /* left */
                b.x0 = pt->x - pt->r - gap - w;
                b.y0 = pt->y - h / 2;
                break;
            }

            b.x1 = b.x0 + w;
            b.y1 = b.y0 + h;

            if (b.x0 < px0 || b.x1 > px1 || b.y0 < py0 || b.y1 > py1) {
                continue;
            }

            c0 = (int) ((b.x0 - px0) / BUBBLE_LABEL_CELL);
            c1 = (int) ((b.x1 - px0) / BUBBLE_LABEL_CELL);
            r0 = (int) ((b.y0 - py0) / BUBBLE_LABEL_CELL);
            r1 = (int) ((b.y1 - py0) / BUBBLE_LABEL_CELL);

            ok = 1;

            for (cy = r0; ok && cy <= r1; cy++) {
                for (cx = c0; ok && cx <= c1; cx++) {
                    for (link = grid[cy * cols + cx]; link; link = link->next)
                    {
                        bubble_box_t  *o = &boxes[link->box];

                        if (b.x0 < o->x1 && o->x0 < b.x1
                            && b.y0 < o->y1 && o->y0 < b.y1)
                        {
                            ok = 0;
                            break;
                        }
                    }
                }
            }

            if (!ok) {
                continue;
            }

            boxes[nboxes] = b;

            for (cy = r0; cy <= r1; cy++) {
                for (cx = c0; cx <= c1; cx++) {
                    link = bubble_alloc(ctx->alloc, sizeof(bubble_box_link_t));
                    if (link == NULL) {
                        bubble_error_set(ctx->err, 500, "internal", "",
                                         "out of memory");
                        return -1;
                    }

                    link->box = nboxes;
                    link->next = grid[cy * cols + cx];
                    grid[cy * cols + cx] = link;
                }
            }

            nboxes++;

            x = b.x0;
            y = b.y0 + asc;

            if (bubble_text(ctx, x, y, s, len, size, ctx->theme.text,
                            BUBBLE_ANCHOR_START, 0, 0) != 0)
            {
                return -1;
            }

            break;
        }
    }

    return 0;
}


/* display list */


static bubble_item_t *
bubble_item(bubble_layout_ctx_t *ctx, bubble_item_type_e type)
{
    size_t           n;
    bubble_item_t   *items, *it;
    bubble_dlist_t  *dl = ctx->dl;

    if (dl->nitems == dl->nalloc) {
        n = dl->nalloc ? 2 * dl->nalloc : 256;

        items = bubble_alloc(ctx->alloc, n * sizeof(bubble_item_t));
        if (items == NULL) {
            bubble_error_set(ctx->err, 500, "internal", "", "out of memory");
            return NULL;
        }

        if (dl->nitems) {
            memcpy(items, dl->items, dl->nitems * sizeof(bubble_item_t));
        }

        bubble_free(ctx->alloc, dl->items);
        dl->items = items;
        dl->nalloc = n;
    }

    it = &dl->items[dl->nitems++];
    memset(it, 0, sizeof(bubble_item_t));
    it->type = type;
    it->opacity = 1;

    return it;
}


static int
bubble_text(bubble_layout_ctx_t *ctx, double x, double y, const char *s,
    size_t len, double size, bubble_rgba_t color, bubble_anchor_e anchor,
    int rotate, int bold)
{
    bubble_item_t  *it;

    if (len == 0) {
        return 0;
    }

    it = bubble_item(ctx, BUBBLE_ITEM_TEXT);
    if (it == NULL) {
        return -1;
    }

    /* labels point into buffers that die with the layout: copy */
    it->text.data = bubble_strndup(ctx->alloc, s, len);
    if (it->text.data == NULL) {
        bubble_error_set(ctx->err, 500, "internal", "", "out of memory");
        return -1;
    }

    it->text.len = len;
    it->x = x;
    it->y = y;
    it->font_size = size;
    it->fill = color;
    it->anchor = anchor;
    it->rotate = rotate;
    it->bold = bold;

    ctx->dl->text_bytes += len;

    return 0;
}


static int
bubble_rect(bubble_layout_ctx_t *ctx, double x, double y, double w, double h,
    bubble_rgba_t fill)
{
    bubble_item_t  *it;

    if (BUBBLE_A(fill) == 0) {
        return 0;
    }

    it = bubble_item(ctx, BUBBLE_ITEM_RECT);
    if (it == NULL) {
        return -1;
    }

    it->x = x;
    it->y = y;
    it->w = w;
    it->h = h;
    it->fill = fill;

    return 0;
}


static int
bubble_line(bubble_layout_ctx_t *ctx, double x1, double y1, double x2,
    double y2, bubble_rgba_t color, double width)
{
    bubble_item_t  *it;

    if (BUBBLE_A(color) == 0) {
        return 0;
    }

    it = bubble_item(ctx, BUBBLE_ITEM_LINE);
    if (it == NULL) {
        return -1;
    }

    it->x = x1;
    it->y = y1;
    it->w = x2;
    it->h = y2;
    it->stroke = color;
    it->stroke_width = width;

    return 0;
}


static double
bubble_measure(bubble_layout_ctx_t *ctx, const char *s, size_t len,
    double size, int bold, bubble_text_metrics_t *m)
{
    bubble_text_measure(ctx->family, size, bold, s, len, m);
    return m->width;
}


/*
 * Text that fits in max_w px: s itself, or its longest prefix of whole
 * characters followed by an ellipsis (allocated).  ggplot2 lets a title
 * run off the page; a cut glyph at the canvas edge looks like a bug, so
 * titles are shortened instead.  NULL: out of memory (err is set).
 */

static const char *
bubble_fit(bubble_layout_ctx_t *ctx, const char *s, size_t *len, double size,
    double max_w)
{
    char                   *buf;
    size_t                  lo, hi, mid, n;
    bubble_text_metrics_t   m;

    if (bubble_measure(ctx, s, *len, size, 0, &m) <= max_w) {
        return s;
    }

    buf = bubble_alloc(ctx->alloc, *len + sizeof("\xe2\x80\xa6"));
    if (buf == NULL) {
        bubble_error_set(ctx->err, 500, "internal", "", "out of memory");
        return NULL;
    }

    /* the longest prefix that fits with the ellipsis: binary search */
    lo = 0;
    hi = *len;

    while (lo < hi) {
        mid = (lo + hi + 1) / 2;

        /* back to the start of a character */
        for (n = mid; n > lo && n < *len && ((u_char) s[n] & 0xc0) == 0x80;
             n--)
        {
            /* void */
        }

        if (n == lo) {
            hi = mid - 1;
            continue;
        }

        memcpy(buf, s, n);
        memcpy(buf + n, "\xe2\x80\xa6", 3);          /* U+2026 */

        if (bubble_measure(ctx, buf, n + 3, size, 0, &m) <= max_w) {
            lo = n;

        } else {
            hi = n - 1;
        }
    }

    /* trailing spaces before the ellipsis read as a gap */
    while (lo > 0 && s[lo - 1] == ' ') {
        lo--;
    }

    memcpy(buf, s, lo);
    memcpy(buf + lo, "\xe2\x80\xa6", 3);
    *len = lo + 3;

    return buf;
}


static int
bubble_point_cmp(const void *a, const void *b)
{
    const bubble_point_t  *p = a, *q = b;

    if (p->r != q->r) {
        return (p->r < q->r) ? 1 : -1;
    }

    /* equal radii: data order, so output is deterministic */
    return (p->row > q->row) - (p->row < q->row);
}


static int
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

static int
bubble_num_str_cmp(const void *a, const void *b)
{
    double  x, y;

    x = strtod(((const bubble_str_t *) a)->data, NULL);
    y = strtod(((const bubble_str_t *) b)->data, NULL);

    return (x > y) - (x < y);
}

/*
 * ngx_bubble core: chart model -> display list.
 *
 * Measures follow ggplot2's theme_grey() (base size 11 pt, half_line
 * 5.5 pt): sizes in points become CSS px at 96 dpi (BUBBLE_PT), and line
 * widths in ggplot2's mm units become px as R's lwd does (1 lwd = 1/96 in,
 * linewidth 0.5 -> 0.5 * 72.27 / 25.4 = 1.42 px).
 */

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bubble.h"
#include "bubble_json.h"
#include "bubble_layout.h"


/* the page's frame: what surrounds the panels, in px */
typedef struct {
    double                   W, H, margin, tick;
    double                   left, right, top, bottom;  /* left to panels */
    double                   px0, px1, py0, py1;        /* the panels' box */
    double                   lw, lh;                    /* legends' block */
    int                      has_legend;
    const char              *xtitle, *ytitle;
    bubble_text_metrics_t    title_m, sub_m, cap_m, xt_m, yt_m;
} bubble_frame_t;


static int bubble_layout_frame_titles(bubble_layout_ctx_t *ctx,
    bubble_frame_t *f);
static int bubble_layout_frame_legends(bubble_layout_ctx_t *ctx,
    bubble_frame_t *f);
static int bubble_layout_frame_axes(bubble_layout_ctx_t *ctx,
    bubble_frame_t *f);
static int bubble_layout_panels(bubble_layout_ctx_t *ctx, bubble_frame_t *f);
static int bubble_layout_titles(bubble_layout_ctx_t *ctx, bubble_frame_t *f);
static int bubble_layout_place_legends(bubble_layout_ctx_t *ctx,
    bubble_frame_t *f);
static int bubble_layout_check(bubble_layout_ctx_t *ctx);
static int bubble_layout_panel(bubble_layout_ctx_t *ctx, size_t panel,
    double px0, double py0, double px1, double py1, int y_axis, int x_axis);
static int bubble_layout_strip(bubble_layout_ctx_t *ctx, size_t panel,
    double x, double y, double w, double h);
static int bubble_layout_facets(bubble_layout_ctx_t *ctx);
static bubble_str_t bubble_layout_value(bubble_layout_ctx_t *ctx,
    bubble_column_t *col, size_t row, char *num, size_t size);
static void bubble_layout_theme(bubble_layout_ctx_t *ctx);
static int bubble_layout_points(bubble_layout_ctx_t *ctx);
static int bubble_point_cmp(const void *a, const void *b);


int
bubble_layout(bubble_allocator_t *a, bubble_chart_t *chart,
    bubble_dlist_t *dl, bubble_error_t *err)
{
    bubble_frame_t        f;
    bubble_layout_ctx_t   ctx;

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

    memset(&f, 0, sizeof(bubble_frame_t));
    f.W = chart->width;
    f.H = chart->height;
    f.margin = 5.5 * BUBBLE_PT;
    f.tick = 2.75 * BUBBLE_PT;

    /* the page */
    if (bubble_rect(&ctx, 0, 0, f.W, f.H, ctx.theme.background) != 0) {
        return -1;
    }

    f.left = f.margin;
    f.right = f.W - f.margin;
    f.top = f.margin;
    f.bottom = f.H - f.margin;

    /* what surrounds the panels takes its room first, then the panels */

    if (bubble_layout_frame_titles(&ctx, &f) != 0
        || bubble_layout_frame_legends(&ctx, &f) != 0
        || bubble_layout_frame_axes(&ctx, &f) != 0
        || bubble_layout_panels(&ctx, &f) != 0
        || bubble_layout_titles(&ctx, &f) != 0
        || bubble_layout_place_legends(&ctx, &f) != 0)
    {
        return -1;
    }

    dl->dropped_rows = chart->nrows - ctx.npoints;

    return bubble_layout_check(&ctx);
}


/* titles above, caption below (sizes: rel(1.2), 1, rel(0.8)): measured */

static int
bubble_layout_frame_titles(bubble_layout_ctx_t *ctx, bubble_frame_t *f)
{
    bubble_chart_t  *chart = ctx->chart;

    if (chart->title.data) {
        bubble_measure(ctx, chart->title.data, chart->title.len,
                       ctx->base * 1.2, 0, &f->title_m);
        f->top += f->title_m.height + f->margin;
    }

    if (chart->subtitle.data) {
        bubble_measure(ctx, chart->subtitle.data, chart->subtitle.len,
                       ctx->base, 0, &f->sub_m);
        f->top += f->sub_m.height + f->margin;
    }

    if (chart->caption.data) {
        bubble_measure(ctx, chart->caption.data, chart->caption.len,
                       ctx->base * 0.8, 0, &f->cap_m);
        f->bottom -= f->cap_m.height + f->margin;
    }

    return 0;
}


/* the legends' block measured, and its side of the page taken */

static int
bubble_layout_frame_legends(bubble_layout_ctx_t *ctx, bubble_frame_t *f)
{
    bubble_chart_t  *chart = ctx->chart;

    if (chart->legend == BUBBLE_LEGEND_NONE) {
        return 0;
    }

    if (bubble_layout_legends(ctx, 0, 0, 0, &f->lw, &f->lh) != 0) {
        return -1;
    }

    f->has_legend = (f->lw > 0);

    if (!f->has_legend) {
        return 0;
    }

    switch (chart->legend) {
    /* legend.box.spacing: 2 * half_line between panel and box */
    case BUBBLE_LEGEND_LEFT:
        f->left += f->lw + 2 * f->margin;
        break;
    case BUBBLE_LEGEND_TOP:
        f->top += f->lh + 2 * f->margin;
        break;
    case BUBBLE_LEGEND_BOTTOM:
        f->bottom -= f->lh + 2 * f->margin;
        break;
    default:
        f->right -= f->lw + 2 * f->margin;
        break;
    }

    return 0;
}


/* axes: titles (the mapped column names by default), scales, the panels' box */

static int
bubble_layout_frame_axes(bubble_layout_ctx_t *ctx, bubble_frame_t *f)
{
    double           x_axis_h, y_axis_w;
    bubble_chart_t  *chart = ctx->chart;

    f->xtitle = chart->x.title.data ? chart->x.title.data
                : chart->columns[chart->aes[BUBBLE_AES_X]].name.data;
    f->ytitle = chart->y.title.data ? chart->y.title.data
                : chart->columns[chart->aes[BUBBLE_AES_Y]].name.data;

    bubble_measure(ctx, f->xtitle, strlen(f->xtitle), ctx->base, 0, &f->xt_m);
    bubble_measure(ctx, f->ytitle, strlen(f->ytitle), ctx->base, 0, &f->yt_m);

    if (bubble_layout_pscale(ctx, &ctx->x, &chart->x, "x",
                             chart->aes[BUBBLE_AES_X]) != 0
        || bubble_layout_pscale(ctx, &ctx->y, &chart->y, "y",
                                chart->aes[BUBBLE_AES_Y]) != 0)
    {
        return -1;
    }

    x_axis_h = f->tick + 2.2 * BUBBLE_PT + ctx->x.label_h
               + (f->xt_m.height ? 2.75 * BUBBLE_PT + f->xt_m.height : 0);
    y_axis_w = f->tick + 2.2 * BUBBLE_PT + ctx->y.label_w
               + (f->yt_m.height ? 2.75 * BUBBLE_PT + f->yt_m.height : 0);

    f->px0 = f->left + y_axis_w;
    f->px1 = f->right;
    f->py0 = f->top;
    f->py1 = f->bottom - x_axis_h;

    return 0;
}


/* panels: one, or a facet_wrap grid with strips on top */

static int
bubble_layout_panels(bubble_layout_ctx_t *ctx, bubble_frame_t *f)
{
    size_t                 i;
    double                 strip_h, spacing, cell_w, cell_h, cx0, cy0;
    bubble_chart_t        *chart = ctx->chart;
    bubble_text_metrics_t  m;

    strip_h = 0;

    if (ctx->facet_col) {
        bubble_measure(ctx, "Ag", 2, ctx->base * 0.8, 0, &m);
        /* strip.text: rel(0.8), margins 0.8 * half_line = 4.4 pt */
        strip_h = m.height + 2 * 4.4 * BUBBLE_PT;
    }

    spacing = 5.5 * BUBBLE_PT;
    cell_w = (f->px1 - f->px0 - (ctx->ncol - 1) * spacing) / ctx->ncol;
    cell_h = (f->py1 - f->py0 - (ctx->nrow - 1) * spacing) / ctx->nrow;

    /*
     * y tick labels the user wrote ("%.99f" draws 101 characters) can take
     * the room alone: then they are what the error names
     */
    if (cell_w < 32 && cell_h - strip_h >= 32
        && (chart->y.label_format.data || chart->y.labels)
        && cell_w + ctx->y.label_w / ctx->ncol >= 32)
    {
        bubble_error_set(ctx->err, 400, "invalid_spec", "y.labels",
                         "y.labels: tick labels %.0f px wide leave no room "
                         "for the panel in %d px", ctx->y.label_w,
                         chart->width);
        return -1;
    }

    if (cell_w < 32 || cell_h - strip_h < 32) {
        bubble_error_set(ctx->err, 400, "invalid_spec", "width",
                         "width: %d x %d px leaves no room for %zu panel%s "
                         "after titles, axes and legends", chart->width,
                         chart->height, ctx->npanels,
                         ctx->npanels > 1 ? "s" : "");
        return -1;
    }

    /* bubbles are drawn largest first so small ones stay visible */
    qsort(ctx->points, ctx->npoints, sizeof(bubble_point_t),
          bubble_point_cmp);

    for (i = 0; i < ctx->npanels; i++) {
        cx0 = f->px0 + (i % ctx->ncol) * (cell_w + spacing);
        cy0 = f->py0 + (i / ctx->ncol) * (cell_h + spacing);

        /* y axes on the left column; x axes under the last panel of each
         * column, as facet_wrap draws them */
        if (bubble_layout_panel(ctx, i, cx0, cy0 + strip_h, cx0 + cell_w,
                                cy0 + cell_h, i % ctx->ncol == 0,
                                i + ctx->ncol >= ctx->npanels)
            != 0)
        {
            return -1;
        }

        if (strip_h > 0
            && bubble_layout_strip(ctx, i, cx0, cy0, cell_w, strip_h) != 0)
        {
            return -1;
        }
    }

    return 0;
}


/*
 * Axis titles, centred on the panel, and titles, left-aligned with it
 * (plot.title.position "panel"): each shortened to what the page has room
 * for (the heights measured stay those of the whole text).
 */

static int
bubble_layout_titles(bubble_layout_ctx_t *ctx, bubble_frame_t *f)
{
    double           v, px0, px1, py0, py1, margin;
    size_t           len;
    const char      *s;
    bubble_chart_t  *chart = ctx->chart;

    px0 = f->px0;
    px1 = f->px1;
    py0 = f->py0;
    py1 = f->py1;
    margin = f->margin;

    len = strlen(f->xtitle);
    s = bubble_fit(ctx, f->xtitle, &len, ctx->base,
                   2 * fmin((px0 + px1) / 2 - margin,
                            f->W - margin - (px0 + px1) / 2));

    if (s == NULL
        || bubble_text(ctx, (px0 + px1) / 2,
                       f->bottom - f->xt_m.height + f->xt_m.ascent, s, len,
                       ctx->base, ctx->theme.text, BUBBLE_ANCHOR_MIDDLE, 0, 0)
           != 0)
    {
        return -1;
    }

    len = strlen(f->ytitle);
    s = bubble_fit(ctx, f->ytitle, &len, ctx->base,
                   2 * fmin((py0 + py1) / 2 - margin,
                            f->H - margin - (py0 + py1) / 2));

    if (s == NULL
        || bubble_text(ctx, f->left + f->yt_m.ascent, (py0 + py1) / 2, s, len,
                       ctx->base, ctx->theme.text, BUBBLE_ANCHOR_MIDDLE, 1, 0)
           != 0)
    {
        return -1;
    }

    v = margin;

    if (chart->title.data) {
        len = chart->title.len;
        s = bubble_fit(ctx, chart->title.data, &len, ctx->base * 1.2,
                       f->W - margin - px0);

        if (s == NULL
            || bubble_text(ctx, px0, v + f->title_m.ascent, s, len,
                           ctx->base * 1.2, ctx->theme.text,
                           BUBBLE_ANCHOR_START, 0, 0) != 0)
        {
            return -1;
        }

        v += f->title_m.height + margin;
    }

    if (chart->subtitle.data) {
        len = chart->subtitle.len;
        s = bubble_fit(ctx, chart->subtitle.data, &len, ctx->base,
                       f->W - margin - px0);

        if (s == NULL
            || bubble_text(ctx, px0, v + f->sub_m.ascent, s, len, ctx->base,
                           ctx->theme.text, BUBBLE_ANCHOR_START, 0, 0) != 0)
        {
            return -1;
        }
    }

    if (chart->caption.data) {
        len = chart->caption.len;
        s = bubble_fit(ctx, chart->caption.data, &len, ctx->base * 0.8,
                       px1 - margin);

        if (s == NULL
            || bubble_text(ctx, px1,
                           f->H - margin - f->cap_m.height + f->cap_m.ascent,
                           s, len, ctx->base * 0.8, ctx->theme.text,
                           BUBBLE_ANCHOR_END, 0, 0) != 0)
        {
            return -1;
        }
    }

    return 0;
}


/* legends beside the panel, centred on it as ggplot2 does */

static int
bubble_layout_place_legends(bubble_layout_ctx_t *ctx, bubble_frame_t *f)
{
    double  lx, ly;

    if (!f->has_legend) {
        return 0;
    }

    switch (ctx->chart->legend) {
    case BUBBLE_LEGEND_LEFT:
        lx = f->margin;
        ly = (f->py0 + f->py1 - f->lh) / 2;
        break;
    case BUBBLE_LEGEND_TOP:
        lx = (f->px0 + f->px1 - f->lw) / 2;
        ly = f->top - f->lh - 2 * f->margin;
        break;
    case BUBBLE_LEGEND_BOTTOM:
        lx = (f->px0 + f->px1 - f->lw) / 2;
        ly = f->bottom + 2 * f->margin;
        break;
    default:
        lx = f->right + 2 * f->margin;
        ly = (f->py0 + f->py1 - f->lh) / 2;
        break;
    }

    /* centred on the panels, but never off the page */
    lx = fmax(f->margin, fmin(lx, f->W - f->margin - f->lw));

    return bubble_layout_legends(ctx, lx, ly, 1, &f->lw, &f->lh);
}


/*
 * The display list's invariant: every number finite and every coordinate
 * within BUBBLE_COORD_MAX.  The scales are built so that any finite input
 * gives finite numbers; a NaN here is our bug, and answering 500 beats an
 * SVG with "nan" in it or cairo's "invalid matrix" (and the fuzzers see
 * it).  Far coordinates are input: a bottom legend of 20 keys named with
 * 64 KiB of text each runs 1.4e7 px to the right.  Such items are left
 * out: the widest text (64 KiB of 77 px glyphs, 5e6 px) cannot reach
 * back onto a page from there.
 */

static int
bubble_layout_check(bubble_layout_ctx_t *ctx)
{
    size_t          i, n;
    bubble_item_t  *it;

    n = 0;

    for (i = 0; i < ctx->dl->nitems; i++) {
        it = &ctx->dl->items[i];

        if (!isfinite(it->x) || !isfinite(it->y) || !isfinite(it->w)
            || !isfinite(it->h) || !isfinite(it->r)
            || !isfinite(it->stroke_width) || !isfinite(it->opacity)
            || !isfinite(it->font_size))
        {
            bubble_error_set(ctx->err, 500, "internal", "",
                             "layout: item %zu (type %d) at (%g, %g) size "
                             "(%g, %g) r %g is not a number", i,
                             (int) it->type, it->x, it->y, it->w, it->h,
                             it->r);
            return -1;
        }

        /* clips are panels, always on the page */
        if (it->type != BUBBLE_ITEM_CLIP && it->type != BUBBLE_ITEM_CLIP_END
            && !(fabs(it->x) <= BUBBLE_COORD_MAX
                 && fabs(it->y) <= BUBBLE_COORD_MAX
                 && fabs(it->w) <= BUBBLE_COORD_MAX
                 && fabs(it->h) <= BUBBLE_COORD_MAX
                 && it->r <= BUBBLE_COORD_MAX))
        {
            continue;
        }

        ctx->dl->items[n++] = *it;
    }

    ctx->dl->nitems = n;

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

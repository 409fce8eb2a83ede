/*
 * ngx_bubble core: legends: size keys, colour keys and bars, placed as
 * ggplot2 places them.
 */

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bubble.h"
#include "bubble_json.h"
#include "bubble_layout.h"


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
                ? bubble_rescale(ctx->color_breaks[i], ctx->color_lo,
                                 ctx->color_hi)
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


int
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

/*
 * ngx_bubble core: bubble labels, placed where they collide with no other
 * label or bubble.
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


int
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

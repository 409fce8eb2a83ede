/*
 * ngx_bubble core: the layout's state, shared by the files that build the
 * display list (bubble_layout.c, bubble_layout_scale.c, bubble_legend.c,
 * bubble_labels.c, bubble_dlist.c).  Internal to them.
 */

#ifndef _BUBBLE_LAYOUT_H_INCLUDED_
#define _BUBBLE_LAYOUT_H_INCLUDED_


#include "bubble.h"
#include "bubble_scale.h"
#include "bubble_dlist.h"
#include "bubble_text.h"


#define BUBBLE_LWD(mm)           ((mm) * 72.27 / 25.4)
#define BUBBLE_NA_COLOR          BUBBLE_RGBA(0x7f, 0x7f, 0x7f, 0xff)
#define BUBBLE_MAX_PANELS        64

/*
 * Bytes of a tick label from a user's format, drawn in full.  The spec
 * allows 64 bytes of format with widths and precisions of two digits;
 * the longest conversion is "%+'.99f" of -1.8e308: a sign, 309 digits,
 * 102 commas, a point and 99 decimals, 512 bytes; a width (at most 99)
 * only pads shorter ones.  With the text around it, under 600 bytes.
 */
#define BUBBLE_LABEL_MAX         1024

/*
 * The display list's coordinates stay within this many px of the page:
 * cairo < 1.17 crashes outside 24.8 fixed point (+-8388607), and
 * bubble_svg.c prints numbers in 32-byte buffers.  Items beyond are off
 * any page, and left out.
 */
#define BUBBLE_COORD_MAX         8e6


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


const char *bubble_fit(bubble_layout_ctx_t *ctx, const char *s,
    size_t *len, double size, double max_w);
bubble_item_t *bubble_item(bubble_layout_ctx_t *ctx,
    bubble_item_type_e type);
bubble_rgba_t bubble_layout_color_of(bubble_layout_ctx_t *ctx,
    size_t row);
int bubble_layout_color_scale(bubble_layout_ctx_t *ctx);
bubble_rgba_t bubble_layout_gradient_of(bubble_layout_ctx_t *ctx,
    double v);
int bubble_layout_labels(bubble_layout_ctx_t *ctx, size_t panel,
    double px0, double py0, double px1, double py1);
int bubble_layout_legends(bubble_layout_ctx_t *ctx, double x,
    double y, int draw, double *w, double *h);
int bubble_layout_pscale(bubble_layout_ctx_t *ctx,
    bubble_pscale_t *ps, bubble_axis_t *axis, const char *name, int column);
double bubble_layout_radius(bubble_layout_ctx_t *ctx, double v);
void bubble_layout_size_scale(bubble_layout_ctx_t *ctx);
int bubble_line(bubble_layout_ctx_t *ctx, double x1, double y1,
    double x2, double y2, bubble_rgba_t color, double width);
double bubble_measure(bubble_layout_ctx_t *ctx, const char *s,
    size_t len, double size, int bold, bubble_text_metrics_t *m);
int bubble_num_str_cmp(const void *a, const void *b);
double bubble_pscale_map(bubble_pscale_t *ps, double v);
int bubble_rect(bubble_layout_ctx_t *ctx, double x, double y,
    double w, double h, bubble_rgba_t fill);
int bubble_str_cmp(const void *a, const void *b);
int bubble_text(bubble_layout_ctx_t *ctx, double x, double y,
    const char *s, size_t len, double size, bubble_rgba_t color,
    bubble_anchor_e anchor, int rotate, int bold);
double bubble_trans(bubble_trans_e trans, double v);


#endif /* _BUBBLE_LAYOUT_H_INCLUDED_ */

/*
 * ngx_bubble core: the parsed JSON -> the chart model (docs/spec.md).
 *
 * Every field is checked here and an error names its path ("x.limits",
 * "mapping.size").  Unknown members are refused: a typo must not silently
 * draw a different chart behind a URL that caches forever.
 */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bubble.h"
#include "bubble_scale.h"
#include "bubble_json.h"


typedef struct {
    bubble_allocator_t      *alloc;
    const bubble_limits_t   *limits;
    bubble_error_t          *err;
    bubble_json_doc_t       *doc;
    bubble_chart_t          *chart;
} bubble_spec_ctx_t;


typedef int (*bubble_member_pt)(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);

typedef struct {
    const char              *name;
    bubble_member_pt         handler;
    size_t                   offset;        /* into the target struct */
} bubble_member_t;


static bubble_chart_t *bubble_spec_build(bubble_allocator_t *a,
    const bubble_limits_t *limits, bubble_json_doc_t *doc,
    bubble_error_t *err);
static int bubble_spec_members(bubble_spec_ctx_t *ctx, bubble_json_t *obj,
    const char *path, const bubble_member_t *members, void *target);
static int bubble_spec_fail(bubble_spec_ctx_t *ctx, const char *path,
    const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

static int bubble_spec_width(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_scale(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_format(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_string(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_theme(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_background(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_font(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_mapping(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_axis(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_size_scale(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_color_scale(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_alpha(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_stroke(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_legend(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_facet(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target);
static int bubble_spec_column_index(bubble_spec_ctx_t *ctx, bubble_str_t *name);

static int bubble_spec_number(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, double *out);
static int bubble_spec_numbers(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, size_t min, size_t max, double **out, size_t *n);
static int bubble_spec_strings(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, bubble_str_t **out, size_t *n);
static int bubble_spec_color(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, bubble_rgba_t *out);
static int bubble_spec_range(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, double *out);
static int bubble_spec_enum(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, const char **names, int *out);
static int bubble_spec_columns(bubble_spec_ctx_t *ctx);
static int bubble_spec_aesthetics(bubble_spec_ctx_t *ctx);


#define bubble_offset(type, field)  offsetof(type, field)


static const bubble_member_t  bubble_spec_top[] = {
    { "width", bubble_spec_width, bubble_offset(bubble_chart_t, width) },
    { "height", bubble_spec_width, bubble_offset(bubble_chart_t, height) },
    { "scale", bubble_spec_scale, 0 },
    { "format", bubble_spec_format, 0 },
    { "title", bubble_spec_string, bubble_offset(bubble_chart_t, title) },
    { "subtitle", bubble_spec_string,
      bubble_offset(bubble_chart_t, subtitle) },
    { "caption", bubble_spec_string, bubble_offset(bubble_chart_t, caption) },
    { "theme", bubble_spec_theme, 0 },
    { "background", bubble_spec_background, 0 },
    { "font", bubble_spec_font, 0 },
    { "mapping", bubble_spec_mapping, 0 },
    { "x", bubble_spec_axis, bubble_offset(bubble_chart_t, x) },
    { "y", bubble_spec_axis, bubble_offset(bubble_chart_t, y) },
    { "size", bubble_spec_size_scale, 0 },
    { "color", bubble_spec_color_scale, 0 },
    { "alpha", bubble_spec_alpha, 0 },
    { "stroke", bubble_spec_stroke, 0 },
    { "legend", bubble_spec_legend, 0 },
    { "facet", bubble_spec_facet, 0 },
    { NULL, NULL, 0 }
};


static const char  *bubble_aes_names[] = {
    "x", "y", "size", "color", "label", "tooltip", NULL
};


/*
 * The spec parser: JSON fed chunk by chunk (bubble_json.c), then the chart
 * model built from its document here.
 */

struct bubble_spec_parser_s {
    bubble_allocator_t      *alloc;
    const bubble_limits_t   *limits;
    bubble_error_t          *err;
    bubble_json_parser_t    *json;
};


bubble_spec_parser_t *
bubble_spec_parser_create(bubble_allocator_t *a, const bubble_limits_t *limits,
    bubble_error_t *err)
{
    bubble_spec_parser_t  *p;

    p = bubble_calloc(a, sizeof(bubble_spec_parser_t));
    if (p == NULL) {
        return NULL;
    }

    p->alloc = a;
    p->limits = limits;
    p->err = err;

    p->json = bubble_json_parser_create(a, limits, err);
    if (p->json == NULL) {
        return NULL;
    }

    return p;
}


int
bubble_spec_parser_feed(bubble_spec_parser_t *p, const u_char *data,
    size_t len)
{
    return bubble_json_parser_feed(p->json, data, len);
}


bubble_chart_t *
bubble_spec_parser_finish(bubble_spec_parser_t *p)
{
    bubble_json_doc_t  *doc;

    doc = bubble_json_parser_finish(p->json);
    if (doc == NULL) {
        return NULL;
    }

    return bubble_spec_build(p->alloc, p->limits, doc, p->err);
}


void
bubble_spec_parser_destroy(bubble_spec_parser_t *p)
{
    if (p != NULL) {
        bubble_json_parser_destroy(p->json);
    }
}


bubble_chart_t *
bubble_spec_parse(bubble_allocator_t *a, const bubble_limits_t *limits,
    const u_char *data, size_t len, bubble_error_t *err)
{
    bubble_chart_t        *chart;
    bubble_spec_parser_t  *p;

    p = bubble_spec_parser_create(a, limits, err);
    if (p == NULL) {
        bubble_error_set(err, 500, "internal", "", "out of memory");
        return NULL;
    }

    chart = NULL;

    if (bubble_spec_parser_feed(p, data, len) == 0) {
        chart = bubble_spec_parser_finish(p);
    }

    bubble_spec_parser_destroy(p);

    return chart;
}


static bubble_chart_t *
bubble_spec_build(bubble_allocator_t *a, const bubble_limits_t *limits,
    bubble_json_doc_t *doc, bubble_error_t *err)
{
    double              pixels;
    bubble_chart_t     *chart;
    bubble_spec_ctx_t   ctx;

    chart = bubble_calloc(a, sizeof(bubble_chart_t));
    if (chart == NULL) {
        bubble_error_set(err, 500, "internal", "", "out of memory");
        return NULL;
    }

    /* docs/spec.md defaults */
    chart->width = 800;
    chart->height = 600;
    chart->scale = 1;
    chart->format = BUBBLE_FORMAT_PNG;
    chart->theme = BUBBLE_THEME_GRAY;
    chart->font_size = 11;
    chart->alpha = 0.7;
    chart->legend = BUBBLE_LEGEND_RIGHT;
    chart->facet = -1;

    for (int i = 0; i < BUBBLE_AES_N; i++) {
        chart->aes[i] = -2;                 /* -2: default, -1: unmapped */
    }

    chart->source = doc;

    ctx.alloc = a;
    ctx.limits = limits;
    ctx.err = err;
    ctx.doc = doc;
    ctx.chart = chart;

    if (bubble_spec_members(&ctx, doc->root, "", bubble_spec_top, chart)
        != 0)
    {
        return NULL;
    }

    pixels = (double) chart->width * chart->height
             * chart->scale * chart->scale;

    if (pixels > (double) limits->max_pixels) {
        bubble_error_set(err, 413, "too_large", "width",
                         "%d x %d px at scale %g is %.0f pixels, the limit "
                         "is %zu", chart->width, chart->height, chart->scale,
                         pixels, limits->max_pixels);
        return NULL;
    }

    if (chart->width * chart->scale > limits->max_side
        || chart->height * chart->scale > limits->max_side)
    {
        bubble_error_set(err, 413, "too_large", "width",
                         "a side of %g px at scale %g exceeds %zu px",
                         fmax(chart->width, chart->height), chart->scale,
                         limits->max_side);
        return NULL;
    }

    if (bubble_spec_columns(&ctx) != 0 || bubble_spec_aesthetics(&ctx) != 0) {
        return NULL;
    }

    return chart;
}


static int
bubble_spec_members(bubble_spec_ctx_t *ctx, bubble_json_t *obj,
    const char *path, const bubble_member_t *members, void *target)
{
    char                    sub[128];
    bubble_json_t          *m;
    const bubble_member_t  *def;

    if (obj->type != BUBBLE_JSON_OBJECT) {
        return bubble_spec_fail(ctx, path, "expected an object, got %s",
                                bubble_json_type_name(obj->type));
    }

    for (m = obj->child; m; m = m->next) {
        snprintf(sub, sizeof(sub), "%s%s%.*s", path, path[0] ? "." : "",
                 (int) (m->key.len > 64 ? 64 : m->key.len), m->key.data);

        for (def = members; def->name; def++) {
            if (strcmp(def->name, m->key.data) == 0) {
                break;
            }
        }

        if (def->name == NULL) {
            return bubble_spec_fail(ctx, sub, "unknown member");
        }

        if (def->handler(ctx, m, sub, (u_char *) target + def->offset) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
bubble_spec_fail(bubble_spec_ctx_t *ctx, const char *path,
    const char *fmt, ...)
{
    char     msg[200];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    bubble_error_set(ctx->err, 400, "invalid_spec", path, "%s%s%s",
                     path, path[0] ? ": " : "", msg);
    return -1;
}


/* top-level members */


static int
bubble_spec_width(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    void *target)
{
    if (v->type != BUBBLE_JSON_NUMBER || !v->integer) {
        return bubble_spec_fail(ctx, path, "expected an integer number of "
                                "pixels, got %s",
                                v->type == BUBBLE_JSON_NUMBER
                                ? "a fraction" : bubble_json_type_name(v->type));
    }

    if (v->number < 16 || v->number > (double) ctx->limits->max_side) {
        if (v->number > (double) ctx->limits->max_side) {
            bubble_error_set(ctx->err, 413, "too_large", path,
                             "%s: %.0f px exceeds the limit of %zu px",
                             path, v->number, ctx->limits->max_side);
            return -1;
        }

        return bubble_spec_fail(ctx, path, "%.0f px is too small "
                                "(at least 16)", v->number);
    }

    *(int *) target = (int) v->number;
    return 0;
}


static int
bubble_spec_scale(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    void *target)
{
    double  scale;

    if (bubble_spec_number(ctx, v, path, &scale) != 0) {
        return -1;
    }

    if (scale < 1 || scale > 4) {
        return bubble_spec_fail(ctx, path, "expected a number from 1 to 4, "
                                "got %g", scale);
    }

    ctx->chart->scale = scale;
    return 0;
}


static int
bubble_spec_format(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    void *target)
{
    int                 format;
    static const char  *names[] = { "png", "svg", "pdf", NULL };

    if (bubble_spec_enum(ctx, v, path, names, &format) != 0) {
        return -1;
    }

    ctx->chart->format = format;
    ctx->chart->has_format = 1;
    return 0;
}


static int
bubble_spec_string(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    void *target)
{
    if (v->type != BUBBLE_JSON_STRING) {
        return bubble_spec_fail(ctx, path, "expected a string, got %s",
                                bubble_json_type_name(v->type));
    }

    *(bubble_str_t *) target = v->str;
    return 0;
}


static int
bubble_spec_theme(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    void *target)
{
    int                 theme;
    static const char  *names[] = {
        "gray", "minimal", "classic", "dark", NULL
    };

    if (v->type == BUBBLE_JSON_STRING && strcmp(v->str.data, "grey") == 0) {
        ctx->chart->theme = BUBBLE_THEME_GRAY;
        return 0;
    }

    if (bubble_spec_enum(ctx, v, path, names, &theme) != 0) {
        return -1;
    }

    ctx->chart->theme = theme;
    return 0;
}


static int
bubble_spec_background(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    if (bubble_spec_color(ctx, v, path, &ctx->chart->background) != 0) {
        return -1;
    }

    ctx->chart->has_background = 1;
    return 0;
}


static int
bubble_spec_font_family(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    size_t  i;

    if (bubble_spec_string(ctx, v, path, target) != 0) {
        return -1;
    }

    /* it ends up in an SVG attribute and a fontconfig pattern */
    for (i = 0; i < v->str.len; i++) {
        if (strchr("<>&\"'\\;{}", v->str.data[i]) != NULL
            || (unsigned char) v->str.data[i] < 0x20)
        {
            return bubble_spec_fail(ctx, path, "font family names may not "
                                    "contain '%c'", v->str.data[i]);
        }
    }

    if (v->str.len > 128) {
        return bubble_spec_fail(ctx, path, "longer than 128 bytes");
    }

    return 0;
}


static int
bubble_spec_font_size(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    double  size;

    if (bubble_spec_number(ctx, v, path, &size) != 0) {
        return -1;
    }

    if (size < 4 || size > 72) {
        return bubble_spec_fail(ctx, path, "expected 4 to 72 points, got %g",
                                size);
    }

    *(double *) target = size;
    return 0;
}


static int
bubble_spec_font(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    void *target)
{
    static const bubble_member_t  members[] = {
        { "family", bubble_spec_font_family,
          bubble_offset(bubble_chart_t, font_family) },
        { "size", bubble_spec_font_size,
          bubble_offset(bubble_chart_t, font_size) },
        { NULL, NULL, 0 }
    };

    return bubble_spec_members(ctx, v, path, members, ctx->chart);
}


static int
bubble_spec_mapping(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    int             aes, col;
    char            sub[128];
    bubble_json_t  *m;

    if (v->type != BUBBLE_JSON_OBJECT) {
        return bubble_spec_fail(ctx, path, "expected an object, got %s",
                                bubble_json_type_name(v->type));
    }

    for (m = v->child; m; m = m->next) {
        snprintf(sub, sizeof(sub), "mapping.%.*s",
                 (int) (m->key.len > 64 ? 64 : m->key.len), m->key.data);

        for (aes = 0; bubble_aes_names[aes]; aes++) {
            if (strcmp(bubble_aes_names[aes], m->key.data) == 0) {
                break;
            }
        }

        /* ggplot2 spells it both ways */
        if (strcmp(m->key.data, "colour") == 0) {
            aes = BUBBLE_AES_COLOR;
        }

        if (aes == BUBBLE_AES_N) {
            return bubble_spec_fail(ctx, sub, "unknown aesthetic (expected "
                                    "x, y, size, color, label or tooltip)");
        }

        if (m->type == BUBBLE_JSON_NULL) {
            ctx->chart->aes[aes] = -1;
            continue;
        }

        if (m->type != BUBBLE_JSON_STRING) {
            return bubble_spec_fail(ctx, sub, "expected a column name, "
                                    "got %s", bubble_json_type_name(m->type));
        }

        col = bubble_spec_column_index(ctx, &m->str);

        if (col < 0) {
            return bubble_spec_fail(ctx, sub, "no column \"%.*s\" in data",
                                    (int) (m->str.len > 64 ? 64
                                                           : m->str.len),
                                    m->str.data);
        }

        ctx->chart->aes[aes] = col;
    }

    return 0;
}


static int
bubble_spec_axis_scale(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    int                 trans;
    static const char  *names[] = { "linear", "log10", "sqrt", NULL };

    if (bubble_spec_enum(ctx, v, path, names, &trans) != 0) {
        return -1;
    }

    ((bubble_axis_t *) target)->trans = trans;
    return 0;
}


static int
bubble_spec_axis_limits(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    bubble_axis_t  *axis = target;

    if (bubble_spec_range(ctx, v, path, axis->limits) != 0) {
        return -1;
    }

    axis->has_limits = 1;
    return 0;
}


static int
bubble_spec_axis_breaks(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    bubble_axis_t  *axis = target;

    return bubble_spec_numbers(ctx, v, path, 0, BUBBLE_MAX_BREAKS,
                               &axis->breaks, &axis->nbreaks);
}


static int
bubble_spec_axis_labels(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    bubble_axis_t  *axis = target;

    if (v->type == BUBBLE_JSON_STRING) {
        /* a printf-style format with exactly one numeric conversion */
        const char  *s = v->str.data;
        size_t       conversions = 0;

        for (; *s; s++) {
            if (*s != '%') {
                continue;
            }

            s++;
            if (*s == '%') {
                continue;
            }

            /* width and precision of at most 2 digits: "%999999999f"
             * would have printf build a gigabyte */
            s += strspn(s, "+- #0'");
            if (strspn(s, "0123456789") > 2) {
                break;
            }
            s += strspn(s, "0123456789");
            if (*s == '.') {
                s++;
                if (strspn(s, "0123456789") > 2) {
                    break;
                }
                s += strspn(s, "0123456789");
            }

            if (*s == '\0' || strchr("fgeFGE", *s) == NULL) {
                return bubble_spec_fail(ctx, path, "a label format takes "
                                        "one of %%f %%e %%g, e.g. "
                                        "\"%%.1f%%%%\"");
            }

            conversions++;
        }

        if (*s != '\0' || conversions != 1 || v->str.len > 64) {
            return bubble_spec_fail(ctx, path, "a label format takes exactly "
                                    "one number, e.g. \"$%%.0f\"");
        }

        axis->label_format = v->str;
        return 0;
    }

    return bubble_spec_strings(ctx, v, path, &axis->labels, &axis->nlabels);
}


static int
bubble_spec_boolean(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    if (v->type != BUBBLE_JSON_BOOL) {
        return bubble_spec_fail(ctx, path, "expected true or false, got %s",
                                bubble_json_type_name(v->type));
    }

    ((bubble_axis_t *) target)->reverse = v->boolean;
    return 0;
}


static int
bubble_spec_axis(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    void *target)
{
    bubble_axis_t  *axis = target;

    static const bubble_member_t  members[] = {
        { "title", bubble_spec_string, bubble_offset(bubble_axis_t, title) },
        { "scale", bubble_spec_axis_scale, 0 },
        { "limits", bubble_spec_axis_limits, 0 },
        { "breaks", bubble_spec_axis_breaks, 0 },
        { "labels", bubble_spec_axis_labels, 0 },
        { "reverse", bubble_spec_boolean, 0 },
        { NULL, NULL, 0 }
    };

    if (bubble_spec_members(ctx, v, path, members, axis) != 0) {
        return -1;
    }

    if (axis->labels && axis->breaks == NULL) {
        return bubble_spec_fail(ctx, path, "labels given as an array need "
                                "breaks of the same length");
    }

    if (axis->labels && axis->nlabels != axis->nbreaks) {
        return bubble_spec_fail(ctx, path, "%zu labels for %zu breaks",
                                axis->nlabels, axis->nbreaks);
    }

    if (axis->has_limits && axis->trans == BUBBLE_TRANS_LOG10
        && axis->limits[0] <= 0)
    {
        return bubble_spec_fail(ctx, path, "limits of a log10 scale must be "
                                "positive");
    }

    /* sqrt(-5) is NaN: there would be no axis to place anything on */
    if (axis->has_limits && axis->trans == BUBBLE_TRANS_SQRT
        && axis->limits[0] < 0)
    {
        return bubble_spec_fail(ctx, path, "limits of a sqrt scale must not "
                                "be negative");
    }

    return 0;
}


static int
bubble_spec_size_type(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    int                 type;
    static const char  *names[] = { "area", "radius", NULL };

    if (bubble_spec_enum(ctx, v, path, names, &type) != 0) {
        return -1;
    }

    ((bubble_size_scale_t *) target)->type = type;
    return 0;
}


static int
bubble_spec_size_range(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    bubble_size_scale_t  *size = target;

    if (bubble_spec_range(ctx, v, path, size->range) != 0) {
        return -1;
    }

    if (size->range[0] < 0 || size->range[1] > 500) {
        return bubble_spec_fail(ctx, path, "radii must be within 0..500 px");
    }

    size->has_range = 1;
    return 0;
}


static int
bubble_spec_size_limits(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    bubble_size_scale_t  *size = target;

    if (bubble_spec_range(ctx, v, path, size->limits) != 0) {
        return -1;
    }

    size->has_limits = 1;
    return 0;
}


static int
bubble_spec_size_breaks(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    bubble_size_scale_t  *size = target;

    return bubble_spec_numbers(ctx, v, path, 0, BUBBLE_MAX_BREAKS,
                               &size->breaks, &size->nbreaks);
}


static int
bubble_spec_size_scale(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    static const bubble_member_t  members[] = {
        { "title", bubble_spec_string,
          bubble_offset(bubble_size_scale_t, title) },
        { "type", bubble_spec_size_type, 0 },
        { "range", bubble_spec_size_range, 0 },
        { "limits", bubble_spec_size_limits, 0 },
        { "breaks", bubble_spec_size_breaks, 0 },
        { NULL, NULL, 0 }
    };

    return bubble_spec_members(ctx, v, path, members, &ctx->chart->size);
}


static int
bubble_spec_color_type(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    int                 type;
    static const char  *names[] = { "categorical", "continuous", NULL };

    if (bubble_spec_enum(ctx, v, path, names, &type) != 0) {
        return -1;
    }

    ((bubble_color_scale_t *) target)->type = type + 1;
    return 0;
}


static int
bubble_spec_palette(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    char                   sub[128];
    size_t                 i;
    uint32_t               probe;
    bubble_json_t         *e;
    bubble_color_scale_t  *color = target;

    if (v->type == BUBBLE_JSON_STRING) {
        if (bubble_palette_named(v->str.data, 1, &probe) != 0) {
            return bubble_spec_fail(ctx, path, "unknown palette \"%.64s\" "
                                    "(hue, viridis, magma, plasma, inferno, "
                                    "cividis, set2, dark2)", v->str.data);
        }

        color->palette = v->str;
        return 0;
    }

    if (v->type != BUBBLE_JSON_ARRAY || v->n == 0 || v->n > 256) {
        return bubble_spec_fail(ctx, path, "expected a palette name or an "
                                "array of 1 to 256 colours");
    }

    color->colors = bubble_alloc(ctx->alloc, v->n * sizeof(bubble_rgba_t));
    if (color->colors == NULL) {
        bubble_error_set(ctx->err, 500, "internal", "", "out of memory");
        return -1;
    }

    for (e = v->child, i = 0; e; e = e->next, i++) {
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        if (bubble_spec_color(ctx, e, sub, &color->colors[i]) != 0) {
            return -1;
        }
    }

    color->ncolors = v->n;
    return 0;
}


static int
bubble_spec_color_limits(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    bubble_color_scale_t  *color = target;

    if (v->type == BUBBLE_JSON_ARRAY && v->child
        && v->child->type == BUBBLE_JSON_STRING)
    {
        /* the legend keys them all: no category may be left out */
        if (v->n > BUBBLE_MAX_CATEGORIES) {
            return bubble_spec_fail(ctx, path, "%zu categories; at most %d "
                                    "can be drawn", v->n,
                                    BUBBLE_MAX_CATEGORIES);
        }

        return bubble_spec_strings(ctx, v, path, &color->categories,
                                   &color->ncategories);
    }

    if (bubble_spec_range(ctx, v, path, color->limits) != 0) {
        return -1;
    }

    color->has_limits = 1;
    return 0;
}


static int
bubble_spec_color_value(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    bubble_color_scale_t  *color = target;

    if (bubble_spec_color(ctx, v, path, &color->value) != 0) {
        return -1;
    }

    color->has_value = 1;
    return 0;
}


static int
bubble_spec_color_scale(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    static const bubble_member_t  members[] = {
        { "title", bubble_spec_string,
          bubble_offset(bubble_color_scale_t, title) },
        { "type", bubble_spec_color_type, 0 },
        { "palette", bubble_spec_palette, 0 },
        { "limits", bubble_spec_color_limits, 0 },
        { "value", bubble_spec_color_value, 0 },
        { NULL, NULL, 0 }
    };

    return bubble_spec_members(ctx, v, path, members, &ctx->chart->color);
}


static int
bubble_spec_alpha(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    void *target)
{
    double  alpha;

    if (bubble_spec_number(ctx, v, path, &alpha) != 0) {
        return -1;
    }

    if (alpha < 0 || alpha > 1) {
        return bubble_spec_fail(ctx, path, "expected 0 to 1, got %g", alpha);
    }

    ctx->chart->alpha = alpha;
    return 0;
}


static int
bubble_spec_stroke_color(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    if (bubble_spec_color(ctx, v, path, &ctx->chart->stroke_color) != 0) {
        return -1;
    }

    ctx->chart->has_stroke_color = 1;
    return 0;
}


static int
bubble_spec_stroke_width(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    double  width;

    if (bubble_spec_number(ctx, v, path, &width) != 0) {
        return -1;
    }

    if (width < 0 || width > 20) {
        return bubble_spec_fail(ctx, path, "expected 0 to 20 px, got %g",
                                width);
    }

    ctx->chart->stroke_width = width;
    ctx->chart->has_stroke_width = 1;
    return 0;
}


static int
bubble_spec_stroke(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    void *target)
{
    static const bubble_member_t  members[] = {
        { "color", bubble_spec_stroke_color, 0 },
        { "width", bubble_spec_stroke_width, 0 },
        { NULL, NULL, 0 }
    };

    return bubble_spec_members(ctx, v, path, members, ctx->chart);
}


static int
bubble_spec_legend_position(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    int                 pos;
    static const char  *names[] = {
        "right", "bottom", "top", "left", "none", NULL
    };

    if (bubble_spec_enum(ctx, v, path, names, &pos) != 0) {
        return -1;
    }

    ctx->chart->legend = pos;
    return 0;
}


static int
bubble_spec_legend(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    void *target)
{
    static const bubble_member_t  members[] = {
        { "position", bubble_spec_legend_position, 0 },
        { NULL, NULL, 0 }
    };

    return bubble_spec_members(ctx, v, path, members, ctx->chart);
}


static int
bubble_spec_facet_wrap(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    int  col;

    if (v->type != BUBBLE_JSON_STRING) {
        return bubble_spec_fail(ctx, path, "expected a column name, got %s",
                                bubble_json_type_name(v->type));
    }

    col = bubble_spec_column_index(ctx, &v->str);
    if (col < 0) {
        return bubble_spec_fail(ctx, path, "no column \"%.64s\" in data",
                                v->str.data);
    }

    ctx->chart->facet = col;
    return 0;
}


static int
bubble_spec_facet_ncol(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, void *target)
{
    if (v->type != BUBBLE_JSON_NUMBER || !v->integer
        || v->number < 1 || v->number > 16)
    {
        return bubble_spec_fail(ctx, path, "expected an integer from 1 to 16");
    }

    ctx->chart->facet_ncol = (int) v->number;
    return 0;
}


static int
bubble_spec_facet(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    void *target)
{
    static const bubble_member_t  members[] = {
        { "wrap", bubble_spec_facet_wrap, 0 },
        { "ncol", bubble_spec_facet_ncol, 0 },
        { NULL, NULL, 0 }
    };

    if (bubble_spec_members(ctx, v, path, members, ctx->chart) != 0) {
        return -1;
    }

    if (ctx->chart->facet < 0) {
        return bubble_spec_fail(ctx, path, "\"wrap\" names the column to "
                                "facet by");
    }

    return 0;
}


static int
bubble_spec_column_index(bubble_spec_ctx_t *ctx, bubble_str_t *name)
{
    size_t  i;

    for (i = 0; i < ctx->doc->ncolumns; i++) {
        if (ctx->doc->columns[i].name.len == name->len
            && memcmp(ctx->doc->columns[i].name.data, name->data, name->len)
               == 0)
        {
            return (int) i;
        }
    }

    return -1;
}


/* value helpers */


static int
bubble_spec_number(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    double *out)
{
    /* written on failure too: callers' values are never uninitialized */
    *out = 0;

    if (v->type != BUBBLE_JSON_NUMBER) {
        return bubble_spec_fail(ctx, path, "expected a number, got %s",
                                bubble_json_type_name(v->type));
    }

    *out = v->number;
    return 0;
}


static int
bubble_spec_numbers(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, size_t min, size_t max, double **out, size_t *n)
{
    char            sub[128];
    size_t          i;
    bubble_json_t  *e;

    if (v->type != BUBBLE_JSON_ARRAY) {
        return bubble_spec_fail(ctx, path, "expected an array of numbers, "
                                "got %s", bubble_json_type_name(v->type));
    }

    if (v->n < min || v->n > max) {
        return bubble_spec_fail(ctx, path, "expected %zu to %zu numbers, "
                                "got %zu", min, max, v->n);
    }

    *out = bubble_alloc(ctx->alloc, (v->n + 1) * sizeof(double));
    if (*out == NULL) {
        bubble_error_set(ctx->err, 500, "internal", "", "out of memory");
        return -1;
    }

    for (e = v->child, i = 0; e; e = e->next, i++) {
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        if (bubble_spec_number(ctx, e, sub, &(*out)[i]) != 0) {
            return -1;
        }
    }

    *n = v->n;
    return 0;
}


static int
bubble_spec_strings(bubble_spec_ctx_t *ctx, bubble_json_t *v,
    const char *path, bubble_str_t **out, size_t *n)
{
    char            sub[128];
    size_t          i;
    bubble_json_t  *e;

    if (v->type != BUBBLE_JSON_ARRAY || v->n > 256) {
        return bubble_spec_fail(ctx, path, "expected an array of at most "
                                "256 strings");
    }

    *out = bubble_alloc(ctx->alloc, (v->n + 1) * sizeof(bubble_str_t));
    if (*out == NULL) {
        bubble_error_set(ctx->err, 500, "internal", "", "out of memory");
        return -1;
    }

    for (e = v->child, i = 0; e; e = e->next, i++) {
        if (e->type != BUBBLE_JSON_STRING) {
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
            return bubble_spec_fail(ctx, sub, "expected a string, got %s",
                                    bubble_json_type_name(e->type));
        }

        (*out)[i] = e->str;
    }

    *n = v->n;
    return 0;
}


static int
bubble_spec_color(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    bubble_rgba_t *out)
{
    if (v->type != BUBBLE_JSON_STRING) {
        return bubble_spec_fail(ctx, path, "expected a colour, got %s",
                                bubble_json_type_name(v->type));
    }

    if (bubble_color_parse(v->str.data, v->str.len, out) != 0) {
        return bubble_spec_fail(ctx, path, "\"%.64s\" is not a colour "
                                "(#rgb, #rrggbb, #rrggbbaa or a CSS name)",
                                v->str.data);
    }

    return 0;
}


static int
bubble_spec_range(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    double *out)
{
    double  *pair;
    size_t   n;

    if (bubble_spec_numbers(ctx, v, path, 2, 2, &pair, &n) != 0) {
        return -1;
    }

    if (!(pair[0] < pair[1])) {
        return bubble_spec_fail(ctx, path, "expected [min, max] with "
                                "min < max, got [%g, %g]", pair[0], pair[1]);
    }

    out[0] = pair[0];
    out[1] = pair[1];
    return 0;
}


static int
bubble_spec_enum(bubble_spec_ctx_t *ctx, bubble_json_t *v, const char *path,
    const char **names, int *out)
{
    int     i;
    char    list[128];
    size_t  len;

    if (v->type == BUBBLE_JSON_STRING) {
        for (i = 0; names[i]; i++) {
            if (strcmp(names[i], v->str.data) == 0) {
                *out = i;
                return 0;
            }
        }
    }

    len = 0;
    list[0] = '\0';

    for (i = 0; names[i] && len < sizeof(list); i++) {
        len += snprintf(list + len, sizeof(list) - len, "%s\"%s\"",
                        i ? ", " : "", names[i]);
    }

    return bubble_spec_fail(ctx, path, "expected one of %s", list);
}


/* data and aesthetics */


static int
bubble_spec_columns(bubble_spec_ctx_t *ctx)
{
    size_t             i, n;
    bubble_chart_t    *chart = ctx->chart;
    bubble_json_doc_t *doc = ctx->doc;

    if (!doc->has_data) {
        return bubble_spec_fail(ctx, "data", "required: an array of rows or "
                                "an object of columns");
    }

    n = doc->rows_form ? doc->nrows : (doc->ncolumns ? doc->columns[0].n : 0);

    if (n == 0) {
        return bubble_spec_fail(ctx, "data", "no rows to draw");
    }

    for (i = 0; i < doc->ncolumns; i++) {
        bubble_column_t  *col = &doc->columns[i];

        if (!doc->rows_form && col->n != n) {
            char  path[128];

            snprintf(path, sizeof(path), "data.%s", col->name.data);
            return bubble_spec_fail(ctx, path, "column has %zu values, "
                                    "\"%s\" has %zu", col->n,
                                    doc->columns[0].name.data, n);
        }

        /* rows that never named this column: missing values at the end */
        if (col->type != BUBBLE_COLUMN_EMPTY && col->n < n) {
            size_t  cap = col->cap;

            if (cap < n) {
                void  *cells;
                size_t cell = col->num ? sizeof(double) : sizeof(bubble_str_t);

                cells = bubble_alloc(ctx->alloc, n * cell);
                if (cells == NULL) {
                    bubble_error_set(ctx->err, 500, "internal", "",
                                     "out of memory");
                    return -1;
                }

                memcpy(cells, col->num ? (void *) col->num
                                       : (void *) col->str, col->n * cell);
                if (col->num) {
                    col->num = cells;
                } else {
                    col->str = cells;
                }
                col->cap = n;
            }

            for (; col->n < n; col->n++) {
                if (col->num) {
                    col->num[col->n] = NAN;
                } else {
                    col->str[col->n].data = NULL;
                    col->str[col->n].len = 0;
                }
            }
        }

        col->n = n;
    }

    chart->columns = doc->columns;
    chart->ncolumns = doc->ncolumns;
    chart->nrows = n;

    return 0;
}


static int
bubble_spec_find_column(bubble_chart_t *chart, const char *name)
{
    size_t  i;

    for (i = 0; i < chart->ncolumns; i++) {
        if (strcmp(chart->columns[i].name.data, name) == 0) {
            return (int) i;
        }
    }

    return -1;
}


static int
bubble_spec_aesthetics(bubble_spec_ctx_t *ctx)
{
    int               aes, col;
    char              path[32];
    bubble_chart_t   *chart = ctx->chart;
    bubble_column_t  *c;

    for (aes = 0; aes < BUBBLE_AES_N; aes++) {
        if (chart->aes[aes] == -2) {
            /* docs/spec.md: default mapping to a column of the same name */
            chart->aes[aes] = bubble_spec_find_column(chart,
                                                      bubble_aes_names[aes]);
        }
    }

    for (aes = BUBBLE_AES_X; aes <= BUBBLE_AES_Y; aes++) {
        if (chart->aes[aes] < 0) {
            snprintf(path, sizeof(path), "mapping.%s", bubble_aes_names[aes]);
            return bubble_spec_fail(ctx, path, "required: map %s to a "
                                    "numeric column (no column \"%s\" in "
                                    "data)", bubble_aes_names[aes],
                                    bubble_aes_names[aes]);
        }
    }

    for (aes = BUBBLE_AES_X; aes <= BUBBLE_AES_SIZE; aes++) {
        col = chart->aes[aes];
        if (col < 0) {
            continue;
        }

        c = &chart->columns[col];

        if (c->type == BUBBLE_COLUMN_STRING) {
            snprintf(path, sizeof(path), "mapping.%s", bubble_aes_names[aes]);
            return bubble_spec_fail(ctx, path, "column \"%.64s\" holds "
                                    "strings; %s needs numbers",
                                    c->name.data, bubble_aes_names[aes]);
        }
    }

    return 0;
}

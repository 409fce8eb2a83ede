/*
 * ngx_bubble core: the public API.
 *
 * The core is plain C with no nginx headers.  Every allocation goes through
 * a caller-supplied allocator (inside nginx: a pool; in unit tests: malloc
 * into an arena), so a request's memory is released in one piece.  Nothing
 * here is ever freed individually.
 */

#ifndef _BUBBLE_H_INCLUDED_
#define _BUBBLE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


#define BUBBLE_VERSION            "0.3.2"


typedef void *(*bubble_alloc_pt)(void *data, size_t size);
typedef void (*bubble_free_pt)(void *data, void *p);

/*
 * free may be NULL, or may ignore small blocks: a pool returns only its
 * large blocks early (ngx_pfree); everything else goes with the pool.
 */
typedef struct {
    bubble_alloc_pt          alloc;
    bubble_free_pt           free;
    void                    *data;
} bubble_allocator_t;


void *bubble_alloc(bubble_allocator_t *a, size_t size);
void *bubble_calloc(bubble_allocator_t *a, size_t size);
char *bubble_strndup(bubble_allocator_t *a, const char *s, size_t len);
void bubble_free(bubble_allocator_t *a, void *p);


/* a string of len bytes, NUL-terminated as a convenience; data NULL = none */
typedef struct {
    const char              *data;
    size_t                   len;
} bubble_str_t;


/* colour as 0xRRGGBBAA */
typedef uint32_t             bubble_rgba_t;

#define BUBBLE_RGBA(r, g, b, a)                                               \
    (((uint32_t) (r) << 24) | ((uint32_t) (g) << 16) | ((uint32_t) (b) << 8)  \
     | (uint32_t) (a))
#define BUBBLE_R(c)           (((c) >> 24) & 0xff)
#define BUBBLE_G(c)           (((c) >> 16) & 0xff)
#define BUBBLE_B(c)           (((c) >> 8) & 0xff)
#define BUBBLE_A(c)           ((c) & 0xff)

int bubble_color_parse(const char *s, size_t len, bubble_rgba_t *out);


/*
 * Errors: what the glue turns into docs/spec.md's JSON error body.
 */

typedef struct {
    int                      status;        /* HTTP status: 400, 413, 500 */
    const char              *code;          /* "invalid_json", ... */
    char                     message[256];
    char                     path[128];     /* "data[3].x", or "" */
    long                     offset;        /* byte offset, or -1 */
} bubble_error_t;

void bubble_error_set(bubble_error_t *err, int status, const char *code,
    const char *path, const char *fmt, ...)
    __attribute__ ((format (printf, 5, 6)));

/*
 * Bytes of the well-formed UTF-8 character at s (1 to 4), or 0: strict
 * RFC 3629, no overlong forms, surrogates or code points past U+10FFFF.
 * yajl 2.1 checks only the shape of a sequence, and JSON error bodies and
 * SVG must be UTF-8.
 */
size_t bubble_utf8_char(const u_char *s, size_t len);

/*
 * The character at s as XML 1.0 allows it in text: its length in bytes
 * (a malformed byte counts as one), and *keep = 0 for what must be
 * dropped: C0 controls but tab and newline, U+FFFE, U+FFFF, malformed
 * bytes.  The SVG writer and the cairo renderer drop the same characters,
 * so the PNG shows the text the SVG shows.
 */
size_t bubble_xml_char(const u_char *s, size_t len, int *keep);


/*
 * Limits: checked while parsing, before anything large is allocated.
 */

typedef struct {
    size_t                   max_depth;     /* JSON nesting */
    size_t                   max_points;    /* rows in data */
    size_t                   max_pixels;    /* width*height*scale^2 */
    size_t                   max_side;      /* px per side, after scale */
    size_t                   max_string;    /* bytes per JSON string */
    size_t                   max_columns;
} bubble_limits_t;

void bubble_limits_default(bubble_limits_t *limits);


/*
 * The chart model: what a spec means, independent of JSON.
 */

typedef enum {
    BUBBLE_FORMAT_PNG = 0,
    BUBBLE_FORMAT_SVG,
    BUBBLE_FORMAT_PDF
} bubble_format_e;

typedef enum {
    BUBBLE_COLUMN_EMPTY = 0,               /* only nulls so far */
    BUBBLE_COLUMN_NUMBER,
    BUBBLE_COLUMN_STRING
} bubble_column_type_e;

typedef struct {
    bubble_str_t             name;
    bubble_column_type_e     type;
    size_t                   n;
    size_t                   cap;           /* cells allocated */
    double                  *num;          /* NaN = missing */
    bubble_str_t            *str;          /* data == NULL = missing */
} bubble_column_t;

typedef enum {
    BUBBLE_TRANS_LINEAR = 0,
    BUBBLE_TRANS_LOG10,
    BUBBLE_TRANS_SQRT
} bubble_trans_e;

typedef struct {
    bubble_str_t             title;         /* data NULL: column name */
    bubble_trans_e           trans;
    unsigned                 has_limits:1;
    unsigned                 reverse:1;
    double                   limits[2];
    double                  *breaks;        /* NULL: nice breaks */
    size_t                   nbreaks;
    bubble_str_t            *labels;        /* NULL: formatted breaks */
    size_t                   nlabels;
    bubble_str_t             label_format;  /* printf-style, or none */
} bubble_axis_t;

typedef enum {
    BUBBLE_SIZE_AREA = 0,
    BUBBLE_SIZE_RADIUS
} bubble_size_type_e;

typedef struct {
    bubble_str_t             title;
    bubble_size_type_e       type;
    unsigned                 has_range:1;
    unsigned                 has_limits:1;
    double                   range[2];      /* px radius, before scale */
    double                   limits[2];
    double                  *breaks;
    size_t                   nbreaks;
} bubble_size_scale_t;

typedef enum {
    BUBBLE_COLOR_AUTO = 0,
    BUBBLE_COLOR_CATEGORICAL,
    BUBBLE_COLOR_CONTINUOUS
} bubble_color_type_e;

/*
 * Categories a colour scale draws: the legend has a key for each, and
 * color.limits, a column's distinct values and legacy URLs' chco/chdl
 * are refused past it, so that no category is ever silently left out.
 */
#define BUBBLE_MAX_CATEGORIES     64

typedef struct {
    bubble_str_t             title;
    bubble_color_type_e      type;
    bubble_str_t             palette;       /* name, or none */
    bubble_rgba_t           *colors;        /* user array, or NULL */
    size_t                   ncolors;
    unsigned                 has_value:1;
    unsigned                 has_limits:1;
    bubble_rgba_t            value;
    double                   limits[2];     /* continuous */
    bubble_str_t            *categories;    /* categorical limits */
    size_t                   ncategories;
} bubble_color_scale_t;

typedef enum {
    BUBBLE_AES_X = 0,
    BUBBLE_AES_Y,
    BUBBLE_AES_SIZE,
    BUBBLE_AES_COLOR,
    BUBBLE_AES_LABEL,
    BUBBLE_AES_TOOLTIP,
    BUBBLE_AES_N
} bubble_aes_e;

typedef enum {
    BUBBLE_LEGEND_RIGHT = 0,
    BUBBLE_LEGEND_BOTTOM,
    BUBBLE_LEGEND_TOP,
    BUBBLE_LEGEND_LEFT,
    BUBBLE_LEGEND_NONE
} bubble_legend_pos_e;

typedef enum {
    BUBBLE_THEME_GRAY = 0,
    BUBBLE_THEME_MINIMAL,
    BUBBLE_THEME_CLASSIC,
    BUBBLE_THEME_DARK
} bubble_theme_e;

typedef struct {
    int                      width;         /* CSS px */
    int                      height;
    double                   scale;         /* device pixel ratio, 1..4 */
    bubble_format_e          format;
    unsigned                 has_format:1;
    unsigned                 has_background:1;
    unsigned                 has_stroke_color:1;
    unsigned                 has_stroke_width:1;
    unsigned                 png_small:1;   /* zlib, not bubble_png_fast.c:
                                               set by the glue */

    bubble_str_t             title;
    bubble_str_t             subtitle;
    bubble_str_t             caption;
    bubble_theme_e           theme;
    bubble_rgba_t            background;    /* alpha 0 = transparent */
    bubble_str_t             font_family;
    double                   font_size;     /* pt, ggplot2's base_size */

    bubble_column_t         *columns;
    size_t                   ncolumns;
    size_t                   nrows;

    /* column index per aesthetic, -1 = not mapped */
    int                      aes[BUBBLE_AES_N];

    bubble_axis_t            x;
    bubble_axis_t            y;
    bubble_size_scale_t      size;
    bubble_color_scale_t     color;
    double                   alpha;
    bubble_rgba_t            stroke_color;
    double                   stroke_width;
    bubble_legend_pos_e      legend;

    int                      facet;         /* facet_wrap column, or -1 */
    int                      facet_ncol;    /* 0: as facet_wrap picks */

    void                    *source;        /* the parsed JSON, for digests */
} bubble_chart_t;


/*
 * Spec parsing (bubble_spec.c): a streaming yajl parser with a depth limit.
 * Feed the body in chunks as it arrives; finish returns the model or NULL
 * with err filled (400 bad JSON or spec, 413 over a limit).
 */

typedef struct bubble_spec_parser_s  bubble_spec_parser_t;

bubble_spec_parser_t *bubble_spec_parser_create(bubble_allocator_t *a,
    const bubble_limits_t *limits, bubble_error_t *err);
int bubble_spec_parser_feed(bubble_spec_parser_t *p, const u_char *data,
    size_t len);
bubble_chart_t *bubble_spec_parser_finish(bubble_spec_parser_t *p);
void bubble_spec_parser_destroy(bubble_spec_parser_t *p);

bubble_chart_t *bubble_spec_parse(bubble_allocator_t *a,
    const bubble_limits_t *limits, const u_char *data, size_t len,
    bubble_error_t *err);


/*
 * A digest of what a chart means (bubble_digest.c): the parsed spec with
 * members in sorted order and numbers as doubles, the data as columns, and
 * the output format.  Key order, whitespace, row or column form and "1" vs
 * "1.0" do not change it.  The caller supplies the hash (SHA-256 in nginx).
 */

typedef void (*bubble_digest_update_pt)(void *ctx, const void *data,
    size_t len);

void bubble_chart_digest(const bubble_chart_t *chart,
    bubble_digest_update_pt update, void *ctx);


/*
 * Rendering: chart model -> display list (bubble_layout.c) -> SVG bytes
 * (bubble_svg.c), or -> cairo -> PNG or PDF (bubble_draw.c,
 * bubble_raster.c).
 */

typedef struct {
    u_char                  *data;
    size_t                   len;
    size_t                   dropped_rows;  /* missing/non-finite x, y, size */
} bubble_output_t;

int bubble_render_svg(bubble_allocator_t *a, bubble_chart_t *chart,
    bubble_output_t *out, bubble_error_t *err);
int bubble_render_check(bubble_allocator_t *a, bubble_chart_t *chart,
    bubble_error_t *err);
int bubble_render(bubble_allocator_t *a, bubble_chart_t *chart,
    bubble_output_t *out, bubble_error_t *err);

/* "ngx_bubble/0.2.0 cairo/1.16.0 pango/1.50.12 ...": part of every ETag */
const char *bubble_renderer_id(void);

/* once per process: fontconfig and pango caches, 8-27 ms the first time */
void bubble_warm_up(void);


#endif /* _BUBBLE_H_INCLUDED_ */

/*
 * ngx_bubble core: legacy Google Image Charts scatter URLs -> spec JSON.
 *
 * Google's service drew cht=s from query parameters; existing embeds name
 * such URLs.  We turn the parameters into a spec's JSON text and let the
 * spec parser do the rest, so limits, errors and digests stay in one
 * place.  Positions follow Google's model: a data value is a fraction of
 * its encoding's range (0..100 for text, 0..61 simple, 0..4095 extended,
 * or the chds range), and that fraction is placed on the axis range
 * (chxr, or 0..100).  Supported parameters and deviations:
 * docs/legacy-google-charts.md.
 */

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bubble.h"
#include "bubble_scale.h"
#include "bubble_gchart.h"


#define BUBBLE_GCHART_MAX_SERIES    3       /* x | y | size */
#define BUBBLE_GCHART_MAX_LEGEND    BUBBLE_MAX_CATEGORIES
#define BUBBLE_GCHART_MIN_SIDE      16      /* px: the spec parser's minimum */
#define BUBBLE_GCHART_MAX_BREAKS    32      /* BUBBLE_MAX_BREAKS */
#define BUBBLE_GCHART_NUMBER_LEN    64      /* longest text-encoded value */


typedef struct {
    bubble_str_t             key;           /* decoded, NUL-terminated */
    bubble_str_t             value;
} bubble_gchart_param_t;


typedef struct {
    int                      index;         /* in chxt, -1: not shown */
    double                   start;         /* chxr, or the default */
    double                   end;
    double                   step;          /* 0: nice breaks */
    const char              *param;         /* what set start..end */
} bubble_gchart_axis_t;


typedef struct {
    bubble_allocator_t      *alloc;
    const bubble_limits_t   *limits;
    bubble_error_t          *err;

    bubble_gchart_param_t   *params;
    size_t                   nparams;

    /* chd: raw values (text numbers or codes), NaN = missing */
    int                      encoding;      /* 't', 's' or 'e' */
    size_t                   nseries;
    size_t                   npoints;
    double                  *raw[BUBBLE_GCHART_MAX_SERIES];

    /* each series' encoding range, from chds for text */
    double                   smin[BUBBLE_GCHART_MAX_SERIES];
    double                   smax[BUBBLE_GCHART_MAX_SERIES];
    unsigned                 autoscale:1;   /* chds=a */

    bubble_gchart_axis_t     axis[2];       /* x, y */

    /* chco, chdl: a colour and a legend name per colour slot */
    size_t                   ncolors;
    bubble_rgba_t           *colors;
    bubble_str_t            *names;
    size_t                  *slot_name;     /* slot -> index in uniq */
    size_t                   nuniq;
    size_t                   uniq[BUBBLE_GCHART_MAX_LEGEND];
    int                      has_legend;
    const char              *legend_pos;

    /* the JSON being written */
    u_char                  *buf;
    size_t                   len;
    size_t                   cap;
    unsigned                 nomem:1;
    unsigned                 nonfinite:1;   /* a bug: JSON has no inf */
} bubble_gchart_ctx_t;


static int bubble_gchart_params(bubble_gchart_ctx_t *ctx, const u_char *args,
    size_t len);
static size_t bubble_gchart_unescape(u_char *dst, const u_char *src,
    size_t len);
static bubble_str_t *bubble_gchart_get(bubble_gchart_ctx_t *ctx,
    const char *name);
static int bubble_gchart_fail(bubble_gchart_ctx_t *ctx, int status,
    const char *path, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));
static int bubble_gchart_nomem(bubble_gchart_ctx_t *ctx);

static int bubble_gchart_type(bubble_gchart_ctx_t *ctx);
static int bubble_gchart_size(bubble_gchart_ctx_t *ctx, int *w, int *h);
static int bubble_gchart_data(bubble_gchart_ctx_t *ctx);
static int bubble_gchart_series(bubble_gchart_ctx_t *ctx, size_t s,
    const char *p, size_t len);
static int bubble_gchart_scaling(bubble_gchart_ctx_t *ctx);
static int bubble_gchart_axes(bubble_gchart_ctx_t *ctx);
static int bubble_gchart_colors(bubble_gchart_ctx_t *ctx);
static int bubble_gchart_background(bubble_gchart_ctx_t *ctx,
    bubble_rgba_t *bg);
static int bubble_gchart_emit(bubble_gchart_ctx_t *ctx, int w, int h,
    bubble_rgba_t bg);

static double bubble_gchart_fraction(bubble_gchart_ctx_t *ctx, size_t s,
    size_t i);
static int bubble_gchart_number(const char *p, size_t len, double *out);
static int bubble_gchart_hex_color(const char *p, size_t len,
    bubble_rgba_t *out);
static int bubble_gchart_utf8(const char *p, size_t len);
static size_t bubble_gchart_split(const char *p, size_t len, int sep,
    bubble_str_t *out, size_t max);
static void bubble_gchart_trim(bubble_str_t *s);
static const char *bubble_gchart_excerpt(const char *p, size_t len,
    char *buf, size_t size);

static void bubble_gchart_put(bubble_gchart_ctx_t *ctx, const char *s,
    size_t len);
static void bubble_gchart_puts(bubble_gchart_ctx_t *ctx, const char *s);
static void bubble_gchart_put_number(bubble_gchart_ctx_t *ctx, double v);
static void bubble_gchart_put_string(bubble_gchart_ctx_t *ctx,
    const char *s, size_t len);
static void bubble_gchart_put_escaped(bubble_gchart_ctx_t *ctx,
    const char *s, size_t len);
static void bubble_gchart_put_color(bubble_gchart_ctx_t *ctx,
    bubble_rgba_t c);
static void bubble_gchart_put_axis(bubble_gchart_ctx_t *ctx,
    const char *name, bubble_gchart_axis_t *axis);


/* value of a character in the simple (0..61) or extended (0..63) alphabet */

static int
bubble_gchart_code(u_char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '-') {
        return 62;
    }

    if (c == '.') {
        return 63;
    }

    return -1;
}


int
bubble_gchart_detect(const u_char *args, size_t len)
{
    const u_char  *p, *last, *key;

    if (args == NULL) {
        return 0;
    }

    p = args;
    last = args + len;

    while (p < last) {
        key = p;

        while (p < last && *p != '&' && *p != '=') {
            p++;
        }

        if (p - key == 3 && memcmp(key, "cht", 3) == 0) {
            return 1;
        }

        while (p < last && *p != '&') {
            p++;
        }

        if (p < last) {
            p++;
        }
    }

    return 0;
}


int
bubble_gchart_to_json(bubble_allocator_t *a, const bubble_limits_t *limits,
    const u_char *args, size_t len, bubble_str_t *json, bubble_error_t *err)
{
    int                   w, h;
    bubble_rgba_t         bg;
    bubble_gchart_ctx_t   ctx;

    /* set by bubble_gchart_size(); zero for compilers that cannot tell */
    w = 0;
    h = 0;

    memset(&ctx, 0, sizeof(bubble_gchart_ctx_t));
    ctx.alloc = a;
    ctx.limits = limits;
    ctx.err = err;

    if (bubble_gchart_params(&ctx, args, len) != 0
        || bubble_gchart_type(&ctx) != 0
        || bubble_gchart_size(&ctx, &w, &h) != 0
        || bubble_gchart_data(&ctx) != 0
        || bubble_gchart_scaling(&ctx) != 0
        || bubble_gchart_axes(&ctx) != 0
        || bubble_gchart_colors(&ctx) != 0
        || bubble_gchart_background(&ctx, &bg) != 0
        || bubble_gchart_emit(&ctx, w, h, bg) != 0)
    {
        return -1;
    }

    json->data = (const char *) ctx.buf;
    json->len = ctx.len;

    return 0;
}


/* key=value pairs split on '&', each percent-decoded, '+' as a space */

static int
bubble_gchart_params(bubble_gchart_ctx_t *ctx, const u_char *args,
    size_t len)
{
    size_t                  n, klen;
    u_char                 *dst;
    const u_char           *p, *last, *seg, *eq;
    bubble_gchart_param_t  *prm;

    n = 1;
    for (p = args; p < args + len; p++) {
        n += (*p == '&');
    }

    ctx->params = bubble_alloc(ctx->alloc, n * sizeof(bubble_gchart_param_t));
    if (ctx->params == NULL) {
        return bubble_gchart_nomem(ctx);
    }

    /* decoded text is never longer: one buffer, a NUL after each part */
    dst = bubble_alloc(ctx->alloc, len + 2 * n);
    if (dst == NULL) {
        return bubble_gchart_nomem(ctx);
    }

    p = args;
    last = args + len;

    while (p < last) {
        seg = p;

        while (p < last && *p != '&') {
            p++;
        }

        if (p == seg) {
            p++;
            continue;
        }

        for (eq = seg; eq < p && *eq != '='; eq++) {
            /* void */
        }

        prm = &ctx->params[ctx->nparams++];

        klen = bubble_gchart_unescape(dst, seg, eq - seg);
        prm->key.data = (char *) dst;
        prm->key.len = klen;
        dst += klen;
        *dst++ = '\0';

        prm->value.data = (char *) dst;
        prm->value.len = (eq < p) ? bubble_gchart_unescape(dst, eq + 1,
                                                           p - eq - 1)
                                  : 0;
        dst += prm->value.len;
        *dst++ = '\0';

        if (p < last) {
            p++;
        }
    }

    return 0;
}


static size_t
bubble_gchart_unescape(u_char *dst, const u_char *src, size_t len)
{
    int            hi, lo;
    u_char        *d;
    const u_char  *last;

    d = dst;
    last = src + len;

    while (src < last) {
        if (*src == '+') {
            *d++ = ' ';
            src++;
            continue;
        }

        if (*src == '%' && last - src >= 3) {
            hi = (src[1] >= '0' && src[1] <= '9') ? src[1] - '0'
                 : ((src[1] | 0x20) >= 'a' && (src[1] | 0x20) <= 'f')
                   ? (src[1] | 0x20) - 'a' + 10 : -1;
            lo = (src[2] >= '0' && src[2] <= '9') ? src[2] - '0'
                 : ((src[2] | 0x20) >= 'a' && (src[2] | 0x20) <= 'f')
                   ? (src[2] | 0x20) - 'a' + 10 : -1;

            if (hi >= 0 && lo >= 0) {
                *d++ = (u_char) (hi * 16 + lo);
                src += 3;
                continue;
            }
        }

        /* a stray '%' stays itself, as browsers leave it */
        *d++ = *src++;
    }

    return d - dst;
}


/* the first occurrence, as nginx's ngx_http_arg() finds it */

static bubble_str_t *
bubble_gchart_get(bubble_gchart_ctx_t *ctx, const char *name)
{
    size_t  i, len;

    len = strlen(name);

    /* by length too: a decoded %00 must not end a name early */
    for (i = 0; i < ctx->nparams; i++) {
        if (ctx->params[i].key.len == len
            && memcmp(ctx->params[i].key.data, name, len) == 0)
        {
            return &ctx->params[i].value;
        }
    }

    return NULL;
}


static int
bubble_gchart_fail(bubble_gchart_ctx_t *ctx, int status, const char *path,
    const char *fmt, ...)
{
    char     msg[200];
    va_list  args;

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    bubble_error_set(ctx->err, status,
                     status == 413 ? "too_large" : "invalid_spec",
                     path, "%s: %s", path, msg);
    return -1;
}


static int
bubble_gchart_nomem(bubble_gchart_ctx_t *ctx)
{
    bubble_error_set(ctx->err, 500, "internal", "", "out of memory");
    return -1;
}


static int
bubble_gchart_type(bubble_gchart_ctx_t *ctx)
{
    char           ex[40];
    bubble_str_t  *v;

    v = bubble_gchart_get(ctx, "cht");

    if (v == NULL || v->len == 0) {
        return bubble_gchart_fail(ctx, 400, "cht", "required: cht=s "
                                  "(a scatter chart)");
    }

    if (v->len != 1 || v->data[0] != 's') {
        return bubble_gchart_fail(ctx, 400, "cht", "\"%s\" is not "
                                  "supported: only scatter charts (cht=s) "
                                  "are", bubble_gchart_excerpt(v->data,
                                                               v->len, ex,
                                                               sizeof(ex)));
    }

    return 0;
}


/* chs=<width>x<height> in px; our own limits, not Google's 300000 px */

static int
bubble_gchart_size(bubble_gchart_ctx_t *ctx, int *w, int *h)
{
    char           *end;
    long            side[2];
    size_t          i;
    const char     *p;
    bubble_str_t   *v;

    v = bubble_gchart_get(ctx, "chs");

    if (v == NULL || v->len == 0) {
        return bubble_gchart_fail(ctx, 400, "chs", "required: chs=<width>x"
                                  "<height> in pixels, e.g. chs=400x300");
    }

    p = v->data;

    for (i = 0; i < 2; i++) {
        if (*p < '0' || *p > '9') {
            goto malformed;
        }

        errno = 0;
        side[i] = strtol(p, &end, 10);

        if (errno || end - p > 6) {
            side[i] = 1000000;
        }

        p = end;

        if (i == 0) {
            if (*p != 'x' && *p != 'X') {
                goto malformed;
            }

            p++;
        }
    }

    if (p != v->data + v->len) {
        goto malformed;
    }

    for (i = 0; i < 2; i++) {
        if (side[i] < BUBBLE_GCHART_MIN_SIDE) {
            return bubble_gchart_fail(ctx, 400, "chs", "%ld px is too small "
                                      "(at least %d)", side[i],
                                      BUBBLE_GCHART_MIN_SIDE);
        }

        if ((size_t) side[i] > ctx->limits->max_side) {
            return bubble_gchart_fail(ctx, 413, "chs", "%ld px exceeds the "
                                      "limit of %zu px", side[i],
                                      ctx->limits->max_side);
        }
    }

    if ((double) side[0] * side[1] > (double) ctx->limits->max_pixels) {
        return bubble_gchart_fail(ctx, 413, "chs", "%ld x %ld is %.0f "
                                  "pixels, the limit is %zu", side[0],
                                  side[1], (double) side[0] * side[1],
                                  ctx->limits->max_pixels);
    }

    *w = (int) side[0];
    *h = (int) side[1];

    return 0;

malformed:

    return bubble_gchart_fail(ctx, 400, "chs", "expected <width>x<height> "
                              "in pixels, e.g. chs=400x300");
}


/*
 * chd=t:1,2,3|4,5,6[|7,8,9]   text: '|' between series, ',' between values
 * chd=s:ABC,DEF[,GHI]         simple: one character a value, ',' between
 * chd=e:AAAB..,..             extended: two characters a value
 * "t3:" etc. name how many series are data (the rest fed markers): the
 * others are ignored, as markers are.
 */

static int
bubble_gchart_data(bubble_gchart_ctx_t *ctx)
{
    size_t         i, n, total, want;
    const char    *p, *colon;
    bubble_str_t  *v, parts[BUBBLE_GCHART_MAX_SERIES + 1];

    v = bubble_gchart_get(ctx, "chd");

    if (v == NULL || v->len == 0) {
        return bubble_gchart_fail(ctx, 400, "chd", "required: chd=t:<x "
                                  "values>|<y values>[|<sizes>]");
    }

    colon = memchr(v->data, ':', v->len);

    if (colon == NULL
        || (v->data[0] != 't' && v->data[0] != 's' && v->data[0] != 'e'))
    {
        return bubble_gchart_fail(ctx, 400, "chd", "expected text (t:), "
                                  "simple (s:) or extended (e:) encoding");
    }

    want = 0;

    for (p = v->data + 1; p < colon; p++) {
        if (*p < '0' || *p > '9' || want > 1000) {
            return bubble_gchart_fail(ctx, 400, "chd", "expected text (t:), "
                                      "simple (s:) or extended (e:) "
                                      "encoding");
        }

        want = want * 10 + (*p - '0');
    }

    ctx->encoding = v->data[0];
    p = colon + 1;

    total = bubble_gchart_split(p, v->data + v->len - p,
                                ctx->encoding == 't' ? '|' : ',',
                                parts, BUBBLE_GCHART_MAX_SERIES + 1);

    n = (want && want < total) ? want : total;

    if (n < 2 || n > BUBBLE_GCHART_MAX_SERIES) {
        return bubble_gchart_fail(ctx, 400, "chd", "a scatter chart takes 2 "
                                  "or 3 series (x, y and point sizes), got "
                                  "%zu", n);
    }

    ctx->nseries = n;

    for (i = 0; i < n; i++) {
        if (bubble_gchart_series(ctx, i, parts[i].data, parts[i].len) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
bubble_gchart_series(bubble_gchart_ctx_t *ctx, size_t s, const char *p,
    size_t len)
{
    int                  hi, lo;
    char                 ex[40];
    size_t               i, n;
    double              *vals;
    const char          *last;
    bubble_str_t         tok;
    static const char   *names[] = { "x", "y", "size" };

    last = p + len;

    /* count first: refuse past the limit before allocating */

    if (ctx->encoding == 't') {
        n = (len == 0) ? 0 : 1;
        for (i = 0; i < len; i++) {
            n += (p[i] == ',');
        }

    } else if (ctx->encoding == 's') {
        n = len;

    } else {
        if (len % 2) {
            return bubble_gchart_fail(ctx, 400, "chd", "series %zu (%s): "
                                      "extended encoding takes two "
                                      "characters a value, got %zu",
                                      s + 1, names[s], len);
        }

        n = len / 2;
    }

    if (n > ctx->limits->max_points) {
        return bubble_gchart_fail(ctx, 413, "chd", "series %zu (%s) has %zu "
                                  "points, the limit is %zu", s + 1,
                                  names[s], n, ctx->limits->max_points);
    }

    if (n == 0) {
        return bubble_gchart_fail(ctx, 400, "chd", "series %zu (%s) is "
                                  "empty", s + 1, names[s]);
    }

    if (s > 0 && n != ctx->npoints) {
        return bubble_gchart_fail(ctx, 400, "chd", "series %zu (%s) has %zu "
                                  "values, series 1 (x) has %zu: the series "
                                  "must be of equal length", s + 1, names[s],
                                  n, ctx->npoints);
    }

    vals = bubble_alloc(ctx->alloc, n * sizeof(double));
    if (vals == NULL) {
        return bubble_gchart_nomem(ctx);
    }

    for (i = 0; i < n; i++) {
        if (ctx->encoding == 't') {
            tok.data = p;
            while (p < last && *p != ',') {
                p++;
            }

            tok.len = p - tok.data;
            bubble_gchart_trim(&tok);
            p++;

            if (tok.len == 1 && tok.data[0] == '_') {
                vals[i] = NAN;
                continue;
            }

            if (bubble_gchart_number(tok.data, tok.len, &vals[i]) != 0) {
                return bubble_gchart_fail(ctx, 400, "chd", "series %zu (%s),"
                                          " value %zu: \"%s\" is not a "
                                          "number", s + 1, names[s], i + 1,
                                          bubble_gchart_excerpt(tok.data,
                                              tok.len, ex, sizeof(ex)));
            }

            continue;
        }

        if (ctx->encoding == 's') {
            if (p[i] == '_') {
                vals[i] = NAN;
                continue;
            }

            hi = bubble_gchart_code((u_char) p[i]);

            if (hi < 0 || hi > 61) {
                return bubble_gchart_fail(ctx, 400, "chd", "series %zu (%s),"
                                          " value %zu: '%c' is not simple "
                                          "encoding (A-Z a-z 0-9, _ = "
                                          "missing)", s + 1, names[s], i + 1,
                                          (p[i] >= 0x20 && p[i] < 0x7f)
                                          ? p[i] : '?');
            }

            vals[i] = hi;
            continue;
        }

        if (p[2 * i] == '_' && p[2 * i + 1] == '_') {
            vals[i] = NAN;
            continue;
        }

        hi = bubble_gchart_code((u_char) p[2 * i]);
        lo = bubble_gchart_code((u_char) p[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            return bubble_gchart_fail(ctx, 400, "chd", "series %zu (%s), "
                                      "value %zu: \"%s\" is not extended "
                                      "encoding (A-Z a-z 0-9 - ., __ = "
                                      "missing)", s + 1, names[s], i + 1,
                                      bubble_gchart_excerpt(p + 2 * i, 2,
                                          ex, sizeof(ex)));
        }

        vals[i] = hi * 64 + lo;
    }

    ctx->raw[s] = vals;
    ctx->npoints = n;

    return 0;
}


/*
 * The range each series is a fraction of.  Text: 0..100 (negative values
 * missing, larger ones cut to 100, as Google did), or chds=min,max per
 * series (the last pair for the rest), or chds=a: each series' own
 * min..max.  Simple: 0..61; extended: 0..4095; chds does not apply.
 */

static int
bubble_gchart_scaling(bubble_gchart_ctx_t *ctx)
{
    char           ex[40];
    size_t         i, k, n;
    double         lo, hi, pair[2 * BUBBLE_GCHART_MAX_SERIES];
    bubble_str_t  *v, parts[2 * BUBBLE_GCHART_MAX_SERIES + 1];

    for (i = 0; i < ctx->nseries; i++) {
        ctx->smin[i] = 0;
        ctx->smax[i] = (ctx->encoding == 't') ? 100
                       : (ctx->encoding == 's') ? 61 : 4095;
    }

    if (ctx->encoding != 't') {
        return 0;
    }

    v = bubble_gchart_get(ctx, "chds");

    if (v == NULL || v->len == 0) {
        for (i = 0; i < ctx->nseries; i++) {
            for (k = 0; k < ctx->npoints; k++) {
                if (ctx->raw[i][k] < 0) {
                    ctx->raw[i][k] = NAN;

                } else if (ctx->raw[i][k] > 100) {
                    ctx->raw[i][k] = 100;
                }
            }
        }

        return 0;
    }

    if (v->len == 1 && v->data[0] == 'a') {
        ctx->autoscale = 1;

        for (i = 0; i < ctx->nseries; i++) {
            lo = INFINITY;
            hi = -INFINITY;

            for (k = 0; k < ctx->npoints; k++) {
                if (!isnan(ctx->raw[i][k])) {
                    lo = fmin(lo, ctx->raw[i][k]);
                    hi = fmax(hi, ctx->raw[i][k]);
                }
            }

            if (lo > hi) {
                continue;               /* nothing but missing values */
            }

            /* one value: a unit either side, so it sits in the middle */
            if (lo == hi) {
                lo -= 1;
                hi += 1;
            }

            /* sizes are areas: auto scaling starts them at 0 */
            if (i == 2) {
                lo = fmin(lo, 0);
            }

            /* -1e308..1e308 has no width to take fractions of */
            if (!isfinite(hi - lo)) {
                return bubble_gchart_fail(ctx, 400, "chds", "a: series %zu "
                                          "runs from %g to %g, too wide a "
                                          "range to scale", i + 1, lo, hi);
            }

            ctx->smin[i] = lo;
            ctx->smax[i] = hi;
        }

        return 0;
    }

    n = bubble_gchart_split(v->data, v->len, ',', parts,
                            2 * BUBBLE_GCHART_MAX_SERIES + 1);

    if (n % 2) {
        return bubble_gchart_fail(ctx, 400, "chds", "expected min,max pairs "
                                  "(one per series) or \"a\", got %zu "
                                  "number%s", n, n == 1 ? "" : "s");
    }

    /* pairs past the data series scaled marker series: ignored */
    if (n > 2 * BUBBLE_GCHART_MAX_SERIES) {
        n = 2 * BUBBLE_GCHART_MAX_SERIES;
    }

    for (k = 0; k < n; k++) {
        bubble_gchart_trim(&parts[k]);

        if (bubble_gchart_number(parts[k].data, parts[k].len, &pair[k])
            != 0)
        {
            return bubble_gchart_fail(ctx, 400, "chds", "value %zu: \"%s\" "
                                      "is not a number", k + 1,
                                      bubble_gchart_excerpt(parts[k].data,
                                          parts[k].len, ex, sizeof(ex)));
        }
    }

    for (k = 0; k < n; k += 2) {
        if (pair[k] == pair[k + 1]) {
            return bubble_gchart_fail(ctx, 400, "chds", "series %zu: min "
                                      "and max are both %g", k / 2 + 1,
                                      pair[k]);
        }

        if (!isfinite(pair[k + 1] - pair[k])) {
            return bubble_gchart_fail(ctx, 400, "chds", "series %zu: %g to "
                                      "%g is too wide a range to scale",
                                      k / 2 + 1, pair[k], pair[k + 1]);
        }
    }

    for (i = 0; i < ctx->nseries; i++) {
        k = (2 * i < n) ? 2 * i : n - 2;
        ctx->smin[i] = pair[k];
        ctx->smax[i] = pair[k + 1];
    }

    return 0;
}


/*
 * chxt=x,y: the visible axes (x or t for ours at the bottom, y or r for
 * ours at the left); none shown without chxt, as Google drew.
 * chxr=<index>,<start>,<end>[,<step>]|...: an axis' range and tick step.
 */

static int
bubble_gchart_axes(bubble_gchart_ctx_t *ctx)
{
    int            a, primary[2];
    char           ex[40];
    size_t         i, k, n, nf, naxes;
    double         num[4];
    bubble_str_t  *v, *items, f[5];

    for (a = 0; a < 2; a++) {
        ctx->axis[a].index = -1;
        ctx->axis[a].start = 0;
        ctx->axis[a].end = 100;
        ctx->axis[a].step = 0;
        ctx->axis[a].param = "chxr";

        /* chds=a: axes label the data's own values */
        if (ctx->autoscale) {
            ctx->axis[a].start = ctx->smin[a];
            ctx->axis[a].end = ctx->smax[a];
            ctx->axis[a].param = "chds";
        }

        primary[a] = 0;
    }

    naxes = 0;

    v = bubble_gchart_get(ctx, "chxt");

    if (v == NULL || v->len == 0) {
        goto ranges;
    }

    n = 1;
    for (i = 0; i < v->len; i++) {
        n += (v->data[i] == ',');
    }

    items = bubble_alloc(ctx->alloc, n * sizeof(bubble_str_t));
    if (items == NULL) {
        return bubble_gchart_nomem(ctx);
    }

    n = bubble_gchart_split(v->data, v->len, ',', items, n);

    for (i = 0; i < n; i++) {
        bubble_gchart_trim(&items[i]);

        if (items[i].len != 1 || strchr("xytr", items[i].data[0]) == NULL) {
            return bubble_gchart_fail(ctx, 400, "chxt", "axis %zu: \"%s\" "
                                      "is not x, y, t or r", i,
                                      bubble_gchart_excerpt(items[i].data,
                                          items[i].len, ex, sizeof(ex)));
        }

        a = (items[i].data[0] == 'x' || items[i].data[0] == 't') ? 0 : 1;

        /* the first x (y) wins, else the first t (r): ours are bottom, left */
        if (primary[a]) {
            continue;
        }

        if (items[i].data[0] == 'x' || items[i].data[0] == 'y') {
            ctx->axis[a].index = (int) i;
            primary[a] = 1;

        } else if (ctx->axis[a].index < 0) {
            ctx->axis[a].index = (int) i;
        }
    }

    naxes = n;

ranges:

    /* checked with or without chxt: an index must name one of its axes */

    v = bubble_gchart_get(ctx, "chxr");

    if (v == NULL || v->len == 0) {
        goto check;
    }

    n = 1;
    for (i = 0; i < v->len; i++) {
        n += (v->data[i] == '|');
    }

    items = bubble_alloc(ctx->alloc, n * sizeof(bubble_str_t));
    if (items == NULL) {
        return bubble_gchart_nomem(ctx);
    }

    n = bubble_gchart_split(v->data, v->len, '|', items, n);

    for (i = 0; i < n; i++) {
        nf = bubble_gchart_split(items[i].data, items[i].len, ',', f, 5);

        if (nf < 3 || nf > 4) {
            return bubble_gchart_fail(ctx, 400, "chxr", "range %zu: expected "
                                      "<axis index>,<start>,<end>[,<step>]",
                                      i + 1);
        }

        for (k = 0; k < nf; k++) {
            bubble_gchart_trim(&f[k]);

            if (bubble_gchart_number(f[k].data, f[k].len, &num[k]) != 0) {
                return bubble_gchart_fail(ctx, 400, "chxr", "range %zu: "
                                          "\"%s\" is not a number", i + 1,
                                          bubble_gchart_excerpt(f[k].data,
                                              f[k].len, ex, sizeof(ex)));
            }
        }

        if (num[0] < 0 || num[0] != floor(num[0])
            || num[0] >= (double) naxes)
        {
            return bubble_gchart_fail(ctx, 400, "chxr", "range %zu: %g is "
                                      "not an index into chxt (%zu ax%s)",
                                      i + 1, num[0], naxes,
                                      naxes == 1 ? "is" : "es");
        }

        if (num[1] == num[2]) {
            return bubble_gchart_fail(ctx, 400, "chxr", "range %zu: start "
                                      "and end are both %g", i + 1, num[1]);
        }

        /* ranges of axes we do not draw (a t beside an x) are ignored */
        for (a = 0; a < 2; a++) {
            if (ctx->axis[a].index != (int) num[0]) {
                continue;
            }

            ctx->axis[a].start = num[1];
            ctx->axis[a].end = num[2];
            ctx->axis[a].step = (nf == 4) ? fabs(num[3]) : 0;
            ctx->axis[a].param = "chxr";

            /* more ticks than we draw: nice breaks instead */
            if (ctx->axis[a].step > 0
                && fabs(num[2] - num[1]) / ctx->axis[a].step
                   >= BUBBLE_GCHART_MAX_BREAKS)
            {
                ctx->axis[a].step = 0;
            }
        }
    }

check:

    /*
     * The axis ranges become x.limits and y.limits: refuse here, by the
     * parameter's name, what the layout would refuse by the limits' name
     * (0,-1e308,1e308 has no width, even before the 5% margins)
     */

    for (a = 0; a < 2; a++) {
        if (!bubble_range_drawable(fmin(ctx->axis[a].start, ctx->axis[a].end),
                                   fmax(ctx->axis[a].start, ctx->axis[a].end),
                                   0.05))
        {
            return bubble_gchart_fail(ctx, 400, ctx->axis[a].param,
                                      "the %s axis from %g to %g is too "
                                      "wide to draw: with 5%% margins it "
                                      "would pass the largest double, "
                                      "1.8e308",
                                      a == 0 ? "x" : "y",
                                      ctx->axis[a].start, ctx->axis[a].end);
        }
    }

    return 0;
}


/*
 * chco=RRGGBB[AA]: one colour, or '|' between per-point colours (they
 * cycle over the points); ',' separates series' colours and a scatter
 * chart has one series, so the first group counts.  chdl=A|B: a legend
 * entry per colour, in order.
 */

static int
bubble_gchart_colors(bubble_gchart_ctx_t *ctx)
{
    char          *hex, ex[40];
    size_t         i, j, n, nlabels;
    bubble_str_t  *v, group, *labels;

    v = bubble_gchart_get(ctx, "chco");

    n = 1;
    if (v && v->len) {
        (void) bubble_gchart_split(v->data, v->len, ',', &group, 1);

        for (i = 0; i < group.len; i++) {
            n += (group.data[i] == '|');
        }
    }

    /* per-point colours past the points are never used */
    n = (n > ctx->npoints) ? ctx->npoints : n;

    ctx->colors = bubble_alloc(ctx->alloc, n * sizeof(bubble_rgba_t));
    ctx->names = bubble_alloc(ctx->alloc, n * sizeof(bubble_str_t));
    ctx->slot_name = bubble_alloc(ctx->alloc, n * sizeof(size_t));

    if (ctx->colors == NULL || ctx->names == NULL || ctx->slot_name == NULL) {
        return bubble_gchart_nomem(ctx);
    }

    if (v && v->len) {
        labels = bubble_alloc(ctx->alloc, n * sizeof(bubble_str_t));
        if (labels == NULL) {
            return bubble_gchart_nomem(ctx);
        }

        (void) bubble_gchart_split(group.data, group.len, '|', labels, n);

        for (i = 0; i < n; i++) {
            bubble_gchart_trim(&labels[i]);

            if (bubble_gchart_hex_color(labels[i].data, labels[i].len,
                                        &ctx->colors[i])
                != 0)
            {
                return bubble_gchart_fail(ctx, 400, "chco", "colour %zu: "
                                          "\"%s\" is not RRGGBB or "
                                          "RRGGBBAA", i + 1,
                                          bubble_gchart_excerpt(
                                              labels[i].data, labels[i].len,
                                              ex, sizeof(ex)));
            }
        }

    } else {
        (void) bubble_color_parse(BUBBLE_GCHART_DEFAULT_COLOR,
                                  sizeof(BUBBLE_GCHART_DEFAULT_COLOR) - 1,
                                  &ctx->colors[0]);
        n = 1;
    }

    ctx->ncolors = n;

    /* legend names: chdl's, or the colour's own for the ones it omits */

    v = bubble_gchart_get(ctx, "chdl");
    nlabels = 0;
    labels = NULL;

    if (v && v->len) {
        if (!bubble_gchart_utf8(v->data, v->len)) {
            return bubble_gchart_fail(ctx, 400, "chdl", "not UTF-8 text (or "
                                      "a NUL in it)");
        }

        labels = bubble_alloc(ctx->alloc, n * sizeof(bubble_str_t));
        if (labels == NULL) {
            return bubble_gchart_nomem(ctx);
        }

        /* labels past the colours name nothing we draw */
        nlabels = bubble_gchart_split(v->data, v->len, '|', labels, n);
        nlabels = (nlabels > n) ? n : nlabels;
        ctx->has_legend = 1;
    }

    for (i = 0; i < n; i++) {
        if (i < nlabels) {
            ctx->names[i] = labels[i];
            continue;
        }

        hex = bubble_alloc(ctx->alloc, 10);
        if (hex == NULL) {
            return bubble_gchart_nomem(ctx);
        }

        ctx->names[i].len = (size_t) snprintf(hex, 10, "#%02x%02x%02x",
                                              BUBBLE_R(ctx->colors[i]),
                                              BUBBLE_G(ctx->colors[i]),
                                              BUBBLE_B(ctx->colors[i]));
        ctx->names[i].data = hex;
    }

    /* one category per distinct name, coloured by its first slot */

    ctx->nuniq = 0;

    for (i = 0; i < n; i++) {
        for (j = 0; j < ctx->nuniq; j++) {
            if (ctx->names[ctx->uniq[j]].len == ctx->names[i].len
                && memcmp(ctx->names[ctx->uniq[j]].data, ctx->names[i].data,
                          ctx->names[i].len) == 0)
            {
                break;
            }
        }

        if (j == ctx->nuniq) {
            if (ctx->nuniq == BUBBLE_GCHART_MAX_LEGEND) {
                return bubble_gchart_fail(ctx, 400,
                                          ctx->has_legend ? "chdl" : "chco",
                                          "more than %d distinct colours or "
                                          "legend entries",
                                          BUBBLE_GCHART_MAX_LEGEND);
            }

            ctx->uniq[ctx->nuniq++] = i;
        }

        ctx->slot_name[i] = j;
    }

    /* chdlp: b, t, l or r first (bv, tv, r|l ... keep only the side) */

    ctx->legend_pos = "right";
    v = bubble_gchart_get(ctx, "chdlp");

    if (v && v->len) {
        switch (v->data[0]) {
        case 'b':
            ctx->legend_pos = "bottom";
            break;
        case 't':
            ctx->legend_pos = "top";
            break;
        case 'l':
            ctx->legend_pos = "left";
            break;
        default:
            break;
        }
    }

    return 0;
}


/* chf=bg,s,RRGGBB[AA] (among '|'-separated fills); others are ignored */

static int
bubble_gchart_background(bubble_gchart_ctx_t *ctx, bubble_rgba_t *bg)
{
    size_t         i, n, k;
    bubble_str_t  *v, *fills, f[4];

    *bg = BUBBLE_RGBA(0xff, 0xff, 0xff, 0xff);

    v = bubble_gchart_get(ctx, "chf");

    if (v == NULL || v->len == 0) {
        return 0;
    }

    n = 1;
    for (i = 0; i < v->len; i++) {
        n += (v->data[i] == '|');
    }

    fills = bubble_alloc(ctx->alloc, n * sizeof(bubble_str_t));
    if (fills == NULL) {
        return bubble_gchart_nomem(ctx);
    }

    n = bubble_gchart_split(v->data, v->len, '|', fills, n);

    for (i = 0; i < n; i++) {
        k = bubble_gchart_split(fills[i].data, fills[i].len, ',', f, 4);

        if (k < 3 || f[0].len != 2 || memcmp(f[0].data, "bg", 2) != 0
            || f[1].len != 1 || f[1].data[0] != 's')
        {
            continue;
        }

        bubble_gchart_trim(&f[2]);

        if (k != 3 || bubble_gchart_hex_color(f[2].data, f[2].len, bg) != 0) {
            return bubble_gchart_fail(ctx, 400, "chf", "expected bg,s,"
                                      "RRGGBB or bg,s,RRGGBBAA");
        }
    }

    return 0;
}


/* the fraction of its encoding range a value is; NaN: missing or outside */

static double
bubble_gchart_fraction(bubble_gchart_ctx_t *ctx, size_t s, size_t i)
{
    double  f;

    f = (ctx->raw[s][i] - ctx->smin[s]) / (ctx->smax[s] - ctx->smin[s]);

    /* Google drew chds-scaled values past the range off the plot */
    if (!(f >= 0 && f <= 1)) {
        return NAN;
    }

    return f;
}


static int
bubble_gchart_emit(bubble_gchart_ctx_t *ctx, int w, int h, bubble_rgba_t bg)
{
    char           num[32];
    size_t         i, j;
    double         f, v, lo, hi;
    const char    *p, *last, *bar;
    bubble_str_t  *title, *name;

    title = bubble_gchart_get(ctx, "chtt");

    if (title && !bubble_gchart_utf8(title->data, title->len)) {
        return bubble_gchart_fail(ctx, 400, "chtt", "not UTF-8 text (or a "
                                  "NUL in it)");
    }

    /* a point needs x and y (and its size): refuse an empty chart here */
    for (i = 0; i < ctx->npoints; i++) {
        for (j = 0; j < ctx->nseries; j++) {
            if (isnan(bubble_gchart_fraction(ctx, j, i))) {
                break;
            }
        }

        if (j == ctx->nseries) {
            break;
        }
    }

    if (i == ctx->npoints) {
        return bubble_gchart_fail(ctx, 400, "chd", "no point has an x, a y%s"
                                  " within range", ctx->nseries == 3
                                  ? " and a size" : "");
    }

    /* numbers of up to 24 bytes, a colour name per point */
    ctx->cap = 512 + ctx->npoints * (ctx->nseries * 25 + 8);
    ctx->buf = bubble_alloc(ctx->alloc, ctx->cap);
    if (ctx->buf == NULL) {
        return bubble_gchart_nomem(ctx);
    }

    snprintf(num, sizeof(num), "%d,\"height\":%d", w, h);
    bubble_gchart_puts(ctx, "{\"width\":");
    bubble_gchart_puts(ctx, num);
    bubble_gchart_puts(ctx, ",\"format\":\"png\",\"theme\":\"classic\","
                       "\"alpha\":1,\"background\":");
    bubble_gchart_put_color(ctx, bg);

    /* chtt: '|' breaks lines; the first is the title, the rest a subtitle */

    if (title && title->len) {
        p = title->data;
        last = p + title->len;
        bar = memchr(p, '|', title->len);

        bubble_gchart_puts(ctx, ",\"title\":");
        bubble_gchart_put_string(ctx, p, (bar ? bar : last) - p);

        if (bar) {
            bubble_gchart_puts(ctx, ",\"subtitle\":\"");

            for (p = bar + 1; p <= last; p = bar + 1) {
                bar = memchr(p, '|', last - p);
                if (bar == NULL) {
                    bar = last;
                }

                bubble_gchart_put_escaped(ctx, p, bar - p);

                if (bar < last) {
                    bubble_gchart_puts(ctx, " ");
                }
            }

            bubble_gchart_puts(ctx, "\"");
        }
    }

    /* data: x and y on their axis ranges, sizes on 0..100 */

    bubble_gchart_puts(ctx, ",\"data\":{");

    for (j = 0; j < ctx->nseries; j++) {
        bubble_gchart_puts(ctx, j == 0 ? "\"x\":[" : j == 1 ? "],\"y\":["
                                                          : "],\"size\":[");

        for (i = 0; i < ctx->npoints; i++) {
            if (i) {
                bubble_gchart_puts(ctx, ",");
            }

            f = bubble_gchart_fraction(ctx, j, i);

            /* multiplied before divided: t:56 on 0..100 stays 56 exactly */
            lo = (j < 2) ? ctx->axis[j].start : 0;
            hi = (j < 2) ? ctx->axis[j].end : 100;

            if (isnan(f)) {
                v = NAN;

            } else if (lo == ctx->smin[j] && hi == ctx->smax[j]) {
                /* the same range: the value as written */
                v = ctx->raw[j][i];

            } else {
                v = lo + (ctx->raw[j][i] - ctx->smin[j]) * (hi - lo)
                         / (ctx->smax[j] - ctx->smin[j]);

                /*
                 * 2 * 1e308 / 100 overflows on the way: the fraction
                 * (in 0..1) times the range (finite: checked) cannot
                 */
                if (!isfinite(v)) {
                    v = lo + f * (hi - lo);
                }
            }

            bubble_gchart_put_number(ctx, v);
        }
    }

    bubble_gchart_puts(ctx, "]");

    if (ctx->nuniq > 1 || ctx->has_legend) {
        bubble_gchart_puts(ctx, ",\"series\":[");

        for (i = 0; i < ctx->npoints; i++) {
            if (i) {
                bubble_gchart_puts(ctx, ",");
            }

            name = &ctx->names[ctx->uniq[ctx->slot_name[i % ctx->ncolors]]];
            bubble_gchart_put_string(ctx, name->data, name->len);
        }

        bubble_gchart_puts(ctx, "]");
    }

    bubble_gchart_puts(ctx, "},\"mapping\":{\"x\":\"x\",\"y\":\"y\"");

    if (ctx->nseries == 3) {
        bubble_gchart_puts(ctx, ",\"size\":\"size\"");
    }

    if (ctx->nuniq > 1 || ctx->has_legend) {
        bubble_gchart_puts(ctx, ",\"color\":\"series\"");
    }

    bubble_gchart_puts(ctx, "}");

    bubble_gchart_put_axis(ctx, "x", &ctx->axis[0]);
    bubble_gchart_put_axis(ctx, "y", &ctx->axis[1]);

    /*
     * Sizes: area from 0, the full encoding range 20 px across; no size
     * legend, Google drew none.  Without sizes: 10 px across.
     */

    if (ctx->nseries == 3) {
        snprintf(num, sizeof(num), "%d", BUBBLE_GCHART_MAX_RADIUS);
        bubble_gchart_puts(ctx, ",\"size\":{\"type\":\"area\",\"range\":[0,");
        bubble_gchart_puts(ctx, num);
        bubble_gchart_puts(ctx, "],\"limits\":[0,100],\"breaks\":[]}");

    } else {
        snprintf(num, sizeof(num), "%d", BUBBLE_GCHART_POINT_RADIUS);
        bubble_gchart_puts(ctx, ",\"size\":{\"range\":[0,");
        bubble_gchart_puts(ctx, num);
        bubble_gchart_puts(ctx, "]}");
    }

    if (ctx->nuniq > 1 || ctx->has_legend) {
        bubble_gchart_puts(ctx, ",\"color\":{\"type\":\"categorical\","
                           "\"title\":\"\",\"palette\":[");

        for (i = 0; i < ctx->nuniq; i++) {
            if (i) {
                bubble_gchart_puts(ctx, ",");
            }

            bubble_gchart_put_color(ctx, ctx->colors[ctx->uniq[i]]);
        }

        bubble_gchart_puts(ctx, "],\"limits\":[");

        for (i = 0; i < ctx->nuniq; i++) {
            if (i) {
                bubble_gchart_puts(ctx, ",");
            }

            name = &ctx->names[ctx->uniq[i]];
            bubble_gchart_put_string(ctx, name->data, name->len);
        }

        bubble_gchart_puts(ctx, "]}");

    } else {
        bubble_gchart_puts(ctx, ",\"color\":{\"value\":");
        bubble_gchart_put_color(ctx, ctx->colors[0]);
        bubble_gchart_puts(ctx, "}");
    }

    bubble_gchart_puts(ctx, ",\"legend\":{\"position\":\"");
    bubble_gchart_puts(ctx, ctx->has_legend ? ctx->legend_pos : "none");
    bubble_gchart_puts(ctx, "\"}}");

    if (ctx->nomem) {
        return bubble_gchart_nomem(ctx);
    }

    if (ctx->nonfinite) {
        bubble_error_set(ctx->err, 500, "internal", "",
                         "legacy URL: a number past the doubles in the "
                         "converted spec");
        return -1;
    }

    ctx->buf[ctx->len] = '\0';

    return 0;
}


/* an axis: its range as limits (reversed if start > end), its ticks */

static void
bubble_gchart_put_axis(bubble_gchart_ctx_t *ctx, const char *name,
    bubble_gchart_axis_t *axis)
{
    double  lo, hi, b;
    size_t  k;

    lo = fmin(axis->start, axis->end);
    hi = fmax(axis->start, axis->end);

    bubble_gchart_puts(ctx, ",\"");
    bubble_gchart_puts(ctx, name);
    bubble_gchart_puts(ctx, "\":{\"title\":\"\",\"limits\":[");
    bubble_gchart_put_number(ctx, lo);
    bubble_gchart_puts(ctx, ",");
    bubble_gchart_put_number(ctx, hi);
    bubble_gchart_puts(ctx, "]");

    if (axis->start > axis->end) {
        bubble_gchart_puts(ctx, ",\"reverse\":true");
    }

    if (axis->index < 0) {
        /* not in chxt: no ticks, no labels */
        bubble_gchart_puts(ctx, ",\"breaks\":[]");

    } else if (axis->step > 0) {
        /* from start by step, as Google labelled; the last within 1e-9 */
        bubble_gchart_puts(ctx, ",\"breaks\":[");

        for (k = 0; k < BUBBLE_GCHART_MAX_BREAKS; k++) {
            b = lo + k * axis->step;

            if (b > hi + (hi - lo) * 1e-9) {
                break;
            }

            if (k) {
                bubble_gchart_puts(ctx, ",");
            }

            bubble_gchart_put_number(ctx, b);
        }

        bubble_gchart_puts(ctx, "]");
    }

    bubble_gchart_puts(ctx, "}");
}


/* strict decimal: [-+]digits[.digits][e[-+]digits]; finite */

static int
bubble_gchart_number(const char *p, size_t len, double *out)
{
    char          buf[BUBBLE_GCHART_NUMBER_LEN], *end;
    size_t        i, digits;

    if (len == 0 || len >= sizeof(buf)) {
        return -1;
    }

    i = 0;
    digits = 0;

    if (p[i] == '-' || p[i] == '+') {
        i++;
    }

    while (i < len && p[i] >= '0' && p[i] <= '9') {
        i++;
        digits++;
    }

    if (i < len && p[i] == '.') {
        i++;

        while (i < len && p[i] >= '0' && p[i] <= '9') {
            i++;
            digits++;
        }
    }

    if (digits == 0) {
        return -1;
    }

    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;

        if (i < len && (p[i] == '-' || p[i] == '+')) {
            i++;
        }

        digits = 0;

        while (i < len && p[i] >= '0' && p[i] <= '9') {
            i++;
            digits++;
        }

        if (digits == 0) {
            return -1;
        }
    }

    if (i != len) {
        return -1;
    }

    memcpy(buf, p, len);
    buf[len] = '\0';

    *out = strtod(buf, &end);

    return isfinite(*out) ? 0 : -1;
}


static int
bubble_gchart_hex_color(const char *p, size_t len, bubble_rgba_t *out)
{
    char    buf[10];
    size_t  i;

    if (len != 6 && len != 8) {
        return -1;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= '0' && p[i] <= '9')
              || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f')))
        {
            return -1;
        }
    }

    buf[0] = '#';
    memcpy(buf + 1, p, len);

    return bubble_color_parse(buf, len + 1, out);
}


/*
 * Well-formed UTF-8 (RFC 3629): no overlongs, surrogates or past U+10FFFF,
 * and no NUL, which the spec parser refuses in a string.
 */

static int
bubble_gchart_utf8(const char *s, size_t len)
{
    size_t          i, n, k;
    uint32_t        cp;
    const u_char   *p = (const u_char *) s;

    for (i = 0; i < len; i += n) {
        if (p[i] < 0x80) {
            if (p[i] == '\0') {
                return 0;
            }

            n = 1;
            continue;
        }

        if ((p[i] & 0xe0) == 0xc0) {
            n = 2;
            cp = p[i] & 0x1f;

        } else if ((p[i] & 0xf0) == 0xe0) {
            n = 3;
            cp = p[i] & 0x0f;

        } else if ((p[i] & 0xf8) == 0xf0) {
            n = 4;
            cp = p[i] & 0x07;

        } else {
            return 0;
        }

        if (i + n > len) {
            return 0;
        }

        for (k = 1; k < n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return 0;
            }

            cp = (cp << 6) | (p[i + k] & 0x3f);
        }

        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800)
            || (n == 4 && cp < 0x10000) || cp > 0x10ffff
            || (cp >= 0xd800 && cp <= 0xdfff))
        {
            return 0;
        }
    }

    return 1;
}


/*
 * Splits on sep, keeping the first max parts; returns how many parts the
 * text has, which may exceed max.
 */

static size_t
bubble_gchart_split(const char *p, size_t len, int sep, bubble_str_t *out,
    size_t max)
{
    size_t       n;
    const char  *last, *q;

    last = p + len;

    for (n = 0; /* void */; n++) {
        q = memchr(p, sep, last - p);

        if (n < max) {
            out[n].data = p;
            out[n].len = (q ? q : last) - p;
        }

        if (q == NULL) {
            return n + 1;
        }

        p = q + 1;
    }
}


static void
bubble_gchart_trim(bubble_str_t *s)
{
    while (s->len && s->data[0] == ' ') {
        s->data++;
        s->len--;
    }

    while (s->len && s->data[s->len - 1] == ' ') {
        s->len--;
    }
}


/* a bit of the input for a message: printable ASCII, the rest as '?' */

static const char *
bubble_gchart_excerpt(const char *p, size_t len, char *buf, size_t size)
{
    size_t  i, n;

    n = (len < size - 4) ? len : size - 4;

    for (i = 0; i < n; i++) {
        buf[i] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
    }

    if (n < len) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }

    buf[n] = '\0';

    return buf;
}


/* output */


static void
bubble_gchart_put(bubble_gchart_ctx_t *ctx, const char *s, size_t len)
{
    size_t   cap;
    u_char  *buf;

    if (ctx->nomem) {
        return;
    }

    /* one byte kept for the final NUL */
    if (ctx->len + len + 1 > ctx->cap) {
        cap = ctx->cap * 2;
        while (cap < ctx->len + len + 1) {
            cap *= 2;
        }

        buf = bubble_alloc(ctx->alloc, cap);
        if (buf == NULL) {
            ctx->nomem = 1;
            return;
        }

        memcpy(buf, ctx->buf, ctx->len);
        bubble_free(ctx->alloc, ctx->buf);
        ctx->buf = buf;
        ctx->cap = cap;
    }

    memcpy(ctx->buf + ctx->len, s, len);
    ctx->len += len;
}


static void
bubble_gchart_puts(bubble_gchart_ctx_t *ctx, const char *s)
{
    bubble_gchart_put(ctx, s, strlen(s));
}


/*
 * The shortest of %.15g and %.17g that reads back as the same double;
 * NaN (a missing value) as null.  Infinity has no JSON: every caller
 * keeps its numbers finite, and one that does not is flagged, never
 * written as "inf" for the spec parser to stumble on.
 */

static void
bubble_gchart_put_number(bubble_gchart_ctx_t *ctx, double v)
{
    int   n;
    char  buf[32];

    if (isnan(v)) {
        bubble_gchart_puts(ctx, "null");
        return;
    }

    if (isinf(v)) {
        ctx->nonfinite = 1;
        bubble_gchart_puts(ctx, "null");
        return;
    }

    /* -0 is 0 to a reader */
    if (v == 0) {
        v = 0;
    }

    n = snprintf(buf, sizeof(buf), "%.15g", v);

    if (strtod(buf, NULL) != v) {
        n = snprintf(buf, sizeof(buf), "%.17g", v);
    }

    bubble_gchart_put(ctx, buf, (size_t) n);
}


static void
bubble_gchart_put_string(bubble_gchart_ctx_t *ctx, const char *s, size_t len)
{
    bubble_gchart_puts(ctx, "\"");
    bubble_gchart_put_escaped(ctx, s, len);
    bubble_gchart_puts(ctx, "\"");
}


/* JSON string contents: quotes, backslashes and controls escaped */

static void
bubble_gchart_put_escaped(bubble_gchart_ctx_t *ctx, const char *s,
    size_t len)
{
    char    esc[8];
    size_t  i, start;

    for (i = 0, start = 0; i < len; i++) {
        if (s[i] != '"' && s[i] != '\\' && (u_char) s[i] >= 0x20) {
            continue;
        }

        bubble_gchart_put(ctx, s + start, i - start);

        if (s[i] == '"' || s[i] == '\\') {
            esc[0] = '\\';
            esc[1] = s[i];
            bubble_gchart_put(ctx, esc, 2);

        } else {
            snprintf(esc, sizeof(esc), "\\u%04x", (u_char) s[i]);
            bubble_gchart_put(ctx, esc, 6);
        }

        start = i + 1;
    }

    bubble_gchart_put(ctx, s + start, len - start);
}


static void
bubble_gchart_put_color(bubble_gchart_ctx_t *ctx, bubble_rgba_t c)
{
    char  buf[16];
    int   n;

    if (BUBBLE_A(c) == 0xff) {
        n = snprintf(buf, sizeof(buf), "\"#%02x%02x%02x\"", BUBBLE_R(c),
                     BUBBLE_G(c), BUBBLE_B(c));

    } else {
        n = snprintf(buf, sizeof(buf), "\"#%02x%02x%02x%02x\"", BUBBLE_R(c),
                     BUBBLE_G(c), BUBBLE_B(c), BUBBLE_A(c));
    }

    bubble_gchart_put(ctx, buf, (size_t) n);
}

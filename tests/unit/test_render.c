/*
 * Unit tests of rendering (core/bubble_layout.c, bubble_svg.c,
 * bubble_raster.c, bubble_render.c): W2-like specs (a 320 x 240
 * thumbnail, 30 bubbles) rendered to SVG, PNG and PDF.
 *
 * Checked: SVG structure and well-formedness (valid UTF-8, XML-legal
 * characters, no NaN in attributes), one circle per kept row plus the
 * legend's, XML escaping of every user string, determinism, dropped-row
 * counts, drawing order, PNG and PDF headers, CJK text, and errors.
 *
 * Every test gets its own arena (arena.h), freed at its end:
 *
 *   valgrind --leak-check=full --errors-for-leak-kinds=definite \
 *       --child-silent-after-fork=yes ../../build/tests/test_render
 */

#define _GNU_SOURCE                         /* memmem */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <glib.h>

#include "bubble.h"
#include "bubble_dlist.h"
#include "bubble_text.h"
#include "arena.h"


#define nelts(a)  (sizeof(a) / sizeof((a)[0]))

#define W2_ROWS   30

/* the title of the XSS test, as JSON and as it must appear in XML */
#define HOSTILE_JSON  "</text><script>alert(1)</script> & \\\"q\\\""
#define HOSTILE_XML   "&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt; " \
                      "&amp; &quot;q&quot;"


typedef struct {
    arena_t                 *arena;
    bubble_limits_t          limits;
    bubble_error_t           err;
} fx_t;


typedef struct {
    char                    *data;
    size_t                   len;
    size_t                   size;
} sbuf_t;


static int
setup(void **state)
{
    fx_t  *fx;

    fx = calloc(1, sizeof(fx_t));
    if (fx == NULL) {
        return -1;
    }

    fx->arena = arena_new();
    if (fx->arena == NULL) {
        free(fx);
        return -1;
    }

    bubble_limits_default(&fx->limits);
    *state = fx;

    return 0;
}


static int
teardown(void **state)
{
    fx_t  *fx = *state;

    assert_int_equal(fx->arena->bad_frees, 0);

    arena_destroy(fx->arena);
    free(fx);

    return 0;
}


/* pango logs structured: count its messages, print them as usual */

static int  pango_warnings;

static GLogWriterOutput
log_writer(GLogLevelFlags level, const GLogField *fields, gsize n,
    gpointer data)
{
    gsize  i;

    for (i = 0; i < n; i++) {
        if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0
            && fields[i].length < 0
            && strcmp(fields[i].value, "Pango") == 0)
        {
            pango_warnings++;
        }
    }

    return g_log_writer_default(level, fields, n, data);
}


static int
group_setup(void **state)
{
    g_log_set_writer_func(log_writer, NULL, NULL);

    /* fontconfig and pango caches once, as nginx does at start */
    bubble_warm_up();
    return 0;
}


static void
sb_printf(sbuf_t *b, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static void
sb_printf(sbuf_t *b, const char *fmt, ...)
{
    int      n;
    va_list  args;

    for ( ;; ) {
        va_start(args, fmt);
        n = vsnprintf(b->data + b->len, b->size - b->len, fmt, args);
        va_end(args);

        assert_true(n >= 0);

        if ((size_t) n < b->size - b->len) {
            b->len += n;
            return;
        }

        b->size = (b->size ? 2 * b->size : 4096) + (size_t) n;
        b->data = realloc(b->data, b->size);
        assert_non_null(b->data);
    }
}


/*
 * A W2-like spec: 320 x 240, W2_ROWS rows in column form (x, y, size in
 * [0, 10) x [0, 10) x [1, 5), a "name" column for tooltips and a
 * "group" column of 3 categories), then the caller's members.  The
 * numbers come from a fixed LCG.
 */

static unsigned long  lcg_state;

static double
lcg(void)
{
    lcg_state = lcg_state * 6364136223846793005UL + 1442695040888963407UL;
    return (double) (lcg_state >> 11) / 9007199254740992.0;
}


static const char *
w2_size(sbuf_t *b, int width, int height, const char *fields)
{
    size_t  i;
    double  v[3][W2_ROWS];

    lcg_state = 42;

    for (i = 0; i < W2_ROWS; i++) {
        v[0][i] = lcg() * 10;
        v[1][i] = lcg() * 10;
        v[2][i] = 1 + lcg() * 4;
    }

    b->len = 0;
    sb_printf(b, "{\"width\":%d,\"height\":%d,\"data\":{", width, height);

    sb_printf(b, "\"x\":[");
    for (i = 0; i < W2_ROWS; i++) {
        sb_printf(b, "%s%.6f", i ? "," : "", v[0][i]);
    }

    sb_printf(b, "],\"y\":[");
    for (i = 0; i < W2_ROWS; i++) {
        sb_printf(b, "%s%.6f", i ? "," : "", v[1][i]);
    }

    sb_printf(b, "],\"size\":[");
    for (i = 0; i < W2_ROWS; i++) {
        sb_printf(b, "%s%.6f", i ? "," : "", v[2][i]);
    }

    sb_printf(b, "],\"name\":[");
    for (i = 0; i < W2_ROWS; i++) {
        sb_printf(b, "%s\"p%zu\"", i ? "," : "", i);
    }

    sb_printf(b, "],\"group\":[");
    for (i = 0; i < W2_ROWS; i++) {
        sb_printf(b, "%s\"%c\"", i ? "," : "", "abc"[i % 3]);
    }

    sb_printf(b, "]}%s%s}", fields[0] ? "," : "", fields);

    return b->data;
}


static const char *
w2(sbuf_t *b, const char *fields)
{
    return w2_size(b, 320, 240, fields);
}


static bubble_chart_t *
parse_ok(fx_t *fx, const char *json)
{
    bubble_chart_t  *chart;

    memset(&fx->err, 0, sizeof(bubble_error_t));

    chart = bubble_spec_parse(&fx->arena->alloc, &fx->limits,
                              (const u_char *) json, strlen(json), &fx->err);
    if (chart == NULL) {
        print_error("spec: %.300s\n  expected a chart, got %d %s \"%s\": "
                    "%s\n", json, fx->err.status,
                    fx->err.code ? fx->err.code : "(null)", fx->err.path,
                    fx->err.message);
    }

    assert_non_null(chart);
    return chart;
}


/* parse and render in the given format; 0 or -1 with fx->err set */

static int
render(fx_t *fx, const char *json, bubble_format_e format,
    bubble_output_t *out)
{
    bubble_chart_t  *chart;

    chart = parse_ok(fx, json);
    chart->format = format;

    memset(out, 0, sizeof(bubble_output_t));
    memset(&fx->err, 0, sizeof(bubble_error_t));

    return bubble_render(&fx->arena->alloc, chart, out, &fx->err);
}


static void
render_ok(fx_t *fx, const char *json, bubble_format_e format,
    bubble_output_t *out)
{
    if (render(fx, json, format, out) != 0) {
        print_error("spec: %.300s\n  expected %s output, got %d %s \"%s\": "
                    "%s\n", json,
                    format == BUBBLE_FORMAT_SVG ? "SVG"
                    : format == BUBBLE_FORMAT_PNG ? "PNG" : "PDF",
                    fx->err.status, fx->err.code ? fx->err.code : "(null)",
                    fx->err.path, fx->err.message);
        fail();
    }

    assert_non_null(out->data);
    assert_true(out->len > 0);
}


static size_t
count(const bubble_output_t *out, const char *needle)
{
    size_t       n, len;
    const char  *p, *end;

    n = 0;
    len = strlen(needle);
    p = (const char *) out->data;
    end = p + out->len;

    while ((size_t) (end - p) >= len) {
        p = memmem(p, end - p, needle, len);
        if (p == NULL) {
            break;
        }

        n++;
        p += len;
    }

    return n;
}


static int
contains(const bubble_output_t *out, const char *needle)
{
    return memmem(out->data, out->len, needle, strlen(needle)) != NULL;
}


/*
 * What any SVG we hand to librsvg or a browser must be: valid UTF-8 with
 * only characters XML 1.0 allows (no C0 controls but tab, newline and
 * return; no surrogates, no U+FFFE/U+FFFF), one root, numbers in every
 * attribute.  Returns a description of the first problem, or NULL.
 */

static const char *
svg_problem(const bubble_output_t *out, char *buf, size_t size)
{
    size_t          i, n;
    uint32_t        cp;
    const u_char   *s = out->data;

    static const char  head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                "<svg ";

    if (out->len < sizeof(head) || memcmp(s, head, sizeof(head) - 1) != 0) {
        return "does not start with the XML declaration and <svg";
    }

    if (out->len < 7 || memcmp(s + out->len - 7, "</svg>\n", 7) != 0) {
        return "does not end with </svg>";
    }

    for (i = 0; i < out->len; i += n) {
        if (s[i] < 0x80) {
            n = 1;
            cp = s[i];

        } else if ((s[i] & 0xe0) == 0xc0) {
            n = 2;
            cp = s[i] & 0x1f;
        } else if ((s[i] & 0xf0) == 0xe0) {
            n = 3;
            cp = s[i] & 0x0f;
        } else if ((s[i] & 0xf8) == 0xf0) {
            n = 4;
            cp = s[i] & 0x07;
        } else {
            snprintf(buf, size, "invalid UTF-8 byte 0x%02x at %zu", s[i], i);
            return buf;
        }

        if (i + n > out->len) {
            snprintf(buf, size, "truncated UTF-8 sequence at %zu", i);
            return buf;
        }

        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                snprintf(buf, size, "invalid UTF-8 sequence at %zu", i);
                return buf;
            }
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }

        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800)
            || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        {
            snprintf(buf, size, "overlong UTF-8 sequence at %zu", i);
            return buf;
        }

        if ((cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r')
            || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe
            || cp == 0xffff)
        {
            snprintf(buf, size, "U+%04X is not allowed in XML, at %zu",
                     (unsigned) cp, i);
            return buf;
        }
    }

    /*
     * one root; every other <svg> is a panel's clipping viewport, which the
     * writer opens as <svg x=; anything else came from user text
     */
    if (count(out, "<svg") != 1 + count(out, "<svg x=\"")
        || count(out, "<svg") != count(out, "</svg>"))
    {
        return "an <svg> element that is neither the root nor a panel";
    }

    if (contains(out, "=\"nan") || contains(out, "=\"-nan")
        || contains(out, "=\"inf") || contains(out, "=\"-inf")
        || contains(out, " nan") || contains(out, " -nan"))
    {
        return "NaN or infinity in an attribute";
    }

    return NULL;
}


static void
assert_svg_ok(const bubble_output_t *out)
{
    char         buf[128];
    const char  *problem;

    problem = svg_problem(out, buf, sizeof(buf));

    if (problem != NULL) {
        print_error("bad SVG: %s\n", problem);
        fail();
    }
}


/* circles in document order: radius, and whether it has a tooltip */

typedef struct {
    double                   r;
    int                      tooltip;
} circle_t;


static size_t
circles(const bubble_output_t *out, circle_t *c, size_t max)
{
    size_t       n;
    const char  *p, *end, *r, *close;

    n = 0;
    p = (const char *) out->data;
    end = p + out->len;

    while ((p = memmem(p, end - p, "<circle ", 8)) != NULL) {
        close = memchr(p, '>', end - p);
        assert_non_null(close);

        r = memmem(p, close - p, " r=\"", 4);
        assert_non_null(r);

        if (n < max) {
            c[n].r = strtod(r + 4, NULL);
            c[n].tooltip = (close[-1] != '/');
        }

        n++;
        p = close;
    }

    return n;
}


static uint32_t
be32(const u_char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}


static void
assert_png(const bubble_output_t *out, uint32_t width, uint32_t height)
{
    static const u_char  sig[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
                                   '\n' };
    static const u_char  iend[] = { 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae,
                                    0x42, 0x60, 0x82 };

    assert_true(out->len > 8 + 25 + 12);
    assert_memory_equal(out->data, sig, 8);

    /* the first chunk: IHDR, 13 bytes */
    assert_int_equal(be32(out->data + 8), 13);
    assert_memory_equal(out->data + 12, "IHDR", 4);
    assert_int_equal(be32(out->data + 16), width);
    assert_int_equal(be32(out->data + 20), height);

    assert_memory_equal(out->data + out->len - 12, iend, 12);
}


/* tests */


static void
test_svg_structure(void **state)
{
    fx_t             *fx = *state;
    sbuf_t            b = { NULL, 0, 0 };
    bubble_output_t   out;

    render_ok(fx, w2(&b, "\"title\":\"W2\""), BUBBLE_FORMAT_SVG, &out);
    free(b.data);

    assert_svg_ok(&out);

    assert_true(out.len > 5 && memcmp(out.data, "<?xml", 5) == 0);
    assert_true(contains(&out, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_true(contains(&out, " width=\"320\""));
    assert_true(contains(&out, " height=\"240\""));
    assert_true(contains(&out, " viewBox=\"0 0 320 240\""));
    assert_true(contains(&out, " role=\"img\""));
    assert_true(contains(&out, "<title>W2</title>"));
    assert_int_equal(out.dropped_rows, 0);

    /* nothing a browser or librsvg would fetch or run */
    assert_false(contains(&out, "<script"));
    assert_false(contains(&out, "<image"));
    assert_false(contains(&out, "href"));
    assert_false(contains(&out, "<foreignObject"));
}


static void
test_svg_circles_per_row_and_legend(void **state)
{
    fx_t             *fx = *state;
    size_t            i, n, panel;
    sbuf_t            b = { NULL, 0, 0 };
    circle_t          c[256];
    bubble_output_t   out;

    /* tooltips tell the panel's circles from the legend's */
    render_ok(fx, w2(&b, "\"mapping\":{\"tooltip\":\"name\"}"),
              BUBBLE_FORMAT_SVG, &out);
    assert_svg_ok(&out);

    n = circles(&out, c, nelts(c));
    assert_true(n <= nelts(c));

    panel = 0;
    for (i = 0; i < n; i++) {
        panel += c[i].tooltip;
    }

    assert_int_equal(panel, W2_ROWS);
    assert_int_equal(count(&out, "<title>p"), W2_ROWS);

    /* the size legend: a few keys, drawn after every bubble */
    assert_true(n - panel >= 2 && n - panel <= 32);
    for (i = 0; i < panel; i++) {
        assert_true(c[i].tooltip);
    }

    /* no legend: exactly one circle per row */
    render_ok(fx, w2(&b, "\"legend\":{\"position\":\"none\"}"),
              BUBBLE_FORMAT_SVG, &out);
    assert_svg_ok(&out);
    assert_int_equal(count(&out, "<circle "), W2_ROWS);

    /* no size mapping and no colour: no legend at all */
    render_ok(fx, w2(&b, "\"mapping\":{\"size\":null}"), BUBBLE_FORMAT_SVG,
              &out);
    assert_svg_ok(&out);
    assert_int_equal(count(&out, "<circle "), W2_ROWS);

    free(b.data);
}


static void
test_svg_escapes_user_text(void **state)
{
    fx_t             *fx = *state;
    bubble_output_t   out;

    /* the title: in <title> and in a <text> (wide enough to fit whole) */
    render_ok(fx, "{\"width\":640,\"height\":240,"
                  "\"data\":{\"x\":[1,2,3],\"y\":[1,4,9]},"
                  "\"title\":\"" HOSTILE_JSON "\"}", BUBBLE_FORMAT_SVG, &out);
    assert_svg_ok(&out);

    assert_false(contains(&out, "<script"));
    assert_false(contains(&out, "</script"));
    assert_false(contains(&out, "& \""));
    assert_int_equal(count(&out, HOSTILE_XML), 2);
    assert_true(contains(&out, "<title>" HOSTILE_XML "</title>"));

    /* every other user string: subtitle, caption, axis and legend titles,
     * column names, category values, labels, tooltips, tick labels */
    render_ok(fx, "{\"width\":640,\"height\":480,\"data\":["
                  "{\"<x>\":1,\"y\":1,\"s&\":1,\"c\":\"" HOSTILE_JSON "\","
                  "\"t\":\"" HOSTILE_JSON "\"},"
                  "{\"<x>\":2,\"y\":4,\"s&\":2,\"c\":\"b'\",\"t\":\"<b>\"},"
                  "{\"<x>\":3,\"y\":9,\"s&\":3,\"c\":\"c\",\"t\":\"&amp;\"}],"
                  "\"mapping\":{\"x\":\"<x>\",\"size\":\"s&\","
                  "\"color\":\"c\",\"label\":\"t\",\"tooltip\":\"t\"},"
                  "\"subtitle\":\"" HOSTILE_JSON "\","
                  "\"caption\":\"" HOSTILE_JSON "\","
                  "\"y\":{\"title\":\"" HOSTILE_JSON "\","
                  "\"breaks\":[1,5],\"labels\":[\"<1>\",\"5 & up\"]},"
                  "\"color\":{\"title\":\"" HOSTILE_JSON "\"},"
                  "\"font\":{\"family\":\"DejaVu Sans\"}}",
              BUBBLE_FORMAT_SVG, &out);
    assert_svg_ok(&out);

    assert_false(contains(&out, "<script"));
    assert_false(contains(&out, "<b>"));
    assert_false(contains(&out, "<x>"));
    assert_false(contains(&out, "<1>"));
    assert_false(contains(&out, "s&<"));
    assert_true(contains(&out, ">&lt;x&gt;</text>"));
    assert_true(contains(&out, ">s&amp;</text>"));
    assert_true(contains(&out, ">&lt;1&gt;</text>"));
    assert_true(contains(&out, ">5 &amp; up</text>"));
    assert_true(contains(&out, "<title>&amp;amp;</title>"));
    assert_true(contains(&out, "b&#39;"));
    assert_true(count(&out, HOSTILE_XML) >= 6);

    /* and librsvg reads it: a PNG comes out */
    render_ok(fx, "{\"width\":320,\"height\":240,"
                  "\"data\":{\"x\":[1,2,3],\"y\":[1,4,9]},"
                  "\"title\":\"" HOSTILE_JSON "\"}", BUBBLE_FORMAT_PNG, &out);
    assert_png(&out, 320, 240);
}


/* C0 controls are not XML even escaped: dropped, and the PNG renders */

static void
test_svg_drops_control_characters(void **state)
{
    fx_t             *fx = *state;
    bubble_chart_t   *chart;
    bubble_output_t   out;

    static const char  spec[] =
        "{\"width\":320,\"height\":240,"
        "\"data\":{\"x\":[1,2],\"y\":[1,2],\"t\":[\"a\\u0001b\",\"\\u001f\"]},"
        "\"mapping\":{\"tooltip\":\"t\",\"label\":\"t\"},"
        "\"title\":\"t\\u0001i\\u0007t\\u001bl\\be\\f\\r\\n\\t.\"}";

    static const char  nul[] =
        "{\"data\":{\"x\":[1,2],\"y\":[1,2]},\"title\":\"a\\u0000b\"}";

    render_ok(fx, spec, BUBBLE_FORMAT_SVG, &out);
    assert_svg_ok(&out);
    assert_true(contains(&out, "<title>title"));
    assert_true(contains(&out, "<title>ab</title>"));

    render_ok(fx, spec, BUBBLE_FORMAT_PNG, &out);
    assert_png(&out, 320, 240);

    /* NUL: refused with its path, or dropped like the others */
    memset(&fx->err, 0, sizeof(bubble_error_t));
    chart = bubble_spec_parse(&fx->arena->alloc, &fx->limits,
                              (const u_char *) nul, sizeof(nul) - 1,
                              &fx->err);

    if (chart == NULL) {
        assert_int_equal(fx->err.status, 400);
        assert_string_equal(fx->err.path, "title");

    } else {
        chart->format = BUBBLE_FORMAT_SVG;
        assert_int_equal(bubble_render(&fx->arena->alloc, chart, &out,
                                       &fx->err), 0);
        assert_svg_ok(&out);
    }
}


/*
 * JSON escapes can spell what XML forbids and UTF-8 validation of the
 * raw body does not catch: U+FFFE, U+FFFF, and lone surrogates (yajl
 * writes "\udc00" as the 3 bytes ED B0 80).  A title with them is either
 * refused by the parser (400) or renders (the characters dropped or
 * replaced); never a 500 from librsvg.
 */

static void
test_svg_xml_forbidden_code_points(void **state)
{
    fx_t             *fx = *state;
    int               bad;
    size_t            i;
    char              spec[256];
    bubble_chart_t   *chart;
    bubble_output_t   out;

    static const char  *titles[] = {
        "a\\uffffb", "a\\ufffeb", "a\\udc00b", "a\\udfffb", "\\ud800\\ud800",
        "\\ud800a",
    };

    bad = 0;

    for (i = 0; i < nelts(titles); i++) {
        snprintf(spec, sizeof(spec), "{\"width\":320,\"height\":240,"
                 "\"data\":{\"x\":[1,2],\"y\":[1,2]},\"title\":\"%s\"}",
                 titles[i]);

        memset(&fx->err, 0, sizeof(bubble_error_t));
        chart = bubble_spec_parse(&fx->arena->alloc, &fx->limits,
                                  (const u_char *) spec, strlen(spec),
                                  &fx->err);

        if (chart == NULL) {
            if (fx->err.status != 400) {
                print_error("title \"%s\": parse: %d %s \"%s\": %s\n",
                            titles[i], fx->err.status, fx->err.code,
                            fx->err.path, fx->err.message);
                bad++;
            }

            continue;
        }

        chart->format = BUBBLE_FORMAT_SVG;
        if (bubble_render(&fx->arena->alloc, chart, &out, &fx->err) != 0) {
            print_error("title \"%s\": SVG: %d %s: %s\n", titles[i],
                        fx->err.status, fx->err.code, fx->err.message);
            bad++;
            continue;
        }

        assert_svg_ok(&out);

        chart->format = BUBBLE_FORMAT_PNG;
        if (bubble_render(&fx->arena->alloc, chart, &out, &fx->err) != 0) {
            print_error("title \"%s\": PNG: %d %s: %s\n", titles[i],
                        fx->err.status, fx->err.code, fx->err.message);
            bad++;
            continue;
        }

        assert_png(&out, 320, 240);
    }

    assert_int_equal(bad, 0);
}


/*
 * A long category is a legend label: however it is shortened, the SVG
 * stays valid UTF-8, the PNG renders, and pango is never handed half a
 * character to measure (it warns "Invalid UTF-8 string passed to
 * pango_layout_set_text()" and measures something else).  200 x "é" is
 * 400 bytes, and any cut at an odd byte count splits a character.
 */

static void
test_legend_long_utf8_category(void **state)
{
    fx_t             *fx = *state;
    int               warnings;
    size_t            i;
    sbuf_t            b = { NULL, 0, 0 };
    bubble_output_t   out;

    sb_printf(&b, "{\"width\":4000,\"height\":300,\"data\":{\"x\":[1,2,3],"
                  "\"y\":[3,4,5],\"color\":[\"");
    for (i = 0; i < 200; i++) {
        sb_printf(&b, "\xc3\xa9");
    }
    sb_printf(&b, "\",\"b\",\"c\"]}}");

    pango_warnings = 0;

    render_ok(fx, b.data, BUBBLE_FORMAT_SVG, &out);
    assert_svg_ok(&out);

    render_ok(fx, b.data, BUBBLE_FORMAT_PNG, &out);
    assert_png(&out, 4000, 300);

    warnings = pango_warnings;
    free(b.data);

    if (warnings) {
        print_error("pango warned %d times (invalid UTF-8 measured)\n",
                    warnings);
        fail();
    }
}


/* a colour column with one value: a colour bar, and no NaN in the SVG */

static void
test_svg_constant_continuous_colour(void **state)
{
    fx_t             *fx = *state;
    bubble_output_t   out;

    render_ok(fx, "{\"width\":320,\"height\":240,\"data\":{\"x\":[1,2,3],"
                  "\"y\":[3,4,5],\"color\":[5,5,5]}}", BUBBLE_FORMAT_SVG,
              &out);
    assert_svg_ok(&out);
}


/* the SVG buffer is sized up front: worst-case escaping must fit */

static void
test_svg_worst_case_escaping(void **state)
{
    fx_t             *fx = *state;
    size_t            i, k;
    sbuf_t            b = { NULL, 0, 0 };
    bubble_output_t   out;

    sb_printf(&b, "{\"width\":1000,\"height\":800,\"title\":\"");
    for (i = 0; i < 8000; i++) {
        sb_printf(&b, "\\\"");
    }

    sb_printf(&b, "\",\"data\":{\"x\":[");
    for (i = 0; i < 50; i++) {
        sb_printf(&b, "%s%zu", i ? "," : "", i);
    }

    sb_printf(&b, "],\"y\":[");
    for (i = 0; i < 50; i++) {
        sb_printf(&b, "%s%zu", i ? "," : "", (i * 7) % 50);
    }

    sb_printf(&b, "],\"t\":[");
    for (i = 0; i < 50; i++) {
        sb_printf(&b, "%s\"", i ? "," : "");
        for (k = 0; k < 500; k++) {
            sb_printf(&b, "'");
        }
        sb_printf(&b, "\"");
    }

    sb_printf(&b, "],\"c\":[");
    for (i = 0; i < 50; i++) {
        sb_printf(&b, "%s\"%zu&<>\\\"'\"", i ? "," : "", i % 10);
    }

    sb_printf(&b, "]},\"mapping\":{\"tooltip\":\"t\",\"label\":\"t\","
                  "\"color\":\"c\"},\"subtitle\":\"<<<<<<<<<<<<\","
                  "\"x\":{\"title\":\"&&&&&&&&&&&&&&&&&&&&&&&&&\"}}");

    render_ok(fx, b.data, BUBBLE_FORMAT_SVG, &out);
    assert_svg_ok(&out);
    assert_int_equal(count(&out, "<circle "), 50 + 10);

    free(b.data);
}


static void
test_render_deterministic(void **state)
{
    fx_t             *fx = *state;
    size_t            i;
    sbuf_t            b = { NULL, 0, 0 };
    bubble_output_t   one, two;

    static const bubble_format_e  formats[] = {
        BUBBLE_FORMAT_SVG, BUBBLE_FORMAT_PNG, BUBBLE_FORMAT_PDF
    };

    w2(&b, "\"title\":\"Deterministic \xe6\x95\xb0\",\"mapping\":"
           "{\"tooltip\":\"name\",\"label\":\"name\"},"
           "\"stroke\":{\"width\":0.5}");

    for (i = 0; i < nelts(formats); i++) {
        render_ok(fx, b.data, formats[i], &one);
        render_ok(fx, b.data, formats[i], &two);

        if (one.len != two.len || memcmp(one.data, two.data, one.len) != 0) {
            print_error("format %d: two renders of one spec differ (%zu and "
                        "%zu bytes)\n", (int) formats[i], one.len, two.len);
            fail();
        }
    }

    free(b.data);
}


static void
test_dropped_rows(void **state)
{
    fx_t             *fx = *state;
    size_t            i;
    bubble_output_t   out;

    static const struct {
        const char  *spec;
        size_t       dropped;
    }  cases[] = {
        /* null x, rows form with a missing member too */
        { "{\"data\":[{\"x\":null,\"y\":1},{\"x\":2,\"y\":2},{\"y\":3},"
          "{\"x\":4,\"y\":4},{\"x\":5,\"y\":5}],"
          "\"legend\":{\"position\":\"none\"}}", 2 },
        /* null y */
        { "{\"data\":{\"x\":[1,2,3,4],\"y\":[1,null,3,null]}}", 2 },
        /* null size, only when size is mapped */
        { "{\"data\":{\"x\":[1,2,3,4],\"y\":[1,2,3,4],"
          "\"size\":[1,null,3,4]},\"legend\":{\"position\":\"none\"}}", 1 },
        { "{\"data\":{\"x\":[1,2,3,4],\"y\":[1,2,3,4],"
          "\"size\":[1,null,3,4]},\"mapping\":{\"size\":null}}", 0 },
        /* log10: not positive */
        { "{\"data\":{\"x\":[-1,0,1,10,100],\"y\":[1,2,3,4,5]},"
          "\"x\":{\"scale\":\"log10\"}}", 2 },
        { "{\"data\":{\"x\":[1,2,3],\"y\":[0,1e-300,10]},"
          "\"y\":{\"scale\":\"log10\"}}", 1 },
        /* sqrt: negative */
        { "{\"data\":{\"x\":[-4,0,4],\"y\":[1,2,3]},"
          "\"x\":{\"scale\":\"sqrt\"}}", 1 },
        /* a colour or a label that is missing drops nothing */
        { "{\"data\":{\"x\":[1,2,3],\"y\":[1,2,3],\"color\":[\"a\",null,"
          "\"b\"],\"label\":[null,\"l\",null]}}", 0 },
    };

    for (i = 0; i < nelts(cases); i++) {
        render_ok(fx, cases[i].spec, BUBBLE_FORMAT_SVG, &out);
        assert_svg_ok(&out);

        if (out.dropped_rows != cases[i].dropped) {
            print_error("spec: %s\n  expected %zu dropped rows, got %zu\n",
                        cases[i].spec, cases[i].dropped, out.dropped_rows);
            fail();
        }

        /* PNG counts the same */
        render_ok(fx, cases[i].spec, BUBBLE_FORMAT_PNG, &out);
        assert_int_equal(out.dropped_rows, cases[i].dropped);
    }

    /* the kept rows are drawn: no legend, one circle each */
    render_ok(fx, cases[0].spec, BUBBLE_FORMAT_SVG, &out);
    assert_int_equal(count(&out, "<circle "), 3);
}


static void
test_all_rows_dropped(void **state)
{
    fx_t             *fx = *state;
    size_t            i, k;
    bubble_output_t   out;

    static const char  *specs[] = {
        "{\"data\":{\"x\":[null,null],\"y\":[1,2]}}",
        "{\"data\":[{\"y\":1},{\"y\":2,\"x\":null}]}",
        "{\"data\":{\"x\":[1,2],\"y\":[1,2],\"size\":[null,null]}}",
        "{\"data\":{\"x\":[0,-1],\"y\":[1,2]},\"x\":{\"scale\":\"log10\"}}",
    };
    static const bubble_format_e  formats[] = {
        BUBBLE_FORMAT_SVG, BUBBLE_FORMAT_PNG, BUBBLE_FORMAT_PDF
    };

    for (i = 0; i < nelts(specs); i++) {
        for (k = 0; k < nelts(formats); k++) {
            assert_int_equal(render(fx, specs[i], formats[k], &out), -1);
            assert_int_equal(fx->err.status, 400);
            assert_string_equal(fx->err.code, "invalid_spec");
            assert_string_equal(fx->err.path, "data");
        }
    }
}


static void
test_largest_bubble_first(void **state)
{
    fx_t             *fx = *state;
    size_t            i, n;
    sbuf_t            b = { NULL, 0, 0 };
    circle_t          c[256];
    bubble_output_t   out;

    render_ok(fx, w2(&b, "\"mapping\":{\"tooltip\":\"name\"}"),
              BUBBLE_FORMAT_SVG, &out);

    n = circles(&out, c, nelts(c));
    assert_true(n > W2_ROWS);

    for (i = 1; i < W2_ROWS; i++) {
        assert_true(c[i - 1].tooltip && c[i].tooltip);

        if (c[i].r > c[i - 1].r) {
            print_error("circle %zu (r=%g) is drawn after a smaller one "
                        "(r=%g)\n", i, c[i].r, c[i - 1].r);
            fail();
        }
    }

    /* the sizes differ: the order is not trivially satisfied */
    assert_true(c[0].r > c[W2_ROWS - 1].r);

    /* equal sizes: data order (tooltips p0, p1, ...) */
    render_ok(fx, "{\"data\":{\"x\":[3,1,2],\"y\":[1,2,3],\"size\":[1,1,1],"
                  "\"n\":[\"a\",\"b\",\"c\"]},\"mapping\":{\"tooltip\":\"n\"}}",
              BUBBLE_FORMAT_SVG, &out);
    assert_true(memmem(out.data, out.len, "<title>a</title>", 16)
                < memmem(out.data, out.len, "<title>b</title>", 16));
    assert_true(memmem(out.data, out.len, "<title>b</title>", 16)
                < memmem(out.data, out.len, "<title>c</title>", 16));

    free(b.data);
}


static void
test_png_output(void **state)
{
    fx_t             *fx = *state;
    sbuf_t            b = { NULL, 0, 0 };
    bubble_output_t   out;

    render_ok(fx, w2(&b, ""), BUBBLE_FORMAT_PNG, &out);
    assert_png(&out, 320, 240);
    assert_int_equal(out.dropped_rows, 0);

    render_ok(fx, w2(&b, "\"scale\":2"), BUBBLE_FORMAT_PNG, &out);
    assert_png(&out, 640, 480);

    render_ok(fx, w2(&b, "\"scale\":1.5"), BUBBLE_FORMAT_PNG, &out);
    assert_png(&out, 480, 360);

    render_ok(fx, w2(&b, "\"scale\":4,\"background\":\"transparent\""),
              BUBBLE_FORMAT_PNG, &out);
    assert_png(&out, 1280, 960);

    /* "format" in the spec is what bubble_render() follows */
    render_ok(fx, w2(&b, "\"format\":\"png\""), BUBBLE_FORMAT_PNG, &out);
    assert_png(&out, 320, 240);

    free(b.data);
}


static void
test_pdf_output(void **state)
{
    fx_t             *fx = *state;
    sbuf_t            b = { NULL, 0, 0 };
    bubble_output_t   out;

    render_ok(fx, w2(&b, "\"title\":\"PDF\",\"scale\":2"), BUBBLE_FORMAT_PDF,
              &out);
    free(b.data);

    assert_true(out.len > 5);
    assert_memory_equal(out.data, "%PDF-", 5);
    assert_true(contains(&out, "%%EOF"));

    /* 320 x 240 CSS px = 240 x 180 pt, whatever the scale */
    assert_true(contains(&out, "/MediaBox [ 0 0 240 180 ]"));
}


static void
test_svg_output_via_render(void **state)
{
    fx_t             *fx = *state;
    sbuf_t            b = { NULL, 0, 0 };
    bubble_chart_t   *chart;
    bubble_output_t   one, two;

    chart = parse_ok(fx, w2(&b, "\"format\":\"svg\""));
    free(b.data);
    assert_int_equal(chart->format, BUBBLE_FORMAT_SVG);

    memset(&fx->err, 0, sizeof(bubble_error_t));
    assert_int_equal(bubble_render(&fx->arena->alloc, chart, &one, &fx->err),
                     0);
    assert_svg_ok(&one);

    /* bubble_render_svg() gives the same bytes */
    assert_int_equal(bubble_render_svg(&fx->arena->alloc, chart, &two,
                                       &fx->err), 0);
    assert_int_equal(one.len, two.len);
    assert_memory_equal(one.data, two.data, one.len);
}


static void
test_cjk_text(void **state)
{
    fx_t             *fx = *state;
    size_t            i;
    bubble_output_t   out;

    static const char  spec[] =
        "{\"width\":480,\"height\":360,"
        "\"title\":\"\xe6\xb0\x94\xe6\xb3\xa1\xe5\x9b\xbe \xe3\x83\x90"
        "\xe3\x83\x96\xe3\x83\xab\xe3\x83\x81\xe3\x83\xa3\xe3\x83\xbc\xe3\x83"
        "\x88 \xeb\xb2\x84\xeb\xb8\x94 \\u6570\\u636e\","
        "\"subtitle\":\"\xe4\xba\xba\xe5\x8f\xa3\xe3\x81\xa8\xe6\x89\x80"
        "\xe5\xbe\x97\","
        "\"data\":["
        "{\"\xe5\x9b\xbd\":\"\xe4\xb8\xad\xe5\x9b\xbd\",\"x\":1,\"y\":2,"
        "\"size\":14},"
        "{\"\xe5\x9b\xbd\":\"\xe6\x97\xa5\xe6\x9c\xac\",\"x\":2,\"y\":3,"
        "\"size\":1.2},"
        "{\"\xe5\x9b\xbd\":\"\xed\x95\x9c\xea\xb5\xad\",\"x\":3,\"y\":1,"
        "\"size\":0.5}],"
        "\"mapping\":{\"color\":\"\xe5\x9b\xbd\",\"label\":\"\xe5\x9b\xbd\","
        "\"tooltip\":\"\xe5\x9b\xbd\"},"
        "\"x\":{\"title\":\"\xe6\x89\x80\xe5\xbe\x97\"}}";

    static const bubble_format_e  formats[] = {
        BUBBLE_FORMAT_SVG, BUBBLE_FORMAT_PNG, BUBBLE_FORMAT_PDF
    };

    for (i = 0; i < nelts(formats); i++) {
        render_ok(fx, spec, formats[i], &out);
    }

    render_ok(fx, spec, BUBBLE_FORMAT_SVG, &out);
    assert_svg_ok(&out);
    assert_true(contains(&out, "\xe6\x95\xb0\xe6\x8d\xae"));  /* \u6570\u636e */
    assert_true(contains(&out, ">\xe6\x89\x80\xe5\xbe\x97</text>"));
    assert_true(contains(&out, "<title>\xe4\xb8\xad\xe5\x9b\xbd</title>"));
}


static void
test_themes_and_legends(void **state)
{
    fx_t             *fx = *state;
    size_t            i, k;
    char              fields[256];
    sbuf_t            b = { NULL, 0, 0 };
    bubble_output_t   out;

    static const char  *themes[] = { "gray", "minimal", "classic", "dark" };
    static const char  *legends[] = {
        "right", "bottom", "top", "left", "none"
    };

    for (i = 0; i < nelts(themes); i++) {
        for (k = 0; k < nelts(legends); k++) {
            snprintf(fields, sizeof(fields), "\"theme\":\"%s\","
                     "\"legend\":{\"position\":\"%s\"},"
                     "\"title\":\"t\",\"subtitle\":\"s\",\"caption\":\"c\","
                     "\"mapping\":{\"color\":\"group\"}",
                     themes[i], legends[k]);

            render_ok(fx, w2_size(&b, 640, 480, fields), BUBBLE_FORMAT_SVG,
                      &out);
            assert_svg_ok(&out);
            assert_int_equal(out.dropped_rows, 0);

            /* size keys and 3 categories in the legend, if any */
            if (k == nelts(legends) - 1) {
                assert_int_equal(count(&out, "<circle "), W2_ROWS);
            } else {
                assert_true(count(&out, "<circle ") > W2_ROWS + 3);
            }
        }
    }

    /* and one of them all the way to pixels */
    render_ok(fx, w2_size(&b, 640, 480, "\"theme\":\"dark\","
                                        "\"legend\":{\"position\":\"top\"}"),
              BUBBLE_FORMAT_PNG, &out);
    assert_png(&out, 640, 480);

    free(b.data);
}


/*
 * Every allocation the render pipeline makes from our allocator may
 * fail: the answer is an error (500), never a crash.  One child each.
 */

static void
child_begin(unsigned seconds)
{
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    signal(SIGILL, SIG_DFL);
    signal(SIGFPE, SIG_DFL);
    signal(SIGABRT, SIG_DFL);
    signal(SIGSYS, SIG_DFL);
    signal(SIGALRM, SIG_DFL);

    alarm(seconds);
}


/*
 * The per-thread metrics cache (bubble_text.c) answers what pango
 * measures: 3000 texts (past its 1024 slots, so slots collide), twice
 * each, against the same texts in a family spelled with a comma, which
 * the cache skips and fontconfig resolves to the same font.
 */

static void
test_text_metrics_cache(void **state)
{
    int                     round;
    char                    text[32];
    size_t                  i;
    bubble_text_metrics_t   cached, direct;

    for (round = 0; round < 2; round++) {
        for (i = 0; i < 3000; i++) {
            snprintf(text, sizeof(text), "Country %zu", i * 7919 % 100000);

            bubble_text_measure("DejaVu Sans", 11 + (i % 3), i % 2, text,
                                strlen(text), &cached);
            bubble_text_measure("DejaVu Sans,", 11 + (i % 3), i % 2, text,
                                strlen(text), &direct);

            assert_true(cached.width > 20);
            assert_true(cached.width == direct.width);
            assert_true(cached.ascent == direct.ascent);
            assert_true(cached.height == direct.height);
        }
    }

    /* the key is the whole text, size and weight */
    bubble_text_measure("DejaVu Sans", 11, 0, "WWWW", 4, &cached);
    bubble_text_measure("DejaVu Sans", 11, 0, "iiii", 4, &direct);
    assert_true(cached.width > direct.width);
    bubble_text_measure("DejaVu Sans", 12, 0, "WWWW", 4, &direct);
    assert_true(direct.width > cached.width);
    bubble_text_measure("DejaVu Sans", 11, 1, "WWWW", 4, &direct);
    assert_true(direct.width != cached.width);
}


/* titles wider than the page are shortened with an ellipsis, not cut */

static void
test_long_titles(void **state)
{
    fx_t                   *fx = *state;
    char                    spec[4096], title[1024];
    double                  x;
    const char             *p, *q;
    bubble_output_t         out;
    bubble_text_metrics_t   m;

    memset(title, 0, sizeof(title));
    for (size_t i = 0; i < 40; i++) {
        strcat(title, "Lebenserwartung \u00e4 ");
    }
    strcat(title, "THE-END");

    snprintf(spec, sizeof(spec), "{\"width\":400,\"height\":300,"
             "\"title\":\"%s\",\"subtitle\":\"%s\",\"caption\":\"%s\","
             "\"x\":{\"title\":\"%s\"},\"y\":{\"title\":\"%s\"},"
             "\"data\":{\"x\":[1,2],\"y\":[3,4]}}",
             title, title, title, title, title);

    render_ok(fx, spec, BUBBLE_FORMAT_SVG, &out);
    assert_svg_ok(&out);

    /* five shortened texts; the whole title only in <title> */
    assert_int_equal(count(&out, "\xe2\x80\xa6</text>"), 5);
    assert_int_equal(count(&out, "THE-END"), 1);
    assert_true(contains(&out, "THE-END</title>"));

    /* the title (11 pt x 1.2 = 17.6 px): within the page, and not
     * shortened more than it had to be */
    p = strstr((const char *) out.data, "font-size=\"17.6\"");
    assert_non_null(p);
    x = strtod(strstr(p - 32, "x=\"") + 3, NULL);
    p = strchr(p, '>') + 1;
    q = strstr(p, "</text>");
    assert_non_null(q);
    bubble_text_measure("DejaVu Sans", 17.6, 0, p, q - p, &m);
    assert_true(x + m.width <= 400 - 5.5 * 96 / 72);
    assert_true(x + m.width > 400 - 5.5 * 96 / 72 - 40);

    render_ok(fx, spec, BUBBLE_FORMAT_PNG, &out);
    assert_png(&out, 400, 300);
}


/* label formats: "'" groups thousands although nginx runs in the C locale */

static void
test_label_formats(void **state)
{
    fx_t             *fx = *state;
    bubble_output_t   out;

    render_ok(fx, "{\"width\":640,\"height\":480,"
                  "\"data\":{\"x\":[0,5000000],\"y\":[-2500000,1]},"
                  "\"x\":{\"labels\":\"$%'.0f\"},"
                  "\"y\":{\"labels\":\"%'+.1f%%\"}}",
              BUBBLE_FORMAT_SVG, &out);

    /* x: 0, 1000000 ... 5000000 as extended breaks choose them */
    assert_true(contains(&out, ">$1,000,000</text>"));
    assert_true(contains(&out, ">$5,000,000</text>"));
    assert_true(contains(&out, ">$0</text>"));
    assert_false(contains(&out, ">$1000000<"));

    /* y: the sign before the groups, the decimals and "%%" kept */
    assert_true(contains(&out, ">-2,000,000.0%</text>"));
    assert_true(contains(&out, ">+0.0%</text>"));

    /* without "'" nothing is grouped */
    render_ok(fx, "{\"width\":640,\"height\":480,"
                  "\"data\":{\"x\":[0,5000000],\"y\":[1,2]},"
                  "\"x\":{\"labels\":\"%.0f\"}}",
              BUBBLE_FORMAT_SVG, &out);
    assert_true(contains(&out, ">1000000</text>"));
}


/*
 * Huge numbers (issue 15): any finite double gives a chart whose numbers
 * are all finite and whose bubbles are on the page, or a 400 whose path
 * names the field whose range cannot be drawn -- in SVG, PNG and PDF
 * alike.  Each class of numeric field: x/y data and limits, log10 and
 * sqrt axes, continuous colour data and limits, size data and limits on
 * both size scales, numeric facets, labels and tooltips.
 */

#define EDGE_SPEC(fields)  "{\"width\":400,\"height\":300," fields "}"
#define DBL_MAX_JSON       "1.7976931348623157e308"

typedef struct {
    const char              *spec;
    const char              *path;          /* NULL: it draws */
} edge_case_t;


/* every circle's centre on the 400 x 300 page (none clamped to 1e6) */

static void
assert_circles_on_page(const bubble_output_t *out, const char *spec)
{
    double       cx, cy;
    const char  *p, *end;

    p = (const char *) out->data;
    end = p + out->len;

    while ((p = memmem(p, end - p, "<circle cx=\"", 12)) != NULL) {
        cx = strtod(p + 12, NULL);
        p = memmem(p, end - p, " cy=\"", 5);
        assert_non_null(p);
        cy = strtod(p + 5, NULL);

        if (!(cx >= 0 && cx <= 400 && cy >= 0 && cy <= 300)) {
            print_error("spec: %s\n  a circle at (%g, %g), off the page\n",
                        spec, cx, cy);
            fail();
        }
    }
}


static void
assert_edge_case(fx_t *fx, const edge_case_t *c)
{
    size_t            k;
    bubble_output_t   out;

    static const bubble_format_e  formats[] = {
        BUBBLE_FORMAT_SVG, BUBBLE_FORMAT_PNG, BUBBLE_FORMAT_PDF
    };

    /* refused by the parser: then no format is drawn */
    if (c->path != NULL) {
        memset(&fx->err, 0, sizeof(bubble_error_t));

        if (bubble_spec_parse(&fx->arena->alloc, &fx->limits,
                              (const u_char *) c->spec, strlen(c->spec),
                              &fx->err)
            == NULL)
        {
            assert_int_equal(fx->err.status, 400);
            assert_string_equal(fx->err.path, c->path);
            return;
        }
    }

    for (k = 0; k < nelts(formats); k++) {
        if (c->path == NULL) {
            render_ok(fx, c->spec, formats[k], &out);

            if (formats[k] == BUBBLE_FORMAT_SVG) {
                assert_svg_ok(&out);
                assert_circles_on_page(&out, c->spec);

            } else if (formats[k] == BUBBLE_FORMAT_PNG) {
                assert_png(&out, 400, 300);

            } else {
                assert_memory_equal(out.data, "%PDF-", 5);
            }

            continue;
        }

        if (render(fx, c->spec, formats[k], &out) == 0
            || fx->err.status != 400
            || strcmp(fx->err.path, c->path) != 0
            || strncmp(fx->err.message, c->path, strlen(c->path)) != 0)
        {
            print_error("spec: %s\n  expected 400 naming %s, got %d \"%s\": "
                        "%s\n", c->spec, c->path, fx->err.status,
                        fx->err.path, fx->err.message);
            fail();
        }

        assert_string_equal(fx->err.code, "invalid_spec");
    }
}


static void
test_huge_numbers(void **state)
{
    fx_t    *fx = *state;
    size_t   i;

    static const edge_case_t  cases[] = {

        /* x and y data: refused where the 5% margins leave the doubles */
        { EDGE_SPEC("\"data\":{\"x\":[1e308,-1e308,0],\"y\":[1,2,3]}"),
          "data.x[0]" },
        { EDGE_SPEC("\"data\":[{\"x\":1,\"y\":-1e308},{\"x\":2,\"y\":2e307},"
                    "{\"x\":3,\"y\":1e308}]"), "data[2].y" },
        { EDGE_SPEC("\"data\":{\"x\":[-1.7e308,0],\"y\":[1,2]}"),
          "data.x[0]" },
        { EDGE_SPEC("\"data\":{\"x\":[1e308," DBL_MAX_JSON "],"
                    "\"y\":[1,2]}"), "data.x[1]" },
        { EDGE_SPEC("\"data\":{\"x\":[0,1.6e308],\"y\":[-0.8e308,0.8e308]}"),
          NULL },
        { EDGE_SPEC("\"data\":{\"x\":[" DBL_MAX_JSON "," DBL_MAX_JSON "],"
                    "\"y\":[-" DBL_MAX_JSON ",-" DBL_MAX_JSON "]}"), NULL },

        /* one value too large for the 0.05 margins to move: the middle */
        { EDGE_SPEC("\"data\":{\"x\":[1e20,1e20],\"y\":[1e300,1e300]}"),
          NULL },
        { EDGE_SPEC("\"data\":{\"x\":[5e-324,1e-323],\"y\":[-5e-324,0]}"),
          NULL },

        /* x and y limits, and breaks far outside them */
        { EDGE_SPEC("\"data\":{\"x\":[1,2],\"y\":[1,2]},"
                    "\"x\":{\"limits\":[-1e308,1e308]}"), "x.limits" },
        { EDGE_SPEC("\"data\":{\"x\":[1,2],\"y\":[1,2]},"
                    "\"y\":{\"limits\":[0," DBL_MAX_JSON "]}"), "y.limits" },
        { EDGE_SPEC("\"data\":{\"x\":[1,2],\"y\":[1,2]},"
                    "\"y\":{\"limits\":[-1e308,1e307],"
                    "\"breaks\":[-1e308,0," DBL_MAX_JSON "]}"), NULL },

        /*
         * sqrt(-5) is no place on an axis (it drew at cx="1000000"); the
         * axis is named, as for log10 limits below 0
         */
        { EDGE_SPEC("\"data\":{\"x\":[1,2],\"y\":[1,2]},"
                    "\"x\":{\"scale\":\"sqrt\",\"limits\":[-5,10]}"),
          "x" },

        /* log10 and sqrt axes take any positive double */
        { EDGE_SPEC("\"data\":{\"x\":[1e-300,1e308],\"y\":[5e-324,"
                    DBL_MAX_JSON "]},\"x\":{\"scale\":\"log10\"},"
                    "\"y\":{\"scale\":\"log10\"}"), NULL },
        { EDGE_SPEC("\"data\":{\"x\":[1,2],\"y\":[1,2]},"
                    "\"x\":{\"scale\":\"log10\",\"limits\":[5e-324,"
                    DBL_MAX_JSON "]}"), NULL },
        { EDGE_SPEC("\"data\":{\"x\":[0," DBL_MAX_JSON "],\"y\":[1,2]},"
                    "\"x\":{\"scale\":\"sqrt\"}"), NULL },

        /* continuous colour: data and limits 2e308 apart */
        { EDGE_SPEC("\"data\":{\"x\":[1,2,3],\"y\":[1,2,3],"
                    "\"c\":[-1e308,0,1e308]},\"mapping\":{\"color\":\"c\"}"),
          NULL },
        { EDGE_SPEC("\"data\":{\"x\":[1,2,3],\"y\":[1,2,3],\"c\":[1,2,3]},"
                    "\"mapping\":{\"color\":\"c\"},\"color\":{\"limits\":[-"
                    DBL_MAX_JSON "," DBL_MAX_JSON "]}"), NULL },

        /* size: radius and area, data and limits; merged with colour */
        { EDGE_SPEC("\"data\":{\"x\":[1,2,3],\"y\":[1,2,3],"
                    "\"s\":[-1e308,0,1e308]},\"mapping\":{\"size\":\"s\"},"
                    "\"size\":{\"type\":\"radius\"}"), NULL },
        { EDGE_SPEC("\"data\":{\"x\":[1,2,3],\"y\":[1,2,3],\"s\":[1,2,3]},"
                    "\"mapping\":{\"size\":\"s\"},\"size\":{\"type\":"
                    "\"radius\",\"limits\":[-" DBL_MAX_JSON ","
                    DBL_MAX_JSON "]}"), NULL },
        { EDGE_SPEC("\"data\":{\"x\":[1,2,3],\"y\":[1,2,3],\"s\":[-"
                    DBL_MAX_JSON ",5e-324," DBL_MAX_JSON "]},"
                    "\"mapping\":{\"size\":\"s\",\"color\":\"s\"}"), NULL },

        /* numeric facets, labels and tooltips print any double */
        { EDGE_SPEC("\"data\":{\"x\":[1,2,3],\"y\":[1,2,3],"
                    "\"f\":[-" DBL_MAX_JSON ",5e-324,1e308],"
                    "\"l\":[" DBL_MAX_JSON ",-5e-324,0]},"
                    "\"facet\":{\"wrap\":\"f\"},"
                    "\"mapping\":{\"label\":\"l\",\"tooltip\":\"l\"}"),
          NULL },
    };

    for (i = 0; i < nelts(cases); i++) {
        assert_edge_case(fx, &cases[i]);
    }
}


/*
 * The same as a property: 300 charts of numbers drawn from the extremes
 * of the doubles, in every numeric field at once; each is a 4xx naming
 * a field, or an SVG without NaN and a PNG.  A fixed seed: a failure
 * prints its spec and comes back on the next run.
 */

static void
test_huge_numbers_random(void **state)
{
    int               k, n, j, c, drawn, refused;
    fx_t             *fx = *state;
    sbuf_t            b = { NULL, 0, 0 };
    arena_t          *arena;
    bubble_output_t   out;

    static const char  *nums[] = {
        DBL_MAX_JSON, "-" DBL_MAX_JSON, "1e308", "-1e308", "1.7e308",
        "1e300", "-1e300", "1.3e154", "1e20", "-1e20", "1e15", "5e-324",
        "-5e-324", "2.2250738585072014e-308", "1e-300", "0", "-0.0", "1",
        "-1", "0.5", "3", "9007199254740993", "123456789.123"
    };
    static const char  *axis[] = {
        "{}", "{\"scale\":\"log10\"}", "{\"scale\":\"sqrt\"}",
        "{\"labels\":\"%'.2f\"}", "{\"labels\":\"%99.2e\"}",
        "{\"reverse\":true}"
    };
    static const char  *cols[] = { "x", "y", "s", "c", "f" };

#define PICK(a)  a[(size_t) (lcg() * nelts(a))]

    lcg_state = 15;
    arena = fx->arena;
    drawn = 0;
    refused = 0;

    for (k = 0; k < 300; k++) {
        n = 1 + (int) (lcg() * 4);
        b.len = 0;

        sb_printf(&b, "{\"width\":400,\"height\":300,\"data\":{");

        for (c = 0; c < (int) nelts(cols); c++) {
            sb_printf(&b, "%s\"%s\":[", c ? "," : "", cols[c]);

            for (j = 0; j < n; j++) {
                sb_printf(&b, "%s%s", j ? "," : "", PICK(nums));
            }

            sb_printf(&b, "]");
        }

        sb_printf(&b, "},\"x\":%s,\"y\":%s,\"mapping\":{\"size\":%s,"
                  "\"color\":%s},\"size\":{\"type\":\"%s\"}%s}",
                  PICK(axis), PICK(axis),
                  lcg() < 0.5 ? "\"s\"" : "null",
                  lcg() < 0.5 ? "\"c\"" : "null",
                  lcg() < 0.5 ? "area" : "radius",
                  lcg() < 0.2 ? ",\"facet\":{\"wrap\":\"f\"}" : "");

        fx->arena = arena_new();
        assert_non_null(fx->arena);

        if (render(fx, b.data, BUBBLE_FORMAT_SVG, &out) != 0) {
            if (fx->err.status >= 500 || fx->err.path[0] == '\0') {
                print_error("spec: %s\n  %d \"%s\": %s\n", b.data,
                            fx->err.status, fx->err.path, fx->err.message);
                fail();
            }

            refused++;

        } else {
            assert_svg_ok(&out);
            render_ok(fx, b.data, BUBBLE_FORMAT_PNG, &out);
            assert_png(&out, 400, 300);
            drawn++;
        }

        arena_destroy(fx->arena);
    }

#undef PICK

    fx->arena = arena;
    free(b.data);

    /* both outcomes are exercised, or the test proves little */
    print_message("extreme numbers: %d charts drawn, %d refused\n", drawn,
                  refused);
    assert_true(drawn >= 60 && refused >= 30);
}


/*
 * Label formats are written whole, up to the longest the spec allows
 * (widths and precisions of 99): no blank or cut label.  Where the y
 * labels leave no room for the panel, the error names them.
 */

static double
first_cx(const bubble_output_t *out)
{
    const char  *p;

    p = memmem(out->data, out->len, "<circle cx=\"", 12);
    assert_non_null(p);

    return strtod(p + 12, NULL);
}


static void
test_label_formats_full(void **state)
{
    char              want[256];
    double            cx;
    fx_t             *fx = *state;
    bubble_output_t   out;

    /*
     * A width pads with spaces, written whole; SVG viewers collapse them
     * and so does the PNG: the axis is as wide as "%.2e" makes it, the
     * bubbles where "%.2e" puts them
     */
    render_ok(fx, "{\"data\":{\"x\":[1,2,3],\"y\":[1,2,3]},"
                  "\"y\":{\"labels\":\"%.2e\"}}", BUBBLE_FORMAT_SVG, &out);
    cx = first_cx(&out);

    render_ok(fx, "{\"data\":{\"x\":[1,2,3],\"y\":[1,2,3]},"
                  "\"y\":{\"labels\":\"%99.2e\"}}", BUBBLE_FORMAT_SVG, &out);
    assert_svg_ok(&out);
    snprintf(want, sizeof(want), ">%91s1.50e+00</text>", "");
    assert_true(contains(&out, want));
    assert_true(first_cx(&out) == cx);

    /* 101 characters: only a wide chart has room for them on y */
    render_ok(fx, "{\"width\":1600,\"data\":{\"x\":[1,2,3],\"y\":[1,2,3]},"
                  "\"y\":{\"labels\":\"%.99f\"},"
                  "\"x\":{\"labels\":\"%'99.99e\"}}", BUBBLE_FORMAT_SVG,
              &out);
    assert_svg_ok(&out);
    snprintf(want, sizeof(want), ">2.%0*d</text>", 99, 0);
    assert_true(contains(&out, want));
    snprintf(want, sizeof(want), ">3.%0*de+00</text>", 99, 0);
    assert_true(contains(&out, want));

    assert_int_equal(render(fx, "{\"data\":{\"x\":[1,2,3],\"y\":[1,2,3]},"
                                "\"y\":{\"labels\":\"%.99f\"}}",
                            BUBBLE_FORMAT_PNG, &out), -1);
    assert_int_equal(fx->err.status, 400);
    assert_string_equal(fx->err.path, "y.labels");

    /* grouped digits past 31 bytes (1e30 is 1000000000000000019884624838656) */
    render_ok(fx, "{\"data\":{\"x\":[0,1e30],\"y\":[1,2]},"
                  "\"x\":{\"labels\":\"%'.2f\"}}", BUBBLE_FORMAT_SVG, &out);
    assert_true(contains(&out,
                         ">1,000,000,000,000,000,019,884,624,838,656.00<"));

    /* near the longest: 1.6e308 in full, grouped, with 99 decimals */
    render_ok(fx, "{\"data\":{\"x\":[-1.6e308,0],\"y\":[1,2]},"
                  "\"x\":{\"labels\":\"%+'.99f\",\"breaks\":[-1.6e308]}}",
              BUBBLE_FORMAT_SVG, &out);
    assert_svg_ok(&out);
    assert_true(contains(&out, ">-159,999,999,999,999,997,764,969,"));
    snprintf(want, sizeof(want), ".%0*d</text>", 99, 0);
    assert_true(contains(&out, want));
}


/*
 * Input can put items far off the page: a bottom legend of 20 keys named
 * with 20000 digits each at 40 pt runs 1.1e7 px to the right, past
 * cairo 1.16's 24.8 fixed point.  They are left out (none is visible),
 * the chart draws, and nothing in the SVG lies past 8e6 px.
 */

static void
test_far_items_left_out(void **state)
{
    int               i;
    fx_t             *fx = *state;
    double            x;
    sbuf_t            b = { NULL, 0, 0 };
    const char       *p, *end;
    bubble_output_t   out;

    sb_printf(&b, "{\"legend\":{\"position\":\"bottom\"},"
              "\"font\":{\"size\":40},\"data\":{"
              "\"x\":[1,2],\"y\":[1,2],\"g\":[\"a\",\"b\"]},"
              "\"mapping\":{\"color\":\"g\"},\"color\":{\"limits\":[");

    for (i = 0; i < 20; i++) {
        sb_printf(&b, "%s\"%02d%020000d\"", i ? "," : "", i, 0);
    }

    sb_printf(&b, "]}}");

    render_ok(fx, b.data, BUBBLE_FORMAT_SVG, &out);
    assert_svg_ok(&out);

    p = (const char *) out.data;
    end = p + out.len;

    while ((p = memmem(p, end - p, " x=\"", 4)) != NULL) {
        x = strtod(p + 4, NULL);
        assert_true(fabs(x) <= 8e6);
        p += 4;
    }

    /* the first keys are there, the last left out */
    assert_true(contains(&out, ">0000000000"));
    assert_false(contains(&out, ">1900000000"));

    render_ok(fx, b.data, BUBBLE_FORMAT_PNG, &out);
    assert_png(&out, 800, 600);

    free(b.data);
}


/*
 * Categories: at most 64, and color.limits with more is refused rather
 * than cut (rows past the 64th drew grey, with no legend key).
 */

static void
test_categories_limit(void **state)
{
    int               i;
    fx_t             *fx = *state;
    sbuf_t            b = { NULL, 0, 0 };
    bubble_chart_t   *chart;
    bubble_output_t   out;

    for (i = 64; i <= 65; i++) {
        b.len = 0;
        sb_printf(&b, "{\"data\":{\"x\":[1,2],\"y\":[1,2],"
                  "\"g\":[\"c00\",\"c%02d\"]},\"mapping\":{\"color\":\"g\"},"
                  "\"legend\":{\"position\":\"none\"},\"color\":{"
                  "\"palette\":[\"red\",\"blue\"],\"limits\":[", i - 1);

        for (int k = 0; k < i; k++) {
            sb_printf(&b, "%s\"c%02d\"", k ? "," : "", k);
        }

        sb_printf(&b, "]}}");

        if (i == 64) {
            /* the 64th category has its colour (blue), not grey */
            render_ok(fx, b.data, BUBBLE_FORMAT_SVG, &out);
            assert_true(contains(&out, "fill=\"#0000ff\""));
            assert_false(contains(&out, "fill=\"#7f7f7f\""));
            continue;
        }

        memset(&fx->err, 0, sizeof(bubble_error_t));
        chart = bubble_spec_parse(&fx->arena->alloc, &fx->limits,
                                  (const u_char *) b.data, b.len, &fx->err);
        assert_null(chart);
        assert_int_equal(fx->err.status, 400);
        assert_string_equal(fx->err.path, "color.limits");
        assert_non_null(strstr(fx->err.message, "65 categories"));
    }

    free(b.data);
}


static void
test_render_allocation_failures(void **state)
{
    fx_t             *fx = *state;
    int               status, crashed, wrong;
    long              n, first, total;
    pid_t             pid;
    sbuf_t            b = { NULL, 0, 0 };
    bubble_chart_t   *chart;
    bubble_output_t   out;

    w2(&b, "\"title\":\"t\",\"mapping\":{\"tooltip\":\"name\","
           "\"label\":\"name\"}");

    chart = parse_ok(fx, b.data);
    first = (long) fx->arena->nallocs;
    chart->format = BUBBLE_FORMAT_PNG;
    assert_int_equal(bubble_render(&fx->arena->alloc, chart, &out, &fx->err),
                     0);
    total = (long) fx->arena->nallocs;

    crashed = 0;
    wrong = 0;

    for (n = first; n < total; n++) {
        fflush(NULL);

        pid = fork();
        assert_true(pid >= 0);

        if (pid == 0) {
            int  rc;

            child_begin(30);

            arena_reset(fx->arena);
            memset(&fx->err, 0, sizeof(bubble_error_t));

            chart = bubble_spec_parse(&fx->arena->alloc, &fx->limits,
                                      (const u_char *) b.data, b.len,
                                      &fx->err);
            rc = 2;

            if (chart != NULL) {
                chart->format = BUBBLE_FORMAT_PNG;
                fx->arena->fail_at = n;

                rc = (bubble_render(&fx->arena->alloc, chart, &out,
                                    &fx->err) == -1
                      && fx->err.status == 500) ? 0 : 1;

                if (rc) {
                    print_error("allocation %ld of %ld failed: got %d %s "
                                "\"%s\"\n", n, total, fx->err.status,
                                fx->err.code ? fx->err.code : "(none)",
                                fx->err.message);
                }
            }

            arena_destroy(fx->arena);
            free(fx);
            free(b.data);
            _exit(rc);
        }

        while (waitpid(pid, &status, 0) < 0) {
            /* EINTR */
        }

        if (WIFSIGNALED(status)) {
            if (crashed++ < 5) {
                print_error("allocation %ld (of %ld..%ld) failed: the "
                            "renderer died of signal %d\n", n, first, total,
                            WTERMSIG(status));
            }

        } else if (WEXITSTATUS(status) != 0) {
            wrong++;
        }
    }

    free(b.data);

    if (crashed || wrong) {
        print_error("%d of %ld allocation failures crashed, %d gave a wrong "
                    "answer\n", crashed, total - first, wrong);
        fail();
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_svg_structure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_svg_circles_per_row_and_legend,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_svg_escapes_user_text, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_svg_drops_control_characters,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_svg_xml_forbidden_code_points,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_legend_long_utf8_category,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_svg_constant_continuous_colour,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_svg_worst_case_escaping, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_render_deterministic, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dropped_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_rows_dropped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_largest_bubble_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_png_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pdf_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_svg_output_via_render, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cjk_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_themes_and_legends, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_label_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_label_formats_full, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_huge_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_numbers_random, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_categories_limit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_far_items_left_out, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_long_titles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_text_metrics_cache, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_render_allocation_failures,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}

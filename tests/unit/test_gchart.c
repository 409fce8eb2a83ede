/*
 * Unit tests of the legacy Google Image Charts converter
 * (core/bubble_gchart.c): query string -> spec JSON -> chart model.
 *
 * Each case converts a query string, then parses the JSON with the real
 * spec parser, so a case checks both the text and what it means.
 */

#define _GNU_SOURCE                         /* memmem */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bubble.h"
#include "bubble_gchart.h"


/* an arena of malloc'ed blocks, freed after each test */

typedef struct block_s  block_t;

struct block_s {
    block_t                 *next;
    long double              data[];        /* aligned for anything */
};

static block_t  *blocks;


static void *
arena_alloc(void *data, size_t size)
{
    block_t  *b;

    (void) data;

    b = malloc(sizeof(block_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->next = blocks;
    blocks = b;

    return b->data;
}


static int
arena_teardown(void **state)
{
    block_t  *b;

    (void) state;

    while (blocks) {
        b = blocks->next;
        free(blocks);
        blocks = b;
    }

    return 0;
}


static bubble_allocator_t  alloc = { arena_alloc, NULL, NULL };
static bubble_limits_t     limits;
static bubble_error_t      err;
static bubble_str_t        json;


static int
setup(void **state)
{
    (void) state;

    bubble_limits_default(&limits);
    memset(&err, 0, sizeof(bubble_error_t));
    err.offset = -1;
    json.data = NULL;
    json.len = 0;

    return 0;
}


/* the query's JSON, parsed: fails the test if either step fails */

static bubble_chart_t *
convert(const char *query)
{
    bubble_chart_t  *chart;

    memset(&err, 0, sizeof(bubble_error_t));
    err.offset = -1;

    if (bubble_gchart_to_json(&alloc, &limits, (const u_char *) query,
                              strlen(query), &json, &err)
        != 0)
    {
        fail_msg("%s: %d %s: %s", query, err.status, err.path, err.message);
    }

    assert_int_equal(strlen(json.data), json.len);

    chart = bubble_spec_parse(&alloc, &limits, (const u_char *) json.data,
                              json.len, &err);
    if (chart == NULL) {
        fail_msg("%s\n-> %s\n-> %s: %s", query, json.data, err.path,
                 err.message);
    }

    return chart;
}


/* the query must fail with status and path */

static void
refuse(const char *query, int status, const char *path, const char *text)
{
    memset(&err, 0, sizeof(bubble_error_t));
    err.offset = -1;

    if (bubble_gchart_to_json(&alloc, &limits, (const u_char *) query,
                              strlen(query), &json, &err)
        == 0)
    {
        fail_msg("%s: accepted as %s", query, json.data);
    }

    if (err.status != status || strcmp(err.path, path) != 0) {
        fail_msg("%s: got %d \"%s\" (%s), expected %d \"%s\"", query,
                 err.status, err.path, err.message, status, path);
    }

    assert_string_equal(err.code, status == 413 ? "too_large"
                                                : "invalid_spec");

    /* the message starts with the parameter, as the parser's do */
    assert_memory_equal(err.message, path, strlen(path));

    if (text && strstr(err.message, text) == NULL) {
        fail_msg("%s: message \"%s\" lacks \"%s\"", query, err.message,
                 text);
    }
}


static bubble_column_t *
column(bubble_chart_t *chart, bubble_aes_e aes)
{
    assert_true(chart->aes[aes] >= 0);
    return &chart->columns[chart->aes[aes]];
}


static void
assert_values(bubble_column_t *col, const double *want, size_t n)
{
    size_t  i;

    assert_int_equal(col->n, n);

    for (i = 0; i < n; i++) {
        if (isnan(want[i])) {
            if (!isnan(col->num[i])) {
                fail_msg("%s[%zu]: %.17g, expected missing", col->name.data,
                         i, col->num[i]);
            }

        } else if (!(fabs(col->num[i] - want[i]) <= 1e-9 * fmax(1,
                                                      fabs(want[i]))))
        {
            fail_msg("%s[%zu]: %.17g, expected %.17g", col->name.data, i,
                     col->num[i], want[i]);
        }
    }
}


static void
assert_str(bubble_str_t s, const char *want)
{
    assert_non_null(s.data);
    assert_int_equal(s.len, strlen(want));
    assert_memory_equal(s.data, want, s.len);
}


/* --- detection ----------------------------------------------------------- */

static void
test_detect(void **state)
{
    (void) state;

#define DETECT(q)  bubble_gchart_detect((const u_char *) (q), strlen(q))

    assert_true(DETECT("cht=s&chs=10x10"));
    assert_true(DETECT("chs=10x10&cht=s"));
    assert_true(DETECT("a=1&cht"));
    assert_true(DETECT("cht="));
    assert_false(DETECT("spec=%7B%7D"));
    assert_false(DETECT("xcht=s&chtt=cht"));
    assert_false(DETECT("chts=000000,12"));
    assert_false(DETECT(""));
    assert_false(bubble_gchart_detect(NULL, 0));

#undef DETECT
}


/* --- a typical embed, as text and as meaning --------------------------- */

static void
test_example(void **state)
{
    bubble_chart_t  *c;
    const double     x[] = { 10, 20, 30 }, y[] = { 40, 50, 60 };
    const double     size[] = { 100, 50, 25 };

    (void) state;

    c = convert("cht=s&chs=400x300&chd=t:10,20,30|40,50,60|100,50,25"
                "&chco=FF0000&chtt=My+chart&chdl=Series&chxt=x,y"
                "&chxr=0,0,100|1,0,100");

    assert_string_equal(json.data,
        "{\"width\":400,\"height\":300,\"format\":\"png\","
        "\"theme\":\"classic\",\"alpha\":1,\"background\":\"#ffffff\","
        "\"title\":\"My chart\","
        "\"data\":{\"x\":[10,20,30],\"y\":[40,50,60],\"size\":[100,50,25],"
        "\"series\":[\"Series\",\"Series\",\"Series\"]},"
        "\"mapping\":{\"x\":\"x\",\"y\":\"y\",\"size\":\"size\","
        "\"color\":\"series\"},"
        "\"x\":{\"title\":\"\",\"limits\":[0,100]},"
        "\"y\":{\"title\":\"\",\"limits\":[0,100]},"
        "\"size\":{\"type\":\"area\",\"range\":[0,10],\"limits\":[0,100],"
        "\"breaks\":[]},"
        "\"color\":{\"type\":\"categorical\",\"title\":\"\","
        "\"palette\":[\"#ff0000\"],\"limits\":[\"Series\"]},"
        "\"legend\":{\"position\":\"right\"}}");

    assert_int_equal(c->width, 400);
    assert_int_equal(c->height, 300);
    assert_int_equal(c->theme, BUBBLE_THEME_CLASSIC);
    assert_true(c->alpha == 1);
    assert_int_equal(c->background, BUBBLE_RGBA(0xff, 0xff, 0xff, 0xff));
    assert_str(c->title, "My chart");
    assert_null(c->subtitle.data);

    assert_values(column(c, BUBBLE_AES_X), x, 3);
    assert_values(column(c, BUBBLE_AES_Y), y, 3);
    assert_values(column(c, BUBBLE_AES_SIZE), size, 3);

    assert_true(c->x.has_limits);
    assert_true(c->x.limits[0] == 0 && c->x.limits[1] == 100);
    assert_false(c->x.reverse);
    assert_null(c->x.breaks);               /* visible: nice breaks */

    assert_int_equal(c->size.type, BUBBLE_SIZE_AREA);
    assert_true(c->size.range[1] == BUBBLE_GCHART_MAX_RADIUS);
    assert_true(c->size.limits[0] == 0 && c->size.limits[1] == 100);
    assert_non_null(c->size.breaks);        /* no size legend */
    assert_int_equal(c->size.nbreaks, 0);

    assert_int_equal(c->color.ncolors, 1);
    assert_int_equal(c->color.colors[0], BUBBLE_RGBA(0xff, 0, 0, 0xff));
    assert_int_equal(c->color.ncategories, 1);
    assert_str(c->color.categories[0], "Series");
    assert_int_equal(c->legend, BUBBLE_LEGEND_RIGHT);
}


/* --- encodings ----------------------------------------------------------- */

static void
test_text(void **state)
{
    bubble_chart_t  *c;
    const double     x[] = { 0, 12.5, 100, NAN, 100, 0.001 };
    const double     y[] = { 100, NAN, 7, 8, 9, NAN };

    (void) state;

    /* -1 and other negatives missing, past 100 cut to 100, _ missing */
    c = convert("cht=s&chs=100x100&chd=t:0,12.5,100,-1,250,1e-3"
                "|1E2,-0.5,+7,8.0, 9 ,_");

    assert_values(column(c, BUBBLE_AES_X), x, 6);
    assert_values(column(c, BUBBLE_AES_Y), y, 6);

    /* hidden axes (no chxt): no ticks, no titles, 0..100 */
    assert_non_null(c->x.breaks);
    assert_int_equal(c->x.nbreaks, 0);
    assert_non_null(c->y.breaks);
    assert_int_equal(c->y.nbreaks, 0);
    assert_str(c->x.title, "");
    assert_true(c->y.limits[0] == 0 && c->y.limits[1] == 100);

    /* Google's look without chco, chdl: the blue, no legend, 10 px */
    assert_true(c->color.has_value);
    assert_int_equal(c->color.value, BUBBLE_RGBA(0x4d, 0x89, 0xf9, 0xff));
    assert_int_equal(c->legend, BUBBLE_LEGEND_NONE);
    assert_true(c->aes[BUBBLE_AES_SIZE] < 0);
    assert_true(c->aes[BUBBLE_AES_COLOR] < 0);
    assert_true(c->size.has_range);
    assert_true(c->size.range[1] == BUBBLE_GCHART_POINT_RADIUS);
}


static void
test_simple(void **state)
{
    bubble_chart_t  *c;
    const double     x[] = { 0, 100, 3000.0 / 61, NAN, 2600.0 / 61 };
    const double     y[] = { 2600.0 / 61, 5200.0 / 61, 0, 100, NAN };
    const double     s[] = { 100, 0, 100, 100, 100 };

    (void) state;

    /* A..Z = 0..25, a..z = 26..51, 0..9 = 52..61, _ missing */
    c = convert("cht=s&chs=100x100&chd=s:A9e_a,a0A9_,9A999");

    assert_values(column(c, BUBBLE_AES_X), x, 5);
    assert_values(column(c, BUBBLE_AES_Y), y, 5);
    assert_values(column(c, BUBBLE_AES_SIZE), s, 5);

    /* chds is for text only: ignored here */
    c = convert("cht=s&chs=100x100&chd=s:A9,9A&chds=0,1000");
    {
        const double  x2[] = { 0, 100 };

        assert_values(column(c, BUBBLE_AES_X), x2, 2);
    }
}


static void
test_extended(void **state)
{
    bubble_chart_t  *c;
    const double     x[] = { 0, 4095, 2048, NAN, 63 };
    const double     y[] = { 1, 64, 4032, 4094, 62 };

    (void) state;

    /* pairs from A-Z a-z 0-9 - . (0..63): hi * 64 + lo, __ missing */
    c = convert("cht=s&chs=100x100&chxt=x,y&chxr=0,0,4095|1,0,4095"
                "&chd=e:AA..gA__A.,ABBA.A.-A-");

    assert_values(column(c, BUBBLE_AES_X), x, 5);
    assert_values(column(c, BUBBLE_AES_Y), y, 5);

    /* without chxr: fractions of 4095 on 0..100 */
    c = convert("cht=s&chs=100x100&chd=e:AA..,..AA");
    {
        const double  x2[] = { 0, 100 };

        assert_values(column(c, BUBBLE_AES_X), x2, 2);
    }
}


/* --- scaling (chds) and axes (chxt, chxr) -------------------------------- */

static void
test_chds(void **state)
{
    bubble_chart_t  *c;

    (void) state;

    /* one pair for every series; out of range: off the plot, dropped */
    c = convert("cht=s&chs=100x100&chd=t:0,50,200,-10|-100,0,100,250"
                "&chds=-100,200");
    {
        const double  x[] = { 100.0 / 3, 50, 100, 30 };
        const double  y[] = { 0, 100.0 / 3, 200.0 / 3, NAN };

        assert_values(column(c, BUBBLE_AES_X), x, 4);
        assert_values(column(c, BUBBLE_AES_Y), y, 4);
    }

    /* a pair per series, the last for the rest; sizes on 0..100 */
    c = convert("cht=s&chs=100x100&chd=t:5,10|0,1|2,4&chds=0,10,0,2");
    {
        const double  x[] = { 50, 100 }, y[] = { 0, 50 }, s[] = { 100, NAN };

        assert_values(column(c, BUBBLE_AES_X), x, 2);
        assert_values(column(c, BUBBLE_AES_Y), y, 2);
        assert_values(column(c, BUBBLE_AES_SIZE), s, 2);
    }

    /* chds=a: each series on its own range; axes label the values */
    c = convert("cht=s&chs=100x100&chd=t:-5,0,5|100,200,300|1,2,4"
                "&chds=a&chxt=x,y");
    {
        const double  x[] = { -5, 0, 5 }, y[] = { 100, 200, 300 };
        const double  s[] = { 25, 50, 100 };

        assert_values(column(c, BUBBLE_AES_X), x, 3);
        assert_values(column(c, BUBBLE_AES_Y), y, 3);
        assert_values(column(c, BUBBLE_AES_SIZE), s, 3);
        assert_true(c->x.limits[0] == -5 && c->x.limits[1] == 5);
        assert_true(c->y.limits[0] == 100 && c->y.limits[1] == 300);
    }

    /* chds=a with one value: a unit either side */
    c = convert("cht=s&chs=100x100&chd=t:7,7|1,2&chds=a");
    {
        const double  x[] = { 7, 7 };

        assert_values(column(c, BUBBLE_AES_X), x, 2);
        assert_true(c->x.limits[0] == 6 && c->x.limits[1] == 8);
    }
}


static void
test_axes(void **state)
{
    bubble_chart_t  *c;

    (void) state;

    /* chxr places the fraction on the axis range; reversed; a step */
    c = convert("cht=s&chs=100x100&chd=t:0,50,100|0,25,100&chxt=x,y"
                "&chxr=0,10,20,2.5|1,1000,0");
    {
        const double  x[] = { 10, 15, 20 }, y[] = { 1000, 750, 0 };
        const double  breaks[] = { 10, 12.5, 15, 17.5, 20 };
        size_t        i;

        assert_values(column(c, BUBBLE_AES_X), x, 3);
        assert_values(column(c, BUBBLE_AES_Y), y, 3);

        assert_true(c->x.limits[0] == 10 && c->x.limits[1] == 20);
        assert_false(c->x.reverse);
        assert_int_equal(c->x.nbreaks, 5);
        for (i = 0; i < 5; i++) {
            assert_true(c->x.breaks[i] == breaks[i]);
        }

        assert_true(c->y.limits[0] == 0 && c->y.limits[1] == 1000);
        assert_true(c->y.reverse);
        assert_null(c->y.breaks);
    }

    /* t and r stand for x and y; x beats t; chxr of an axis not drawn */
    c = convert("cht=s&chs=100x100&chd=t:50|50&chxt=t,r,x"
                "&chxr=0,0,1|1,0,2|2,0,10");
    {
        const double  x[] = { 5 }, y[] = { 1 };

        assert_values(column(c, BUBBLE_AES_X), x, 1);
        assert_values(column(c, BUBBLE_AES_Y), y, 1);
    }

    /* a step of more ticks than we draw: nice breaks instead */
    c = convert("cht=s&chs=100x100&chd=t:50|50&chxt=x,y&chxr=0,0,100,1");
    assert_null(c->x.breaks);

    /* only x shown: y has no ticks */
    c = convert("cht=s&chs=100x100&chd=t:50|50&chxt=x");
    assert_null(c->x.breaks);
    assert_non_null(c->y.breaks);
    assert_int_equal(c->y.nbreaks, 0);
}


/* --- colours, legend, title, background ---------------------------------- */

static void
test_colors(void **state)
{
    bubble_chart_t   *c;
    bubble_column_t  *col;

    (void) state;

    /* per-point colours cycle; names from chdl; a legend at the bottom */
    c = convert("cht=s&chs=100x100&chd=t:1,2,3,4,5|1,2,3,4,5"
                "&chco=FF0000|00ff00|0000FF80&chdl=Cats|Dogs|Birds|Fish"
                "&chdlp=b");

    col = column(c, BUBBLE_AES_COLOR);
    assert_int_equal(col->type, BUBBLE_COLUMN_STRING);
    assert_str(col->str[0], "Cats");
    assert_str(col->str[1], "Dogs");
    assert_str(col->str[2], "Birds");
    assert_str(col->str[3], "Cats");
    assert_str(col->str[4], "Dogs");

    assert_int_equal(c->color.type, BUBBLE_COLOR_CATEGORICAL);
    assert_int_equal(c->color.ncolors, 3);
    assert_int_equal(c->color.colors[0], BUBBLE_RGBA(0xff, 0, 0, 0xff));
    assert_int_equal(c->color.colors[1], BUBBLE_RGBA(0, 0xff, 0, 0xff));
    assert_int_equal(c->color.colors[2], BUBBLE_RGBA(0, 0, 0xff, 0x80));
    assert_int_equal(c->color.ncategories, 3);
    assert_str(c->color.categories[2], "Birds");
    assert_str(c->color.title, "");
    assert_int_equal(c->legend, BUBBLE_LEGEND_BOTTOM);

    /* ',' separates series: a scatter chart has one, the first counts */
    c = convert("cht=s&chs=100x100&chd=t:1,2|1,2&chco=112233,445566");
    assert_true(c->color.has_value);
    assert_int_equal(c->color.value, BUBBLE_RGBA(0x11, 0x22, 0x33, 0xff));
    assert_int_equal(c->legend, BUBBLE_LEGEND_NONE);

    /* per-point colours without a legend: named by colour, none shown */
    c = convert("cht=s&chs=100x100&chd=t:1,2,3|1,2,3&chco=FF0000|0000FF");
    col = column(c, BUBBLE_AES_COLOR);
    assert_str(col->str[0], "#ff0000");
    assert_str(col->str[1], "#0000ff");
    assert_str(col->str[2], "#ff0000");
    assert_int_equal(c->legend, BUBBLE_LEGEND_NONE);

    /* fewer labels than colours: the rest named by colour; same labels
     * share a category (and its first colour) */
    c = convert("cht=s&chs=100x100&chd=t:1,2,3|1,2,3"
                "&chco=FF0000|00FF00|0000FF&chdl=A|A");
    assert_int_equal(c->color.ncategories, 2);
    assert_str(c->color.categories[0], "A");
    assert_str(c->color.categories[1], "#0000ff");
    assert_int_equal(c->color.colors[1], BUBBLE_RGBA(0, 0, 0xff, 0xff));
    col = column(c, BUBBLE_AES_COLOR);
    assert_str(col->str[1], "A");

    /* chdl with the default colour: one legend entry, on the right */
    c = convert("cht=s&chs=100x100&chd=t:1,2|1,2&chdl=Points|Unused");
    assert_int_equal(c->color.ncategories, 1);
    assert_str(c->color.categories[0], "Points");
    assert_int_equal(c->color.colors[0], BUBBLE_RGBA(0x4d, 0x89, 0xf9, 0xff));
    assert_int_equal(c->legend, BUBBLE_LEGEND_RIGHT);

    c = convert("cht=s&chs=100x100&chd=t:1|1&chdl=P&chdlp=t");
    assert_int_equal(c->legend, BUBBLE_LEGEND_TOP);
    c = convert("cht=s&chs=100x100&chd=t:1|1&chdl=P&chdlp=l");
    assert_int_equal(c->legend, BUBBLE_LEGEND_LEFT);
}


static void
test_title_background(void **state)
{
    bubble_chart_t  *c;

    (void) state;

    /* '|' breaks lines: title, then the rest as one subtitle line */
    c = convert("cht=s&chs=100x100&chd=t:1|1&chtt=First|Second+line|Third");
    assert_str(c->title, "First");
    assert_str(c->subtitle, "Second line Third");

    /* JSON escapes: quote, backslash, control characters; UTF-8 kept */
    c = convert("cht=s&chs=100x100&chd=t:1|1"
                "&chtt=a%22b%5Cc%01d+%E2%82%AC%7C%22");
    assert_str(c->title, "a\"b\\c\001d \xe2\x82\xac");
    assert_str(c->subtitle, "\"");

    /* chf: the bg solid fill; other fills ignored */
    c = convert("cht=s&chs=100x100&chd=t:1|1"
                "&chf=c,s,000000|bg,s,EFEFEF80|a,s,000000");
    assert_true(c->has_background);
    assert_int_equal(c->background, BUBBLE_RGBA(0xef, 0xef, 0xef, 0x80));

    c = convert("cht=s&chs=100x100&chd=t:1|1&chf=bg,lg,0,FFFFFF,0,000000,1");
    assert_int_equal(c->background, BUBBLE_RGBA(0xff, 0xff, 0xff, 0xff));

    /* accepted and ignored: chts, chg, chm, chxl, unknown parameters */
    c = convert("cht=s&chs=100x100&chd=t:1|1&chts=FF0000,20&chg=20,50"
                "&chm=o,FF0000,0,-1,10&chxl=0:|a|b&chof=png&foo");
    assert_int_equal(c->width, 100);
}


/* --- query string handling ----------------------------------------------- */

static void
test_query(void **state)
{
    bubble_chart_t  *c;
    const double     x[] = { 10, 20 };

    (void) state;

    /* %XX and + decoded in keys and values; a stray % stays itself */
    c = convert("%63ht=s&chs=100x100&chd=t%3A10%2C20%7c30%2C40"
                "&chtt=100%+sure%zz");
    assert_values(column(c, BUBBLE_AES_X), x, 2);
    assert_str(c->title, "100% sure%zz");

    /* the first of repeated parameters wins, as ngx_http_arg() finds it */
    c = convert("cht=s&chs=100x100&chs=200x200&&chd=t:10,20|1,2&chd=bad");
    assert_int_equal(c->width, 100);

    /* "t2:" names the data series: the rest fed markers, ignored */
    c = convert("cht=s&chs=100x100&chd=t2:10,20|1,2|3,4|5,6");
    assert_true(c->aes[BUBBLE_AES_SIZE] < 0);
    assert_values(column(c, BUBBLE_AES_X), x, 2);

    /* numbers keep their exact value */
    c = convert("cht=s&chs=100x100&chd=t:33.3333,0.1|1,2&chxt=x"
                "&chxr=0,0,100");
    {
        const double  x2[] = { 33.3333, 0.1 };

        assert_values(column(c, BUBBLE_AES_X), x2, 2);
        assert_non_null(strstr(json.data, "\"x\":[33.3333,0.1]"));
    }
}


/* --- errors and limits --------------------------------------------------- */

static void
test_errors(void **state)
{
    (void) state;

    refuse("cht=p3&chs=100x100&chd=t:1|1", 400, "cht", "\"p3\"");
    refuse("cht=&chs=100x100&chd=t:1|1", 400, "cht", "required");
    refuse("cht=%FF%00&chs=100x100&chd=t:1|1", 400, "cht", "\"??\"");
    refuse("cht=s%00x&chs=100x100&chd=t:1|1", 400, "cht", "\"s?x\"");
    refuse("cht%00=s&chs=100x100&chd=t:1|1", 400, "cht", "required");
    refuse("cht=s&chs=100x100%00&chd=t:1|1", 400, "chs", NULL);

    refuse("cht=s&chd=t:1|1", 400, "chs", "required");
    refuse("cht=s&chs=100&chd=t:1|1", 400, "chs", NULL);
    refuse("cht=s&chs=100x&chd=t:1|1", 400, "chs", NULL);
    refuse("cht=s&chs=x100&chd=t:1|1", 400, "chs", NULL);
    refuse("cht=s&chs=100x100x&chd=t:1|1", 400, "chs", NULL);
    refuse("cht=s&chs=-100x100&chd=t:1|1", 400, "chs", NULL);
    refuse("cht=s&chs=15x100&chd=t:1|1", 400, "chs", "too small");

    refuse("cht=s&chs=100x100", 400, "chd", "required");
    refuse("cht=s&chs=100x100&chd=1,2|3,4", 400, "chd", "encoding");
    refuse("cht=s&chs=100x100&chd=z:1,2|3,4", 400, "chd", "encoding");
    refuse("cht=s&chs=100x100&chd=tx:1,2|3,4", 400, "chd", "encoding");
    refuse("cht=s&chs=100x100&chd=t:1,2", 400, "chd", "got 1");
    refuse("cht=s&chs=100x100&chd=t:1|2|3|4", 400, "chd", "got 4");
    refuse("cht=s&chs=100x100&chd=t1:1|2", 400, "chd", "got 1");
    refuse("cht=s&chs=100x100&chd=t:1,2|3", 400, "chd", "equal length");
    refuse("cht=s&chs=100x100&chd=t:1,2|3,4|5", 400, "chd", "series 3");
    refuse("cht=s&chs=100x100&chd=t:|1", 400, "chd", "empty");
    refuse("cht=s&chs=100x100&chd=t:1,,2|1,2,3", 400, "chd",
           "value 2: \"\"");
    refuse("cht=s&chs=100x100&chd=t:1,x|1,2", 400, "chd", "\"x\"");
    refuse("cht=s&chs=100x100&chd=t:1,inf|1,2", 400, "chd", "\"inf\"");
    refuse("cht=s&chs=100x100&chd=t:1,0x10|1,2", 400, "chd", NULL);
    refuse("cht=s&chs=100x100&chd=t:1,1e999|1,2", 400, "chd", NULL);
    refuse("cht=s&chs=100x100&chd=t:1,1e|1,2", 400, "chd", NULL);
    refuse("cht=s&chs=100x100&chd=s:AB!,ABC", 400, "chd", "'!'");
    refuse("cht=s&chs=100x100&chd=s:AB-,ABC", 400, "chd", "'-'");
    refuse("cht=s&chs=100x100&chd=e:AAA,AAAA", 400, "chd", "two");
    refuse("cht=s&chs=100x100&chd=e:A_,AA", 400, "chd", "\"A_\"");
    refuse("cht=s&chs=100x100&chd=t:-1,-5|1,2", 400, "chd", "no point");
    refuse("cht=s&chs=100x100&chd=t:1,2|1,2|_,_", 400, "chd",
           "and a size");
    refuse("cht=s&chs=100x100&chd=t:500|5&chds=0,10", 400, "chd",
           "no point");

    refuse("cht=s&chs=100x100&chd=t:1|1&chds=0", 400, "chds", "1 number");
    refuse("cht=s&chs=100x100&chd=t:1|1&chds=0,1,2", 400, "chds", NULL);
    refuse("cht=s&chs=100x100&chd=t:1|1&chds=0,x", 400, "chds", "\"x\"");
    refuse("cht=s&chs=100x100&chd=t:1|1&chds=3,3", 400, "chds", "both 3");

    refuse("cht=s&chs=100x100&chd=t:1|1&chco=red", 400, "chco", "\"red\"");
    refuse("cht=s&chs=100x100&chd=t:1|1&chco=FF00000", 400, "chco", NULL);
    refuse("cht=s&chs=100x100&chd=t:1,2|1,2&chco=FF0000|GG0000", 400,
           "chco", "colour 2");

    refuse("cht=s&chs=100x100&chd=t:1|1&chxt=x,q", 400, "chxt", "axis 1");
    refuse("cht=s&chs=100x100&chd=t:1|1&chxt=x&chxr=0,1", 400, "chxr",
           NULL);
    refuse("cht=s&chs=100x100&chd=t:1|1&chxt=x&chxr=0,1,2,3,4", 400,
           "chxr", NULL);
    refuse("cht=s&chs=100x100&chd=t:1|1&chxt=x&chxr=0,a,2", 400, "chxr",
           "\"a\"");
    refuse("cht=s&chs=100x100&chd=t:1|1&chxt=x&chxr=0.5,1,2", 400, "chxr",
           "index");
    refuse("cht=s&chs=100x100&chd=t:1|1&chxt=x&chxr=0,2,2", 400, "chxr",
           "both 2");

    refuse("cht=s&chs=100x100&chd=t:1|1&chf=bg,s,red", 400, "chf", NULL);
    refuse("cht=s&chs=100x100&chd=t:1|1&chf=bg,s,FFFFFF,1", 400, "chf",
           NULL);

    refuse("cht=s&chs=100x100&chd=t:1|1&chtt=%C3%28", 400, "chtt", "UTF-8");
    refuse("cht=s&chs=100x100&chd=t:1|1&chtt=%ED%A0%80", 400, "chtt", NULL);
    refuse("cht=s&chs=100x100&chd=t:1|1&chtt=%C0%AF", 400, "chtt", NULL);
    refuse("cht=s&chs=100x100&chd=t:1|1&chdl=%E2%82", 400, "chdl", "UTF-8");
    refuse("cht=s&chs=100x100&chd=t:1|1&chtt=a%00b", 400, "chtt", "NUL");
    refuse("cht=s&chs=100x100&chd=t:1|1&chdl=a%00", 400, "chdl", "NUL");
}


static void
test_limits(void **state)
{
    char    *q, *p;
    size_t   i;

    (void) state;

    limits.max_points = 4;

    refuse("cht=s&chs=100x100&chd=t:1,2,3,4,5|1,2,3,4,5", 413, "chd",
           "limit is 4");
    refuse("cht=s&chs=100x100&chd=s:ABCDE,ABCDE", 413, "chd", NULL);
    refuse("cht=s&chs=100x100&chd=e:AAAAAAAAAA,AAAAAAAAAA", 413, "chd",
           NULL);
    (void) convert("cht=s&chs=100x100&chd=t:1,2,3,4|1,2,3,4");

    bubble_limits_default(&limits);
    limits.max_side = 1000;
    limits.max_pixels = 500 * 1000;

    refuse("cht=s&chs=1001x10&chd=t:1|1", 413, "chs", "1001 px");
    refuse("cht=s&chs=100x99999999999&chd=t:1|1", 413, "chs", NULL);
    refuse("cht=s&chs=1000x501&chd=t:1|1", 413, "chs", "limit is 500000");
    (void) convert("cht=s&chs=1000x500&chd=t:1|1");

    /* more distinct colours than the layout's 64 categories */
    q = malloc(64 * 1024);
    assert_non_null(q);
    p = q + sprintf(q, "cht=s&chs=100x100&chd=t:");
    for (i = 0; i < 65; i++) {
        p += sprintf(p, "%s1", i ? "," : "");
    }
    p += sprintf(p, "|");
    for (i = 0; i < 65; i++) {
        p += sprintf(p, "%s1", i ? "," : "");
    }
    p += sprintf(p, "&chco=");
    for (i = 0; i < 65; i++) {
        p += sprintf(p, "%s%06zx", i ? "|" : "", i);
    }

    bubble_limits_default(&limits);
    refuse(q, 400, "chco", "64");

    /* 64 are fine, and per-point colours past the points are unused */
    strcpy(strstr(q, "&chco=") + 6 + 64 * 7 - 1, "");
    (void) convert(q);

    free(q);
}


/* --- huge numbers (issue 15) --------------------------------------------- */

/* the converted chart draws as SVG without NaN: the layout refuses none */

static void
draws(bubble_chart_t *chart)
{
    bubble_output_t  out;

    memset(&out, 0, sizeof(bubble_output_t));
    memset(&err, 0, sizeof(bubble_error_t));

    if (bubble_render_svg(&alloc, chart, &out, &err) != 0) {
        fail_msg("%s\n-> %d %s: %s", json.data, err.status, err.path,
                 err.message);
    }

    assert_null(memmem(out.data, out.len, "=\"nan", 5));
    assert_null(memmem(out.data, out.len, "=\"-nan", 6));
    assert_null(memmem(out.data, out.len, "=\"inf", 5));
    assert_null(memmem(out.data, out.len, "=\"-inf", 6));
}


/*
 * Every number the converter accepts comes out as JSON (t:1,2 on an axis
 * to 1e308 was 2 * 1e308 / 100 = "inf", then 400 invalid_json in JSON we
 * wrote), or the parameter is refused by name where the range cannot be
 * drawn, before the layout could refuse x.limits, which the URL lacks.
 */

static void
test_huge_numbers(void **state)
{
    bubble_chart_t  *c;

    (void) state;

    c = convert("cht=s&chs=400x300&chd=t:1,2|1,2&chxt=x&chxr=0,0,1e308");
    {
        const double  x[] = { 1e306, 2e306 };

        assert_values(column(c, BUBBLE_AES_X), x, 2);
        assert_true(c->x.limits[0] == 0 && c->x.limits[1] == 1e308);
        assert_null(strstr(json.data, "inf"));
        draws(c);
    }

    /* the full encoding range onto the widest axis that draws */
    c = convert("cht=s&chs=400x300&chd=t:0,100|0,100"
                "&chxt=x,y&chxr=0,-8e307,8e307,1e307|1,1.6e308,0");
    {
        const double  x[] = { -8e307, 8e307 }, y[] = { 1.6e308, 0 };

        assert_values(column(c, BUBBLE_AES_X), x, 2);
        assert_values(column(c, BUBBLE_AES_Y), y, 2);
        assert_int_equal(c->x.nbreaks, 17);
        draws(c);
    }

    /* chds scales of any width that fits a double */
    c = convert("cht=s&chs=400x300&chd=t:5e307,1e308|1,2|0,1e308"
                "&chds=0,1e308,0,10,0,1e308");
    {
        const double  size[] = { 0, 100 };

        assert_values(column(c, BUBBLE_AES_SIZE), size, 2);
        draws(c);
    }

    c = convert("cht=s&chs=400x300&chd=t:-8e307,8e307|1,2|1,1e308"
                "&chds=a&chxt=x");
    {
        const double  x[] = { -8e307, 8e307 }, size[] = { 1e-306, 100 };

        assert_values(column(c, BUBBLE_AES_X), x, 2);
        assert_values(column(c, BUBBLE_AES_SIZE), size, 2);
        draws(c);
    }

    /* ranges that are wider than a double holds, or will be with margins */
    refuse("cht=s&chs=400x300&chd=t:1,2|1,2&chxt=x&chxr=0,-1e308,1e308",
           400, "chxr", "too wide");
    refuse("cht=s&chs=400x300&chd=t:1,2|1,2&chxt=x,y"
           "&chxr=1,0,1.7976931348623157e308", 400, "chxr", "y axis");
    refuse("cht=s&chs=400x300&chd=t:1,2|1,2&chds=-1e308,1e308", 400,
           "chds", "series 1");
    refuse("cht=s&chs=400x300&chd=t:1,2|1,2&chds=0,1,-1e308,1e308", 400,
           "chds", "series 2");
    refuse("cht=s&chs=400x300&chd=t:-1e308,1e308|1,2&chds=a", 400, "chds",
           "series 1");
    refuse("cht=s&chs=400x300&chd=t:1,2|0,1.7e308&chds=a", 400, "chds",
           "y axis");
}


/* an axis index must name an axis of chxt, as -1 never did */

static void
test_axis_index(void **state)
{
    (void) state;

    refuse("cht=s&chs=100x100&chd=t:1|1&chxt=x&chxr=5,0,10", 400, "chxr",
           "5 is not an index into chxt (1 axis)");
    refuse("cht=s&chs=100x100&chd=t:1|1&chxt=x,y&chxr=0,0,1|2,0,10", 400,
           "chxr", "range 2: 2 is not an index");
    refuse("cht=s&chs=100x100&chd=t:1|1&chxt=x&chxr=-1,0,10", 400, "chxr",
           "index");
    refuse("cht=s&chs=100x100&chd=t:1|1&chxr=0,0,10", 400, "chxr",
           "(0 axes)");

    /* the last axis of chxt is an index, drawn or not */
    convert("cht=s&chs=100x100&chd=t:1|1&chxt=x,y,t&chxr=2,0,10");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_detect, setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_example, setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_text, setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_simple, setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_extended, setup,
                                        arena_teardown),
        cmocka_unit_test_setup_teardown(test_chds, setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_axes, setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_colors, setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_title_background, setup,
                                        arena_teardown),
        cmocka_unit_test_setup_teardown(test_query, setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, arena_teardown),
        cmocka_unit_test_setup_teardown(test_huge_numbers, setup,
                                        arena_teardown),
        cmocka_unit_test_setup_teardown(test_axis_index, setup,
                                        arena_teardown),
        cmocka_unit_test_setup_teardown(test_limits, setup, arena_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

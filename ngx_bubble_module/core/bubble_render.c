/*
 * ngx_bubble core: the render pipeline, model -> display list, then
 * -> SVG bytes (bubble_svg.c) or -> cairo -> PNG or PDF (bubble_raster.c).
 */

#include <stdio.h>
#include <string.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <hb.h>
#include <pango/pango.h>

#include "bubble.h"
#include "bubble_dlist.h"
#include "bubble_text.h"


static void bubble_renderer_font(char *buf, size_t size, const char *family);


int
bubble_render_svg(bubble_allocator_t *a, bubble_chart_t *chart,
    bubble_output_t *out, bubble_error_t *err)
{
    bubble_dlist_t  dl;

    if (bubble_layout(a, chart, &dl, err) != 0) {
        return -1;
    }

    if (bubble_svg_write(a, &dl, out, err) != 0) {
        return -1;
    }

    out->dropped_rows = dl.dropped_rows;

    /* the display list is dead once written */
    bubble_free(a, dl.items);

    return 0;
}


/*
 * Whether the chart would draw, without drawing it: the layout, which is
 * where a chart meets the limits of its canvas (no room for the panel,
 * every row off a log axis).  For answers that promise a chart without
 * sending it, as a 304 does.
 */

int
bubble_render_check(bubble_allocator_t *a, bubble_chart_t *chart,
    bubble_error_t *err)
{
    bubble_dlist_t  dl;

    if (bubble_layout(a, chart, &dl, err) != 0) {
        return -1;
    }

    bubble_free(a, dl.items);

    return 0;
}


int
bubble_render(bubble_allocator_t *a, bubble_chart_t *chart,
    bubble_output_t *out, bubble_error_t *err)
{
    bubble_dlist_t  dl;

    if (chart->format == BUBBLE_FORMAT_SVG) {
        return bubble_render_svg(a, chart, out, err);
    }

    if (bubble_layout(a, chart, &dl, err) != 0) {
        return -1;
    }

    if (bubble_raster(a, chart, &dl, out, err) != 0) {
        return -1;
    }

    out->dropped_rows = dl.dropped_rows;
    bubble_free(a, dl.items);

    return 0;
}


/*
 * Once per process, before it serves: fontconfig's cache and the default
 * fonts loaded (8-27 ms on the first text otherwise), and the fonts of
 * the renderer id looked up before any request asks for an ETag.
 */

void
bubble_warm_up(void)
{
    bubble_text_metrics_t  m;

    bubble_text_measure(BUBBLE_FONT_FAMILY, 11, 0, "0123456789", 10, &m);
    bubble_text_measure(BUBBLE_FONT_FAMILY, 11, 1, "Ag", 2, &m);

    (void) bubble_renderer_id();
}


/*
 * What draws the bytes: part of every ETag, so a library or font upgrade
 * that changes pixels also changes the tag.  The fonts are named by the
 * file fontconfig picks for the default family and the CJK fallback, and
 * that file's font revision (FC_FONTVERSION, the 'head' table's).
 * Computed once, by bubble_warm_up() in each worker before it serves.
 */

const char *
bubble_renderer_id(void)
{
    int           n;
    static char   id[512];

    if (id[0] == '\0') {
        n = snprintf(id, sizeof(id), "ngx_bubble/%s cairo/%s pango/%s "
                     "harfbuzz/%s fontconfig/%d", BUBBLE_VERSION,
                     cairo_version_string(), pango_version_string(),
                     hb_version_string(), FcGetVersion());

        bubble_renderer_font(id + n, sizeof(id) - n, BUBBLE_FONT_FAMILY);
        n += strlen(id + n);
        bubble_renderer_font(id + n, sizeof(id) - n, BUBBLE_FONT_FALLBACK);
    }

    return id;
}


/* " font/DejaVuSans.ttf@0x2250c": the file and revision of a family */

static void
bubble_renderer_font(char *buf, size_t size, const char *family)
{
    int          version;
    FcChar8     *file;
    FcResult     result;
    FcPattern   *pat, *match;
    const char  *base;

    snprintf(buf, size, " font/none");

    pat = FcNameParse((const FcChar8 *) family);
    if (pat == NULL) {
        return;
    }

    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);

    match = FcFontMatch(NULL, pat, &result);
    FcPatternDestroy(pat);

    if (match == NULL) {
        return;
    }

    if (FcPatternGetString(match, FC_FILE, 0, &file) == FcResultMatch) {
        if (FcPatternGetInteger(match, FC_FONTVERSION, 0, &version)
            != FcResultMatch)
        {
            version = 0;
        }

        base = strrchr((const char *) file, '/');
        snprintf(buf, size, " font/%s@%#x",
                 base ? base + 1 : (const char *) file, version);
    }

    FcPatternDestroy(match);
}

/*
 * ngx_bubble core: the render pipeline, model -> display list, then
 * -> SVG bytes (bubble_svg.c) or -> cairo -> PNG or PDF (bubble_raster.c).
 */

#include <stdio.h>

#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <hb.h>
#include <pango/pango.h>

#include "bubble.h"
#include "bubble_layout.h"


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
 * What draws the bytes: part of every ETag, so a library or font upgrade
 * that changes pixels also changes the tag.
 */

const char *
bubble_renderer_id(void)
{
    static char  id[160];

    if (id[0] == '\0') {
        snprintf(id, sizeof(id), "ngx_bubble/%s cairo/%s pango/%s "
                 "harfbuzz/%s fontconfig/%d", BUBBLE_VERSION,
                 cairo_version_string(), pango_version_string(),
                 hb_version_string(), FcGetVersion());
    }

    return id;
}

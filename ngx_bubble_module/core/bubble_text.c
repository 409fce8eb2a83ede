/*
 * ngx_bubble core: text metrics with pango, the engine librsvg draws with,
 * so what the layout measures is what the raster shows.
 *
 * pango's default cairo font map is per thread (pango >= 1.32.6); each
 * thread keeps one context for its lifetime.  Layout objects come from
 * glib's allocator and are released before returning.
 */

#include <string.h>

#include <pango/pangocairo.h>

#include "bubble.h"
#include "bubble_layout.h"


static __thread PangoContext  *bubble_pango_context;


static PangoContext *
bubble_text_context(void)
{
    PangoFontMap  *map;

    if (bubble_pango_context == NULL) {
        map = pango_cairo_font_map_get_default();
        bubble_pango_context = pango_font_map_create_context(map);
    }

    return bubble_pango_context;
}


void
bubble_text_measure(const char *family, double size, int bold,
    const char *text, size_t len, bubble_text_metrics_t *m)
{
    int                    baseline;
    PangoLayout           *layout;
    PangoRectangle         logical;
    PangoFontDescription  *desc;

    memset(m, 0, sizeof(bubble_text_metrics_t));

    if (len == 0) {
        return;
    }

    desc = pango_font_description_new();
    pango_font_description_set_family(desc, family);
    pango_font_description_set_weight(desc, bold ? PANGO_WEIGHT_BOLD
                                                 : PANGO_WEIGHT_NORMAL);
    /* size is in px: librsvg renders at 96 dpi with absolute font sizes */
    pango_font_description_set_absolute_size(desc, size * PANGO_SCALE);

    layout = pango_layout_new(bubble_text_context());
    pango_layout_set_font_description(layout, desc);
    pango_layout_set_text(layout, text, (int) len);

    pango_layout_get_extents(layout, NULL, &logical);
    baseline = pango_layout_get_baseline(layout);

    m->width = (double) logical.width / PANGO_SCALE;
    m->height = (double) logical.height / PANGO_SCALE;
    m->ascent = (double) baseline / PANGO_SCALE;

    g_object_unref(layout);
    pango_font_description_free(desc);
}


void
bubble_warm_up(void)
{
    bubble_text_metrics_t  m;

    /* loads fontconfig's cache and the default fonts, once per process */
    bubble_text_measure(BUBBLE_FONT_FAMILY, 11, 0, "0123456789", 10, &m);
    bubble_text_measure(BUBBLE_FONT_FAMILY, 11, 1, "Ag", 2, &m);
}

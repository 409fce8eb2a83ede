/*
 * ngx_bubble core: text with pango, measured for the layout and drawn for
 * PNG and PDF with the same context, so what the layout measures is what
 * the raster shows.
 *
 * pango's default cairo font map is per thread (pango >= 1.32.6); each
 * thread keeps one context for its lifetime.  Its font options are fixed
 * (no hinting, grey antialiasing: what librsvg and browsers draw SVG text
 * with), so glyph advances do not depend on the surface or the scale.
 * Layout objects come from glib's allocator and are released before
 * returning.
 */

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pango/pangocairo.h>

#include "bubble.h"
#include "bubble_dlist.h"
#include "bubble_text.h"


static __thread PangoContext  *bubble_pango_context;


static PangoContext *
bubble_text_context(void)
{
    PangoFontMap          *map;
    cairo_font_options_t  *options;

    if (bubble_pango_context == NULL) {
        map = pango_cairo_font_map_get_default();
        bubble_pango_context = pango_font_map_create_context(map);

        options = cairo_font_options_create();
        cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
        cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
        cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
        pango_cairo_context_set_font_options(bubble_pango_context, options);
        cairo_font_options_destroy(options);

        /* advances in fractions of a pixel, as librsvg and browsers lay out */
        pango_context_set_round_glyph_positions(bubble_pango_context, FALSE);
    }

    return bubble_pango_context;
}


/*
 * Text boxes as ggplot2 sizes them (titleGrob, add_margins): the ink
 * ascent of the string itself plus the font's descent, measured on
 * "gjpqyQ" as ggplot2's font_descent() does.  Pango's logical line height
 * adds leading (and with a CJK fallback font, far more), which made every
 * title and axis 2.5-5 px taller than ggplot2's.
 */

#define BUBBLE_DESCENTS  8

typedef struct {
    char                     family[64];
    double                   size;
    int                      bold;
    double                   descent;       /* px */
} bubble_descent_t;

static __thread bubble_descent_t  bubble_descents[BUBBLE_DESCENTS];
static __thread unsigned          bubble_descents_next;


static PangoLayout *
bubble_text_layout(const char *family, double size, int bold,
    const char *text, size_t len)
{
    char                   families[256];
    PangoLayout           *layout;
    PangoFontDescription  *desc;

    /* the family is at most 128 bytes (bubble_spec.c) */
    snprintf(families, sizeof(families), "%s,%s", family,
             BUBBLE_FONT_FALLBACK);

    desc = pango_font_description_new();
    pango_font_description_set_family(desc, families);
    pango_font_description_set_weight(desc, bold ? PANGO_WEIGHT_BOLD
                                                 : PANGO_WEIGHT_NORMAL);
    /* size is in px: librsvg renders at 96 dpi with absolute font sizes */
    pango_font_description_set_absolute_size(desc, size * PANGO_SCALE);

    layout = pango_layout_new(bubble_text_context());
    pango_layout_set_font_description(layout, desc);
    pango_layout_set_text(layout, text, (int) len);

    pango_font_description_free(desc);

    return layout;
}


static double
bubble_text_descent(const char *family, double size, int bold)
{
    unsigned           i;
    PangoLayout       *layout;
    PangoRectangle     ink;
    bubble_descent_t  *d;

    for (i = 0; i < BUBBLE_DESCENTS; i++) {
        d = &bubble_descents[i];

        if (d->size == size && d->bold == bold
            && strncmp(d->family, family, sizeof(d->family)) == 0)
        {
            return d->descent;
        }
    }

    layout = bubble_text_layout(family, size, bold, "gjpqyQ", 6);
    pango_layout_get_extents(layout, &ink, NULL);

    d = &bubble_descents[bubble_descents_next++ % BUBBLE_DESCENTS];
    snprintf(d->family, sizeof(d->family), "%s", family);
    d->size = size;
    d->bold = bold;
    d->descent = (double) (ink.y + ink.height
                           - pango_layout_get_baseline(layout)) / PANGO_SCALE;

    g_object_unref(layout);

    return d->descent;
}


/*
 * Text as an SVG renderer shows it, into buf (at least len bytes): the
 * characters XML drops are dropped (bubble_xml_char, as bubble_svg.c
 * drops them), so pango never sees malformed UTF-8; with collapse, also
 * xml:space="default" whitespace: newlines removed, tabs as spaces, runs
 * of spaces as one, none at either end.  Returns the length.
 */

static size_t
bubble_text_xml(const u_char *s, size_t len, char *buf, int collapse)
{
    int     keep;
    size_t  i, n, out;

    out = 0;

    for (i = 0; i < len; i += n) {
        n = bubble_xml_char(s + i, len - i, &keep);

        if (!keep) {
            continue;
        }

        if (collapse && s[i] == '\n') {
            continue;
        }

        if (collapse && (s[i] == ' ' || s[i] == '\t')) {
            if (out && buf[out - 1] != ' ') {
                buf[out++] = ' ';
            }

            continue;
        }

        memcpy(buf + out, s + i, n);
        out += n;
    }

    if (collapse && out && buf[out - 1] == ' ') {
        out--;
    }

    return out;
}


/*
 * Metrics of short texts in the default family, cached a thread: the same
 * labels and tick labels come back chart after chart, and laying a text
 * out in pango was 58% of a W1 SVG's CPU (perf).  Direct-mapped: a slot
 * holds the last text that hashed to it, and the whole key is compared,
 * so a collision costs a measurement, never a wrong answer.  1024 slots of
 * 104 bytes (~104 KiB) a thread, allocated at its first measurement, freed
 * when the thread exits.
 */

#define BUBBLE_METRICS_SLOTS  1024          /* a power of two */
#define BUBBLE_METRICS_TEXT   64            /* bytes: longer texts uncached */

typedef struct {
    double                   size;
    bubble_text_metrics_t    m;
    uint8_t                  bold;
    uint8_t                  len;           /* 0: an empty slot */
    char                     text[BUBBLE_METRICS_TEXT];
} bubble_metrics_slot_t;

static __thread bubble_metrics_slot_t  *bubble_metrics;
static pthread_key_t                    bubble_metrics_key;
static pthread_once_t                   bubble_metrics_once = PTHREAD_ONCE_INIT;


static void
bubble_metrics_key_create(void)
{
    (void) pthread_key_create(&bubble_metrics_key, free);
}


static bubble_metrics_slot_t *
bubble_metrics_slot(const char *family, double size, int bold,
    const char *text, size_t len)
{
    size_t    i;
    uint32_t  h;

    if (len > BUBBLE_METRICS_TEXT || strcmp(family, BUBBLE_FONT_FAMILY) != 0) {
        return NULL;
    }

    if (bubble_metrics == NULL) {
        (void) pthread_once(&bubble_metrics_once, bubble_metrics_key_create);

        bubble_metrics = calloc(BUBBLE_METRICS_SLOTS,
                                sizeof(bubble_metrics_slot_t));
        if (bubble_metrics == NULL) {
            return NULL;
        }

        (void) pthread_setspecific(bubble_metrics_key, bubble_metrics);
    }

    /* FNV-1a over the text, the size's bits and the weight */
    h = 2166136261u;

    for (i = 0; i < len; i++) {
        h = (h ^ (u_char) text[i]) * 16777619u;
    }

    h = (h ^ (uint32_t) lround(size * 1000)) * 16777619u;
    h = (h ^ (uint32_t) bold) * 16777619u;

    return &bubble_metrics[h & (BUBBLE_METRICS_SLOTS - 1)];
}


void
bubble_text_measure(const char *family, double size, int bold,
    const char *text, size_t len, bubble_text_metrics_t *m)
{
    int                     baseline;
    char                   *clean, small[256];
    size_t                  n;
    PangoLayout            *layout;
    PangoRectangle          ink, logical;
    bubble_metrics_slot_t  *slot;

    memset(m, 0, sizeof(bubble_text_metrics_t));

    if (len == 0) {
        return;
    }

    slot = bubble_metrics_slot(family, size, bold, text, len);

    if (slot != NULL && slot->len == len && slot->size == size
        && slot->bold == bold && memcmp(slot->text, text, len) == 0)
    {
        *m = slot->m;
        return;
    }

    /*
     * what bubble_text_draw() and an SVG viewer show, spaces collapsed
     * too: a tick label padded by "%99.2e" reserves the width of what is
     * drawn, not of 91 spaces no viewer draws
     */
    clean = (len <= sizeof(small)) ? small : g_malloc(len);
    n = bubble_text_xml((const u_char *) text, len, clean, 1);

    layout = bubble_text_layout(family, size, bold, clean, n);

    if (clean != small) {
        g_free(clean);
    }

    pango_layout_get_extents(layout, &ink, &logical);
    baseline = pango_layout_get_baseline(layout);

    m->width = (double) logical.width / PANGO_SCALE;

    /* blank text has no ink: no ascent, but the descent still counts */
    m->ascent = (ink.height > 0) ? (double) (baseline - ink.y) / PANGO_SCALE
                                 : 0;
    m->height = m->ascent + bubble_text_descent(family, size, bold);

    g_object_unref(layout);

    if (slot != NULL) {
        slot->size = size;
        slot->bold = (uint8_t) bold;
        slot->len = (uint8_t) len;
        memcpy(slot->text, text, len);
        slot->m = *m;
    }
}


/*
 * A text item on cr: (x, y) is the baseline's anchor point, as SVG's
 * <text x y text-anchor> places it; rotated items turn -90 degrees about
 * it.  buf holds at least it->text.len bytes: the text as an SVG renderer
 * shows it (the characters XML drops dropped, xml:space="default"
 * whitespace: newlines removed, tabs as spaces, runs of spaces as one,
 * none at either end).
 */

void
bubble_text_draw(cairo_t *cr, const char *family, const bubble_item_t *it,
    char *buf)
{
    size_t           len;
    double           dx;
    PangoLayout     *layout;
    PangoRectangle   logical;

    len = bubble_text_xml((const u_char *) it->text.data, it->text.len, buf,
                          1);
    if (len == 0) {
        return;
    }

    layout = bubble_text_layout(family, it->font_size, it->bold, buf, len);
    pango_layout_get_extents(layout, NULL, &logical);

    dx = 0;

    if (it->anchor == BUBBLE_ANCHOR_MIDDLE) {
        dx = -(double) logical.width / PANGO_SCALE / 2;

    } else if (it->anchor == BUBBLE_ANCHOR_END) {
        dx = -(double) logical.width / PANGO_SCALE;
    }

    cairo_save(cr);
    cairo_translate(cr, it->x, it->y);

    if (it->rotate) {
        cairo_rotate(cr, -M_PI / 2);
    }

    cairo_move_to(cr, dx,
                  -(double) pango_layout_get_baseline(layout) / PANGO_SCALE);
    cairo_set_source_rgba(cr, BUBBLE_R(it->fill) / 255.0,
                          BUBBLE_G(it->fill) / 255.0,
                          BUBBLE_B(it->fill) / 255.0,
                          BUBBLE_A(it->fill) / 255.0);
    pango_cairo_show_layout(cr, layout);
    cairo_restore(cr);

    g_object_unref(layout);
}

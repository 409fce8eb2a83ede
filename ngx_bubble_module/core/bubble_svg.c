/*
 * ngx_bubble core: display list -> SVG bytes.
 *
 * One buffer, sized from the display list before writing (items x bound +
 * text x 6 for the worst escaping), so nothing grows or copies.  Only
 * simple shapes and fill-opacity: no filters, masks, groups with opacity,
 * <image> or external references (librsvg's cheap path, and nothing a
 * browser could fetch).
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bubble.h"
#include "bubble_dlist.h"
#include "bubble_text.h"


#define BUBBLE_SVG_ITEM_MAX     320         /* bytes per item, not text */


typedef struct {
    u_char                  *p;
    u_char                  *last;
    u_char                  *end;
} bubble_svg_buf_t;


static void bubble_svg_printf(bubble_svg_buf_t *b, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void bubble_svg_escape(bubble_svg_buf_t *b, const char *s, size_t len);
static void bubble_svg_color(bubble_svg_buf_t *b, const char *attr,
    bubble_rgba_t c, double opacity);
static const char *bubble_svg_num(char *buf, double v);


int
bubble_svg_write(bubble_allocator_t *a, bubble_dlist_t *dl,
    bubble_output_t *out, bubble_error_t *err)
{
    size_t             i, size;
    char               n1[32], n2[32], n3[32], n4[32];
    bubble_item_t     *it;
    bubble_svg_buf_t   b;

    size = 1024 + dl->nitems * BUBBLE_SVG_ITEM_MAX + 6 * dl->text_bytes
           + 6 * (dl->title.len + dl->font_family.len);

    b.p = bubble_alloc(a, size);
    if (b.p == NULL) {
        bubble_error_set(err, 500, "internal", "", "out of memory");
        return -1;
    }

    b.last = b.p;
    b.end = b.p + size;

    bubble_svg_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                      "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                      "role=\"img\" font-family=\"", dl->width, dl->height,
                      dl->width, dl->height);
    bubble_svg_escape(&b, dl->font_family.data, dl->font_family.len);
    bubble_svg_printf(&b, ", " BUBBLE_FONT_FALLBACK ", sans-serif\">\n"
                      "<title>");

    if (dl->title.data) {
        bubble_svg_escape(&b, dl->title.data, dl->title.len);
    } else {
        bubble_svg_printf(&b, "Bubble chart");
    }

    bubble_svg_printf(&b, "</title>\n");

    for (i = 0; i < dl->nitems; i++) {
        it = &dl->items[i];

        switch (it->type) {

        case BUBBLE_ITEM_RECT:
            bubble_svg_printf(&b, "<rect x=\"%s\" y=\"%s\" width=\"%s\" "
                              "height=\"%s\"", bubble_svg_num(n1, it->x),
                              bubble_svg_num(n2, it->y),
                              bubble_svg_num(n3, it->w),
                              bubble_svg_num(n4, it->h));
            bubble_svg_color(&b, "fill", it->fill, 1);
            bubble_svg_printf(&b, "/>\n");
            break;

        case BUBBLE_ITEM_LINE:
            bubble_svg_printf(&b, "<line x1=\"%s\" y1=\"%s\" x2=\"%s\" "
                              "y2=\"%s\"", bubble_svg_num(n1, it->x),
                              bubble_svg_num(n2, it->y),
                              bubble_svg_num(n3, it->w),
                              bubble_svg_num(n4, it->h));
            bubble_svg_color(&b, "stroke", it->stroke, 1);
            bubble_svg_printf(&b, " stroke-width=\"%s\"/>\n",
                              bubble_svg_num(n1, it->stroke_width));
            break;

        case BUBBLE_ITEM_CIRCLE:
            bubble_svg_printf(&b, "<circle cx=\"%s\" cy=\"%s\" r=\"%s\"",
                              bubble_svg_num(n1, it->x),
                              bubble_svg_num(n2, it->y),
                              bubble_svg_num(n3, it->r));
            bubble_svg_color(&b, "fill", it->fill, it->opacity);

            if (BUBBLE_A(it->stroke)) {
                bubble_svg_color(&b, "stroke", it->stroke, 1);
                bubble_svg_printf(&b, " stroke-width=\"%s\"",
                                  bubble_svg_num(n1, it->stroke_width));
            }

            if (it->text.len) {
                /* a tooltip: browsers show <title> on hover */
                bubble_svg_printf(&b, "><title>");
                bubble_svg_escape(&b, it->text.data, it->text.len);
                bubble_svg_printf(&b, "</title></circle>\n");

            } else {
                bubble_svg_printf(&b, "/>\n");
            }

            break;

        case BUBBLE_ITEM_CLIP:
            /*
             * A nested viewport clips what it holds (overflow is hidden
             * by default) and, with viewBox = its own rectangle, keeps the
             * page's coordinates: clipping without a url(#) reference.
             */
            bubble_svg_printf(&b, "<svg x=\"%s\" y=\"%s\" width=\"%s\" "
                              "height=\"%s\" viewBox=\"%s %s %s %s\">\n",
                              bubble_svg_num(n1, it->x),
                              bubble_svg_num(n2, it->y),
                              bubble_svg_num(n3, it->w),
                              bubble_svg_num(n4, it->h),
                              n1, n2, n3, n4);
            break;

        case BUBBLE_ITEM_CLIP_END:
            bubble_svg_printf(&b, "</svg>\n");
            break;

        case BUBBLE_ITEM_TEXT:
            bubble_svg_printf(&b, "<text x=\"%s\" y=\"%s\" font-size=\"%s\"",
                              bubble_svg_num(n1, it->x),
                              bubble_svg_num(n2, it->y),
                              bubble_svg_num(n3, it->font_size));
            bubble_svg_color(&b, "fill", it->fill, 1);

            if (it->anchor != BUBBLE_ANCHOR_START) {
                bubble_svg_printf(&b, " text-anchor=\"%s\"",
                                  it->anchor == BUBBLE_ANCHOR_MIDDLE
                                  ? "middle" : "end");
            }

            if (it->bold) {
                bubble_svg_printf(&b, " font-weight=\"bold\"");
            }

            if (it->rotate) {
                bubble_svg_printf(&b, " transform=\"rotate(-90 %s %s)\"",
                                  bubble_svg_num(n1, it->x),
                                  bubble_svg_num(n2, it->y));
            }

            bubble_svg_printf(&b, ">");
            bubble_svg_escape(&b, it->text.data, it->text.len);
            bubble_svg_printf(&b, "</text>\n");
            break;
        }
    }

    bubble_svg_printf(&b, "</svg>\n");

    if (b.last >= b.end) {
        /* the size bound is wrong: a bug, never a truncated image */
        bubble_error_set(err, 500, "internal", "", "SVG buffer overflow");
        return -1;
    }

    out->data = b.p;
    out->len = b.last - b.p;

    return 0;
}


static void
bubble_svg_printf(bubble_svg_buf_t *b, const char *fmt, ...)
{
    int      n;
    va_list  args;

    if (b->last >= b->end) {
        return;
    }

    va_start(args, fmt);
    n = vsnprintf((char *) b->last, b->end - b->last, fmt, args);
    va_end(args);

    b->last = (n < 0 || n >= b->end - b->last) ? b->end : b->last + n;
}


/*
 * XML-escape UTF-8 text.  Control characters, U+FFFE and U+FFFF are not
 * allowed in XML 1.0, even escaped: they are dropped.  So is any byte
 * that starts no well-formed character: the parser refuses such strings,
 * but a label cut by a printf width or a buffer's size may end in half a
 * character, and the SVG must stay well-formed.
 */

static void
bubble_svg_escape(bubble_svg_buf_t *b, const char *s, size_t len)
{
    int          keep;
    size_t       i, n;
    const char  *rep;

    for (i = 0; i < len; i += n) {
        n = bubble_xml_char((const u_char *) s + i, len - i, &keep);

        if (b->end - b->last < 7) {
            b->last = b->end;
            return;
        }

        if (!keep) {
            continue;
        }

        switch (s[i]) {
        case '&':  rep = "&amp;";  break;
        case '<':  rep = "&lt;";   break;
        case '>':  rep = "&gt;";   break;
        case '"':  rep = "&quot;"; break;
        case '\'': rep = "&#39;";  break;
        default:   rep = NULL;     break;
        }

        if (rep) {
            while (*rep) {
                *b->last++ = *rep++;
            }

        } else {
            memcpy(b->last, s + i, n);
            b->last += n;
        }
    }
}


static void
bubble_svg_color(bubble_svg_buf_t *b, const char *attr, bubble_rgba_t c,
    double opacity)
{
    char  n[32];

    bubble_svg_printf(b, " %s=\"#%02x%02x%02x\"", attr, BUBBLE_R(c),
                      BUBBLE_G(c), BUBBLE_B(c));

    opacity *= BUBBLE_A(c) / 255.0;

    if (opacity < 1) {
        bubble_svg_printf(b, " %s-opacity=\"%s\"", attr,
                          bubble_svg_num(n, opacity));
    }
}


/* two decimals, trailing zeros trimmed: "12.5", "3", "-0.25" */

static const char *
bubble_svg_num(char *buf, double v)
{
    char  *p;

    if (v > -0.005 && v < 0.005) {
        v = 0;
    }

    snprintf(buf, 32, "%.2f", v);

    p = buf + strlen(buf) - 1;
    while (*p == '0') {
        *p-- = '\0';
    }

    if (*p == '.') {
        *p = '\0';
    }

    return buf;
}

/*
 * ngx_bubble fuzzing: spec -> SVG -> PNG (or PDF), with small caps so an
 * execution stays in milliseconds: 256k pixels, 2000 points, 2048 px per
 * side, 16 MiB of arena per input.
 *
 * Oracles besides ASan and UBSan (each an abort()):
 *
 *   - a spec that parses renders, or fails with 4xx; a 500 means we wrote
 *     SVG librsvg refused, or a size bound in the writer is wrong (the
 *     arena's cap is the one 500 allowed: "out of memory");
 *   - the SVG has no NaN or infinity in an attribute;
 *   - the SVG is valid UTF-8 without control characters, and references
 *     nothing outside itself: no href, xlink, url(, <image, <!DOCTYPE,
 *     <!ENTITY, <script, <foreignObject, <use, <style in its markup;
 *   - a PNG starts with the PNG signature, a PDF with "%PDF-".
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bubble.h"
#include "fuzz_arena.h"


#define FUZZ_ARENA_MAX      (16 * 1024 * 1024)

#define fuzz_check(cond)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz_render: check failed: %s (%s:%d)\n",        \
                    #cond, __FILE__, __LINE__);                               \
            abort();                                                          \
        }                                                                     \
    } while (0)


static const char  *fuzz_svg_banned[] = {
    "href", "xlink", "url(", "<image", "<!DOCTYPE", "<!ENTITY", "<script",
    "<foreignObject", "<use", "<style", "@import", NULL
};


static int
fuzz_memmem_ci(const u_char *hay, size_t len, const char *needle)
{
    size_t  i, j, n;

    n = strlen(needle);

    for (i = 0; i + n <= len; i++) {
        for (j = 0; j < n; j++) {
            u_char  a = hay[i + j], b = (u_char) needle[j];

            if (a >= 'A' && a <= 'Z') {
                a += 32;
            }
            if (b >= 'A' && b <= 'Z') {
                b += 32;
            }
            if (a != b) {
                break;
            }
        }

        if (j == n) {
            return 1;
        }
    }

    return 0;
}


static void
fuzz_check_svg(const u_char *svg, size_t len)
{
    size_t  i;

    fuzz_check(len > 0);
    fuzz_check(fuzz_utf8_valid(svg, len));

    /* no NaN or infinity in an attribute (text escapes '"': never "=\"") */
    for (i = 0; i + 5 < len; i++) {
        if (svg[i] == '=' && svg[i + 1] == '"') {
            fuzz_check(memcmp(svg + i + 2, "nan", 3) != 0
                       && memcmp(svg + i + 2, "inf", 3) != 0
                       && memcmp(svg + i + 2, "-nan", 4) != 0
                       && memcmp(svg + i + 2, "-inf", 4) != 0);
        }
    }

    for (i = 0; i < len; i++) {
        fuzz_check(svg[i] >= 0x20 || svg[i] == '\n' || svg[i] == '\t');
    }

    /*
     * Markup only: text is escaped, so every '<' opens a tag and the first
     * '>' after it closes it; a title that says "href" is just text.
     */
    for (i = 0; i < len; i++) {
        size_t  j, k;

        if (svg[i] != '<') {
            continue;
        }

        for (j = i + 1; j < len && svg[j] != '>'; j++) {
            fuzz_check(svg[j] != '<');
        }

        for (k = 0; fuzz_svg_banned[k]; k++) {
            if (fuzz_memmem_ci(svg + i, j - i, fuzz_svg_banned[k])) {
                fprintf(stderr, "fuzz_render: SVG markup contains \"%s\"\n",
                        fuzz_svg_banned[k]);
                abort();
            }
        }

        i = j;
    }
}


static int
fuzz_oom(const bubble_error_t *err)
{
    return err->status == 500 && strcmp(err->message, "out of memory") == 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                  rc;
    fuzz_arena_t         arena;
    bubble_error_t       err;
    bubble_chart_t      *chart;
    bubble_output_t      svg, out;
    bubble_limits_t      limits;
    bubble_allocator_t   alloc;

    bubble_limits_default(&limits);
    limits.max_pixels = 256 * 1024;
    limits.max_points = 2000;
    limits.max_side = 2048;

    fuzz_arena_init(&arena, &alloc, FUZZ_ARENA_MAX);
    memset(&err, 0, sizeof(bubble_error_t));

    chart = bubble_spec_parse(&alloc, &limits, data, size, &err);
    if (chart == NULL) {
        fuzz_check(err.code != NULL);
        fuzz_check(err.status < 500 || fuzz_oom(&err));
        goto done;
    }

    /* the SVG, checked */

    memset(&svg, 0, sizeof(bubble_output_t));
    rc = bubble_render_svg(&alloc, chart, &svg, &err);

    if (rc != 0) {
        if (!(err.status < 500 || fuzz_oom(&err))) {
            fprintf(stderr, "fuzz_render: SVG: %d %s: %s\n", err.status,
                    err.code, err.message);
            abort();
        }
        goto done;
    }

    fuzz_check(svg.dropped_rows <= chart->nrows);
    fuzz_check_svg(svg.data, svg.len);
    bubble_free(&alloc, svg.data);

    /* the whole pipeline in the spec's format (PNG unless it says) */

    memset(&out, 0, sizeof(bubble_output_t));
    memset(&err, 0, sizeof(bubble_error_t));
    rc = bubble_render(&alloc, chart, &out, &err);

    if (rc != 0) {
        if (!(err.status < 500 || fuzz_oom(&err))) {
            fprintf(stderr, "fuzz_render: render: %d %s: %s\n", err.status,
                    err.code, err.message);
            abort();
        }
        goto done;
    }

    switch (chart->format) {
    case BUBBLE_FORMAT_PNG:
        fuzz_check(out.len > 8 && memcmp(out.data, "\x89PNG\r\n\x1a\n", 8)
                                  == 0);
        break;
    case BUBBLE_FORMAT_PDF:
        fuzz_check(out.len > 5 && memcmp(out.data, "%PDF-", 5) == 0);
        break;
    case BUBBLE_FORMAT_SVG:
        fuzz_check_svg(out.data, out.len);
        break;
    }

done:

    fuzz_arena_destroy(&arena);
    return 0;
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* fontconfig and pango caches once, as a worker's init_process does */
    bubble_warm_up();
    return 0;
}

/*
 * ngx_bubble fuzzing: legacy Google Image Charts query strings
 * (bubble_gchart_to_json()) -> spec JSON -> chart -> SVG, with the render
 * target's small caps (256k pixels, 2000 points, 16 MiB of arena).
 *
 * Oracles besides ASan and UBSan (each an abort()):
 *
 *   - a refusal is a 400 or 413 whose path is a parameter ("chxr") and
 *     whose message starts with it, in UTF-8;
 *   - the JSON the converter writes parses: never "invalid_json" (an
 *     "inf" written for 2 * 1e308 / 100 did that), and a spec error
 *     in it is our bug unless a server limit (413) says otherwise;
 *   - the chart draws, or the layout refuses for a reason the URL can
 *     fix (a chart too small): never x.limits or y.limits, which the
 *     URL does not have -- the converter refuses its chxr or chds first;
 *   - the SVG holds no NaN or infinity.
 */

#define _GNU_SOURCE                         /* memmem */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bubble.h"
#include "bubble_gchart.h"
#include "fuzz_arena.h"


#define FUZZ_ARENA_MAX      (16 * 1024 * 1024)

#define fuzz_check(cond)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz_gchart: check failed: %s (%s:%d)\n",        \
                    #cond, __FILE__, __LINE__);                               \
            abort();                                                          \
        }                                                                     \
    } while (0)


static int
fuzz_oom(const bubble_error_t *err)
{
    return err->status == 500 && strcmp(err->message, "out of memory") == 0;
}


static void
fuzz_report(const char *stage, const bubble_error_t *err,
    const bubble_str_t *json)
{
    fprintf(stderr, "fuzz_gchart: %s: %d %s \"%s\": %s\n", stage,
            err->status, err->code ? err->code : "(null)", err->path,
            err->message);

    if (json && json->data) {
        fprintf(stderr, "  JSON: %.2000s\n", json->data);
    }

    abort();
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               plen;
    fuzz_arena_t         arena;
    bubble_str_t         json;
    bubble_error_t       err;
    bubble_chart_t      *chart;
    bubble_output_t      svg;
    bubble_limits_t      limits;
    bubble_allocator_t   alloc;

    bubble_limits_default(&limits);
    limits.max_pixels = 256 * 1024;
    limits.max_points = 2000;
    limits.max_side = 2048;

    fuzz_arena_init(&arena, &alloc, FUZZ_ARENA_MAX);
    memset(&err, 0, sizeof(bubble_error_t));
    err.offset = -1;
    json.data = NULL;
    json.len = 0;

    if (bubble_gchart_to_json(&alloc, &limits, data, size, &json, &err)
        != 0)
    {
        if (fuzz_oom(&err)) {
            goto done;
        }

        fuzz_check(err.code != NULL);
        fuzz_check(err.status == 400 || err.status == 413);

        /* the path is a parameter, and the message starts with it */
        plen = strlen(err.path);
        fuzz_check(plen >= 3 && plen <= 4 && strncmp(err.path, "ch", 2) == 0);
        fuzz_check(strncmp(err.message, err.path, plen) == 0);
        fuzz_check(fuzz_utf8_valid((const u_char *) err.message,
                                   strlen(err.message)));
        goto done;
    }

    fuzz_check(json.data != NULL && strlen(json.data) == json.len);

    chart = bubble_spec_parse(&alloc, &limits, (const u_char *) json.data,
                              json.len, &err);

    if (chart == NULL) {
        if (fuzz_oom(&err) || err.status == 413) {
            goto done;
        }

        fuzz_report("the converted spec", &err, &json);
    }

    memset(&svg, 0, sizeof(bubble_output_t));
    memset(&err, 0, sizeof(bubble_error_t));

    if (bubble_render_svg(&alloc, chart, &svg, &err) != 0) {
        if (fuzz_oom(&err)) {
            goto done;
        }

        if (err.status != 400 || strcmp(err.path, "x.limits") == 0
            || strcmp(err.path, "y.limits") == 0)
        {
            fuzz_report("render", &err, &json);
        }

        goto done;
    }

    /* in attributes: a title may well say "information" */
    fuzz_check(memmem(svg.data, svg.len, "=\"nan", 5) == NULL);
    fuzz_check(memmem(svg.data, svg.len, "=\"-nan", 6) == NULL);
    fuzz_check(memmem(svg.data, svg.len, "=\"inf", 5) == NULL);
    fuzz_check(memmem(svg.data, svg.len, "=\"-inf", 6) == NULL);

done:

    fuzz_arena_destroy(&arena);
    return 0;
}


int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    bubble_warm_up();
    return 0;
}

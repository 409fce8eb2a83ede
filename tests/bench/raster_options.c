/*
 * What cairo settings cost and change when librsvg draws a chart.
 *
 *   raster_options SPEC.json ITERATIONS [OPTION...]
 *
 * Renders the spec's SVG once, then rasterises it ITERATIONS times per
 * option (as bubble_raster.c does) and prints the median CPU ms of
 * rsvg_handle_render_document() and how many pixels differ from the
 * default rendering (and by how much at most).  Options:
 *
 *   default       cairo's defaults (tolerance 0.1, antialias default)
 *   tol=X         cairo_set_tolerance(X) before rendering
 *   aa=fast|good|gray|none
 *                 cairo_set_antialias() before rendering
 *   parse         time rsvg_handle_new_from_data() instead
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairo.h>
#include <librsvg/rsvg.h>

#include "bubble.h"


static void *
heap_alloc(void *data, size_t size)
{
    return malloc(size);
}


static double
cpu_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static int
cmp_double(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}


int
main(int argc, char **argv)
{
    int                  i, k, iter, pw, ph, stride, diff, maxd, d, c;
    FILE                *f;
    long                 len;
    u_char              *spec, *ref, *px;
    double               ms[64], t0, tol;
    GError              *error;
    cairo_t             *cr;
    RsvgHandle          *svg;
    RsvgRectangle        vp;
    bubble_error_t       err;
    bubble_chart_t      *chart;
    bubble_limits_t      limits;
    bubble_output_t      out;
    cairo_surface_t     *s;
    cairo_antialias_t    aa;
    bubble_allocator_t   a = { heap_alloc, NULL, NULL };

    if (argc < 3) {
        fprintf(stderr, "usage: %s SPEC.json ITERATIONS [OPTION...]\n",
                argv[0]);
        return 2;
    }

    f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    spec = malloc(len);
    if (fread(spec, 1, len, f) != (size_t) len) {
        return 2;
    }
    fclose(f);

    iter = atoi(argv[2]);
    if (iter < 1 || iter > 64) {
        iter = 5;
    }

    bubble_warm_up();
    bubble_limits_default(&limits);
    memset(&err, 0, sizeof(err));

    chart = bubble_spec_parse(&a, &limits, spec, len, &err);
    if (chart == NULL || bubble_render_svg(&a, chart, &out, &err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], err.message);
        return 1;
    }

    pw = (int) lround(chart->width * chart->scale);
    ph = (int) lround(chart->height * chart->scale);
    stride = cairo_format_stride_for_width(CAIRO_FORMAT_ARGB32, pw);
    ref = NULL;
    px = malloc((size_t) stride * ph);

    vp.x = 0;
    vp.y = 0;
    vp.width = chart->width;
    vp.height = chart->height;

    for (k = 3; k < argc || k == 3; k++) {
        const char  *opt = k < argc ? argv[k] : "default";

        tol = -1;
        aa = CAIRO_ANTIALIAS_DEFAULT;
        if (strncmp(opt, "tol=", 4) == 0) {
            tol = atof(opt + 4);
        } else if (strcmp(opt, "aa=fast") == 0) {
            aa = CAIRO_ANTIALIAS_FAST;
        } else if (strcmp(opt, "aa=good") == 0) {
            aa = CAIRO_ANTIALIAS_GOOD;
        } else if (strcmp(opt, "aa=gray") == 0) {
            aa = CAIRO_ANTIALIAS_GRAY;
        } else if (strcmp(opt, "aa=none") == 0) {
            aa = CAIRO_ANTIALIAS_NONE;
        }

        for (i = 0; i < iter; i++) {
            error = NULL;

            if (strcmp(opt, "parse") == 0) {
                t0 = cpu_now();
                svg = rsvg_handle_new_from_data(out.data, out.len, &error);
                ms[i] = (cpu_now() - t0) * 1000;
                g_object_unref(svg);
                continue;
            }

            svg = rsvg_handle_new_from_data(out.data, out.len, &error);
            memset(px, 0, (size_t) stride * ph);
            s = cairo_image_surface_create_for_data(px, CAIRO_FORMAT_ARGB32,
                                                    pw, ph, stride);
            cr = cairo_create(s);
            cairo_scale(cr, chart->scale, chart->scale);
            if (tol > 0) {
                cairo_set_tolerance(cr, tol);
            }
            if (aa != CAIRO_ANTIALIAS_DEFAULT) {
                cairo_set_antialias(cr, aa);
            }

            t0 = cpu_now();
            rsvg_handle_render_document(svg, cr, &vp, &error);
            ms[i] = (cpu_now() - t0) * 1000;

            cairo_destroy(cr);
            cairo_surface_flush(s);
            cairo_surface_destroy(s);
            g_object_unref(svg);
        }

        qsort(ms, iter, sizeof(double), cmp_double);

        if (strcmp(opt, "parse") == 0) {
            printf("%-10s %8.2f ms (parse)\n", opt, ms[iter / 2]);
            continue;
        }

        if (ref == NULL) {
            ref = malloc((size_t) stride * ph);
            memcpy(ref, px, (size_t) stride * ph);
        }

        diff = 0;
        maxd = 0;
        for (i = 0; i < stride * ph; i += 4) {
            if (memcmp(px + i, ref + i, 4) != 0) {
                diff++;
                for (c = 0; c < 4; c++) {
                    d = abs(px[i + c] - ref[i + c]);
                    maxd = d > maxd ? d : maxd;
                }
            }
        }

        printf("%-10s %8.2f ms  %7d px differ (%.2f%%), max %d\n", opt,
               ms[iter / 2], diff, 100.0 * diff / (pw * ph), maxd);
    }

    return 0;
}

/*
 * ngx_bubble core: what a render will cost in memory (bubble_estimate.c).
 *
 * An upper bound of the resident bytes a render adds at its peak, from the
 * chart model alone, before anything large is allocated: admission
 * reserves it in the shared zone.  The constants are calibrated by
 * tests/bench/calibrate_estimate.sh (docs/memory.md): the estimate is never
 * below the measured peak of any calibration render.
 */

#ifndef _BUBBLE_ESTIMATE_H_INCLUDED_
#define _BUBBLE_ESTIMATE_H_INCLUDED_


#include "bubble.h"


typedef struct {
    size_t                   elements;      /* items and tooltips, a count */

    /* bytes, the parts of the peak */
    size_t                   model;         /* the parsed spec */
    size_t                   layout;        /* display list, points */
    size_t                   svg;           /* SVG text, 0 for PNG/PDF */
    size_t                   draw;          /* text while drawing, PNG/PDF */
    size_t                   pixels;        /* ARGB32 canvas, 0 for SVG/PDF */
    size_t                   encoder;       /* PNG/PDF output and state */
    size_t                   fixed;         /* cairo, pango, zlib per render */

    size_t                   total;         /* bytes: the peak */

    /*
     * Bytes still held after the render until the request ends, besides
     * the output itself: the model and the layout's points.
     */
    size_t                   retained;

    /*
     * Bytes: the largest output the estimate assumes; a larger one means
     * the encoder's part, and so the total, may have been low.
     */
    size_t                   output;

    /*
     * Microseconds bubble_render() takes at most on one core of the
     * calibration machine: text shaped, bubbles filled, pixels encoded,
     * elements written (tests/bench/calibrate_estimate.sh checks it too).
     */
    uint64_t                 time_us;
} bubble_estimate_t;


/*
 * Fills e for the chart as it is (format and scale included): no
 * allocation, O(rows) for the text of string columns; O(rows x 64) for
 * a colour or facet column's distinct values.
 */
void bubble_estimate(const bubble_chart_t *chart, bubble_estimate_t *e);


#endif /* _BUBBLE_ESTIMATE_H_INCLUDED_ */

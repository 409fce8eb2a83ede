/*
 * ngx_bubble core: legacy Google Image Charts scatter URLs
 * (bubble_gchart.c).
 *
 *   /chart.png?cht=s&chs=400x300&chd=t:10,20,30|40,50,60|100,50,25&...
 *
 * The query string is converted into a spec's JSON text, so the spec
 * parser validates and limits it like any other spec.  Supported
 * parameters and deviations: docs/legacy-google-charts.md.
 */

#ifndef _BUBBLE_GCHART_H_INCLUDED_
#define _BUBBLE_GCHART_H_INCLUDED_


#include "bubble.h"


/* the scatter default: the Image Charts docs say "a blue circle" */
#define BUBBLE_GCHART_DEFAULT_COLOR   "#4d89f9"

/* radius in CSS px: 10 px across without a size series, as Google drew */
#define BUBBLE_GCHART_POINT_RADIUS    5
/* radius in CSS px of a point whose size is the full encoding range */
#define BUBBLE_GCHART_MAX_RADIUS      10


/*
 * 1 if a raw query string (still percent-encoded) carries a "cht"
 * parameter, the mark of a legacy chart URL.
 */
int bubble_gchart_detect(const u_char *args, size_t len);

/*
 * Converts a raw query string into a spec's JSON text, NUL-terminated,
 * in memory from a.  Returns 0, or -1 with err set: 400 "invalid_spec"
 * whose path names the parameter ("chd"), 413 "too_large" over a limit
 * (chs pixels, chd points), 500 out of memory.
 */
int bubble_gchart_to_json(bubble_allocator_t *a,
    const bubble_limits_t *limits, const u_char *args, size_t len,
    bubble_str_t *json, bubble_error_t *err);


#endif /* _BUBBLE_GCHART_H_INCLUDED_ */

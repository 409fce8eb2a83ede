/*
 * ngx_bubble core: allocation helpers, errors and default limits.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bubble.h"


void *
bubble_alloc(bubble_allocator_t *a, size_t size)
{
    return a->alloc(a->data, size);
}


void *
bubble_calloc(bubble_allocator_t *a, size_t size)
{
    void  *p;

    p = a->alloc(a->data, size);
    if (p != NULL) {
        memset(p, 0, size);
    }

    return p;
}


char *
bubble_strndup(bubble_allocator_t *a, const char *s, size_t len)
{
    char  *p;

    p = a->alloc(a->data, len + 1);
    if (p == NULL) {
        return NULL;
    }

    memcpy(p, s, len);
    p[len] = '\0';

    return p;
}


void
bubble_error_set(bubble_error_t *err, int status, const char *code,
    const char *path, const char *fmt, ...)
{
    va_list  args;

    /* the first error wins: later ones are consequences of it */
    if (err->code != NULL) {
        return;
    }

    err->status = status;
    err->code = code;

    if (path != NULL) {
        snprintf(err->path, sizeof(err->path), "%s", path);
    }

    va_start(args, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, args);
    va_end(args);
}


void
bubble_limits_default(bubble_limits_t *limits)
{
    limits->max_depth = 32;
    limits->max_points = 50000;
    limits->max_pixels = 16 * 1024 * 1024;     /* 64 MiB of ARGB32 */
    limits->max_side = 16384;                  /* cairo allows 32767 */
    limits->max_string = 64 * 1024;
    limits->max_columns = 256;
}


void
bubble_free(bubble_allocator_t *a, void *p)
{
    if (a->free != NULL && p != NULL) {
        a->free(a->data, p);
    }
}

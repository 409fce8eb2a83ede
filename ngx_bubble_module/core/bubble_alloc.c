/*
 * ngx_bubble core: allocation helpers, errors and default limits.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bubble.h"


static void bubble_utf8_repair(char *s);


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

    /* "%.64s" and the buffers' sizes may cut a character: the error goes
     * into a JSON body, which must stay UTF-8 */
    bubble_utf8_repair(err->message);
    bubble_utf8_repair(err->path);
}


size_t
bubble_utf8_char(const u_char *s, size_t len)
{
    size_t    n, i;
    uint32_t  c;

    if (len == 0) {
        return 0;
    }

    c = s[0];

    if (c < 0x80) {
        return 1;
    }

    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        c &= 0x1f;

    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        c &= 0x0f;

    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        c &= 0x07;

    } else {
        return 0;
    }

    if (len < n) {
        return 0;
    }

    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }

        c = (c << 6) | (s[i] & 0x3f);
    }

    if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) || c > 0x10ffff
        || (c >= 0xd800 && c <= 0xdfff))
    {
        return 0;
    }

    return n;
}


size_t
bubble_xml_char(const u_char *s, size_t len, int *keep)
{
    size_t  n;

    if (s[0] < 0x80) {
        *keep = (s[0] >= 0x20 || s[0] == '\t' || s[0] == '\n');
        return 1;
    }

    n = bubble_utf8_char(s, len);

    if (n == 0) {
        *keep = 0;
        return 1;
    }

    /* EF BF BE, EF BF BF: U+FFFE, U+FFFF */
    *keep = !(n == 3 && s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe);

    return n;
}


/* every byte that does not start a well-formed character becomes '?' */

static void
bubble_utf8_repair(char *s)
{
    size_t   len, n;
    u_char  *p;

    p = (u_char *) s;
    len = strlen(s);

    while (len) {
        n = bubble_utf8_char(p, len);

        if (n == 0) {
            *p = '?';
            n = 1;
        }

        p += n;
        len -= n;
    }
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

/*
 * ngx_bubble core: streaming JSON -> tree + columns, with limits.
 *
 * yajl 2.1 has no depth limit and its tree API frees recursively, so the
 * callbacks count depth themselves and cancel (return 0) past the limit.
 * Every node, column and string comes from the caller's allocator.
 */

#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "bubble.h"
#include "bubble_json.h"


#define BUBBLE_COLUMN_MIN       16          /* first column capacity */

#define bubble_min_size(a, b)      ((a) < (b) ? (a) : (b))

typedef enum {
    BUBBLE_DATA_NONE = 0,                   /* not inside "data" */
    BUBBLE_DATA_NEXT,                       /* "data" key seen */
    BUBBLE_DATA_ROWS,
    BUBBLE_DATA_COLUMNS,
    BUBBLE_DATA_DONE
} bubble_data_state_e;


/* where bubble_json_scan() stands in the raw text */
typedef enum {
    BUBBLE_SCAN_OUT = 0,                    /* outside strings */
    BUBBLE_SCAN_STR,
    BUBBLE_SCAN_ESC,                        /* after a backslash */
    BUBBLE_SCAN_HEX,                        /* in \uXXXX */
    BUBBLE_SCAN_LOW_BS,                     /* a high surrogate: want '\' */
    BUBBLE_SCAN_LOW_U,                      /* want 'u' */
    BUBBLE_SCAN_LOW_HEX                     /* in the low half's XXXX */
} bubble_scan_e;


struct bubble_json_parser_s {
    bubble_allocator_t      *alloc;
    const bubble_limits_t   *limits;
    bubble_error_t          *err;
    yajl_handle              yajl;
    size_t                   consumed;      /* bytes of earlier chunks */

    size_t                   depth;         /* open containers */
    bubble_json_t          **stack;         /* tree containers, by depth */
    bubble_str_t             key;           /* pending member name */

    bubble_data_state_e      data;
    size_t                   ncolumns_alloc;
    bubble_column_t         *column;        /* receiving cells */
    size_t                   hint;          /* next column guess (rows) */

    bubble_json_doc_t        doc;
    unsigned                 failed:1;

    bubble_scan_e            scan;          /* surrogate escapes */
    unsigned                 scan_digits;
    unsigned                 scan_value;
    unsigned                 scan_high;
};


static void *bubble_yajl_malloc(void *ctx, size_t size);
static void *bubble_yajl_realloc(void *ctx, void *p, size_t size);
static void bubble_yajl_free(void *ctx, void *p);

static int bubble_json_null(void *ctx);
static int bubble_json_boolean(void *ctx, int b);
static int bubble_json_number(void *ctx, const char *s, size_t len);
static int bubble_json_string(void *ctx, const unsigned char *s, size_t len);
static int bubble_json_start_map(void *ctx);
static int bubble_json_map_key(void *ctx, const unsigned char *s, size_t len);
static int bubble_json_end_map(void *ctx);
static int bubble_json_start_array(void *ctx);
static int bubble_json_end_array(void *ctx);

static int bubble_json_value(bubble_json_parser_t *p, bubble_json_t *value);
static bubble_json_t *bubble_json_value_node(bubble_json_parser_t *p,
    bubble_json_type_e type);
static int bubble_json_cell(bubble_json_parser_t *p, bubble_json_t *value);
static bubble_column_t *bubble_json_column(bubble_json_parser_t *p,
    const unsigned char *name, size_t len);
static int bubble_json_column_reserve(bubble_json_parser_t *p,
    bubble_column_t *col, size_t n);
static void bubble_json_cell_path(bubble_json_parser_t *p, char *buf,
    size_t size);
static int bubble_json_fail_at(bubble_json_parser_t *p, const char *path,
    const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));
static int bubble_json_text_ok(bubble_json_parser_t *p,
    const unsigned char *s, size_t len, int key);
static size_t bubble_json_scan(bubble_json_parser_t *p, const u_char *data,
    size_t len);
static int bubble_json_fail(bubble_json_parser_t *p, int status,
    const char *code, const char *fmt, ...)
    __attribute__ ((format (printf, 4, 5)));


static const yajl_callbacks  bubble_json_callbacks = {
    bubble_json_null,
    bubble_json_boolean,
    NULL,                                   /* integers come as numbers */
    NULL,
    bubble_json_number,
    bubble_json_string,
    bubble_json_start_map,
    bubble_json_map_key,
    bubble_json_end_map,
    bubble_json_start_array,
    bubble_json_end_array
};


/*
 * yajl's allocator over ours.  yajl needs realloc, which the allocator
 * lacks, so each block carries its size in a header; the old block goes
 * back through free (a pool returns large blocks at once).
 */

typedef union {
    size_t                   size;
    double                   align;
} bubble_yajl_hdr_t;


static void *
bubble_yajl_malloc(void *ctx, size_t size)
{
    bubble_yajl_hdr_t  *h;

    h = bubble_alloc(ctx, sizeof(bubble_yajl_hdr_t) + size);
    if (h == NULL) {
        return NULL;
    }

    h->size = size;
    return h + 1;
}


static void *
bubble_yajl_realloc(void *ctx, void *p, size_t size)
{
    void               *n;
    bubble_yajl_hdr_t  *h;

    if (p == NULL) {
        return bubble_yajl_malloc(ctx, size);
    }

    h = (bubble_yajl_hdr_t *) p - 1;
    if (size <= h->size) {
        return p;
    }

    n = bubble_yajl_malloc(ctx, size);
    if (n == NULL) {
        return NULL;
    }

    memcpy(n, p, h->size);
    bubble_free(ctx, h);

    return n;
}


static void
bubble_yajl_free(void *ctx, void *p)
{
    if (p != NULL) {
        bubble_free(ctx, (bubble_yajl_hdr_t *) p - 1);
    }
}


bubble_json_parser_t *
bubble_json_parser_create(bubble_allocator_t *a, const bubble_limits_t *limits,
    bubble_error_t *err)
{
    bubble_json_parser_t  *p;
    yajl_alloc_funcs       funcs;

    p = bubble_calloc(a, sizeof(bubble_json_parser_t));
    if (p == NULL) {
        return NULL;
    }

    p->alloc = a;
    p->limits = limits;
    p->err = err;
    err->offset = -1;

    /* depth is checked before a push, so max_depth + 1 slots suffice */
    p->stack = bubble_calloc(a, (limits->max_depth + 1)
                                * sizeof(bubble_json_t *));
    if (p->stack == NULL) {
        return NULL;
    }

    funcs.malloc = bubble_yajl_malloc;
    funcs.realloc = bubble_yajl_realloc;
    funcs.free = bubble_yajl_free;
    funcs.ctx = a;

    p->yajl = yajl_alloc(&bubble_json_callbacks, &funcs, p);
    if (p->yajl == NULL) {
        return NULL;
    }

    /* strict JSON: no comments, UTF-8 validated, one value only */
    yajl_config(p->yajl, yajl_allow_comments, 0);
    yajl_config(p->yajl, yajl_dont_validate_strings, 0);

    return p;
}


static int
bubble_json_parser_status(bubble_json_parser_t *p, yajl_status rc,
    const u_char *data, size_t len)
{
    u_char  *msg, *nl;

    if (rc == yajl_status_ok) {
        p->consumed += len;
        return 0;
    }

    p->failed = 1;

    if (rc == yajl_status_client_canceled) {
        /* a callback set the error */
        return -1;
    }

    msg = yajl_get_error(p->yajl, 0, data, len);

    if (msg != NULL) {
        nl = (u_char *) strchr((char *) msg, '\n');
        if (nl != NULL) {
            *nl = '\0';
        }
    }

    bubble_error_set(p->err, 400, "invalid_json", "", "%s",
                     msg ? (char *) msg : "parse error");

    /* at the end of input yajl counts one byte past it: clamp */
    p->err->offset = (long) (p->consumed
                             + bubble_min_size(yajl_get_bytes_consumed(p->yajl),
                                            len));

    if (msg != NULL) {
        yajl_free_error(p->yajl, msg);
    }

    return -1;
}


int
bubble_json_parser_feed(bubble_json_parser_t *p, const u_char *data,
    size_t len)
{
    size_t  n;

    if (p->failed) {
        return -1;
    }

    n = bubble_json_scan(p, data, len);

    if (n == len) {
        return bubble_json_parser_status(p, yajl_parse(p->yajl, data, len),
                                         data, len);
    }

    /* an unpaired surrogate escape at data[n]: an error before it wins */

    if (bubble_json_parser_status(p, yajl_parse(p->yajl, data, n), data, n)
        != 0)
    {
        return -1;
    }

    p->failed = 1;

    bubble_error_set(p->err, 400, "invalid_json", "", "an unpaired UTF-16 "
                     "surrogate escape (\\u%04X) in a string",
                     p->scan_high ? p->scan_high : p->scan_value);
    p->err->offset = (long) p->consumed;

    return -1;
}


/*
 * yajl 2.1 decodes a high surrogate escape that no low one follows as
 * "?", and pairs "\ud800\u0041" into U+10041: the string is silently not
 * what was sent.  This scan of the raw text, which carries its state from
 * chunk to chunk, finds unpaired surrogate escapes (a lone low half too)
 * before yajl decodes them.  Returns the offset of the byte that proves
 * one, or len.  Anything else odd is left to yajl to report.
 */

static size_t
bubble_json_scan(bubble_json_parser_t *p, const u_char *data, size_t len)
{
    int     d;
    size_t  i;
    u_char  c;

    for (i = 0; i < len; i++) {
        c = data[i];

        switch (p->scan) {

        case BUBBLE_SCAN_OUT:
            if (c == '"') {
                p->scan = BUBBLE_SCAN_STR;
            }
            break;

        case BUBBLE_SCAN_STR:
            if (c == '\\') {
                p->scan = BUBBLE_SCAN_ESC;

            } else if (c == '"') {
                p->scan = BUBBLE_SCAN_OUT;
            }
            break;

        case BUBBLE_SCAN_ESC:
            if (c == 'u') {
                p->scan = BUBBLE_SCAN_HEX;
                p->scan_digits = 0;
                p->scan_value = 0;
                p->scan_high = 0;

            } else {
                p->scan = BUBBLE_SCAN_STR;
            }
            break;

        case BUBBLE_SCAN_LOW_BS:
            if (c != '\\') {
                return i;
            }
            p->scan = BUBBLE_SCAN_LOW_U;
            break;

        case BUBBLE_SCAN_LOW_U:
            if (c != 'u') {
                return i;
            }
            p->scan = BUBBLE_SCAN_LOW_HEX;
            p->scan_digits = 0;
            p->scan_value = 0;
            break;

        case BUBBLE_SCAN_HEX:
        case BUBBLE_SCAN_LOW_HEX:
            if (c >= '0' && c <= '9') {
                d = c - '0';
            } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
                d = (c | 0x20) - 'a' + 10;
            } else {
                /* not an escape: yajl says so */
                p->scan = BUBBLE_SCAN_STR;
                break;
            }

            p->scan_value = p->scan_value * 16 + d;

            if (++p->scan_digits < 4) {
                break;
            }

            if (p->scan == BUBBLE_SCAN_LOW_HEX) {
                if (p->scan_value < 0xdc00 || p->scan_value > 0xdfff) {
                    return i;
                }

            } else if (p->scan_value >= 0xd800 && p->scan_value <= 0xdbff) {
                p->scan = BUBBLE_SCAN_LOW_BS;
                p->scan_high = p->scan_value;
                break;

            } else if (p->scan_value >= 0xdc00 && p->scan_value <= 0xdfff) {
                return i;
            }

            p->scan = BUBBLE_SCAN_STR;
            break;
        }
    }

    return len;
}


bubble_json_doc_t *
bubble_json_parser_finish(bubble_json_parser_t *p)
{
    if (p->failed) {
        return NULL;
    }

    if (bubble_json_parser_status(p, yajl_complete_parse(p->yajl),
                                  (u_char *) "", 0)
        != 0)
    {
        return NULL;
    }

    if (p->doc.root == NULL) {
        bubble_error_set(p->err, 400, "invalid_json", "",
                         "empty body: expected a JSON object");
        p->err->offset = 0;
        return NULL;
    }

    return &p->doc;
}


void
bubble_json_parser_destroy(bubble_json_parser_t *p)
{
    if (p != NULL && p->yajl != NULL) {
        yajl_free(p->yajl);
        p->yajl = NULL;
    }
}


/* callbacks */


/*
 * Scalars are described on the stack and copied into a node only when they
 * belong to the tree: a cell of data costs its column's cell, nothing more.
 */

static int
bubble_json_null(void *ctx)
{
    bubble_json_t  value;

    memset(&value, 0, sizeof(bubble_json_t));
    value.type = BUBBLE_JSON_NULL;

    return bubble_json_value(ctx, &value);
}


static int
bubble_json_boolean(void *ctx, int b)
{
    bubble_json_t  value;

    memset(&value, 0, sizeof(bubble_json_t));
    value.type = BUBBLE_JSON_BOOL;
    value.boolean = b ? 1 : 0;

    return bubble_json_value(ctx, &value);
}


static int
bubble_json_number(void *ctx, const char *s, size_t len)
{
    char                   buf[64], path[128];
    bubble_json_t          value;
    bubble_json_parser_t  *p = ctx;

    if (len >= sizeof(buf)) {
        /* more digits than a double holds: almost surely hostile */
        return bubble_json_fail(p, 400, "invalid_spec",
                                "number too long (%zu characters)", len);
    }

    memcpy(buf, s, len);
    buf[len] = '\0';

    memset(&value, 0, sizeof(bubble_json_t));
    value.type = BUBBLE_JSON_NUMBER;
    value.number = strtod(buf, NULL);

    if (isinf(value.number)) {
        if (p->data == BUBBLE_DATA_ROWS || p->data == BUBBLE_DATA_COLUMNS) {
            bubble_json_cell_path(p, path, sizeof(path));
            bubble_error_set(p->err, 400, "invalid_spec", path,
                             "%s: number %s is out of range", path, buf);
            return 0;
        }

        return bubble_json_fail(p, 400, "invalid_spec",
                                "number %s is out of range", buf);
    }

    value.integer = (strpbrk(buf, ".eE") == NULL);

    return bubble_json_value(p, &value);
}


static int
bubble_json_string(void *ctx, const unsigned char *s, size_t len)
{
    bubble_json_t          value;
    bubble_json_parser_t  *p = ctx;

    if (len > p->limits->max_string) {
        return bubble_json_fail(p, 413, "too_large",
                                "string of %zu bytes, the limit is %zu",
                                len, p->limits->max_string);
    }

    if (!bubble_json_text_ok(p, s, len, 0)) {
        return 0;
    }

    memset(&value, 0, sizeof(bubble_json_t));
    value.type = BUBBLE_JSON_STRING;

    value.str.data = bubble_strndup(p->alloc, (const char *) s, len);
    if (value.str.data == NULL) {
        return bubble_json_fail(p, 500, "internal", "out of memory");
    }

    value.str.len = len;

    return bubble_json_value(p, &value);
}


static int
bubble_json_push(bubble_json_parser_t *p, bubble_json_type_e type)
{
    char            path[128];
    bubble_json_t  *node;

    if (p->depth >= p->limits->max_depth) {
        return bubble_json_fail(p, 400, "invalid_json",
                                "nesting deeper than %zu levels",
                                p->limits->max_depth);
    }

    /* "data" and its rows or columns never become tree nodes */

    if (p->data == BUBBLE_DATA_NEXT && p->depth == 1) {
        p->data = (type == BUBBLE_JSON_ARRAY) ? BUBBLE_DATA_ROWS
                                              : BUBBLE_DATA_COLUMNS;
        p->doc.has_data = 1;
        p->doc.rows_form = (type == BUBBLE_JSON_ARRAY);
        p->depth++;
        return 1;
    }

    if (p->data == BUBBLE_DATA_ROWS && p->depth == 2) {
        if (type != BUBBLE_JSON_OBJECT) {
            snprintf(path, sizeof(path), "data[%zu]", p->doc.nrows);
            return bubble_json_fail_at(p, path, "expected an object (a row), "
                                       "got %s", bubble_json_type_name(type));
        }

        if (p->doc.nrows >= p->limits->max_points) {
            return bubble_json_fail(p, 413, "too_large",
                                    "data: more than %zu rows",
                                    p->limits->max_points);
        }

        p->doc.nrows++;
        p->hint = 0;
        p->depth++;
        return 1;
    }

    if (p->data == BUBBLE_DATA_COLUMNS && p->depth == 2) {
        if (type != BUBBLE_JSON_ARRAY) {
            snprintf(path, sizeof(path), "data.%s",
                     p->column ? p->column->name.data : "");
            return bubble_json_fail_at(p, path, "expected an array (a "
                                       "column), got %s",
                                       bubble_json_type_name(type));
        }

        p->depth++;
        return 1;
    }

    if (p->data == BUBBLE_DATA_ROWS || p->data == BUBBLE_DATA_COLUMNS) {
        bubble_json_cell_path(p, path, sizeof(path));
        bubble_error_set(p->err, 400, "invalid_spec", path,
                         "%s: expected a number, a string or null, got %s",
                         path, type == BUBBLE_JSON_ARRAY ? "an array"
                                                         : "an object");
        return 0;
    }

    node = bubble_json_value_node(p, type);
    if (node == NULL) {
        return 0;
    }

    p->stack[++p->depth] = node;
    return 1;
}


static int
bubble_json_pop(bubble_json_parser_t *p)
{
    p->depth--;

    if ((p->data == BUBBLE_DATA_ROWS || p->data == BUBBLE_DATA_COLUMNS)
        && p->depth == 1)
    {
        p->data = BUBBLE_DATA_DONE;
    }

    p->column = NULL;
    return 1;
}


static int
bubble_json_start_map(void *ctx)
{
    return bubble_json_push(ctx, BUBBLE_JSON_OBJECT);
}


static int
bubble_json_start_array(void *ctx)
{
    return bubble_json_push(ctx, BUBBLE_JSON_ARRAY);
}


static int
bubble_json_end_map(void *ctx)
{
    return bubble_json_pop(ctx);
}


static int
bubble_json_end_array(void *ctx)
{
    return bubble_json_pop(ctx);
}


static int
bubble_json_map_key(void *ctx, const unsigned char *s, size_t len)
{
    bubble_json_t         *member, *object;
    bubble_json_parser_t  *p = ctx;

    if (len > 1024) {
        return bubble_json_fail(p, 413, "too_large",
                                "member name of %zu bytes", len);
    }

    if (!bubble_json_text_ok(p, s, len, 1)) {
        return 0;
    }

    if (p->data == BUBBLE_DATA_ROWS || p->data == BUBBLE_DATA_COLUMNS) {
        p->column = bubble_json_column(p, s, len);
        return p->column != NULL;
    }

    if (p->depth == 1 && len == 4 && memcmp(s, "data", 4) == 0) {
        if (p->doc.has_data || p->data != BUBBLE_DATA_NONE) {
            return bubble_json_fail(p, 400, "invalid_spec",
                                    "duplicate member \"data\"");
        }

        p->data = BUBBLE_DATA_NEXT;
        return 1;
    }

    object = p->stack[p->depth];

    for (member = object->child; member; member = member->next) {
        if (member->key.len == len && memcmp(member->key.data, s, len) == 0) {
            return bubble_json_fail(p, 400, "invalid_spec",
                                    "duplicate member \"%.*s\"",
                                    (int) (len > 64 ? 64 : len), s);
        }
    }

    p->key.data = bubble_strndup(p->alloc, (const char *) s, len);
    if (p->key.data == NULL) {
        return bubble_json_fail(p, 500, "internal", "out of memory");
    }

    p->key.len = len;
    return 1;
}


/* a scalar or a new container: into data's columns, or into the tree */

static int
bubble_json_value(bubble_json_parser_t *p, bubble_json_t *value)
{
    bubble_json_t  *node;

    if (p->data == BUBBLE_DATA_ROWS || p->data == BUBBLE_DATA_COLUMNS) {
        return bubble_json_cell(p, value);
    }

    node = bubble_json_value_node(p, value->type);
    if (node == NULL) {
        return 0;
    }

    node->integer = value->integer;
    node->boolean = value->boolean;
    node->number = value->number;
    node->str = value->str;

    return 1;
}


/* a tree node for a value outside "data", linked into its container */

static bubble_json_t *
bubble_json_value_node(bubble_json_parser_t *p, bubble_json_type_e type)
{
    bubble_json_t  *node, *parent;

    node = bubble_calloc(p->alloc, sizeof(bubble_json_t));
    if (node == NULL) {
        bubble_json_fail(p, 500, "internal", "out of memory");
        return NULL;
    }

    node->type = type;

    if (p->data == BUBBLE_DATA_NEXT && p->depth == 1) {
        bubble_json_fail(p, 400, "invalid_spec",
                         "data: expected an array of rows or an object of "
                         "columns, got %s", bubble_json_type_name(type));
        return NULL;
    }

    if (p->depth == 0) {
        if (type != BUBBLE_JSON_OBJECT) {
            bubble_json_fail(p, 400, "invalid_spec",
                             "expected a JSON object at the top level, "
                             "got %s", bubble_json_type_name(type));
            return NULL;
        }

        p->doc.root = node;
        return node;
    }

    parent = p->stack[p->depth];

    if (parent->type == BUBBLE_JSON_OBJECT) {
        node->key = p->key;
        p->key.data = NULL;
        p->key.len = 0;
    }

    if (parent->last) {
        parent->last->next = node;
    } else {
        parent->child = node;
    }

    parent->last = node;
    parent->n++;

    return node;
}


static int
bubble_json_cell(bubble_json_parser_t *p, bubble_json_t *value)
{
    char              path[128];
    size_t            row;
    bubble_column_t  *col;

    if (p->data == BUBBLE_DATA_ROWS && p->depth == 2) {
        snprintf(path, sizeof(path), "data[%zu]", p->doc.nrows);
        return bubble_json_fail_at(p, path, "expected an object (a row), "
                                   "got %s",
                                   bubble_json_type_name(value->type));
    }

    if (p->data == BUBBLE_DATA_COLUMNS && p->depth == 2) {
        snprintf(path, sizeof(path), "data.%s", p->column->name.data);
        return bubble_json_fail_at(p, path, "expected an array (a column), "
                                   "got %s",
                                   bubble_json_type_name(value->type));
    }

    col = p->column;

    if (p->data == BUBBLE_DATA_ROWS) {
        row = p->doc.nrows - 1;

        if (col->n > row) {
            return bubble_json_fail(p, 400, "invalid_spec",
                                    "data[%zu]: duplicate member \"%s\"",
                                    row, col->name.data);
        }

    } else {
        row = col->n;

        if (row >= p->limits->max_points) {
            return bubble_json_fail(p, 413, "too_large",
                                    "data.%s: more than %zu values",
                                    col->name.data, p->limits->max_points);
        }
    }

    if (value->type == BUBBLE_JSON_BOOL) {
        bubble_json_cell_path(p, path, sizeof(path));
        bubble_error_set(p->err, 400, "invalid_spec", path,
                         "%s: expected a number, a string or null, got a "
                         "boolean", path);
        return 0;
    }

    if (value->type != BUBBLE_JSON_NULL) {
        if (col->type == BUBBLE_COLUMN_EMPTY) {
            col->type = (value->type == BUBBLE_JSON_NUMBER)
                        ? BUBBLE_COLUMN_NUMBER : BUBBLE_COLUMN_STRING;

        } else if ((col->type == BUBBLE_COLUMN_NUMBER)
                   != (value->type == BUBBLE_JSON_NUMBER))
        {
            bubble_json_cell_path(p, path, sizeof(path));
            bubble_error_set(p->err, 400, "invalid_spec", path,
                             "%s: expected %s like the rest of column "
                             "\"%s\", got %s", path,
                             col->type == BUBBLE_COLUMN_NUMBER
                             ? "a number" : "a string",
                             col->name.data,
                             bubble_json_type_name(value->type));
            return 0;
        }
    }

    if (bubble_json_column_reserve(p, col, row + 1) != 0) {
        return 0;
    }

    /* cells skipped by earlier rows are missing values */

    while (col->n < row) {
        if (col->num) {
            col->num[col->n] = NAN;
        } else if (col->str) {
            col->str[col->n].data = NULL;
        }
        col->n++;
    }

    if (col->type == BUBBLE_COLUMN_NUMBER) {
        col->num[row] = (value->type == BUBBLE_JSON_NULL) ? NAN : value->number;

    } else if (col->type == BUBBLE_COLUMN_STRING) {
        col->str[row] = value->str;
    }

    col->n = row + 1;

    return 1;
}


static bubble_column_t *
bubble_json_column(bubble_json_parser_t *p, const unsigned char *name,
    size_t len)
{
    size_t            i, n;
    bubble_column_t  *col, *cols;

    /* rows usually list their members in the same order: try that first */

    n = p->doc.ncolumns;

    for (i = 0; i < n; i++) {
        col = &p->doc.columns[(p->hint + i) % n];

        if (col->name.len == len && memcmp(col->name.data, name, len) == 0) {
            if (p->data == BUBBLE_DATA_COLUMNS) {
                bubble_json_fail(p, 400, "invalid_spec",
                                 "data: duplicate column \"%s\"",
                                 col->name.data);
                return NULL;
            }

            p->hint = (p->hint + i + 1) % n;
            return col;
        }
    }

    if (n >= p->limits->max_columns) {
        bubble_json_fail(p, 413, "too_large", "data: more than %zu columns",
                         p->limits->max_columns);
        return NULL;
    }

    if (n == p->ncolumns_alloc) {
        p->ncolumns_alloc = n ? 2 * n : 8;

        cols = bubble_alloc(p->alloc,
                            p->ncolumns_alloc * sizeof(bubble_column_t));
        if (cols == NULL) {
            bubble_json_fail(p, 500, "internal", "out of memory");
            return NULL;
        }

        if (n) {
            memcpy(cols, p->doc.columns, n * sizeof(bubble_column_t));
        }

        bubble_free(p->alloc, p->doc.columns);
        p->doc.columns = cols;
    }

    col = &p->doc.columns[n];
    memset(col, 0, sizeof(bubble_column_t));

    col->name.data = bubble_strndup(p->alloc, (const char *) name, len);
    if (col->name.data == NULL) {
        bubble_json_fail(p, 500, "internal", "out of memory");
        return NULL;
    }

    col->name.len = len;
    p->doc.ncolumns++;
    p->hint = 0;

    return col;
}


/*
 * Make room for n cells.  Capacity doubles, so a column of N values costs
 * at most 2N cells at any moment; the old block goes back through free.
 */

static int
bubble_json_column_reserve(bubble_json_parser_t *p, bubble_column_t *col,
    size_t n)
{
    size_t  cap, cell, i;
    void   *cells, *prev;

    if (col->type == BUBBLE_COLUMN_EMPTY) {
        /* all nulls so far: nothing to store yet */
        return 0;
    }

    cell = (col->type == BUBBLE_COLUMN_NUMBER) ? sizeof(double)
                                               : sizeof(bubble_str_t);
    prev = (col->type == BUBBLE_COLUMN_NUMBER) ? (void *) col->num
                                               : (void *) col->str;

    if (prev != NULL && n <= col->cap) {
        return 0;
    }

    cap = BUBBLE_COLUMN_MIN;
    while (cap < n) {
        cap *= 2;
    }

    cells = bubble_alloc(p->alloc, cap * cell);
    if (cells == NULL) {
        return bubble_json_fail(p, 500, "internal", "out of memory") - 1;
    }

    if (prev != NULL) {
        memcpy(cells, prev, col->n * cell);
        bubble_free(p->alloc, prev);

    } else {
        /* the first typed value: earlier nulls become missing cells */
        for (i = 0; i < col->n; i++) {
            if (col->type == BUBBLE_COLUMN_NUMBER) {
                ((double *) cells)[i] = NAN;
            } else {
                ((bubble_str_t *) cells)[i].data = NULL;
                ((bubble_str_t *) cells)[i].len = 0;
            }
        }
    }

    if (col->type == BUBBLE_COLUMN_NUMBER) {
        col->num = cells;
    } else {
        col->str = cells;
    }

    col->cap = cap;

    return 0;
}


static void
bubble_json_cell_path(bubble_json_parser_t *p, char *buf, size_t size)
{
    const char  *name;

    name = p->column ? p->column->name.data : "";

    if (p->data == BUBBLE_DATA_ROWS) {
        snprintf(buf, size, "data[%zu].%s", p->doc.nrows - 1, name);

    } else {
        snprintf(buf, size, "data.%s[%zu]", name,
                 p->column ? p->column->n : 0);
    }
}


/*
 * yajl checks only the shape of UTF-8 sequences and decodes escapes as
 * they come: "\udc00" or "\ud800\u0041" give surrogates or garbage, raw
 * C0 BC an overlong '<', and "\u0000" a NUL where strcmp() stops ("svg\0x"
 * would be "svg").  Such strings and member names are refused here, before
 * they reach a model, an SVG or an error message.
 */

static int
bubble_json_text_ok(bubble_json_parser_t *p, const unsigned char *s,
    size_t len, int key)
{
    int          nul;
    char         path[128];
    size_t       i, n;
    const char  *what;

    nul = 0;

    for (i = 0; i < len; i += n) {
        if (s[i] == '\0') {
            nul = 1;
            break;
        }

        n = bubble_utf8_char(s + i, len - i);
        if (n == 0) {
            break;
        }
    }

    if (i == len) {
        return 1;
    }

    what = key ? "member name" : "string";
    path[0] = '\0';

    if (!key && p->column != NULL && p->depth == 3
        && (p->data == BUBBLE_DATA_ROWS || p->data == BUBBLE_DATA_COLUMNS))
    {
        bubble_json_cell_path(p, path, sizeof(path));

    } else if (!key && p->depth == 1 && p->key.data != NULL) {
        snprintf(path, sizeof(path), "%s", p->key.data);
    }

    if (path[0] == '\0') {
        return nul ? bubble_json_fail(p, 400, "invalid_spec", "%s with "
                                      "U+0000 (NUL) at byte %zu", what, i)
                   : bubble_json_fail(p, 400, "invalid_json", "%s is not "
                                      "valid UTF-8 at byte %zu (a surrogate, "
                                      "an overlong form or a stray byte)",
                                      what, i);
    }

    if (nul) {
        bubble_error_set(p->err, 400, "invalid_spec", path, "%s: %s with "
                         "U+0000 (NUL) at byte %zu", path, what, i);
    } else {
        bubble_error_set(p->err, 400, "invalid_json", path, "%s: %s is not "
                         "valid UTF-8 at byte %zu (a surrogate, an overlong "
                         "form or a stray byte)", path, what, i);
    }

    p->err->offset = (long) (p->consumed + yajl_get_bytes_consumed(p->yajl));

    return 0;
}


/* 400 invalid_spec at a path of our own: a row or column that is not one */

static int
bubble_json_fail_at(bubble_json_parser_t *p, const char *path,
    const char *fmt, ...)
{
    char     msg[200];
    va_list  args;

    if (p->err->code != NULL) {
        return 0;
    }

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    bubble_error_set(p->err, 400, "invalid_spec", path, "%s: %s", path, msg);
    p->err->offset = (long) (p->consumed + yajl_get_bytes_consumed(p->yajl));

    return 0;
}


static int
bubble_json_fail(bubble_json_parser_t *p, int status, const char *code,
    const char *fmt, ...)
{
    char     path[128], msg[256];
    va_list  args;

    if (p->err->code != NULL) {
        return 0;
    }

    path[0] = '\0';

    if (p->data == BUBBLE_DATA_ROWS && p->doc.nrows) {
        snprintf(path, sizeof(path), "data[%zu]", p->doc.nrows - 1);

    } else if (p->data != BUBBLE_DATA_NONE && p->data != BUBBLE_DATA_DONE) {
        snprintf(path, sizeof(path), "data");
    }

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    /*
     * Through bubble_error_set(): it keeps message and path UTF-8.  The
     * message starts with the path, as every other error's does.
     */
    if (path[0] != '\0' && strncmp(msg, path, strlen(path)) != 0) {
        bubble_error_set(p->err, status, code, path, "%s: %s", path, msg);

    } else {
        bubble_error_set(p->err, status, code, path, "%s", msg);
    }

    /* where the parser stood: helps with syntax-like errors */
    p->err->offset = (long) (p->consumed + yajl_get_bytes_consumed(p->yajl));

    return 0;
}


const char *
bubble_json_type_name(bubble_json_type_e type)
{
    static const char  *names[] = {
        "null", "a boolean", "a number", "a string", "an array", "an object"
    };

    return names[type];
}


bubble_json_t *
bubble_json_member(bubble_json_t *object, const char *name)
{
    size_t          len;
    bubble_json_t  *m;

    if (object == NULL || object->type != BUBBLE_JSON_OBJECT) {
        return NULL;
    }

    len = strlen(name);

    for (m = object->child; m; m = m->next) {
        if (m->key.len == len && memcmp(m->key.data, name, len) == 0) {
            return m;
        }
    }

    return NULL;
}

/*
 * ngx_bubble core: the JSON stage of spec parsing (bubble_json.c).
 *
 * yajl's streaming callbacks build a small tree for everything but the top
 * level "data" member, whose cells go straight into typed columns: a 50000
 * row table costs its columns, not a node per cell.  Internal to the core.
 */

#ifndef _BUBBLE_JSON_H_INCLUDED_
#define _BUBBLE_JSON_H_INCLUDED_


#include "bubble.h"


typedef enum {
    BUBBLE_JSON_NULL = 0,
    BUBBLE_JSON_BOOL,
    BUBBLE_JSON_NUMBER,
    BUBBLE_JSON_STRING,
    BUBBLE_JSON_ARRAY,
    BUBBLE_JSON_OBJECT
} bubble_json_type_e;

typedef struct bubble_json_s  bubble_json_t;

struct bubble_json_s {
    bubble_json_type_e       type;
    unsigned                 integer:1;     /* number written without . or e */
    unsigned                 boolean:1;
    bubble_str_t             key;           /* member name inside an object */
    bubble_json_t           *next;          /* next member or element */
    bubble_json_t           *child;         /* first member or element */
    bubble_json_t           *last;
    size_t                   n;             /* members or elements */
    double                   number;
    bubble_str_t             str;
};


typedef struct {
    bubble_json_t           *root;          /* the top-level object */
    bubble_column_t         *columns;
    size_t                   ncolumns;
    size_t                   nrows;
    unsigned                 has_data:1;
    unsigned                 rows_form:1;   /* data: [ {..}, .. ] */
} bubble_json_doc_t;


typedef struct bubble_json_parser_s  bubble_json_parser_t;


/*
 * The JSON stage, fed chunk by chunk: the document, or NULL with err set
 * (invalid JSON, or a limit of bubble_limits_t).  bubble_spec.c builds
 * the chart model from the document.
 */
bubble_json_parser_t *bubble_json_parser_create(bubble_allocator_t *a,
    const bubble_limits_t *limits, bubble_error_t *err);
int bubble_json_parser_feed(bubble_json_parser_t *p, const u_char *data,
    size_t len);
bubble_json_doc_t *bubble_json_parser_finish(bubble_json_parser_t *p);
void bubble_json_parser_destroy(bubble_json_parser_t *p);

const char *bubble_json_type_name(bubble_json_type_e type);
bubble_json_t *bubble_json_member(bubble_json_t *object, const char *name);


#endif /* _BUBBLE_JSON_H_INCLUDED_ */

/*
 * ngx_bubble core: a canonical digest of a chart, for strong ETags and
 * cache keys.  Two specs that mean the same chart hash the same: members
 * are visited in sorted order, numbers as their double's bytes, and the
 * data as typed columns whatever form it was sent in.
 */

#include <stdlib.h>
#include <string.h>

#include "bubble.h"
#include "bubble_json.h"


#define BUBBLE_DIGEST_MEMBERS   64          /* sorted per object on stack */


typedef struct {
    bubble_digest_update_pt  update;
    void                    *ctx;
} bubble_digest_t;


static void bubble_digest_node(bubble_digest_t *d, const bubble_json_t *n);
static int bubble_digest_member_cmp(const void *a, const void *b);


static int
bubble_digest_name_cmp(const bubble_column_t *a, const bubble_column_t *b)
{
    size_t  n;
    int     rc;

    n = a->name.len < b->name.len ? a->name.len : b->name.len;
    rc = memcmp(a->name.data, b->name.data, n);

    return rc ? rc : (a->name.len > b->name.len) - (a->name.len < b->name.len);
}


static void
bubble_digest_bytes(bubble_digest_t *d, const void *p, size_t len)
{
    /* length first: "ab"+"c" and "a"+"bc" must differ */
    d->update(d->ctx, &len, sizeof(size_t));
    d->update(d->ctx, p, len);
}


void
bubble_chart_digest(const bubble_chart_t *chart,
    bubble_digest_update_pt update, void *ctx)
{
    size_t                    i, j;
    uint8_t                   tag;
    bubble_digest_t           d;
    const bubble_column_t    *col, *prev;
    const bubble_json_doc_t  *doc = chart->source;

    d.update = update;
    d.ctx = ctx;

    /* the format may come from the URL, not from the spec */
    tag = (uint8_t) chart->format;
    update(ctx, &tag, 1);

    if (doc != NULL && doc->root != NULL) {
        bubble_digest_node(&d, doc->root);
    }

    /*
     * Columns in name order: rows list members in any order, so arrival
     * order is not part of the meaning.  Selection without allocation,
     * O(columns^2) name compares for at most limits.max_columns columns.
     */
    prev = NULL;

    for (i = 0; i < chart->ncolumns; i++) {
        col = NULL;

        for (j = 0; j < chart->ncolumns; j++) {
            const bubble_column_t  *c = &chart->columns[j];

            if ((prev == NULL || bubble_digest_name_cmp(c, prev) > 0)
                && (col == NULL || bubble_digest_name_cmp(c, col) < 0))
            {
                col = c;
            }
        }

        prev = col;

        bubble_digest_bytes(&d, col->name.data, col->name.len);
        tag = (uint8_t) col->type;
        update(ctx, &tag, 1);

        for (j = 0; j < col->n; j++) {
            if (col->type == BUBBLE_COLUMN_NUMBER) {
                update(ctx, &col->num[j], sizeof(double));

            } else if (col->type == BUBBLE_COLUMN_STRING) {
                if (col->str[j].data == NULL) {
                    tag = 0;
                    update(ctx, &tag, 1);
                } else {
                    bubble_digest_bytes(&d, col->str[j].data, col->str[j].len);
                }
            }
        }
    }
}


/*
 * The tree is small (everything but "data") and at most limits.max_depth
 * deep, so recursion is bounded.
 */

static void
bubble_digest_node(bubble_digest_t *d, const bubble_json_t *n)
{
    size_t                i, count;
    uint8_t               tag;
    const bubble_json_t  *m, *sorted[BUBBLE_DIGEST_MEMBERS];

    tag = (uint8_t) n->type;
    d->update(d->ctx, &tag, 1);

    switch (n->type) {

    case BUBBLE_JSON_BOOL:
        tag = n->boolean;
        d->update(d->ctx, &tag, 1);
        break;

    case BUBBLE_JSON_NUMBER:
        d->update(d->ctx, &n->number, sizeof(double));
        break;

    case BUBBLE_JSON_STRING:
        bubble_digest_bytes(d, n->str.data, n->str.len);
        break;

    case BUBBLE_JSON_ARRAY:
        d->update(d->ctx, &n->n, sizeof(size_t));
        for (m = n->child; m; m = m->next) {
            bubble_digest_node(d, m);
        }
        break;

    case BUBBLE_JSON_OBJECT:
        count = 0;

        for (m = n->child; m && count < BUBBLE_DIGEST_MEMBERS; m = m->next) {
            sorted[count++] = m;
        }

        qsort(sorted, count, sizeof(bubble_json_t *),
              bubble_digest_member_cmp);

        d->update(d->ctx, &count, sizeof(size_t));

        for (i = 0; i < count; i++) {
            bubble_digest_bytes(d, sorted[i]->key.data, sorted[i]->key.len);
            bubble_digest_node(d, sorted[i]);
        }

        /* objects wider than the stack array: the rest in given order */
        for (; m; m = m->next) {
            bubble_digest_bytes(d, m->key.data, m->key.len);
            bubble_digest_node(d, m);
        }

        break;

    default:
        break;
    }
}


static int
bubble_digest_member_cmp(const void *a, const void *b)
{
    const bubble_json_t  *x = *(const bubble_json_t **) a;
    const bubble_json_t  *y = *(const bubble_json_t **) b;

    return strcmp(x->key.data, y->key.data);
}

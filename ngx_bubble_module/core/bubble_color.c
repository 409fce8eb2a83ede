/*
 * ngx_bubble core: colour parsing.
 *
 * "#rgb", "#rrggbb", "#rrggbbaa", "transparent", CSS colour names and R's
 * "grey0".."grey100" / "gray0".."gray100" (ggplot2 themes use grey92 etc.).
 */

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bubble.h"


typedef struct {
    const char              *name;
    uint32_t                 rgba;
} bubble_color_name_t;

#include "bubble_color_names.h"


static int bubble_hex_digit(int c);
static int bubble_color_name_cmp(const void *key, const void *elt);


int
bubble_color_parse(const char *s, size_t len, bubble_rgba_t *out)
{
    char                        name[32];
    size_t                      i;
    int                         d[8], level;
    const bubble_color_name_t  *found;

    if (len == 0 || len >= sizeof(name)) {
        return -1;
    }

    if (s[0] == '#') {
        /* d[] holds 8 digits: "#" and 30 hex digits overflowed it */
        if (len != 4 && len != 7 && len != 9) {
            return -1;
        }

        for (i = 1; i < len; i++) {
            d[i - 1] = bubble_hex_digit((unsigned char) s[i]);
            if (d[i - 1] < 0) {
                return -1;
            }
        }

        switch (len) {
        case 4:
            *out = BUBBLE_RGBA(d[0] * 17, d[1] * 17, d[2] * 17, 0xff);
            return 0;
        case 7:
            *out = BUBBLE_RGBA(d[0] * 16 + d[1], d[2] * 16 + d[3],
                               d[4] * 16 + d[5], 0xff);
            return 0;
        case 9:
            *out = BUBBLE_RGBA(d[0] * 16 + d[1], d[2] * 16 + d[3],
                               d[4] * 16 + d[5], d[6] * 16 + d[7]);
            return 0;
        default:
            return -1;
        }
    }

    for (i = 0; i < len; i++) {
        if (s[i] == ' ') {
            return -1;
        }
        name[i] = (s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i];
    }
    name[len] = '\0';

    if (strcmp(name, "transparent") == 0) {
        *out = 0;
        return 0;
    }

    if ((strncmp(name, "grey", 4) == 0 || strncmp(name, "gray", 4) == 0)
        && len > 4 && len <= 7)
    {
        level = 0;
        for (i = 4; i < len; i++) {
            if (name[i] < '0' || name[i] > '9') {
                return -1;
            }
            level = level * 10 + name[i] - '0';
        }

        if (level > 100) {
            return -1;
        }

        /* R: grey(level / 100), rounded to 8 bits */
        level = (int) (level * 255 / 100.0 + 0.5);
        *out = BUBBLE_RGBA(level, level, level, 0xff);
        return 0;
    }

    found = bsearch(name, bubble_color_names,
                    sizeof(bubble_color_names) / sizeof(bubble_color_names[0]),
                    sizeof(bubble_color_name_t), bubble_color_name_cmp);
    if (found == NULL) {
        return -1;
    }

    *out = found->rgba;
    return 0;
}


static int
bubble_hex_digit(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


static int
bubble_color_name_cmp(const void *key, const void *elt)
{
    return strcmp(key, ((const bubble_color_name_t *) elt)->name);
}

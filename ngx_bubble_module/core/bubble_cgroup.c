/*
 * ngx_bubble core: the memory cgroup reader.
 *
 * Discovery reads /proc/self/cgroup (which cgroup we are in) and
 * /proc/self/mountinfo (where that hierarchy is mounted, and which part of
 * it: field 4 is the mount root, "/kubepods/.../ctr" when a container sees
 * only its own subtree).  Sampling reads a few small files.  Everything is
 * on the stack; nothing is allocated, so this runs in any worker or thread.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "bubble_cgroup.h"


/* bytes: a mountinfo line is skipped when longer (overlay lowerdir lists) */
#define BUBBLE_CGROUP_LINE_LEN    4096

/* bytes: enough for any cgroup value file ("9223372036854771712\n") */
#define BUBBLE_CGROUP_VALUE_LEN   64

/* no limit, as we represent it */
#define BUBBLE_CGROUP_NO_LIMIT    UINT64_MAX

/*
 * v1 writes "unlimited" as LONG_MAX rounded down to the page size
 * (9223372036854771712 with 4 KiB pages, less with 64 KiB ones): anything
 * from 2^62 bytes (4 EiB) up is taken as no limit.
 */
#define BUBBLE_CGROUP_HUGE        ((uint64_t) 1 << 62)


typedef struct {
    int                      fd;
    char                    *buf;
    size_t                   size;          /* one byte kept for a NUL */
    size_t                   pos;           /* first unread byte */
    size_t                   last;          /* end of the data */
    unsigned                 eof:1;
    unsigned                 skip:1;        /* inside an overlong line */
} bubble_cgroup_lines_t;


typedef struct {
    const char              *name;
    uint64_t                 value;
    unsigned                 found:1;
} bubble_cgroup_key_t;


/* what discovery learns about one hierarchy (v1 memory, or v2) */
typedef struct {
    char                     path[BUBBLE_CGROUP_PATH_LEN];  /* cgroup file */
    char                     root[BUBBLE_CGROUP_PATH_LEN];  /* field 4 */
    char                     mnt[BUBBLE_CGROUP_PATH_LEN];   /* field 5 */
    unsigned                 has_path:1;
    unsigned                 has_mount:1;
    unsigned                 mount_matches:1;   /* root is a prefix of path */
} bubble_cgroup_hier_t;


static int bubble_cgroup_lines_next(bubble_cgroup_lines_t *lr, char **line);
static int bubble_cgroup_read_value(const char *path, char *buf,
    size_t size);
static int bubble_cgroup_parse_u64(const char *p, uint64_t *out);
static int bubble_cgroup_read_u64(const char *dir, size_t len,
    const char *file, uint64_t *out);
static int bubble_cgroup_read_keys(const char *path, bubble_cgroup_key_t *keys,
    size_t n);
static int bubble_cgroup_join(char *buf, size_t size, const char *dir,
    size_t len, const char *file);
static int bubble_cgroup_exists(const char *dir, size_t len, const char *file);
static size_t bubble_cgroup_parent(const char *dir, size_t len,
    size_t mount_len);
static int bubble_cgroup_parse_cgroup(const char *file,
    bubble_cgroup_hier_t *v1, bubble_cgroup_hier_t *v2);
static int bubble_cgroup_parse_mountinfo(const char *file,
    bubble_cgroup_hier_t *v1, bubble_cgroup_hier_t *v2);
static int bubble_cgroup_has_token(const char *list, const char *token);
static const char *bubble_cgroup_relative(const char *path,
    const char *root);
static void bubble_cgroup_unescape(char *s);
static int bubble_cgroup_resolve(bubble_cgroup_t *cg, const char *sys_root,
    bubble_cgroup_hier_t *h, int version);
static uint64_t bubble_cgroup_physical(void);
static int bubble_cgroup_sample_meminfo(const bubble_cgroup_t *cg,
    bubble_cgroup_sample_t *s);


int
bubble_cgroup_discover(bubble_cgroup_t *cg, const char *proc_root,
    const char *sys_root)
{
    int                    rc;
    size_t                 len;
    char                   file[BUBBLE_CGROUP_PATH_LEN];
    bubble_cgroup_hier_t   v1, v2;

    memset(cg, 0, sizeof(bubble_cgroup_t));

    if (proc_root == NULL || proc_root[0] == '\0') {
        proc_root = "/proc";
    }

    if (sys_root == NULL) {
        sys_root = "";
    }

    len = strlen(proc_root);

    if (bubble_cgroup_join(cg->meminfo, sizeof(cg->meminfo), proc_root, len,
                           "meminfo")
        != 0)
    {
        cg->meminfo[0] = '\0';
        return -1;
    }

    memset(&v1, 0, sizeof(bubble_cgroup_hier_t));
    memset(&v2, 0, sizeof(bubble_cgroup_hier_t));

    /* a missing file (no cgroups, no /proc) leaves version 0 */

    if (bubble_cgroup_join(file, sizeof(file), proc_root, len, "self/cgroup")
        != 0
        || bubble_cgroup_parse_cgroup(file, &v1, &v2) != 0)
    {
        return 0;
    }

    if (bubble_cgroup_join(file, sizeof(file), proc_root, len,
                           "self/mountinfo")
        != 0
        || bubble_cgroup_parse_mountinfo(file, &v1, &v2) != 0)
    {
        return 0;
    }

    /*
     * v1 first: in hybrid mode (systemd's default before v2-only) a cgroup2
     * hierarchy is mounted at /sys/fs/cgroup/unified too, without memory.
     */

    rc = bubble_cgroup_resolve(cg, sys_root, &v1, 1);

    if (rc == 0 && cg->version == 0) {
        rc = bubble_cgroup_resolve(cg, sys_root, &v2, 2);
    }

    return rc;
}


int
bubble_cgroup_sample(const bubble_cgroup_t *cg, bubble_cgroup_sample_t *s)
{
    int                   level;
    size_t                len, len_own, best_len, next;
    uint64_t              value, high, best, phys;
    const char           *usage_file, *source;
    bubble_cgroup_key_t   keys[3];
    char                  file[BUBBLE_CGROUP_PATH_LEN + 32];

    memset(s, 0, sizeof(bubble_cgroup_sample_t));

    phys = bubble_cgroup_physical();

    s->limit = phys;
    s->level = BUBBLE_CGROUP_LEVEL_NONE;
    s->source = "physical";

    if (cg->version != 1 && cg->version != 2) {
        return bubble_cgroup_sample_meminfo(cg, s);
    }

    /*
     * The smallest limit from our cgroup up to the mount root; the nearest
     * level wins a tie.  A missing file is no limit at that level.
     */

    len = strlen(cg->dir);
    len_own = len;
    best_len = len;
    best = BUBBLE_CGROUP_NO_LIMIT;
    level = 0;

    for ( ;; ) {

        if (cg->version == 2) {
            if (bubble_cgroup_read_u64(cg->dir, len, "memory.max", &value)
                != 0)
            {
                value = BUBBLE_CGROUP_NO_LIMIT;
            }

            if (bubble_cgroup_read_u64(cg->dir, len, "memory.high", &high)
                != 0)
            {
                high = BUBBLE_CGROUP_NO_LIMIT;
            }

            source = "memory.max";

            if (high < value) {
                value = high;
                source = "memory.high";
            }

        } else {
            if (bubble_cgroup_read_u64(cg->dir, len, "memory.limit_in_bytes",
                                       &value)
                != 0)
            {
                value = BUBBLE_CGROUP_NO_LIMIT;
            }

            source = "memory.limit_in_bytes";
        }

        if (value < best) {
            best = value;
            best_len = len;
            s->level = level;
            s->source = source;
        }

        next = bubble_cgroup_parent(cg->dir, len, cg->mount_len);

        if (next == len) {
            break;
        }

        len = next;
        level++;
    }

    memset(keys, 0, sizeof(keys));

    if (cg->version == 2) {
        keys[0].name = "inactive_file";

    } else {
        keys[0].name = "total_inactive_file";
        keys[1].name = "inactive_file";
        keys[2].name = "hierarchical_memory_limit";

        /*
         * hierarchical_memory_limit in our own memory.stat is the smallest
         * limit of our cgroup and all its ancestors, those above the mount
         * root (invisible in a container) and unreadable ones included.
         * When it is smaller than what we saw, the cgroup that binds is
         * unknown: usage is then our own.
         */

        if (bubble_cgroup_join(file, sizeof(file), cg->dir, len_own,
                               "memory.stat")
            == 0
            && bubble_cgroup_read_keys(file, keys, 3) == 0
            && keys[2].found && keys[2].value < best)
        {
            best = keys[2].value;
            best_len = len_own;
            s->level = BUBBLE_CGROUP_LEVEL_STAT;
            s->source = "hierarchical_memory_limit";
        }
    }

    /*
     * Usage and memory.stat of the cgroup whose limit binds: when that is a
     * parent (a pod cgroup holding several containers), its usage is what
     * the kernel compares with its limit.
     */

    usage_file = (cg->version == 2) ? "memory.current"
                                    : "memory.usage_in_bytes";

    if (bubble_cgroup_read_u64(cg->dir, best_len, usage_file, &s->usage) != 0
        || s->usage == BUBBLE_CGROUP_NO_LIMIT)
    {
        /* gone, or "max" / a huge value in a usage file: not a usage */
        s->usage = 0;
        s->level = BUBBLE_CGROUP_LEVEL_NONE;
        s->source = "physical";
        return -1;
    }

    /* a missing memory.stat leaves inactive_file 0: working set = usage */

    if (cg->version == 2 || best_len != len_own) {
        keys[0].found = 0;
        keys[1].found = 0;

        if (bubble_cgroup_join(file, sizeof(file), cg->dir, best_len,
                               "memory.stat")
            == 0)
        {
            (void) bubble_cgroup_read_keys(file, keys, 2);
        }
    }

    if (keys[0].found) {
        s->inactive_file = keys[0].value;

    } else if (keys[1].found) {
        s->inactive_file = keys[1].value;
    }

    if (best < phys) {
        s->limit = best;
        s->limited = 1;

    } else {
        s->limit = phys;
        s->level = BUBBLE_CGROUP_LEVEL_NONE;
        s->source = "physical";
    }

    s->working_set = (s->usage > s->inactive_file)
                     ? s->usage - s->inactive_file : 0;

    return 0;
}


static int
bubble_cgroup_sample_meminfo(const bubble_cgroup_t *cg,
    bubble_cgroup_sample_t *s)
{
    bubble_cgroup_key_t  keys[3];

    /* meminfo values are in KiB */

    memset(keys, 0, sizeof(keys));
    keys[0].name = "MemTotal:";
    keys[1].name = "MemFree:";
    keys[2].name = "Inactive(file):";

    if (cg->meminfo[0] == '\0'
        || bubble_cgroup_read_keys(cg->meminfo, keys, 3) != 0
        || !keys[0].found || !keys[1].found
        || keys[0].value < keys[1].value)
    {
        return -1;
    }

    /* as the root cgroup counts it: page cache and buffers are used */
    s->usage = (keys[0].value - keys[1].value) * 1024;
    s->inactive_file = keys[2].found ? keys[2].value * 1024 : 0;

    s->working_set = (s->usage > s->inactive_file)
                     ? s->usage - s->inactive_file : 0;

    return 0;
}


/*
 * Turns what the files said into a directory.  Sets cg->version only when
 * a directory with the usage file exists.  Returns -1 if a path overflows.
 */

static int
bubble_cgroup_resolve(bubble_cgroup_t *cg, const char *sys_root,
    bubble_cgroup_hier_t *h, int version)
{
    size_t       sys_len, mnt_len, rel_len, len, next;
    const char  *rel, *usage_file;

    if (!h->has_path || !h->has_mount) {
        return 0;
    }

    /*
     * The cgroup path relative to the mount root.  A path outside the
     * mount root (a cgroup namespace shows "/.." paths; a bind mount of
     * another subtree) cannot be found below the mount point: the mount
     * point itself is the best we can see.
     */

    rel = h->mount_matches ? bubble_cgroup_relative(h->path, h->root) : NULL;

    if (rel == NULL || strstr(rel, "/..") != NULL) {
        rel = "";
    }

    rel_len = strlen(rel);

    while (rel_len > 0 && rel[rel_len - 1] == '/') {
        rel_len--;
    }

    sys_len = strlen(sys_root);

    while (sys_len > 0 && sys_root[sys_len - 1] == '/') {
        sys_len--;
    }

    mnt_len = strlen(h->mnt);

    /* "/" as a mount point joins as "" + "/path" */
    while (mnt_len > 0 && h->mnt[mnt_len - 1] == '/'
           && (mnt_len > 1 || sys_len + rel_len > 0))
    {
        mnt_len--;
    }

    if (sys_len + mnt_len + rel_len >= BUBBLE_CGROUP_PATH_LEN) {
        return -1;
    }

    memcpy(cg->dir, sys_root, sys_len);
    memcpy(cg->dir + sys_len, h->mnt, mnt_len);
    memcpy(cg->dir + sys_len + mnt_len, rel, rel_len);

    cg->mount_len = sys_len + mnt_len;
    len = cg->mount_len + rel_len;
    cg->dir[len] = '\0';

    /*
     * The nearest directory that accounts our memory: on v2 a cgroup whose
     * parent did not enable the memory controller has no memory.current
     * (nor has the root cgroup), and its memory is charged to the nearest
     * ancestor that has it.  Also covers a directory that does not exist.
     */

    usage_file = (version == 2) ? "memory.current" : "memory.usage_in_bytes";

    for ( ;; ) {
        if (bubble_cgroup_exists(cg->dir, len, usage_file)) {
            cg->dir[len] = '\0';
            cg->version = version;
            return 0;
        }

        next = bubble_cgroup_parent(cg->dir, len, cg->mount_len);

        if (next == len) {
            break;
        }

        len = next;
    }

    cg->dir[0] = '\0';
    cg->mount_len = 0;

    return 0;
}


/*
 * /proc/self/cgroup: "hierarchy-id:controllers:path".  v2 is "0::/path";
 * v1 memory is the line whose comma-separated controllers include "memory".
 * Returns -1 if the file cannot be read.
 */

static int
bubble_cgroup_parse_cgroup(const char *file, bubble_cgroup_hier_t *v1,
    bubble_cgroup_hier_t *v2)
{
    int                     fd, rc;
    char                   *line, *ctl, *path;
    size_t                  len;
    char                    buf[BUBBLE_CGROUP_LINE_LEN];
    bubble_cgroup_lines_t   lr;
    bubble_cgroup_hier_t   *h;

    fd = open(file, O_RDONLY | O_CLOEXEC);

    if (fd == -1) {
        return -1;
    }

    memset(&lr, 0, sizeof(bubble_cgroup_lines_t));
    lr.fd = fd;
    lr.buf = buf;
    lr.size = sizeof(buf);

    while ((rc = bubble_cgroup_lines_next(&lr, &line)) == 1) {

        ctl = strchr(line, ':');

        if (ctl == NULL) {
            continue;
        }

        ctl++;
        path = strchr(ctl, ':');

        if (path == NULL || path[1] != '/') {
            continue;
        }

        *path++ = '\0';

        if (ctl[0] == '\0' && line[0] == '0' && line[1] == ':') {
            h = v2;

        } else if (bubble_cgroup_has_token(ctl, "memory")) {
            h = v1;

        } else {
            continue;
        }

        len = strlen(path);

        if (h->has_path || len >= sizeof(h->path)) {
            continue;
        }

        memcpy(h->path, path, len + 1);
        h->has_path = 1;
    }

    close(fd);

    return (rc == 0) ? 0 : -1;
}


/*
 * mountinfo, per proc(5):
 *   36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=..
 *   (1)(2)(3)   (4)   (5)      (6)      (7...) (8) (9)    (10)     (11)
 * v1 memory: fstype "cgroup" with "memory" in the super options (11);
 * v2: fstype "cgroup2".  A mount whose root (4) contains our cgroup path is
 * preferred; otherwise the first one found.
 */

static int
bubble_cgroup_parse_mountinfo(const char *file, bubble_cgroup_hier_t *v1,
    bubble_cgroup_hier_t *v2)
{
    int                     fd, rc, i, n;
    char                   *line, *p, *field[16];
    size_t                  root_len, mnt_len;
    unsigned                matches;
    char                    buf[BUBBLE_CGROUP_LINE_LEN];
    bubble_cgroup_lines_t   lr;
    bubble_cgroup_hier_t   *h;

    if (!v1->has_path && !v2->has_path) {
        return 0;
    }

    fd = open(file, O_RDONLY | O_CLOEXEC);

    if (fd == -1) {
        return -1;
    }

    memset(&lr, 0, sizeof(bubble_cgroup_lines_t));
    lr.fd = fd;
    lr.buf = buf;
    lr.size = sizeof(buf);

    while ((rc = bubble_cgroup_lines_next(&lr, &line)) == 1) {

        /* split on spaces: fields never contain one (they are escaped) */

        n = 0;
        p = line;

        while (*p != '\0' && n < (int) (sizeof(field) / sizeof(field[0]))) {
            while (*p == ' ') {
                p++;
            }

            if (*p == '\0') {
                break;
            }

            field[n++] = p;

            while (*p != ' ' && *p != '\0') {
                p++;
            }

            if (*p == ' ') {
                *p++ = '\0';
            }
        }

        /* the separator "-" after the optional fields (7) */

        for (i = 6; i < n; i++) {
            if (strcmp(field[i], "-") == 0) {
                break;
            }
        }

        if (i + 3 >= n) {
            continue;
        }

        if (strcmp(field[i + 1], "cgroup2") == 0) {
            h = v2;

        } else if (strcmp(field[i + 1], "cgroup") == 0
                   && bubble_cgroup_has_token(field[i + 3], "memory"))
        {
            h = v1;

        } else {
            continue;
        }

        if (!h->has_path || (h->has_mount && h->mount_matches)) {
            continue;
        }

        bubble_cgroup_unescape(field[3]);
        bubble_cgroup_unescape(field[4]);

        matches = (bubble_cgroup_relative(h->path, field[3]) != NULL);

        if (h->has_mount && !matches) {
            continue;
        }

        root_len = strlen(field[3]);
        mnt_len = strlen(field[4]);

        if (root_len >= sizeof(h->root) || mnt_len >= sizeof(h->mnt)) {
            continue;
        }

        memcpy(h->root, field[3], root_len + 1);
        memcpy(h->mnt, field[4], mnt_len + 1);
        h->has_mount = 1;
        h->mount_matches = matches;
    }

    close(fd);

    return (rc == 0) ? 0 : -1;
}


/* path relative to root, or NULL if path is not under root */

static const char *
bubble_cgroup_relative(const char *path, const char *root)
{
    size_t  n;

    n = strlen(root);

    while (n > 0 && root[n - 1] == '/') {
        n--;
    }

    if (n == 0) {
        return path;
    }

    if (strncmp(path, root, n) != 0 || (path[n] != '/' && path[n] != '\0')) {
        return NULL;
    }

    return path + n;
}


/* "rw,memory" has the token "memory"; "rw,memory_x" has not */

static int
bubble_cgroup_has_token(const char *list, const char *token)
{
    size_t       n;
    const char  *p, *end;

    n = strlen(token);
    p = list;

    for ( ;; ) {
        end = strchr(p, ',');

        if (end == NULL) {
            end = p + strlen(p);
        }

        if ((size_t) (end - p) == n && strncmp(p, token, n) == 0) {
            return 1;
        }

        if (*end == '\0') {
            return 0;
        }

        p = end + 1;
    }
}


/* mountinfo escapes space, tab, newline and backslash as \ooo */

static void
bubble_cgroup_unescape(char *s)
{
    char  *d;

    for (d = s; *s != '\0'; s++, d++) {
        if (s[0] == '\\'
            && s[1] >= '0' && s[1] <= '3'
            && s[2] >= '0' && s[2] <= '7'
            && s[3] >= '0' && s[3] <= '7')
        {
            *d = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;

        } else {
            *d = *s;
        }
    }

    *d = '\0';
}


/* the length of dir's parent, or len when dir is the mount point */

static size_t
bubble_cgroup_parent(const char *dir, size_t len, size_t mount_len)
{
    size_t  n;

    if (len <= mount_len) {
        return len;
    }

    /* components below the mount point all start with '/' */

    for (n = len - 1; n > mount_len; n--) {
        if (dir[n] == '/') {
            return n;
        }
    }

    return mount_len;
}


/* buf = the first len bytes of dir + "/" + file; -1 if it does not fit */

static int
bubble_cgroup_join(char *buf, size_t size, const char *dir, size_t len,
    const char *file)
{
    size_t  n;

    n = strlen(file);

    if (len + 1 + n + 1 > size) {
        return -1;
    }

    memcpy(buf, dir, len);
    buf[len] = '/';
    memcpy(buf + len + 1, file, n + 1);

    return 0;
}


static int
bubble_cgroup_exists(const char *dir, size_t len, const char *file)
{
    char  path[BUBBLE_CGROUP_PATH_LEN + 32];

    if (bubble_cgroup_join(path, sizeof(path), dir, len, file) != 0) {
        return 0;
    }

    return access(path, F_OK) == 0;
}


/* reads a small file whole; returns its length or -1 */

static int
bubble_cgroup_read_value(const char *path, char *buf, size_t size)
{
    int      fd;
    size_t   len;
    ssize_t  n;

    fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd == -1) {
        return -1;
    }

    len = 0;

    while (len < size - 1) {
        n = read(fd, buf + len, size - 1 - len);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            close(fd);
            return -1;
        }

        if (n == 0) {
            break;
        }

        len += n;
    }

    close(fd);

    buf[len] = '\0';

    return (int) len;
}


/*
 * "123" -> 123; "max" and values from 2^62 up -> BUBBLE_CGROUP_NO_LIMIT.
 * Leading blanks and a trailing newline or unit (" kB") are allowed.
 * Returns -1 on anything else.
 */

static int
bubble_cgroup_parse_u64(const char *p, uint64_t *out)
{
    uint64_t  v;

    while (*p == ' ' || *p == '\t') {
        p++;
    }

    if (strncmp(p, "max", 3) == 0
        && (p[3] == '\0' || p[3] == '\n' || p[3] == ' '))
    {
        *out = BUBBLE_CGROUP_NO_LIMIT;
        return 0;
    }

    if (*p < '0' || *p > '9') {
        return -1;
    }

    v = 0;

    while (*p >= '0' && *p <= '9') {

        /* saturate at 2^62: no overflow, and huge stays huge */
        if (v > BUBBLE_CGROUP_HUGE / 10) {
            v = BUBBLE_CGROUP_HUGE;

        } else {
            v = v * 10 + (uint64_t) (*p - '0');
        }

        p++;
    }

    if (*p != '\0' && *p != '\n' && *p != ' ') {
        return -1;
    }

    *out = (v >= BUBBLE_CGROUP_HUGE) ? BUBBLE_CGROUP_NO_LIMIT : v;

    return 0;
}


static int
bubble_cgroup_read_u64(const char *dir, size_t len, const char *file,
    uint64_t *out)
{
    char  path[BUBBLE_CGROUP_PATH_LEN + 32];
    char  buf[BUBBLE_CGROUP_VALUE_LEN];

    if (bubble_cgroup_join(path, sizeof(path), dir, len, file) != 0
        || bubble_cgroup_read_value(path, buf, sizeof(buf)) <= 0)
    {
        return -1;
    }

    return bubble_cgroup_parse_u64(buf, out);
}


/*
 * Looks keys up by exact name in a "name value" file (memory.stat), or a
 * "Name:   value kB" one (meminfo).  The first occurrence wins.
 * Returns -1 if the file cannot be read.
 */

static int
bubble_cgroup_read_keys(const char *path, bubble_cgroup_key_t *keys,
    size_t n)
{
    int                     fd, rc;
    char                   *line, *value;
    size_t                  i;
    uint64_t                v;
    char                    buf[1024];
    bubble_cgroup_lines_t   lr;

    fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd == -1) {
        return -1;
    }

    memset(&lr, 0, sizeof(bubble_cgroup_lines_t));
    lr.fd = fd;
    lr.buf = buf;
    lr.size = sizeof(buf);

    while ((rc = bubble_cgroup_lines_next(&lr, &line)) == 1) {

        value = strchr(line, ' ');

        if (value == NULL) {
            continue;
        }

        *value++ = '\0';

        for (i = 0; i < n; i++) {
            if (keys[i].name == NULL || keys[i].found
                || strcmp(line, keys[i].name) != 0)
            {
                continue;
            }

            /* a huge value stays huge: hierarchical "unlimited" */
            if (bubble_cgroup_parse_u64(value, &v) == 0) {
                keys[i].value = v;
                keys[i].found = 1;
            }

            break;
        }
    }

    close(fd);

    return (rc == 0) ? 0 : -1;
}


/*
 * The next line, NUL-terminated in place; 1, 0 at the end, -1 on a read
 * error.  A line longer than the buffer is skipped whole.
 */

static int
bubble_cgroup_lines_next(bubble_cgroup_lines_t *lr, char **line)
{
    char     *nl;
    ssize_t   n;

    for ( ;; ) {
        nl = memchr(lr->buf + lr->pos, '\n', lr->last - lr->pos);

        if (nl != NULL) {
            if (lr->skip) {
                lr->skip = 0;
                lr->pos = nl + 1 - lr->buf;
                continue;
            }

            *nl = '\0';
            *line = lr->buf + lr->pos;
            lr->pos = nl + 1 - lr->buf;
            return 1;
        }

        if (lr->eof) {
            if (lr->pos == lr->last || lr->skip) {
                lr->pos = lr->last;
                return 0;
            }

            /* the last line has no newline */
            lr->buf[lr->last] = '\0';
            *line = lr->buf + lr->pos;
            lr->pos = lr->last;
            return 1;
        }

        if (lr->pos > 0) {
            memmove(lr->buf, lr->buf + lr->pos, lr->last - lr->pos);
            lr->last -= lr->pos;
            lr->pos = 0;
        }

        if (lr->last == lr->size - 1) {
            lr->skip = 1;
            lr->last = 0;
        }

        n = read(lr->fd, lr->buf + lr->last, lr->size - 1 - lr->last);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            return -1;
        }

        if (n == 0) {
            lr->eof = 1;

        } else {
            lr->last += n;
        }
    }
}


static uint64_t
bubble_cgroup_physical(void)
{
    long  pages, size;

    pages = sysconf(_SC_PHYS_PAGES);
    size = sysconf(_SC_PAGESIZE);

    if (pages <= 0 || size <= 0) {
        return BUBBLE_CGROUP_NO_LIMIT;
    }

    return (uint64_t) pages * (uint64_t) size;
}

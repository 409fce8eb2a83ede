/*
 * ngx_bubble core: the memory cgroup reader (bubble_cgroup.c).
 *
 * Finds the memory cgroup of this process (v1 or v2) once, then samples its
 * limit, usage and working set as often as the caller likes.  Pure C, no
 * nginx headers, no allocation: fixed buffers on the stack, files read with
 * open/read/close.  Sampling only reads *cg, so any number of threads may
 * sample one discovered cgroup at once.
 */

#ifndef _BUBBLE_CGROUP_H_INCLUDED_
#define _BUBBLE_CGROUP_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


/* bytes, including the NUL; longer cgroup directories make discovery fail */
#define BUBBLE_CGROUP_PATH_LEN    1024

/* bubble_cgroup_sample_t.level when the limit is not from a level's file */
#define BUBBLE_CGROUP_LEVEL_STAT  (-1)     /* v1 hierarchical_memory_limit */
#define BUBBLE_CGROUP_LEVEL_NONE  (-2)     /* physical RAM */


typedef struct {
    /* 1, 2, or 0: no usable memory cgroup, physical memory is used */
    int                      version;

    /*
     * The memory cgroup directory of this process, sys_root included:
     * the nearest directory, from the process's own cgroup up, that has
     * the usage file (v2 accounts a cgroup without the memory controller
     * to its nearest ancestor with it).  "" when version is 0.
     */
    char                     dir[BUBBLE_CGROUP_PATH_LEN];

    /*
     * Length of the mount point prefix of dir (sys_root included): limits
     * are looked up from dir up to this directory, never above it.
     */
    size_t                   mount_len;

    /* <proc_root>/meminfo, read when version is 0 */
    char                     meminfo[BUBBLE_CGROUP_PATH_LEN];
} bubble_cgroup_t;


typedef struct {
    /*
     * Bytes: the smallest limit found, clamped to physical RAM (a larger
     * limit cannot be reached before the machine runs out).  Per level:
     * v2 min(memory.high, memory.max), v1 memory.limit_in_bytes; "max" and
     * v1's "unlimited" (9223372036854771712, or any value >= 2^62) are no
     * limit, and so is a missing or unreadable file.  Levels are the own
     * cgroup and each parent up to the mount root (the kubelet sets limits
     * on the container and pod cgroups; any of them can OOM-kill us).  On
     * v1, hierarchical_memory_limit from memory.stat wins when smaller: it
     * covers ancestors above the mount root, invisible in a container.
     * No limit at all: physical RAM, sysconf(_SC_PHYS_PAGES) * page size.
     */
    uint64_t                 limit;

    /*
     * Bytes, of the cgroup whose limit is reported (that is where the
     * OOM killer compares): v2 memory.current, v1 memory.usage_in_bytes.
     * Of the own cgroup when no level has a limit or the limit is v1's
     * hierarchical_memory_limit (its cgroup is not visible).  Version 0:
     * MemTotal - MemFree from meminfo, page cache included as in a
     * cgroup's usage.
     */
    uint64_t                 usage;

    /*
     * Bytes, looked up by name in the same cgroup's memory.stat: v2
     * "inactive_file", v1 "total_inactive_file" (with hierarchy), else
     * "inactive_file"; 0 when memory.stat is missing.  Version 0:
     * "Inactive(file)" from meminfo.
     */
    uint64_t                 inactive_file;

    /* bytes: usage - inactive_file, floored at 0, as the kubelet does */
    uint64_t                 working_set;

    /*
     * Where the limit came from: 0 the dir of bubble_cgroup_t, n that many
     * parents up, or BUBBLE_CGROUP_LEVEL_STAT / BUBBLE_CGROUP_LEVEL_NONE.
     */
    int                      level;

    /*
     * The file or key the limit came from, a static string for logs:
     * "memory.max", "memory.high", "memory.limit_in_bytes",
     * "hierarchical_memory_limit" or "physical".
     */
    const char              *source;

    unsigned                 limited:1;     /* limit is a cgroup's, not RAM */
} bubble_cgroup_sample_t;


/*
 * Parses <proc_root>/self/cgroup and <proc_root>/self/mountinfo, and finds
 * the directory under sys_root + mount point.  Production: "/proc" and ""
 * (NULL means the same); tests pass fixture directories.  When the memory
 * controller is on a v1 hierarchy it is used even if a v2 hierarchy is also
 * mounted (hybrid mode: v2 then has no memory files).  Returns 0, with
 * version 0 when nothing usable was found (not an error: physical memory
 * is then sampled), or -1 when a path does not fit (version is then 0 too).
 * Uses about 12 KiB of stack; call it once, at start (init_module or
 * init_process), and again only if the cgroup may have changed.
 */
int bubble_cgroup_discover(bubble_cgroup_t *cg, const char *proc_root,
    const char *sys_root);

/*
 * Fills s.  Costs small file reads: per level walked 2 on v2 (memory.max,
 * memory.high) or 1 on v1 (memory.limit_in_bytes), then usage and
 * memory.stat once (v1: twice when a parent's limit binds); version 0
 * reads meminfo only.  About 4 KiB of stack.  Returns 0, or -1 when usage
 * cannot be read (the cgroup was removed, or meminfo is missing): s then
 * holds the physical limit and zero usage, and the caller should keep its
 * previous sample.
 */
int bubble_cgroup_sample(const bubble_cgroup_t *cg, bubble_cgroup_sample_t *s);


#endif /* _BUBBLE_CGROUP_H_INCLUDED_ */

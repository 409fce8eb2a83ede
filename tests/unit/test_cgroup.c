/*
 * Unit tests of the cgroup reader (core/bubble_cgroup.c).
 *
 * Run with cwd = tests/unit: fixtures are ../fixtures/cgroup/<case>/proc
 * (self/cgroup, self/mountinfo, meminfo) and .../sys (the files under the
 * mount points named in mountinfo).  The cases are described in
 * tests/fixtures/cgroup/README.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "bubble_cgroup.h"


#define FIXTURES  "../fixtures/cgroup/"
#define MiB       ((uint64_t) 1024 * 1024)


static uint64_t
physical(void)
{
    return (uint64_t) sysconf(_SC_PHYS_PAGES)
           * (uint64_t) sysconf(_SC_PAGESIZE);
}


static void
discover(bubble_cgroup_t *cg, const char *name)
{
    char  proc[256], sys[256];

    snprintf(proc, sizeof(proc), FIXTURES "%s/proc", name);
    snprintf(sys, sizeof(sys), FIXTURES "%s/sys", name);

    assert_int_equal(bubble_cgroup_discover(cg, proc, sys), 0);
}


/* cg->dir ends with suffix */

static void
assert_dir(const bubble_cgroup_t *cg, const char *name, const char *suffix)
{
    char  want[512];

    snprintf(want, sizeof(want), FIXTURES "%s/sys%s", name, suffix);
    assert_string_equal(cg->dir, want);
}


/* a container with a cgroup namespace: "0::/", mount root "/" */

static void
test_v2_limit(void **state)
{
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    discover(&cg, "v2-limit");
    assert_int_equal(cg.version, 2);
    assert_dir(&cg, "v2-limit", "/sys/fs/cgroup");

    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_true(s.limited);
    assert_int_equal(s.limit, 512 * MiB);
    assert_string_equal(s.source, "memory.max");
    assert_int_equal(s.level, 0);
    assert_int_equal(s.usage, 100 * MiB);
    /* "inactive_file", not "inactive_anon" (4 MiB) listed before it */
    assert_int_equal(s.inactive_file, 20 * MiB);
    assert_int_equal(s.working_set, 80 * MiB);
}


/* memory.max "max", memory.high 256 MiB; parents unlimited, root bare */

static void
test_v2_max_high(void **state)
{
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    discover(&cg, "v2-max-high");
    assert_int_equal(cg.version, 2);
    assert_dir(&cg, "v2-max-high", "/sys/fs/cgroup/system.slice/chart.service");

    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_true(s.limited);
    assert_int_equal(s.limit, 256 * MiB);
    assert_string_equal(s.source, "memory.high");
    assert_int_equal(s.level, 0);
    assert_int_equal(s.usage, 64 * MiB);
    assert_int_equal(s.inactive_file, 8 * MiB);
    assert_int_equal(s.working_set, 56 * MiB);
}


/*
 * Mount root "/kubepods/burstable/pod42" (no cgroup namespace), process in
 * ".../pod42/ctr7/workers", which has no limit; ctr7 has 192 MiB, the pod
 * 256 MiB.  The 192 MiB binds, with ctr7's usage and memory.stat.  The
 * mountinfo has a 9 KB overlay line and a decoy cgroup2 mount first.
 */

static void
test_v2_nested(void **state)
{
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    discover(&cg, "v2-nested");
    assert_int_equal(cg.version, 2);
    assert_dir(&cg, "v2-nested", "/sys/fs/cgroup/ctr7/workers");

    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_true(s.limited);
    assert_int_equal(s.limit, 192 * MiB);
    assert_string_equal(s.source, "memory.max");
    assert_int_equal(s.level, 1);
    assert_int_equal(s.usage, 144 * MiB);
    assert_int_equal(s.inactive_file, 16 * MiB);
    assert_int_equal(s.working_set, 128 * MiB);
}


/* a host process in the v2 root cgroup: no memory.current, so meminfo */

static void
test_v2_root(void **state)
{
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    discover(&cg, "v2-root");
    assert_int_equal(cg.version, 0);
    assert_string_equal(cg.dir, "");

    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_false(s.limited);
    assert_int_equal(s.limit, physical());
    assert_int_equal(s.level, BUBBLE_CGROUP_LEVEL_NONE);
    assert_int_equal(s.usage, (8049976 - 1048576) * (uint64_t) 1024);
}


/* a mount point with a space, "\040" in mountinfo */

static void
test_v2_escaped(void **state)
{
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    discover(&cg, "v2-escaped");
    assert_int_equal(cg.version, 2);
    assert_dir(&cg, "v2-escaped", "/run/cg v2");

    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_int_equal(s.limit, 32 * MiB);
    assert_int_equal(s.usage, 1 * MiB);
    /* no memory.stat */
    assert_int_equal(s.inactive_file, 0);
    assert_int_equal(s.working_set, 1 * MiB);
}


/* Docker on v1: mount root "/docker/abc123" = the cgroup path */

static void
test_v1_limit(void **state)
{
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    discover(&cg, "v1-limit");
    assert_int_equal(cg.version, 1);
    assert_dir(&cg, "v1-limit", "/sys/fs/cgroup/memory");

    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_true(s.limited);
    assert_int_equal(s.limit, 128 * MiB);
    assert_string_equal(s.source, "memory.limit_in_bytes");
    assert_int_equal(s.level, 0);
    assert_int_equal(s.usage, 48 * MiB);
    /* total_inactive_file (8 MiB) wins over inactive_file (4 MiB) */
    assert_int_equal(s.inactive_file, 8 * MiB);
    assert_int_equal(s.working_set, 40 * MiB);
}


/*
 * v1 "unlimited" in ctr3, no files in pod9, 8 GiB on kubepods; memory.stat
 * says hierarchical_memory_limit 256 MiB, which is smaller: it wins.
 */

static void
test_v1_unlimited(void **state)
{
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    discover(&cg, "v1-unlimited");
    assert_int_equal(cg.version, 1);
    assert_dir(&cg, "v1-unlimited", "/sys/fs/cgroup/memory/kubepods/pod9/ctr3");

    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_true(s.limited);
    assert_int_equal(s.limit, 256 * MiB);
    assert_string_equal(s.source, "hierarchical_memory_limit");
    assert_int_equal(s.level, BUBBLE_CGROUP_LEVEL_STAT);
    assert_int_equal(s.usage, 32 * MiB);
    assert_int_equal(s.inactive_file, 2 * MiB);
    assert_int_equal(s.working_set, 30 * MiB);
}


/* v1 unlimited and no memory.stat: physical RAM, working set = usage */

static void
test_v1_nostat(void **state)
{
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    discover(&cg, "v1-nostat");
    assert_int_equal(cg.version, 1);
    assert_dir(&cg, "v1-nostat", "/sys/fs/cgroup/memory");

    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_false(s.limited);
    assert_int_equal(s.limit, physical());
    assert_string_equal(s.source, "physical");
    assert_int_equal(s.level, BUBBLE_CGROUP_LEVEL_NONE);
    assert_int_equal(s.usage, 10 * MiB);
    assert_int_equal(s.inactive_file, 0);
    assert_int_equal(s.working_set, 10 * MiB);
}


/*
 * Hybrid, as on the build machine: v1 memory wins over the cgroup2 mount
 * (which has a decoy limit).  The process is in abc/worker (unlimited);
 * abc's 128 MiB binds, with abc's usage and total_inactive_file.
 */

static void
test_hybrid(void **state)
{
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    discover(&cg, "hybrid");
    assert_int_equal(cg.version, 1);
    assert_dir(&cg, "hybrid", "/sys/fs/cgroup/memory/process_api/abc/worker");

    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_true(s.limited);
    assert_int_equal(s.limit, 128 * MiB);
    assert_string_equal(s.source, "memory.limit_in_bytes");
    assert_int_equal(s.level, 1);
    assert_int_equal(s.usage, 40 * MiB);
    assert_int_equal(s.inactive_file, 2 * MiB);
    assert_int_equal(s.working_set, 38 * MiB);
}


/* no /proc/self/cgroup: physical RAM, usage from meminfo (KiB) */

static void
test_none_nocgroup(void **state)
{
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    discover(&cg, "none-nocgroup");
    assert_int_equal(cg.version, 0);

    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_false(s.limited);
    assert_int_equal(s.limit, physical());
    assert_string_equal(s.source, "physical");
    assert_int_equal(s.usage, (8049976 - 1048576) * (uint64_t) 1024);
    assert_int_equal(s.inactive_file, 2097152 * (uint64_t) 1024);
    assert_int_equal(s.working_set,
                     (8049976 - 1048576 - 2097152) * (uint64_t) 1024);
}


/* "0::/" but no cgroup filesystem mounted */

static void
test_none_nomount(void **state)
{
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    discover(&cg, "none-nomount");
    assert_int_equal(cg.version, 0);

    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_false(s.limited);
    assert_int_equal(s.limit, physical());
}


/* nothing at all: version 0, and sampling fails cleanly */

static void
test_missing_everything(void **state)
{
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    assert_int_equal(bubble_cgroup_discover(&cg, FIXTURES "no-such/proc",
                                            FIXTURES "no-such/sys"), 0);
    assert_int_equal(cg.version, 0);

    assert_int_equal(bubble_cgroup_sample(&cg, &s), -1);
    assert_false(s.limited);
    assert_int_equal(s.limit, physical());
    assert_int_equal(s.usage, 0);
}


/* a sys_root that cannot fit: -1, version 0, no overflow */

static void
test_path_too_long(void **state)
{
    char             sys[BUBBLE_CGROUP_PATH_LEN + 16];
    bubble_cgroup_t  cg;

    (void) state;

    memset(sys, 'x', sizeof(sys) - 1);
    sys[0] = '/';
    sys[sizeof(sys) - 1] = '\0';

    assert_int_equal(bubble_cgroup_discover(&cg, FIXTURES "v2-limit/proc",
                                            sys), -1);
    assert_int_equal(cg.version, 0);
}


/* writes text to root + rel */

static void
put(const char *root, const char *rel, const char *text)
{
    FILE  *f;
    char   path[256];

    snprintf(path, sizeof(path), "%s%s", root, rel);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}


static int
at(int (*fn)(const char *), const char *root, const char *rel)
{
    char  path[256];

    snprintf(path, sizeof(path), "%s%s", root, rel);

    return fn(path);
}


static int
mkdir_0700(const char *path)
{
    return mkdir(path, 0700);
}


/*
 * A cgroup that changes under us: garbage in memory.max is no limit, the
 * usage file disappearing (cgroup removed) makes sample fail.
 */

static void
test_changing(void **state)
{
    char                    root[64], proc[128], sys[128];
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    snprintf(root, sizeof(root), "/tmp/bubble_cgroup_XXXXXX");
    assert_non_null(mkdtemp(root));

    assert_int_equal(at(mkdir_0700, root, "/proc"), 0);
    assert_int_equal(at(mkdir_0700, root, "/proc/self"), 0);
    assert_int_equal(at(mkdir_0700, root, "/sys"), 0);
    assert_int_equal(at(mkdir_0700, root, "/sys/cg"), 0);
    put(root, "/proc/self/cgroup", "0::/\n");
    put(root, "/proc/self/mountinfo",
        "30 23 0:26 / /cg rw - cgroup2 cgroup2 rw\n");
    put(root, "/sys/cg/memory.max", "1048576\n");
    put(root, "/sys/cg/memory.current", "4096\n");

    snprintf(proc, sizeof(proc), "%s/proc", root);
    snprintf(sys, sizeof(sys), "%s/sys", root);

    assert_int_equal(bubble_cgroup_discover(&cg, proc, sys), 0);
    assert_int_equal(cg.version, 2);
    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_true(s.limited);
    assert_int_equal(s.limit, 1048576);
    assert_int_equal(s.usage, 4096);

    put(root, "/sys/cg/memory.max", "12ab\n");
    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_false(s.limited);
    assert_int_equal(s.limit, physical());

    /* far beyond 2^64: saturates to no limit, no overflow */
    put(root, "/sys/cg/memory.max", "123456789012345678901234567890\n");
    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_false(s.limited);

    /* no newline; memory.high below memory.max */
    put(root, "/sys/cg/memory.max", "2097152");
    put(root, "/sys/cg/memory.high", "1572864\n");
    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_int_equal(s.limit, 1572864);
    assert_string_equal(s.source, "memory.high");

    assert_int_equal(at(unlink, root, "/sys/cg/memory.current"), 0);
    assert_int_equal(bubble_cgroup_sample(&cg, &s), -1);
    assert_false(s.limited);
    assert_int_equal(s.usage, 0);

    assert_int_equal(at(unlink, root, "/sys/cg/memory.max"), 0);
    assert_int_equal(at(unlink, root, "/sys/cg/memory.high"), 0);
    assert_int_equal(at(rmdir, root, "/sys/cg"), 0);
    assert_int_equal(at(rmdir, root, "/sys"), 0);
    assert_int_equal(at(unlink, root, "/proc/self/cgroup"), 0);
    assert_int_equal(at(unlink, root, "/proc/self/mountinfo"), 0);
    assert_int_equal(at(rmdir, root, "/proc/self"), 0);
    assert_int_equal(at(rmdir, root, "/proc"), 0);
    assert_int_equal(rmdir(root), 0);
}


/* this machine: whatever it is, discovery works and we use some memory */

static void
test_real_proc(void **state)
{
    bubble_cgroup_t         cg;
    bubble_cgroup_sample_t  s;

    (void) state;

    assert_int_equal(bubble_cgroup_discover(&cg, "/proc", ""), 0);
    assert_true(cg.version >= 0 && cg.version <= 2);

    assert_int_equal(bubble_cgroup_sample(&cg, &s), 0);
    assert_true(s.usage > 0);
    assert_true(s.limit > 0);
    assert_true(s.limit <= physical());
    assert_true(s.working_set <= s.usage);

    print_message("real: version %d dir \"%s\" limit %llu (%s, level %d) "
                  "usage %llu inactive_file %llu working_set %llu\n",
                  cg.version, cg.dir, (unsigned long long) s.limit,
                  s.source, s.level, (unsigned long long) s.usage,
                  (unsigned long long) s.inactive_file,
                  (unsigned long long) s.working_set);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_v2_limit),
        cmocka_unit_test(test_v2_max_high),
        cmocka_unit_test(test_v2_nested),
        cmocka_unit_test(test_v2_root),
        cmocka_unit_test(test_v2_escaped),
        cmocka_unit_test(test_v1_limit),
        cmocka_unit_test(test_v1_unlimited),
        cmocka_unit_test(test_v1_nostat),
        cmocka_unit_test(test_hybrid),
        cmocka_unit_test(test_none_nocgroup),
        cmocka_unit_test(test_none_nomount),
        cmocka_unit_test(test_missing_everything),
        cmocka_unit_test(test_path_too_long),
        cmocka_unit_test(test_changing),
        cmocka_unit_test(test_real_proc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

# Overload without starvation (issue 16): tests/overload/run.py, nginx in a
# 128 MiB memory cgroup flooded by W1 and 4096 x 4096 charts, alone and
# together, then abandoned heavy renders; prints the served rates, queue
# waits, the CPU spent on refusals, OOM kills, and fails past the issue's
# limits (each kind >= 35% of its rate alone, 0 OOM kills).  Needs root and
# a writable memory cgroup, as `make oom` (SKIP otherwise); ~1.5 minutes.
# OVERLOAD_ARGS="--seconds 20 --rounds 2" runs longer phases, twice.

.PHONY: overload

overload: build
	BUBBLE_MODULE=$(abspath $(MODULE)) BUBBLE_ROOT=$(CURDIR) \
	    tests/overload/run.py $(OVERLOAD_ARGS)

# Soak (included by the top-level Makefile): a steady mixed load at half
# of the measured capacity against real nginx, RSS of each nginx process
# and the zone's counters sampled; the report prints the drift.
#
#   make soak [DURATION=1800 | 30m]   the soak (default 30 minutes)
#   make soak-short                   2 minutes (for make test)
#
# PASS: total and per-worker RSS drift <= 2% after the warm-up, 0 errors
# (tests/soak/soak.py).  Reports: $(BUILD)/soak-report.md and
# $(BUILD)/soak-short-report.md, with the samples beside them (CSV).

DURATION          ?= 1800
SOAK_ARGS         ?=
SOAK_REPORT       ?= $(BUILD)/soak-report.md
SOAK_SHORT_REPORT ?= $(BUILD)/soak-short-report.md

.PHONY: soak soak-short

soak: build
	BUBBLE_MODULE=$(abspath $(MODULE)) python3 tests/soak/soak.py \
	    --duration $(DURATION) --report $(SOAK_REPORT) $(SOAK_ARGS)

soak-short: build
	BUBBLE_MODULE=$(abspath $(MODULE)) python3 tests/soak/soak.py \
	    --duration 120 --report $(SOAK_SHORT_REPORT) $(SOAK_ARGS)

# ngx_bubble fuzzing (included by the top-level Makefile).
#
#   make fuzz [FUZZ_SECONDS=60]   build, then run each target for N seconds
#                                 (FUZZ_ARGS: more libFuzzer flags)
#   make fuzz-regress             replay regressions + seed corpora, no fuzzing
#   make fuzz-build               only build $(BUILD)/fuzz/fuzz_<target>
#
# clang with libFuzzer, ASan and UBSan (Debian: clang, libclang-rt-14-dev).
# New inputs go to $(BUILD)/fuzz/corpus/<target> (the checked-in seeds in
# tests/fuzz/corpus/<target> stay as they are); a crash is written to
# $(BUILD)/fuzz/artifacts/<target>/ and stops the run: copy it into
# tests/fuzz/regressions/<target>/ once fixed, where fuzz-regress (part of
# make test) replays it forever.

FUZZ_PKGS      = clang libclang-rt-14-dev
FUZZ_CC       ?= $(shell command -v clang-14 || command -v clang)
FUZZ_SECONDS  ?= 60
FUZZ_ARGS     ?=
FUZZ_DIR       = $(BUILD)/fuzz
# gchart: legacy query strings; its seeds (corpus/gchart) are the queries
# of tests/unit/test_gchart.c, written out once, and issue 15's
FUZZ_TARGETS   = spec render gchart
# png: bubble_png_fast.c round trip (images from bytes, no spec)
FUZZ_TARGETS  += png
FUZZ_BINS      = $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))

FUZZ_CFLAGS    = -g -O1 -fno-omit-frame-pointer -std=gnu99 \
                 -fsanitize=fuzzer,address,undefined \
                 -fno-sanitize-recover=undefined \
                 -Wall -Wno-unused-parameter -Wno-unused-function \
                 $(shell pkg-config --cflags $(PKGS) 2>/dev/null) \
                 -Ingx_bubble_module/core -Itests/fuzz

# LSan: one-time library caches only (see the file); UBSan: stop at once
FUZZ_ENV       = ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
                 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp:print_suppressions=0 \
                 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# per target: largest input (bytes), seconds before an input is a hang
FUZZ_MAXLEN_spec    = 32768
FUZZ_MAXLEN_render  = 8192
FUZZ_MAXLEN_gchart  = 4096
FUZZ_MAXLEN_png     = 16384
FUZZ_TIMEOUT_spec   = 10
FUZZ_TIMEOUT_render = 20
FUZZ_TIMEOUT_gchart = 20
FUZZ_TIMEOUT_png    = 10

# per target: tokens for the mutator (gchart: query strings, not JSON)
FUZZ_DICT_spec      = tests/fuzz/json.dict
FUZZ_DICT_render    = tests/fuzz/json.dict
FUZZ_DICT_gchart    = tests/fuzz/gchart.dict
FUZZ_DICT_png       = tests/fuzz/png.dict

.PHONY: fuzz fuzz-build fuzz-regress

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_arena.h \
		$(CORE_SRCS) $(CORE_HDRS)
	@test -n "$(FUZZ_CC)" || { echo "clang is missing: apt-get install" \
	    "clang libclang-rt-14-dev" >&2; exit 1; }
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(CORE_SRCS) $(LIBS_CORE)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@set -e; $(foreach t,$(FUZZ_TARGETS), \
	    mkdir -p $(FUZZ_DIR)/corpus/$(t) $(FUZZ_DIR)/artifacts/$(t); \
	    echo "== fuzz_$(t) for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_ENV) $(FUZZ_DIR)/fuzz_$(t) \
	        -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -dict=$(FUZZ_DICT_$(t)) \
	        -max_len=$(FUZZ_MAXLEN_$(t)) -timeout=$(FUZZ_TIMEOUT_$(t)) \
	        -rss_limit_mb=4096 \
	        -artifact_prefix=$(FUZZ_DIR)/artifacts/$(t)/ $(FUZZ_ARGS) \
	        $(FUZZ_DIR)/corpus/$(t) tests/fuzz/corpus/$(t) \
	        tests/fuzz/regressions/$(t);)

# Each binary runs every regression and seed file once (no mutation): a
# fixed crash that comes back fails make test.
fuzz-regress: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
	    files=$$(find tests/fuzz/regressions/$$t tests/fuzz/corpus/$$t \
	             -type f ! -name '.*' ! -name README 2>/dev/null | sort); \
	    n=$$(echo "$$files" | grep -c . || true); \
	    echo "== fuzz_$$t: $$n regression and seed inputs"; \
	    test "$$n" -gt 0 || continue; \
	    $(FUZZ_ENV) $(FUZZ_DIR)/fuzz_$$t -timeout=20 \
	        -rss_limit_mb=4096 $$files > $(FUZZ_DIR)/regress-$$t.log 2>&1 \
	    || { tail -60 $(FUZZ_DIR)/regress-$$t.log; \
	         echo "fuzz_$$t: a regression input fails" >&2; exit 1; }; \
	    grep -c '^Executed ' $(FUZZ_DIR)/regress-$$t.log \
	        | sed "s/^/   executed: /"; \
	done

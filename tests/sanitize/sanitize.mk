# ngx_bubble under AddressSanitizer + UndefinedBehaviorSanitizer
# (included by the top-level Makefile).
#
#   make test-sanitize     the module built with ASan+UBSan in $(SAN_BUILD),
#                          the whole t/ suite against it, then the logs
#                          scanned: 0 errors and 0 leaks of the module
#   make sanitize-short    the same with t/001 and t/009 only
#   make sanitize-build    only the build
#
# Debian's nginx is not built with ASan, so the runtime is preloaded into
# it (LD_PRELOAD, through BUBBLE_NGINX_ENV: the nginx command only, not
# perl); workers are forked and keep it.  Each process logs to
# $(SAN_LOGS)/asan.<pid> (ASan, LSan) and ubsan.<pid>.

SAN_BUILD    ?= build-asan
SAN_MODULE    = $(SAN_BUILD)/nginx/objs/ngx_http_bubble_module.so
SAN_LOGS      = $(CURDIR)/$(SAN_BUILD)/logs
SAN_CFLAGS    = -g -O1 -fsanitize=address,undefined -fno-omit-frame-pointer
# -z nodelete: a worker destroys its cycle at exit, which dlclose()s the
# module before LSan's leak check runs; kept mapped, its frames keep names
SAN_LDFLAGS   = -fsanitize=address,undefined -Wl,-z,nodelete
# t/019 measures glibc's heap after bursts (bubble_malloc_tuning): under
# ASan, whose allocator replaces glibc's and quarantines what is freed,
# there is no such heap to measure
SAN_TESTS    ?= $(filter-out t/019_malloc.t,$(sort $(wildcard t/*.t)))
SAN_SHORT    ?= t/001_basic.t t/009_malformed.t
SAN_LIBASAN   = $(shell $(CC) -print-file-name=libasan.so)

# abort_on_error: an ASan error kills the worker with SIGABRT (the test
# sees "exited on signal 6", the log has the report); exitcode=0: leaks
# are reported at each process's exit but do not change its exit status
# (nginx's daemonizing parent must still exit 0); handle_segv=0: t/000
# kills a worker with SIGSEGV on purpose and must see "exited on signal
# 11" (a real SEGV still kills the worker and fails its test);
# fast_unwind_on_malloc=0: allocation stacks through libraries built
# without frame pointers (pango, cairo) still reach the module's frames
SAN_ENV       = LD_PRELOAD=$(SAN_LIBASAN) \
    ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:exitcode=0:handle_segv=0:log_path=$(SAN_LOGS)/asan:log_exe_name=0:detect_odr_violation=0:fast_unwind_on_malloc=0 \
    LSAN_OPTIONS=suppressions=$(CURDIR)/tests/fuzz/lsan.supp:print_suppressions=0 \
    UBSAN_OPTIONS=print_stacktrace=1:log_path=$(SAN_LOGS)/ubsan

.PHONY: sanitize-build test-sanitize sanitize-short

$(SAN_BUILD)/nginx/Makefile: config tests/sanitize/sanitize.mk
	@test -d $(NGX_SRC) || { echo "nginx-dev is missing: run 'make deps'" >&2; exit 1; }
	rm -rf $(SAN_BUILD)/nginx && mkdir -p $(SAN_BUILD) && cp -r $(NGX_SRC) $(SAN_BUILD)/nginx
	cd $(SAN_BUILD)/nginx && . ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --with-cc-opt='$(SAN_CFLAGS)' --with-ld-opt='$(SAN_LDFLAGS)' \
	        --add-dynamic-module=$(CURDIR) > configure.log 2>&1 \
	    || { tail -20 configure.log; exit 1; }

$(SAN_MODULE): $(SAN_BUILD)/nginx/Makefile $(CORE_SRCS) $(CORE_HDRS) $(GLUE_SRCS)
	$(MAKE) -s -C $(SAN_BUILD)/nginx -f objs/Makefile modules

sanitize-build: $(SAN_MODULE)
	@echo "built $(SAN_MODULE) (ASan+UBSan)"

# $(1): the tests to run
define bubble_sanitize_run
	@rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS)
	@# workers run as nobody when the master is root: they write here too
	@chmod 1777 $(SAN_LOGS)
	@echo "== prove $(1) with ASan+UBSan (logs: $(SAN_LOGS))"
	-BUBBLE_MODULE=$(CURDIR)/$(SAN_MODULE) BUBBLE_ROOT=$(CURDIR) \
	    BUBBLE_NGINX_ENV='$(SAN_ENV)' prove -r $(1) \
	    2>&1 | tee $(SAN_BUILD)/prove.log
	@grep -q '^Result: PASS' $(SAN_BUILD)/prove.log \
	    || echo "== some tests failed under the sanitizers: $(SAN_BUILD)/prove.log"
	perl tests/sanitize/scan_logs.pl $(SAN_LOGS)
	@grep -q '^Result: PASS' $(SAN_BUILD)/prove.log
endef

test-sanitize: sanitize-build
	$(call bubble_sanitize_run,$(SAN_TESTS))

sanitize-short: sanitize-build
	$(call bubble_sanitize_run,$(SAN_SHORT))

# ngx_bubble — build, run and test on Debian 12.
#
#   make run     install what building and running need (apt-get, root),
#                build, start nginx with conf/demo.conf on 127.0.0.1:8080
#   make stop    stop the demo nginx
#   make build   build the module against Debian's nginx
#   make check   the quick loop, nothing installed (a few minutes): schema,
#                unit tests, t/ through Debian's nginx, no circles between
#                the module's files (tools/depcheck.py)
#   make test    everything CI runs (root; installs what is missing; about
#                40 minutes): check, then the OOM flood, the browser,
#                deploy checks, fuzz regressions, sanitizers, a short soak,
#                the estimate's calibration, R CMD check, the overload
#                flood, the nginx matrix and the container images
#   make deps    install everything make test needs
#   make musl    the module for musl (ingress-nginx, Alpine): one .so that
#                needs only musl's libc, built from Debian's sources, and
#                nginx 1.27.1 for musl; make test-musl runs t/ through them
#
# The module is built in $(BUILD)/nginx, a copy of the nginx-dev source tree
# configured with Debian's own flags, so the .so loads into /usr/sbin/nginx.

SHELL       = /bin/bash

BUILD      ?= build
NGX_SRC    ?= /usr/share/nginx/src
NGINX      ?= /usr/sbin/nginx
MODULE      = $(BUILD)/nginx/objs/ngx_http_bubble_module.so
RUN_DIR    ?= $(BUILD)/run
PORT       ?= 8080

CORE_SRCS   = $(wildcard ngx_bubble_module/core/*.c)
CORE_HDRS   = $(wildcard ngx_bubble_module/core/*.h)
GLUE_SRCS   = $(wildcard ngx_bubble_module/*.c ngx_bubble_module/*.h)

# config takes the sources as they are when nginx is configured: a file
# added or removed since configures again (the list is rewritten only
# when it changes)
SRC_LIST    = $(BUILD)/module-sources
SRC_NAMES  := $(sort $(notdir $(CORE_SRCS) $(filter %.c,$(GLUE_SRCS))))
$(shell mkdir -p $(BUILD) && { echo '$(SRC_NAMES)' \
    | cmp -s - $(SRC_LIST) || echo '$(SRC_NAMES)' > $(SRC_LIST); })

# fontconfig: bubble_renderer_id() calls FcGetVersion()
PKGS        = cairo pangocairo harfbuzz fontconfig
CFLAGS_CORE = -O2 -g -Wall -Wextra -Wno-unused-parameter -std=gnu99 \
              $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# zlib: bubble_png.c
LIBS_CORE   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lyajl -lz -lm

UNIT_SRCS   = $(wildcard tests/unit/test_*.c)
UNIT_BINS   = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

# What building and running need (make run): build tools, nginx and its
# source, the libraries `config` probes, the pinned fonts, njs (the demo's
# playground signs its URLs with it).
RUN_PKGS    = build-essential pkg-config nginx nginx-dev libpcre2-dev \
              libssl-dev zlib1g-dev libcairo2-dev libpango1.0-dev \
              libharfbuzz-dev libfontconfig-dev libyajl-dev \
              fonts-dejavu-core fonts-noto-cjk curl libnginx-mod-http-js

# Debian packages: build tools, libraries, fonts, test tools (prometheus:
# promtool and the server t/013_metrics.t scrapes the module with; on a
# systemd host Debian also starts prometheus.service on :9090, which
# `systemctl disable --now prometheus` stops; poppler-utils: t/001 reads
# the PDF's text and fonts; librsvg2-dev: tests/unit/test_draw.c draws
# our SVG with librsvg to compare with our PNG).
DEB_PKGS    = build-essential pkg-config nginx nginx-dev libpcre2-dev \
              libssl-dev zlib1g-dev libcairo2-dev librsvg2-dev \
              libpango1.0-dev libharfbuzz-dev libfontconfig-dev libyajl-dev libcmocka-dev fonts-dejavu-core \
              fonts-noto-cjk curl perl python3 python3-jsonschema \
              prometheus chromium libnginx-mod-http-js poppler-utils pngcheck \
              $(R_PKGS)
# the R package ngxbubble (clients/r) and its test, t/016_r_client.t:
# htmltools (bubble_img, bubbleOutput); testthat, knitr, rmarkdown (the
# vignette; pandoc comes with it), shiny, png (tests); roxygen2 (make r-doc,
# make r-check)
R_PKGS      = r-base-core r-cran-ggplot2 r-cran-jsonlite r-cran-curl \
              r-cran-openssl r-cran-htmltools r-cran-testthat r-cran-knitr \
              r-cran-rmarkdown r-cran-shiny r-cran-png r-cran-roxygen2

.PHONY: all deps deps-run build run stop check depcheck test unit \
        integration calibrate oom schema compare golden gallery clean browser

all: build

# everything make run and make test need: DEPLOY_PKGS (tests/deploy/deploy.mk)
# and FUZZ_PKGS (clang's libFuzzer for make fuzz-regress) included
ALL_PKGS    = $(DEB_PKGS) $(DEPLOY_PKGS) $(FUZZ_PKGS) $(MATRIX_PKGS)

# install-pkgs PKGS: apt-get what of PKGS is missing
define install-pkgs
	@missing=""; for p in $(1); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    if [ "$$(id -u)" != 0 ]; then echo "installing packages needs root" >&2; exit 1; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all Debian packages present"; fi
endef

deps-run:
	$(call install-pkgs,$(RUN_PKGS))

deps:
	$(call install-pkgs,$(ALL_PKGS))
	@# the URL builder's JS is tested with Node (Debian's nodejs if none)
	@command -v node >/dev/null 2>&1 || { apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs; }
	@# the playground's browser test: playwright-core from npm (the
	@# lockfile's version) driving Debian's chromium
	@command -v npm >/dev/null 2>&1 || { apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	@test -d tests/browser/node_modules/playwright-core || \
	    npm ci --prefix tests/browser --no-audit --no-fund

$(BUILD)/nginx/objs/Makefile: config $(SRC_LIST)
	@test -d $(NGX_SRC) || { echo "nginx-dev is missing: run 'make deps'" >&2; exit 1; }
	rm -rf $(BUILD)/nginx && mkdir -p $(BUILD) && cp -r $(NGX_SRC) $(BUILD)/nginx
	cd $(BUILD)/nginx && . ./conf_flags && \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --add-dynamic-module=$(CURDIR) > configure.log 2>&1 \
	    || { tail -20 configure.log; exit 1; }

$(MODULE): $(BUILD)/nginx/objs/Makefile $(CORE_SRCS) $(CORE_HDRS) $(GLUE_SRCS)
	$(MAKE) -s -C $(BUILD)/nginx -f objs/Makefile modules

build: $(MODULE)
	@echo "built $(MODULE)"

run: deps-run build stop
	@mkdir -p $(RUN_DIR)/logs $(RUN_DIR)/tmp
	@# the playground's signed URLs: a random secret per run directory
	@test -s $(RUN_DIR)/demo-secret || (umask 077; head -c 18 /dev/urandom \
	    | base64 | tr '+/' '-_' > $(RUN_DIR)/demo-secret)
	@(umask 077; sed -e 's|@MODULE@|$(abspath $(MODULE))|' \
	    -e 's|@PORT@|$(PORT)|' -e 's|@ROOT@|$(CURDIR)|' \
	    -e "s|@SECRET@|$$(cat $(RUN_DIR)/demo-secret)|" \
	    conf/demo.conf > $(RUN_DIR)/nginx.conf)
	$(NGINX) -p $(abspath $(RUN_DIR)) -c nginx.conf -e logs/error.log
	@echo
	@echo "ngx_bubble is running on http://127.0.0.1:$(PORT)/"
	@echo "playground: http://127.0.0.1:$(PORT)/playground/"
	@echo "try:"
	@echo "  curl --data-binary @tests/bench/workloads/w1-standard.json -H 'Content-Type: application/json' http://127.0.0.1:$(PORT)/chart.png -o w1.png"
	@echo "stop it with: make stop"

stop:
	@if [ -f $(RUN_DIR)/logs/nginx.pid ]; then \
	    $(NGINX) -p $(abspath $(RUN_DIR)) -c nginx.conf -e logs/error.log \
	        -s stop 2>/dev/null || true; \
	    sleep 0.5; rm -f $(RUN_DIR)/logs/nginx.pid; fi

# Core unit tests: every tests/unit/test_*.c links against all core sources;
# librsvg only for test_draw.c, which checks the PNG against the SVG drawn
# by librsvg (the module does not link it).
UNIT_PKGS   = librsvg-2.0

$(BUILD)/tests/%: tests/unit/%.c $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(BUILD)/tests
	$(CC) $(CFLAGS_CORE) $(shell pkg-config --cflags $(UNIT_PKGS)) \
	    -Ingx_bubble_module/core -o $@ $< $(CORE_SRCS) \
	    $(LIBS_CORE) $(shell pkg-config --libs $(UNIT_PKGS)) -lcmocka

# every binary runs, even after one fails, so one report names all failures
unit: $(UNIT_BINS)
	@failed=""; for t in $(abspath $(UNIT_BINS)); do \
	    echo "== $$t"; (cd tests/unit && $$t) || failed="$$failed $${t##*/}"; \
	done; \
	if [ -n "$$failed" ]; then echo "unit tests failed:$$failed" >&2; exit 1; fi

integration: build
	BUBBLE_MODULE=$(abspath $(MODULE)) BUBBLE_ROOT=$(CURDIR) prove -r t/

# Rewrite t/golden/*.svg from the current renderer (t/015_golden.t then
# compares byte for byte): after a deliberate rendering change, look at
# the diff and commit the new files with it.
golden: build
	BUBBLE_MODULE=$(abspath $(MODULE)) BUBBLE_ROOT=$(CURDIR) \
	    BUBBLE_GOLDEN_UPDATE=1 prove t/015_golden.t

# The JSON Schema of the spec (docs/spec.schema.json) against the examples,
# the bench specs, invalid specs and the parser's tables; no nginx needed.
schema:
	python3 tests/schema/validate_examples.py

# Side-by-side PNGs of ours and R's ggplot2 in docs/compare/ (needs `make
# run`, and r-cran-ggplot2 r-cran-jsonlite imagemagick: not in DEB_PKGS).
compare:
	tests/compare/run.sh

# The gallery (docs/gallery.md, docs/gallery/): R code -> spec -> PNG and
# SVG through a running module (make run), and the README's docs/w1.png.
BUBBLE_URL ?= http://127.0.0.1:$(PORT)

gallery:
	LC_ALL=C.UTF-8 Rscript docs/gallery/build.R $(BUBBLE_URL)/chart
	curl -sf --data-binary @tests/bench/workloads/w1-standard.json \
	    -H 'Content-Type: application/json' $(BUBBLE_URL)/chart.png -o docs/w1.png

# Memory: the render estimate against measured peaks (docs/memory.md), and
# the OOM test: nginx in a 128 MiB memory cgroup under a flood (needs root
# and a writable memory cgroup; says SKIP and passes otherwise).
$(BUILD)/bench/calibrate_estimate: tests/bench/calibrate_estimate.c \
		$(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(BUILD)/bench
	$(CC) $(CFLAGS_CORE) -Ingx_bubble_module/core -o $@ $< $(CORE_SRCS) \
	    $(LIBS_CORE)

calibrate:
	tests/bench/calibrate_estimate.sh

oom: build
	BUBBLE_MODULE=$(abspath $(MODULE)) BUBBLE_ROOT=$(CURDIR) \
	    tests/oom/run_oom_test.py

# Performance (docs/performance.md): `make bench` drives nginx with wrk on
# W1-W3, runs the in-process floor and R ggplot2 / matplotlib on the same
# specs, and writes docs/bench-results.md (about 4 minutes); `make
# png-encoders` compares PNG encoders.  Their tools are not in DEB_PKGS, so
# that CI stays fast: `make bench-deps` installs them.
BENCH_PKGS  = wrk r-base-core r-cran-ggplot2 r-cran-jsonlite r-cran-ragg \
              python3-matplotlib python3-pil pngcheck valgrind libpng-dev \
              libspng-dev libdeflate-dev

.PHONY: bench bench-deps png-encoders

bench-deps:
	@missing=""; for p in $(BENCH_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    if [ "$$(id -u)" != 0 ]; then echo "make bench-deps needs root" >&2; exit 1; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all benchmark packages present"; fi

bench: deps bench-deps
	BUILD=$(BUILD) tests/bench/run_bench.sh

png-encoders: bench-deps
	tests/bench/png_encoders.sh

# The response cache (docs in README "Chart URLs, caching and CDNs"): wrk on
# a cached GET of W1 against nginx sending the same PNG as a static file;
# prints both req/s and the ratio (target >= 0.8).  Needs wrk only.
.PHONY: bench-cache
bench-cache: build
	@command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
	python3 tests/bench/bench_cache.py --module $(abspath $(MODULE)) $(BENCH_CACHE_ARGS)

# The playground in headless Chromium (tests/browser/playground.test.mjs):
# the demo config on a free port in its own run directory, so a `make run`
# going on 8080 is left alone.  `make browser SHOT_DIR=docs` refreshes the
# README's screenshots (docs/playground*.png).
browser: build
	BUILD=$(BUILD) SHOT_DIR=$(SHOT_DIR) tests/browser/run.sh

# The quick loop: nothing installed (make deps once first), ~4 minutes.
check: schema unit integration depcheck

# No file of the module uses a symbol of a file that uses one of its own,
# through any path (nm of the objects; the module variable excepted).
# First it proves it sees a circle: two objects that call each other.
depcheck: build
	@d=$$(mktemp -d) && \
	    echo 'int b(void); int a(void) { return b(); }' > $$d/a.c && \
	    echo 'int a(void); int b(void) { return a(); }' > $$d/b.c && \
	    $(CC) -c -o $$d/a.o $$d/a.c && $(CC) -c -o $$d/b.o $$d/b.c && \
	    if python3 tools/depcheck.py $$d > $$d/out; then \
	        echo "depcheck missed the circle a <-> b" >&2; rm -rf $$d; exit 1; \
	    fi; grep -q 'circle: a <-> b' $$d/out && rm -rf $$d
	python3 tools/depcheck.py $(BUILD)/nginx/objs/addon/ngx_bubble_module \
	    $(BUILD)/nginx/objs/addon/core

# Everything CI runs (.ci/run), about 40 minutes on 2 cores on a machine
# whose nginx matrix and base images are cached: check (~3), the OOM
# flood, overload and the soak (1.5, 1.5 and 2), the sanitizer build and
# the estimate's calibration (2 or 3 each), R CMD check (1), the nginx
# matrix (~18), the images (~3; ~7 without their cache).
test: deps check oom browser deploy-check fuzz-regress \
      sanitize-short soak-short calibrate r-check overload test-matrix \
      image-test test-musl

clean:
	rm -rf $(BUILD)

# fuzzing (make fuzz, fuzz-regress): tests/fuzz/fuzz.mk
-include tests/fuzz/fuzz.mk
# ASan+UBSan runs of t/ (make test-sanitize, sanitize-short)
-include tests/sanitize/sanitize.mk
# Dockerfiles, Kubernetes and ingress manifests (make deploy-check)
-include tests/deploy/deploy.mk
-include tests/soak/soak.mk
# the nginx matrix (make test-matrix, musl-check)
-include tests/matrix/matrix.mk
# the R package ngxbubble: make r-doc, make r-check (R CMD check)
-include clients/r/r.mk
# overload without starvation (make overload): tests/overload/overload.mk
-include tests/overload/overload.mk
-include tests/image/image.mk
# the module for musl: make musl, make test-musl (tools/musl/musl.mk)
-include tools/musl/musl.mk

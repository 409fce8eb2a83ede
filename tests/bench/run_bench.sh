#!/bin/bash
#
# make bench: build the module and the in-process floor, then run
# tests/bench/bench.py (nginx + wrk, floor, peers) and write
# docs/bench-results.md.
#
#   tests/bench/run_bench.sh [--seconds N] [--no-peers] [--out FILE]
#
# Environment: BUILD (make's build directory, default build), NGX_SRC,
# BUBBLE_WORKLOADS (default tests/bench/workloads).  Needs `make bench-deps` (wrk, R with
# ggplot2/jsonlite/ragg, matplotlib).  Takes about 4 minutes with the
# default 10 s a run.

set -euo pipefail

cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build}
PKGS="cairo librsvg-2.0 pangocairo fontconfig"

for tool in wrk Rscript; do
    command -v $tool >/dev/null || {
        echo "run_bench.sh: $tool is missing: run 'make bench-deps'" >&2
        exit 1
    }
done

make -s BUILD="$BUILD" build

mkdir -p "$BUILD"
gcc -O2 -g -std=gnu99 $(pkg-config --cflags $PKGS) \
    -Ingx_bubble_module/core -o "$BUILD/bubble_floor" \
    tests/bench/bubble_floor.c ngx_bubble_module/core/*.c \
    $(pkg-config --libs $PKGS) -lyajl -lz -lcrypto -lm -lpthread

exec /usr/bin/python3 tests/bench/bench.py \
    --module "$PWD/$BUILD/nginx/objs/ngx_http_bubble_module.so" \
    --floor "$BUILD/bubble_floor" "$@"

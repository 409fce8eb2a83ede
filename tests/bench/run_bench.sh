#!/bin/bash
#
# make bench: build the module, the in-process floor and the PNG encoder
# bench (tests/bench/png_fast.c: ours, zlib level 1 and libdeflate on the
# same pixels), then run tests/bench/bench.py (nginx + wrk, floor, PNG
# encoders, peers) and write docs/bench-results.md.
#
#   tests/bench/run_bench.sh [--seconds N] [--no-peers] [--out FILE]
#
# Environment: BUILD (make's build directory, default build), NGX_SRC,
# BUBBLE_WORKLOADS (default tests/bench/workloads).  Needs `make bench-deps` (wrk, R with
# ggplot2/jsonlite/ragg, matplotlib, libdeflate-dev).  Takes about 5
# minutes with the default 10 s a run.

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

mkdir -p "$BUILD/bench"
gcc -O2 -g -std=gnu99 $(pkg-config --cflags $PKGS libdeflate) \
    -Ingx_bubble_module/core -Itests/unit -o "$BUILD/bench/png_fast" \
    tests/bench/png_fast.c ngx_bubble_module/core/*.c \
    $(pkg-config --libs $PKGS libdeflate) -lyajl -lz -lcrypto -lm -lpthread

exec /usr/bin/python3 tests/bench/bench.py \
    --module "$PWD/$BUILD/nginx/objs/ngx_http_bubble_module.so" \
    --floor "$BUILD/bubble_floor" --png-fast "$BUILD/bench/png_fast" "$@"

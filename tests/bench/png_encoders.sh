#!/bin/bash
#
# PNG encoder comparison (docs/performance.md): builds tests/bench/
# png_encoders.c, then for each workload
#
#   1. CPU ms (median of N, thread CPU time) and bytes of each variant;
#   2. instructions (callgrind, Ir inside the encoder) of each variant, for
#      the workloads named in IR (default W1 and W2: under valgrind W3 and
#      the 4096x4096 chart take minutes a variant): unlike times, these do
#      not move when other processes share the machine (under valgrind
#      cairo draws with other SIMD code, so bytes differ slightly there);
#   3. every output decoded by Pillow and compared with cairo's pixels,
#      and checked by pngcheck.
#
#   tests/bench/png_encoders.sh [OUTDIR] [ITERATIONS] [VARIANTS]
#
# VARIANTS is a comma-separated list of name substrings (png_encoders.c
# lists the names); the default is the short list of docs/performance.md.
# Needs libpng-dev, libspng-dev, libdeflate-dev, valgrind, python3-pil,
# pngcheck (make bench-deps).

set -euo pipefail

cd "$(dirname "$0")/../.."

OUT=${1:-build/png_encoders.out}
ITER=${2:-7}
VARIANTS=${3:-cairo,ours,png-rgb-z1-def-none,png-rgba-z1-def-none,png-rgb-z6-def-all,png-rgb-z1-rle-up,png-rgb-z3-def-none,spng-rgb-z1-def-none,zlib-rgb-z1-def-none,zlib-rgb-z1-def-eq,zlib-rgb-z2-def-eq,zlib-rgb-z1-rle-up,ldf-rgb-d3-none,ldf-rgb-d6-none,ldf-rgb-d6-eq}
WORKLOADS_DIR=${WORKLOADS_DIR:-tests/bench/workloads}
IR=${IR:-w1-standard w2-thumbnail}
PY=${PYTHON:-/usr/bin/python3}

PKGS="cairo librsvg-2.0 pangocairo fontconfig libpng spng libdeflate zlib"
BIN=build/png_encoders
mkdir -p build "$OUT"

# the module's encoder joins the comparison when it exists
EXTRA=
if [ -f ngx_bubble_module/core/bubble_png.c ]; then
    EXTRA=-DHAVE_BUBBLE_PNG
fi

gcc -O2 -g -std=gnu99 $EXTRA $(pkg-config --cflags $PKGS) \
    -Ingx_bubble_module/core -o $BIN tests/bench/png_encoders.c \
    ngx_bubble_module/core/*.c $(pkg-config --libs $PKGS) \
    -lyajl -lm -lpthread -lcrypto

WORKLOADS="$WORKLOADS_DIR/w1-standard.json $WORKLOADS_DIR/w2-thumbnail.json
           $WORKLOADS_DIR/w3-heavy.json tests/bench/sparse-4096.json"

for spec in $WORKLOADS; do
    name=$(basename "$spec" .json)
    mkdir -p "$OUT/$name" "$OUT/$name.vg"

    echo "== $name: CPU ms (median of $ITER) and bytes"
    $BIN "$spec" "$OUT/$name" "$ITER" "$VARIANTS" | tee "$OUT/$name.times"

    echo "== $name: instructions in the encoder (callgrind)"
    : > "$OUT/$name.ir"
    case " $IR " in *" $name "*) ;; *) echo "(skipped: not in IR)";; esac
    for v in ${VARIANTS//,/ }; do
        case " $IR " in *" $name "*) ;; *) break;; esac
        grep -q "^$v " "$OUT/$name.times" || continue
        ir=$(valgrind --tool=callgrind --toggle-collect=run \
                 --callgrind-out-file=/dev/null \
                 $BIN "$spec" "$OUT/$name.vg" 1 "=$v" 2>&1 >/dev/null \
             | sed -n 's/.*Collected : //p')
        printf "%-28s %14s Ir\n" "$v" "$ir" | tee -a "$OUT/$name.ir"
    done

    echo "== $name: Pillow decodes every output, same pixels as cairo's"
    $PY tests/bench/png_check.py "$OUT/$name/cairo.png" "$OUT/$name"/*.png \
        | tail -1
    pngcheck -q "$OUT/$name"/*.png && echo "pngcheck: all OK"
done

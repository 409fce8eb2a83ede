#!/bin/bash
# Calibrate core/bubble_estimate.c against measured render peaks and times.
#
#   tests/bench/calibrate_estimate.sh            (or: make calibrate)
#
# Builds tests/bench/calibrate_estimate.c against the core, then renders,
# one fresh process each: the bench workloads W1-W3 (PNG, SVG, PDF), W1
# and W3 over a sweep of sizes up to 4096 x 4096 at scale 1 and 2, and
# synthetic worst cases (50000 rows with labels and tooltips, CJK text,
# 4096 x 4096 canvases of overlapping bubbles whose PNGs compress worst,
# legends and facet strips of long Arabic labels, 20000 rows on 3000 x
# 3000: tests/overload/specs.py).  Prints, as two markdown tables, the
# estimated vs measured peak (VmHWM over VmRSS, after a warm-up render)
# and the estimated time vs the CPU time bubble_render() took (its wall
# time too), and fails when any estimate is below its measurement.

set -euo pipefail

cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build}
BIN=$BUILD/bench/calibrate_estimate
BENCH=${BUBBLE_BENCH:-tests/bench/workloads}
SPECS=$BUILD/bench/specs

make -s "$BIN" BUILD="$BUILD" >/dev/null
python3 tests/bench/gen_specs.py "$SPECS"
python3 tests/overload/specs.py "$SPECS"

W1=$BENCH/w1-standard.json
W2=$BENCH/w2-thumbnail.json
W3=$BENCH/w3-heavy.json

runs=(
    "$W1" "$W2" "$W3"
    "$W1 800 600 1 svg" "$W1 800 600 1 pdf"
    "$W3 1600 1200 2 svg" "$W3 1600 1200 2 pdf"
)

for s in 256 512 1024 1536 2048 3072 4096; do
    runs+=("$W1 $s $s 1 png")
done

for s in 256 512 1024 1536 2048; do
    runs+=("$W1 $s $s 2 png")
done

runs+=(
    "$W3 4096 4096 1 png" "$W3 2048 2048 2 png"
    "$SPECS/s50k-plain.json"
    "$SPECS/s50k.json"
    "$SPECS/s50k.json 4096 4096 1 png"
    "$SPECS/s50k.json 1600 1200 1 svg"
    "$SPECS/s50k.json 1600 1200 1 pdf"
    "$SPECS/cjk.json"
    "$SPECS/dense-20.json" "$SPECS/dense-60.json"
    "$SPECS/dense-40-stroke.json" "$SPECS/dense-100.json"
    "$SPECS/dense-20.json 2048 2048 2 png"
    "$SPECS/heavy.json"
    "$SPECS/arabic.json" "$SPECS/arabic.json 800 600 1 svg"
    "$SPECS/arabic.json 800 600 1 pdf" "$SPECS/facets.json"
    "PNG_SMALL $W1" "PNG_SMALL $W1 4096 4096 1 png"
    "PNG_SMALL $SPECS/dense-60.json"
)

printf '| spec | px (w x h @scale) | fmt | rows | elements | estimate MiB |'
printf ' measured MiB | est/meas | output KiB | ms |\n'
printf '|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n'

fail=0
times=()

for r in "${runs[@]}"; do
    # "PNG_SMALL ...": zlib's PNG encoder (bubble_png_compression small)
    small=
    if [ "${r%% *}" = PNG_SMALL ]; then
        small=1
        r=${r#PNG_SMALL }
    fi

    # shellcheck disable=SC2086
    line=$(CALIBRATE_PNG_SMALL=$small "$BIN" $r)
    read -r name w h scale fmt rows elements est meas out ms cpu wall \
        test <<<"$line"
    [ -z "$small" ] || fmt="$fmt (zlib)"

    awk -v n="$name" -v w="$w" -v h="$h" -v s="$scale" -v f="$fmt" \
        -v r="$rows" -v el="$elements" -v e="$est" -v m="$meas" \
        -v o="$out" -v t="$ms" 'BEGIN {
        printf "| %s | %d x %d @%s | %s | %d | %d | %.1f | %.1f | %.2f |" \
               " %.0f | %.0f |\n", n, w, h, s, f, r, el, e / 1048576,
               m / 1048576, (m > 0 ? e / m : 0), o / 1024, t }'

    times+=("$(awk -v n="$name" -v w="$w" -v h="$h" -v s="$scale" \
        -v f="$fmt" -v r="$rows" -v c="$cpu" -v wl="$wall" -v e="$test" \
        'BEGIN { printf "| %s | %d x %d @%s | %s | %d | %.0f | %.1f | " \
                        "%.1f | %.1f |", n, w, h, s, f, r, e, c, wl,
                        (c > 0 ? e / c : 0) }')")

    if [ "$est" -lt "$meas" ]; then
        echo "FAIL: $name ${w}x${h}@$scale $fmt: estimate $est <" \
             "measured $meas" >&2
        fail=1
    fi

    if awk -v c="$cpu" -v e="$test" 'BEGIN { exit !(e < c) }'; then
        echo "FAIL: $name ${w}x${h}@$scale $fmt: time estimate $test ms <" \
             "CPU $cpu ms" >&2
        fail=1
    fi
done

echo
printf '| spec | px (w x h @scale) | fmt | rows | time estimate ms |'
printf ' CPU ms | wall ms | est/CPU |\n'
printf '|---|---|---|---:|---:|---:|---:|---:|\n'
printf '%s\n' "${times[@]}"

if [ "$fail" = 0 ]; then
    echo
    echo "OK: every estimate is at least its measured peak, and its time"
fi

exit $fail

#!/bin/bash
# Side-by-side comparison of ngx_bubble with R's ggplot2.
#
#   make run                      # the module on 127.0.0.1:8080
#   tests/compare/run.sh [SPEC.json ...]
#
# For each spec (default: examples/*.json and tests/bench/workloads/*.json) it
# fetches our PNG from the running module, draws the same chart with
# ggplot2 (tests/compare/ggplot2_side_by_side.R) at the same pixel size,
# and writes docs/compare/NAME.png: ours on the left, ggplot2's on the
# right, each under a caption, quantised so that every image stays small.
# The ggplot2 code of each chart is left in build/compare/NAME.R.
#
# Needs: curl, Rscript with ggplot2 and jsonlite, ImageMagick.
#   apt-get install r-base-core r-cran-ggplot2 r-cran-jsonlite imagemagick
#
# BUBBLE_URL (default http://127.0.0.1:8080) points at the module.

set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
URL=${BUBBLE_URL:-http://127.0.0.1:8080}
OUT=$ROOT/docs/compare
WORK=$ROOT/build/compare
MAX_BYTES=${MAX_BYTES:-200000}          # each docs/compare/*.png stays below

# the real ImageMagick: /usr/local/bin/convert may be a stand-in
if command -v magick >/dev/null; then
    IM=(magick)
elif [ -x /usr/bin/convert ]; then
    IM=(/usr/bin/convert)
else
    echo "ImageMagick is missing: apt-get install imagemagick" >&2
    exit 1
fi

for need in curl Rscript; do
    command -v $need >/dev/null || { echo "$need is missing" >&2; exit 1; }
done

Rscript -e 'suppressMessages({library(ggplot2); library(jsonlite)})' \
    || { echo "apt-get install r-cran-ggplot2 r-cran-jsonlite" >&2; exit 1; }

if [ $# -eq 0 ]; then
    set -- examples/*.json
    for f in tests/bench/workloads/*.json; do [ -f "$f" ] && set -- "$@" "$f"; done
fi

mkdir -p "$OUT" "$WORK"
GGVER=$(Rscript -e 'cat(as.character(packageVersion("ggplot2")))')
fail=0

for spec in "$@"; do
    name=$(basename "$spec" .json)
    ours=$WORK/$name.ours.png
    theirs=$WORK/$name.ggplot2.png

    code=$(curl -s -o "$ours" -w '%{http_code}' --data-binary @"$spec" \
                -H 'Content-Type: application/json' "$URL/chart.png") || code=000
    if [ "$code" != 200 ]; then
        echo "FAIL $name: ngx_bubble answered $code: $(head -c 300 "$ours")" >&2
        fail=1
        continue
    fi

    if ! Rscript tests/compare/ggplot2_side_by_side.R "$spec" "$theirs" \
            "$WORK/$name.R" 2> "$WORK/$name.R.log"; then
        echo "FAIL $name: ggplot2: $(tail -3 "$WORK/$name.R.log")" >&2
        fail=1
        continue
    fi

    # both at CSS size (scale 2 renders are halved; wider than 800 px are
    # shrunk to 800 px), captioned, side by side
    w=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(min(s.get('width',800),800))" "$spec")
    panel() {
        "${IM[@]}" "$1" -resize "${w}x" -background white -flatten -density 72 \
            -gravity north -background '#f0f0f0' -splice 0x22 \
            -font DejaVu-Sans -pointsize 13 -fill '#333333' \
            -annotate +0+4 "$2" "$3"
    }
    panel "$ours" "ngx_bubble" "$WORK/$name.a.png"
    panel "$theirs" "ggplot2 $GGVER" "$WORK/$name.b.png"

    for colors in 256 128 64; do
        "${IM[@]}" "$WORK/$name.a.png" "$WORK/$name.b.png" \
            -background '#999999' -splice 2x0 +append -chop 2x0 \
            -strip -colors $colors -define png:compression-level=9 \
            "PNG8:$OUT/$name.png"
        [ "$(stat -c %s "$OUT/$name.png")" -lt "$MAX_BYTES" ] && break
    done

    printf '%-28s %s  %6d bytes\n' "$name" "$(identify -format '%wx%h' "$OUT/$name.png" 2>/dev/null || true)" \
        "$(stat -c %s "$OUT/$name.png")"
done

exit $fail

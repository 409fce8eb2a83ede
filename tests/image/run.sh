#!/usr/bin/env bash
# make image-test: the images built and run for real (buildah, podman,
# runc; base images from debootstrap), then conf/kubernetes/ under
# `podman kube play` and the three-replica scale-out.
#
#   tests/image/run.sh                      every variant, kube play, scale-out
#   IMAGE_VARIANTS="bookworm" tests/image/run.sh
#   IMAGE_STEPS="build check kube scale" (default: all four)
#
# Variants (tests/image/build.sh): bookworm (the Dockerfile, Debian 12),
# trixie (the Dockerfile with DEBIAN_RELEASE=trixie), official
# (docker/official.Dockerfile on a stand-in for nginx:1.30.4).  Each gets
# tests/image/check_image.py; then compare_renderers.py holds their
# charts against each other.  Prints the time of every step, the image
# sizes, and "image-test: N passed, N failed" last.
set -uo pipefail
# shellcheck source=tests/image/lib.sh
. "$(dirname "$0")/lib.sh"
IMG_NAME=image-test

VARIANTS="${IMAGE_VARIANTS:-bookworm trixie official}"
STEPS="${IMAGE_STEPS:-build check kube scale}"
OUT="${IMG_OUT:-$IMG_REPO/build-img}"
export IMG_OUT="$OUT"
PASSED=0
FAILED=0
TIMINGS=()

[ "$(id -u)" = 0 ] || img_die "needs root (debootstrap, cgroups, network namespaces)"
for tool in buildah podman runc debootstrap catatonit pdfinfo; do
    command -v "$tool" > /dev/null || img_die "$tool is missing: make image-deps"
done
img_setup
mkdir -p "$OUT"
img_lock

has() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }

# run one step: its output to the terminal and OUT/NAME.log, its closing
# "X: N passed, N failed" counted; a step with no such line counts as one
# check, passed when it exits 0
step() {
    local name="$1" start rc line p f
    shift
    start="$(date +%s.%N)"
    img_say "== $name"
    "$@" 2>&1 | tee "$OUT/$name.log"
    rc="${PIPESTATUS[0]}"
    line="$(grep -E '^[^ ]+( [^ ]+)?: [0-9]+ passed, [0-9]+ failed$' "$OUT/$name.log" | tail -1)"
    if [ -n "$line" ]; then
        p="$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/' <<< "$line")"
        f="$(sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/' <<< "$line")"
        [ "$rc" = 0 ] || [ "$f" != 0 ] || f=1
    elif [ "$rc" = 0 ]; then p=1; f=0
    else p=0; f=1; fi
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    TIMINGS+=("$(printf '%-22s %6s s  %s' "$name" "$(img_since "$start")" \
        "$([ "$f" = 0 ] && echo ok || echo "FAILED ($f)")")")
    return "$f"
}

releases=""
for v in $VARIANTS; do
    case "$v" in
        bookworm) releases="$releases bookworm" ;;
        trixie|official) case "$releases" in *trixie*) ;; *) releases="$releases trixie" ;; esac ;;
        *) img_die "unknown variant $v" ;;
    esac
done

total_start="$(date +%s.%N)"
if has build; then
    # shellcheck disable=SC2086
    step base-images "$IMG_REPO/tests/image/base-image.sh" $releases
fi
BUILT=""
for v in $VARIANTS; do
    built=0
    if has build; then
        step "build-$v" "$IMG_REPO/tests/image/build.sh" "$v" && built=1
    else
        built=1
    fi
    [ "$built" = 1 ] && BUILT="$BUILT $v"
    if has check && [ "$built" = 1 ]; then
        args=(--image "localhost/ngx-bubble:test-$v" --variant "$v" --golden t/golden)
        [ "$v" = official ] && args+=(--uid 101 --expose 80 8080 9145)
        step "check-$v" python3 "$IMG_REPO/tests/image/check_image.py" "${args[@]}"
    fi
done
# the same charts from the different libraries (SVG equal, PNG within a
# tolerance between Debian 12 and 13, equal between trixie and official)
# shellcheck disable=SC2086
if has check && [ "$(wc -w <<< "$BUILT")" -ge 2 ]; then
    step renderers python3 "$IMG_REPO/tests/image/compare_renderers.py" $BUILT
fi

# kube play and the scale-out run the bookworm image (ngx-bubble:dev):
# only when it was built now, never an older one left in storage
case " $BUILT " in
    *" bookworm "*)
        has kube && step kube-play python3 "$IMG_REPO/tests/image/kube_play.py"
        has scale && step scale-out python3 "$IMG_REPO/tests/image/scale_out.py" \
            --image localhost/ngx-bubble:test-bookworm
        ;;
esac

# the images no tag reaches any more (older builds' layers); the tagged
# ones and their parents are the next run's cache
if has build; then
    podman image prune -f > /dev/null 2>&1 || true
    buildah rm --all > /dev/null 2>&1 || true
fi

echo
img_say "timings"
for l in "${TIMINGS[@]}"; do echo "  $l"; done
echo "  $(printf '%-22s %6s s' total "$(img_since "$total_start")")"
img_say "image sizes"
podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' \
    | grep -E 'ngx-bubble:test-|nginx-official-standin:|debian:' | sed 's/^/  /'
img_say "storage: $(du -sh "$IMG_STORAGE" 2>/dev/null | cut -f1) in $IMG_STORAGE ($IMG_STORAGE_DRIVER)"
echo "image-test: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]

#!/usr/bin/env bash
# make test-musl: the whole t/ suite through the musl nginx and module of
# `make musl` ($BUILD/musl), the workers given the module's own fonts.conf
# (FONTCONFIG_FILE, as a deployment does); then proof that a worker
# renders with the fonts of $BUILD/musl/fonts (its /proc/PID/maps), not
# with any of the machine's.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root" || exit 1
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
out=$BUILD/musl
nginx=$out/sbin/nginx
module=$out/modules/ngx_http_bubble_module.so
for f in "$nginx" "$module" "$out/fonts/fonts.conf"; do
    [ -e "$f" ] || { echo "$0: $f is missing: make musl" >&2; exit 1; }
done

# ingress-nginx's nginx runs its workers as "nobody"; the official
# image's as "nginx" (t/ may ask for it)
id nginx >/dev/null 2>&1 \
    || useradd --system --no-create-home --shell /usr/sbin/nologin nginx

export BUBBLE_NGINX=$nginx BUBBLE_MODULE=$module BUBBLE_ROOT=$root
export NGX_SRC=$out/nginx FONTCONFIG_FILE=$out/fonts/fonts.conf

t0=$SECONDS
log=$out/prove.log
prove -r "${@:-t/}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

echo "=== the fonts a musl worker renders with"
"$here/fonts-in-use.sh" "$nginx" "$module" "$out/fonts" || rc=1

echo "=== test-musl: $(sed -n 's/^Files=\([0-9]*\), Tests=\([0-9]*\),.*/\1 files, \2 tests/p' "$log")," \
    "$([ "$rc" = 0 ] && echo PASS || echo FAIL) in $((SECONDS - t0)) s"
exit "$rc"

#!/bin/sh
# Runtime stage of the Dockerfile: install the nginx package version the
# module was built against, the packages of the module's libraries (both
# recorded by build-module.sh in DIR), the fonts, curl for HEALTHCHECK;
# put the module where Debian's nginx keeps modules; add the user 10001.
#
#   install-runtime.sh DIR            (as root, in the image)
#   install-runtime.sh --dry-run DIR  print the packages, one a line
set -eu

DRY=0
if [ "${1:-}" = --dry-run ]; then DRY=1; shift; fi
DIR="${1:?usage: install-runtime.sh [--dry-run] DIR}"

for f in ngx_http_bubble_module.so nginx-deb-version runtime-debs; do
    [ -s "$DIR/$f" ] || { echo "install-runtime.sh: $DIR/$f is missing" >&2; exit 1; }
done

# fonts: the metrics the layout was calibrated on (DejaVu), CJK glyphs
PKGS="nginx=$(cat "$DIR/nginx-deb-version") $(cat "$DIR/runtime-debs")
      fontconfig fonts-dejavu-core fonts-noto-cjk curl"

if [ "$DRY" = 1 ]; then
    for p in $PKGS; do echo "$p"; done
    exit 0
fi

apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PKGS
install -D -m 0644 "$DIR/ngx_http_bubble_module.so" \
    /usr/lib/nginx/modules/ngx_http_bubble_module.so
groupadd --system --gid 10001 bubble
useradd --system --uid 10001 --gid 10001 --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin bubble
# Debian's nginx package leaves a default site config and logs owned by
# root; this image uses only /etc/bubble/nginx.conf, stderr and stdout
rm -f /etc/nginx/sites-enabled/default

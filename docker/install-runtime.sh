#!/bin/sh
# Runtime stage of the Dockerfile: install the nginx package version the
# module was built against, the packages of the module's libraries (both
# recorded by build-module.sh in DIR), the fonts, curl for HEALTHCHECK;
# build fontconfig's caches so a read-only root never needs to write one;
# add the user 10001; put the module where Debian's nginx keeps modules
# when DIR has it (the Dockerfile copies it in a later layer, so a new
# module does not redo this layer's apt-get).
#
#   install-runtime.sh DIR              (as root, in the image)
#   install-runtime.sh --libs-only DIR  an image with its own nginx (the
#                                       official nginx image,
#                                       docker/official.Dockerfile): only
#                                       the libraries, fonts, their caches
#   install-runtime.sh --dry-run [--libs-only] DIR
#                                       print the packages, one a line
set -eu

DRY=0
LIBS_ONLY=0
while [ $# -gt 1 ]; do
    case "$1" in
        --dry-run)   DRY=1; shift ;;
        --libs-only) LIBS_ONLY=1; shift ;;
        *) break ;;
    esac
done
DIR="${1:?usage: install-runtime.sh [--dry-run] [--libs-only] DIR}"

NEED="nginx-deb-version runtime-debs"
[ "$LIBS_ONLY" = 1 ] && NEED=runtime-debs
for f in $NEED; do
    [ -s "$DIR/$f" ] || { echo "install-runtime.sh: $DIR/$f is missing" >&2; exit 1; }
done

# fonts: the metrics the layout was calibrated on (DejaVu), CJK glyphs
PKGS="$(cat "$DIR/runtime-debs") fontconfig fonts-dejavu-core fonts-noto-cjk curl"
[ "$LIBS_ONLY" = 1 ] || PKGS="nginx=$(cat "$DIR/nginx-deb-version") $PKGS"

if [ "$DRY" = 1 ]; then
    for p in $PKGS; do echo "$p"; done
    exit 0
fi

apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PKGS
if [ -f "$DIR/ngx_http_bubble_module.so" ]; then
    install -D -m 0644 "$DIR/ngx_http_bubble_module.so" \
        /usr/lib/nginx/modules/ngx_http_bubble_module.so
fi

# fontconfig trusts a cache only while its font directory's mtime is the
# one recorded, to the nanosecond; image layers keep whole seconds, so the
# caches the package triggers wrote are stale in the image, and every
# worker tried to rebuild them at start ("Fontconfig error: No writable
# cache directories" on a read-only root).  Whole-second mtimes first,
# then the caches; /tmp/fontconfig (conf.d/99-bubble-cachedir.conf) is
# the writable fallback should a derived image add fonts without them.
# fontconfig writes to the first writable directory of the list and
# conf.d comes before fonts.conf's own <cachedir>: name the system one
# first here too (a repeated directory counts once).
mkdir -p /var/cache/fontconfig /usr/local/share/fonts
find /usr/share/fonts /usr/local/share/fonts -type d \
    -exec touch -m -d "@$(date +%s)" {} +
cat > /etc/fonts/conf.d/99-bubble-cachedir.conf <<'EOC'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<!-- written by docker/install-runtime.sh: a writable cache directory on
     the container's /tmp, after the system's (read-only) one -->
<fontconfig>
  <cachedir>/var/cache/fontconfig</cachedir>
  <cachedir>/tmp/fontconfig</cachedir>
</fontconfig>
EOC
fc-cache -s -f
rm -rf /tmp/fontconfig     # fc-cache made it; the image keeps /tmp empty

[ "$LIBS_ONLY" = 1 ] && exit 0
groupadd --system --gid 10001 bubble
useradd --system --uid 10001 --gid 10001 --no-create-home \
    --home-dir /nonexistent --shell /usr/sbin/nologin bubble
# Debian's nginx package leaves a default site config and logs owned by
# root; this image uses only /etc/bubble/nginx.conf, stderr and stdout
rm -f /etc/nginx/sites-enabled/default

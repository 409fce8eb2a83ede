#!/bin/sh
# ingress-nginx runs this in the init container (controller.extraModules):
# copy the module (`make musl`'s: it needs only musl's libc) and its fonts
# with their fonts.conf into the "modules" emptyDir, which the controller
# mounts at the same path.
set -eu
SRC="${BUBBLE_SRC:-/bubble}"
DEST="${MODULES_MOUNT:-/modules_mount}"
rm -rf "$DEST/bubble"
cp -R "$SRC" "$DEST/bubble"
test -f "$DEST/bubble/ngx_http_bubble_module.so"
echo "ngx_bubble: module for nginx $(cat "$DEST/bubble/nginx-version") in $DEST/bubble"

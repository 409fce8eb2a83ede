#!/usr/bin/env bash
# tools/musl/fonts-in-use.sh NGINX MODULE FONTDIR: start NGINX with the
# module and `env FONTCONFIG_FILE=FONTDIR/fonts.conf;`, render a chart
# with Latin and CJK text, and check that the worker has mapped the
# DejaVu and Noto CJK files of FONTDIR, and no font from elsewhere.
set -euo pipefail
nginx=$(realpath "${1:?}") so=$(realpath "${2:?}") fonts=$(cd "${3:?}" && pwd)
tmp=$(mktemp -d)
chmod 755 "$tmp"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
    [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null
    sleep 0.3; rm -rf "$tmp"
}
trap cleanup EXIT
cat > "$tmp/nginx.conf" <<C
load_module $so;
env FONTCONFIG_FILE=$fonts/fonts.conf;
worker_processes 1;
error_log $tmp/error.log info;
pid $tmp/nginx.pid;
events { worker_connections 16; }
http {
    access_log off;
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    server { listen 127.0.0.1:$port; location /chart { bubble; } }
}
C
env -u FONTCONFIG_FILE "$nginx" -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/error.log"
spec='{"title":"fonts 字体","data":[{"x":1,"y":2,"label":"東京"},{"x":2,"y":3}]}'
for _ in 1 2 3 4 5 6 7 8 9 10; do
    curl -sf -o "$tmp/c.png" -H 'Content-Type: application/json' \
        --data-binary "$spec" "http://127.0.0.1:$port/chart.png" && break
    sleep 0.2
done
[ -s "$tmp/c.png" ] || { cat "$tmp/error.log" >&2; echo "$0: no chart" >&2; exit 1; }
worker=$(pgrep -P "$(cat "$tmp/nginx.pid")" | head -1)
mapped=$(grep -oE '/[^ ]+\.(ttf|ttc|otf|pfb)$' "/proc/$worker/maps" | sort -u)
while read -r f; do echo "  mapped: $f"; done <<< "$mapped"
echo "$mapped" | grep -q "^$fonts/DejaVuSans" || { echo "$0: DejaVu Sans not from $fonts" >&2; exit 1; }
echo "$mapped" | grep -q "^$fonts/NotoSansCJK" || { echo "$0: Noto Sans CJK not from $fonts" >&2; exit 1; }
if echo "$mapped" | grep -v "^$fonts/" | grep -q .; then
    echo "$0: fonts from outside $fonts" >&2; exit 1
fi
echo "fonts-in-use: the worker renders with $fonts only"

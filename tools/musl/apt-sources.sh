#!/usr/bin/env bash
# make musl-deps: let `apt-get source` reach Debian's source packages.  The
# machine's own Debian entries (bookworm, bookworm-updates,
# bookworm-security) are repeated as deb-src in files of our own; nothing
# else of the apt configuration changes.  Idempotent; needs root.
set -euo pipefail

d=/etc/apt/sources.list.d
if [ -f $d/ngx-bubble-src.sources ] || [ -f $d/ngx-bubble-src.list ]; then
    echo "deb-src: present"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "$0: adding deb-src needs root" >&2; exit 1; }

# deb822 files
for f in "$d"/*.sources; do
    if [ ! -f "$f" ] || ! grep -q '^URIs:.*debian' "$f"; then continue; fi
    sed 's/^Types:.*/Types: deb-src/' "$f"
    echo
done > $d/ngx-bubble-src.sources.tmp
# one-line files
for f in /etc/apt/sources.list "$d"/*.list; do
    [ -f "$f" ] && sed -n 's/^deb \(.*debian.*\)/deb-src \1/p' "$f"
done > $d/ngx-bubble-src.list.tmp

n=0
for f in $d/ngx-bubble-src.sources $d/ngx-bubble-src.list; do
    if [ -s "$f.tmp" ]; then mv "$f.tmp" "$f"; n=$((n + 1)); else rm -f "$f.tmp"; fi
done
[ $n -gt 0 ] || { echo "$0: no Debian entry to repeat as deb-src" >&2; exit 1; }
echo "deb-src: added to $d"
apt-get update -qq

#!/usr/bin/env bash
# Build one nginx of the test matrix, and the module against it.
#
#   tests/matrix/nginx.sh nginx  TARGET   nginx itself, cached by its inputs
#   tests/matrix/nginx.sh module TARGET   the module, --with-compat, -Werror
#   tests/matrix/nginx.sh path   TARGET   print the cached nginx's directory
#
# TARGET is a line of tests/matrix/targets: a name, an nginx release from
# $BUBBLE_NGINX_DIR (../shared/nginx), a flags file and a patch directory.
#
# nginx is built once per set of inputs (tarball, flags, patches, this
# script, compiler, OpenSSL, PCRE2) into $BUBBLE_CACHE/nginx-NAME-KEY/:
#   src/         the configured tree a module is built from
#   sbin/nginx   the binary the tests run
#   flags        the configure arguments used
# The module is built in $BUILD/matrix/NAME/, outside the cache, since it
# changes with every commit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
BUBBLE_NGINX_DIR=${BUBBLE_NGINX_DIR:-$root/../shared/nginx}
BUBBLE_CACHE=${BUBBLE_CACHE:-/var/cache/ngx_bubble}
JOBS=${JOBS:-$(nproc)}

usage() { echo "usage: $0 nginx|module|path TARGET" >&2; exit 2; }
[ $# -eq 2 ] || usage
action=$1 name=$2

line=$(awk -v n="$name" '$1 == n' "$here/targets")
[ -n "$line" ] || { echo "$0: no target '$name' in $here/targets" >&2; exit 2; }
read -r _ version flagfile patchdir <<<"$line"
tarball=$BUBBLE_NGINX_DIR/nginx-$version.tar.gz
[ -f "$tarball" ] || { echo "$0: $tarball is missing" >&2; exit 1; }

# configure arguments: the flags file, less what this release lacks
# (HTTP/3 arrived in 1.25.0)
flags=$(cat "$BUBBLE_NGINX_DIR/$flagfile")
minor=$(echo "$version" | cut -d. -f2)
if [ "$minor" -lt 25 ]; then
    flags=$(echo "$flags" | sed 's/ *--with-http_v3_module//')
fi

patches=()
if [ "$patchdir" != - ]; then
    patches=("$BUBBLE_NGINX_DIR/$patchdir"/*)
fi

# contents, not paths: a clone elsewhere finds the same cache
key=$( { cat "$tarball" "$0" "${patches[@]}" | sha256sum; echo "$flags";
         gcc --version | head -1;
         dpkg-query -W -f='${Package} ${Version}\n' libssl-dev libpcre2-dev \
             zlib1g-dev 2>/dev/null || true; } \
       | sha256sum | cut -c1-16)
cache=$BUBBLE_CACHE/nginx-$name-$key

unpack() {    # $1: destination directory (made afresh)
    rm -rf "$1" && mkdir -p "$1"
    tar -xzf "$tarball" -C "$1" --strip-components=1
    local p
    for p in "${patches[@]}"; do
        case $p in
            *.txt) (cd "$1" && patch -s -p0 < "$p") ;;
            *)     (cd "$1" && patch -s -p1 < "$p") ;;
        esac
    done
}

build_nginx() {
    # one build of a target at a time (CI builds in the background while
    # the matrix may already want it): the second waits, then finds it
    mkdir -p "$BUBBLE_CACHE"
    exec 9> "$BUBBLE_CACHE/.lock-$name"
    flock 9
    if [ -x "$cache/sbin/nginx" ]; then
        echo "nginx $name: cached in $cache"
        flock -u 9
        return
    fi
    local tmp=$cache.tmp.$$
    echo "nginx $name: building $version into $cache"
    unpack "$tmp/src"
    # shellcheck disable=SC2086
    (cd "$tmp/src" && auto/configure $flags > configure.log 2>&1) \
        || { tail -30 "$tmp/src/configure.log"; exit 1; }
    make -s -C "$tmp/src" -j"$JOBS" > "$tmp/make.log" 2>&1 \
        || { tail -30 "$tmp/make.log"; exit 1; }
    mkdir -p "$tmp/sbin"
    cp "$tmp/src/objs/nginx" "$tmp/sbin/nginx"
    echo "$flags" > "$tmp/flags"
    rm -rf "$cache" && mv "$tmp" "$cache"
    flock -u 9
    echo "nginx $name: $("$cache/sbin/nginx" -v 2>&1)"
}

build_module() {
    [ -x "$cache/sbin/nginx" ] || build_nginx
    local dir=$BUILD/matrix/$name
    mkdir -p "$dir"
    if [ ! -f "$dir/nginx/objs/Makefile" ] \
            || [ "$root/config" -nt "$dir/nginx/objs/Makefile" ] \
            || [ "$(cat "$dir/key" 2>/dev/null)" != "$key" ]; then
        unpack "$dir/nginx"
        # -Werror: nginx's own flags have it, but for ingress-nginx's tree
        # (its patch 18 drops it), so the module is held to it everywhere
        # shellcheck disable=SC2086
        (cd "$dir/nginx" && auto/configure $flags --with-cc-opt=-Werror \
            --add-dynamic-module="$root" > configure.log 2>&1) \
            || { tail -30 "$dir/nginx/configure.log"; exit 1; }
        echo "$key" > "$dir/key"
    fi
    make -s -C "$dir/nginx" -f objs/Makefile -j"$JOBS" modules
    echo "module $name: $dir/nginx/objs/ngx_http_bubble_module.so"
}

case $action in
    nginx)  build_nginx ;;
    module) build_module ;;
    path)   echo "$cache" ;;
    *)      usage ;;
esac

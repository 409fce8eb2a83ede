#!/usr/bin/env bash
# make musl, second half: nginx 1.27.1 with ingress-nginx's patches and
# configure flags (../shared/nginx/), built with musl-gcc against the musl
# tree of build-deps.sh (OpenSSL, PCRE2, zlib and libxcrypt linked
# statically), and the module against it (--add-dynamic-module,
# BUBBLE_STATIC=1: see `config`).  Leaves, in $BUILD/musl/:
#
#   sbin/nginx                          runs with /lib/ld-musl-x86_64.so.1
#   modules/ngx_http_bubble_module.so   needs musl's libc.so and nothing else
#   fonts/, fonts/fonts.conf            the fonts it renders with
#   nginx-version                       the nginx release it is for
#   nginx/                              the configured tree (make modules)
#
# Another nginx release (NGINX Gateway Fabric, nginx:*-alpine), from
# $BUBBLE_NGINX_DIR:
#   MUSL_NGINX_VERSION=1.31.4 MUSL_NGINX_FLAGS=official-image.flags \
#       MUSL_NGINX_PATCHES=- tools/musl/build-nginx.sh
#
# The tree is configured again when its inputs change (the deps tree,
# patches, flags, `config`); else make rebuilds what changed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
BUBBLE_NGINX_DIR=${BUBBLE_NGINX_DIR:-$root/../shared/nginx}
version=${MUSL_NGINX_VERSION:-1.27.1}
tarball=$BUBBLE_NGINX_DIR/nginx-$version.tar.gz
flagfile=$BUBBLE_NGINX_DIR/${MUSL_NGINX_FLAGS:-ingress-nginx-$version.flags}
patches=()
if [ "${MUSL_NGINX_PATCHES:-}" != - ]; then
    patchdir=$BUBBLE_NGINX_DIR/${MUSL_NGINX_PATCHES:-ingress-nginx-$version-patches}
    [ -d "$patchdir" ] || { echo "$0: $patchdir is missing" >&2; exit 1; }
    patches=("$patchdir"/*)
fi
for f in "$tarball" "$flagfile"; do
    [ -e "$f" ] || { echo "$0: $f is missing" >&2; exit 1; }
done

cache=$("$here/build-deps.sh" path)
[ -f "$cache/done" ] \
    || { echo "$0: no musl tree in $cache: tools/musl/build-deps.sh" >&2; exit 1; }
export MUSL_PREFIX=$cache/prefix
# shellcheck source=tools/musl/env.sh
. "$here/env.sh"
# nginx takes its flags from configure, not the environment; but its
# header probes (auto/include) run the bare $CC, so the tree's headers
# are also in musl-gcc's search path (crypt.h: nginx 1.31 includes it
# only when that probe finds it)
unset CFLAGS CXXFLAGS CPPFLAGS LDFLAGS
export C_INCLUDE_PATH=$MUSL_PREFIX/include:$MUSL_PREFIX/compat-include

out=$BUILD/musl
src=$out/nginx
flags=$(cat "$flagfile")
key=$( { echo "$cache"; cat "$tarball" "${patches[@]}" "$0" "$root/config";
         echo "$flags"; } | sha256sum | cut -c1-16)

if [ ! -f "$src/objs/Makefile" ] || [ "$(cat "$src/.key" 2>/dev/null)" != "$key" ]; then
    rm -rf "$src" && mkdir -p "$src"
    tar -xzf "$tarball" -C "$src" --strip-components=1
    for p in "${patches[@]}"; do
        case $p in
            *.txt) (cd "$src" && patch -s -p0 < "$p") ;;
            *)     (cd "$src" && patch -s -p1 < "$p") ;;
        esac
    done
    # -Werror: as the matrix holds the module to it (ingress-nginx's patch
    # 18 drops nginx's own)
    # shellcheck disable=SC2086
    (cd "$src" && BUBBLE_STATIC=1 auto/configure $flags \
        --with-cc=musl-gcc \
        --with-cc-opt="-I$MUSL_PREFIX/include -idirafter $MUSL_PREFIX/compat-include -Werror" \
        --with-ld-opt="-L$MUSL_PREFIX/lib" \
        --add-dynamic-module="$root" > configure.log 2>&1) \
        || { tail -30 "$src/configure.log"; exit 1; }
    grep -q '^#define NGX_HAVE_EPOLL  1' "$src/objs/ngx_auto_config.h" \
        || { echo "$0: nginx was not configured for Linux" >&2; exit 1; }
    echo "$key" > "$src/.key"
fi
make -s -C "$src" -f objs/Makefile -j"$JOBS" binary modules

mkdir -p "$out/sbin" "$out/modules"
cp "$src/objs/nginx" "$out/sbin/nginx"
cp "$src/objs/ngx_http_bubble_module.so" "$out/modules/"
echo "$version" > "$out/nginx-version"
"$here/fonts.sh" "$out/fonts"
"$here/check-module.sh" "$out/sbin/nginx" "$out/modules/ngx_http_bubble_module.so"

#!/usr/bin/env bash
# The module's sources compile against musl (Debian's musl-tools): nginx
# 1.27.1 with ingress-nginx's patches and flags, configured with musl-gcc,
# and every glue and core file compiled with nginx's flags and -Werror.
# Compile only: a full musl build (the libraries the module links, built
# for musl) is `make musl`'s job.  Debian's musl-dev has no <crypt.h>
# (musl's own has it): a one-line stand-in, and links to the headers of
# OpenSSL, zlib and yajl, which the module includes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
BUBBLE_NGINX_DIR=${BUBBLE_NGINX_DIR:-$root/../shared/nginx}

command -v musl-gcc >/dev/null \
    || { echo "$0: musl-gcc is missing: apt-get install musl-tools" >&2; exit 1; }

dir=$BUILD/musl-check
shim=$dir/include
rm -rf "$dir" && mkdir -p "$shim"
tar -xzf "$BUBBLE_NGINX_DIR/nginx-1.27.1.tar.gz" -C "$dir"
mv "$dir"/nginx-1.27.1 "$dir/nginx"
for p in "$BUBBLE_NGINX_DIR"/ingress-nginx-1.27.1-patches/*; do
    case $p in
        *.txt) (cd "$dir/nginx" && patch -s -p0 < "$p") ;;
        *)     (cd "$dir/nginx" && patch -s -p1 < "$p") ;;
    esac
done

echo 'char *crypt(const char *key, const char *salt);' > "$shim/crypt.h"
mkdir "$shim/openssl"
# OpenSSL's headers, and its configuration headers, which are per
# architecture (glibc's include directory is kept out: it is not musl's)
ln -s /usr/include/openssl/*.h /usr/include/x86_64-linux-gnu/openssl/*.h \
    "$shim/openssl/"
ln -s /usr/include/zlib.h /usr/include/zconf.h /usr/include/yajl \
    /usr/include/fontconfig "$shim/"
incs="-I$shim"

# nginx itself for musl: no PCRE, OpenSSL or zlib of Debian's in the probe
# (they are glibc builds); the HTTP core is what the module includes
(cd "$dir/nginx" && auto/configure --with-cc=musl-gcc --with-compat \
    --with-threads --with-http_v2_module --without-pcre \
    --without-http_rewrite_module --without-http_gzip_module \
    > configure.log 2>&1) || { tail -20 "$dir/nginx/configure.log"; exit 1; }
grep -q '^#define NGX_HAVE_EPOLL  1' "$dir/nginx/objs/ngx_auto_config.h" \
    || { echo "$0: nginx was not configured for Linux" >&2; exit 1; }

cflags=$(sed -n 's/^CFLAGS = //p' "$dir/nginx/objs/Makefile")
pc=$(pkg-config --cflags-only-I cairo pangocairo harfbuzz fontconfig \
     | sed 's/-I/-idirafter /g')
ngx="-I src/core -I src/event -I src/event/modules -I src/os/unix -I objs
     -I src/http -I src/http/modules -I src/http/v2"

n=0
for f in "$root"/ngx_bubble_module/*.c "$root"/ngx_bubble_module/core/*.c; do
    # shellcheck disable=SC2086
    (cd "$dir/nginx" && musl-gcc -c $cflags -Werror -fPIC $ngx \
        -I "$root/ngx_bubble_module" -I "$root/ngx_bubble_module/core" \
        $pc $incs -o /dev/null "$f") || { echo "musl: $f FAILED" >&2; exit 1; }
    n=$((n + 1))
done
echo "musl: $n module sources compile with musl-gcc -Werror ($(musl-gcc --version | head -1))"

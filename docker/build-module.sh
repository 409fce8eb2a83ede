#!/usr/bin/env bash
# Build ngx_http_bubble_module.so for one nginx binary, and prove it loads.
#
# The Dockerfile, the ingress-nginx init image and CI (`make deploy-check`,
# part of `make test`) all run this script, so a step that breaks here
# breaks CI, not only a `docker build` nobody ran.
#
#   docker/build-module.sh [options] --out DIR
#
#   --mode debian     (default) Debian's nginx + nginx-dev: copy
#                     /usr/share/nginx/src, configure it with Debian's own
#                     flags (conf_flags) and build the module for
#                     /usr/sbin/nginx.  Same version, same flags: the .so
#                     loads whatever the flags are.
#   --mode compat     any nginx built with --with-compat (ingress-nginx, F5
#                     NGINX Ingress Controller, the nginx.org images):
#                     configure an nginx source of the *same version* with
#                     --with-compat plus the few flags the module's code
#                     depends on, read from the target's `nginx -V`.
#   --src DIR|TGZ     compat: nginx source tree or nginx-X.Y.Z.tar.gz
#                     (default /usr/share/nginx/src)
#   --nginx BIN       the nginx the module is for; its `nginx -V` gives
#                     version and flags, and it runs the load check
#                     (default /usr/sbin/nginx, or `command -v nginx`)
#   --nginx-v FILE    compat: take `nginx -V` from a file instead (no load
#                     check unless --nginx is also given)
#   --patches DIR     compat: apply DIR/*.patch (-p1) to the source first,
#                     e.g. ingress-nginx's images/nginx/rootfs/patches
#   --bundle          copy every shared library the module needs (but libc)
#                     into OUT/lib, set RPATH to $ORIGIN/lib, and copy the
#                     fonts with a fonts.conf into OUT/fonts: for images
#                     that lack cairo/pango/harfbuzz (ingress controllers)
#   --install-deps    apt-get (Debian) or apk (Alpine) what the build needs
#   --deps-only       stop after --install-deps (a cached image layer)
#   --print-deps      print the Debian build dependencies and stop
#   --work DIR        build directory (default: a temporary one, removed)
#   --out DIR         where the results go:
#                       ngx_http_bubble_module.so
#                       nginx-version     version the module is for
#                       nginx-deb-version (debian mode) the nginx package
#                       runtime-debs      (Debian) packages of its libraries
#                       lib/, fonts/      (--bundle)
#
# Exit status is non-zero, with the reason on stderr, when any step fails,
# including `nginx -t` of a config that loads the built module.

set -euo pipefail

MODE=debian
SRC=
NGINX_BIN=
NGINX_V_FILE=
PATCHES=
BUNDLE=0
INSTALL_DEPS=0
DEPS_ONLY=0
WORK=
OUT=
REPO="$(cd "$(dirname "$0")/.." && pwd)"
JOBS="$(nproc 2>/dev/null || echo 2)"

# what the build needs: the -dev packages of what `config` probes (cairo,
# pangocairo, harfbuzz, fontconfig, yajl; tests/deploy/check_dockerfiles.py
# checks both lists against it), the fonts, patchelf for --bundle.  No
# librsvg: the module draws PNG and PDF with cairo and pango itself
# (core/bubble_draw.c); only the unit tests use librsvg (`make deps`).
DEBIAN_BUILD_DEPS="build-essential pkg-config nginx nginx-dev libpcre2-dev
    libssl-dev zlib1g-dev libcairo2-dev libpango1.0-dev libharfbuzz-dev
    libfontconfig-dev libyajl-dev fontconfig fonts-dejavu-core fonts-noto-cjk
    patchelf"
ALPINE_BUILD_DEPS="bash build-base linux-headers pkgconf pcre2-dev
    openssl-dev zlib-dev cairo-dev pango-dev harfbuzz-dev fontconfig-dev
    yajl-dev fontconfig font-dejavu font-noto-cjk patchelf tar patch curl"

die() { echo "build-module.sh: $*" >&2; exit 1; }
say() { echo "build-module.sh: $*"; }

while [ $# -gt 0 ]; do
    case "$1" in
        --mode)         MODE="$2"; shift 2 ;;
        --src)          SRC="$2"; shift 2 ;;
        --nginx)        NGINX_BIN="$2"; shift 2 ;;
        --nginx-v)      NGINX_V_FILE="$2"; shift 2 ;;
        --patches)      PATCHES="$2"; shift 2 ;;
        --bundle)       BUNDLE=1; shift ;;
        --install-deps) INSTALL_DEPS=1; shift ;;
        --deps-only)    DEPS_ONLY=1; shift ;;
        --work)         WORK="$2"; shift 2 ;;
        --out)          OUT="$2"; shift 2 ;;
        --print-deps)   tr -s ' \n' '  ' <<< "$DEBIAN_BUILD_DEPS"; echo; exit 0 ;;
        -h|--help)      sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *)              die "unknown option $1 (see --help)" ;;
    esac
done

case "$MODE" in debian|compat) ;; *) die "--mode is debian or compat" ;; esac


install_deps() {
    local missing="" p
    if [ -f /etc/alpine-release ]; then
        # shellcheck disable=SC2086
        apk add --no-cache $ALPINE_BUILD_DEPS
        return
    fi
    for p in $DEBIAN_BUILD_DEPS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null \
            | grep -q 'install ok installed' || missing="$missing $p"
    done
    if [ -z "$missing" ]; then
        say "build dependencies present"
        return
    fi
    say "installing:$missing"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends $missing
}

[ "$INSTALL_DEPS" = 1 ] && install_deps
[ "$DEPS_ONLY" = 1 ] && exit 0
[ -n "$OUT" ] || die "--out DIR is required"

if [ -z "$NGINX_BIN" ] && [ -z "$NGINX_V_FILE" ]; then
    if [ -x /usr/sbin/nginx ]; then NGINX_BIN=/usr/sbin/nginx
    else NGINX_BIN="$(command -v nginx || true)"; fi
    [ -n "$NGINX_BIN" ] || die "no nginx found: give --nginx BIN or --nginx-v FILE"
fi

# `nginx -V` of the target: version line and configure arguments
if [ -n "$NGINX_V_FILE" ]; then
    NGINX_V="$(cat "$NGINX_V_FILE")"
else
    NGINX_V="$("$NGINX_BIN" -V 2>&1)" || die "$NGINX_BIN -V failed"
fi
TARGET_VERSION="$(printf '%s\n' "$NGINX_V" \
    | sed -n 's|^nginx version: [^/]*/\([0-9][0-9.]*\).*|\1|p' | head -1)"
TARGET_ARGS="$(printf '%s\n' "$NGINX_V" \
    | sed -n 's|^configure arguments: ||p' | head -1)"
[ -n "$TARGET_VERSION" ] || die "no 'nginx version:' line in nginx -V output"
say "target nginx $TARGET_VERSION"

if [ -z "$WORK" ]; then
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/bubble-build.XXXXXX")"
    trap 'rm -rf "$WORK"' EXIT
fi
mkdir -p "$WORK" "$OUT"
OUT="$(cd "$OUT" && pwd)"
NGX="$WORK/nginx"
rm -rf "$NGX"


# nginx's version from a source tree (src/core/nginx.h)
source_version() {
    sed -n 's|^#define NGINX_VERSION *"\([0-9.]*\)".*|\1|p' "$1/src/core/nginx.h"
}

if [ "$MODE" = debian ]; then
    SRC="${SRC:-/usr/share/nginx/src}"
    [ -f "$SRC/conf_flags" ] \
        || die "$SRC/conf_flags is missing: install the Debian package nginx-dev"
    cp -r "$SRC" "$NGX"
    # shellcheck disable=SC1091
    . "$NGX/conf_flags"
    CONF_ARGS=("${NGX_CONF_FLAGS[@]}")
else
    SRC="${SRC:-/usr/share/nginx/src}"
    case "$TARGET_ARGS" in
        *--with-compat*) ;;
        *) die "the target nginx was built without --with-compat: a module" \
               "for it needs its exact configure arguments and source;" \
               "use --mode debian for Debian's nginx" ;;
    esac
    if [ -d "$SRC" ]; then
        cp -r "$SRC" "$NGX"
    elif [ -f "$SRC" ]; then
        mkdir -p "$NGX"
        tar -xzf "$SRC" -C "$NGX" --strip-components=1
    else
        die "--src $SRC: no such directory or tarball"
    fi
    if [ -n "$PATCHES" ]; then
        for p in "$PATCHES"/*.patch; do
            [ -e "$p" ] || continue
            say "patch $(basename "$p")"
            patch -d "$NGX" -p1 -s < "$p" || die "patch $p does not apply"
        done
    fi
    # With --with-compat the module ABI (struct layouts, signature) does
    # not depend on the other --with-* flags; the module's own code only
    # branches on NGX_THREADS (thread_pool offload), so keep the flags that
    # change what our code or nginx's headers compile to, nothing else.
    CONF_ARGS=(--with-compat)
    for f in --with-threads --with-debug --with-file-aio; do
        case " $TARGET_ARGS " in *" $f "*) CONF_ARGS+=("$f") ;; esac
    done
fi

SRC_VERSION="$(source_version "$NGX")"
[ "$SRC_VERSION" = "$TARGET_VERSION" ] \
    || die "source is nginx $SRC_VERSION but the target is nginx" \
           "$TARGET_VERSION: load_module refuses a module of another version"

# nginx.org's tarballs have ./configure; a git archive of a release tag
# (../shared/nginx/) has auto/configure only
CONFIGURE=./configure
[ -x "$NGX/configure" ] || CONFIGURE=auto/configure

say "configure nginx $SRC_VERSION (${MODE}): ${CONF_ARGS[*]}"
(cd "$NGX" && $CONFIGURE "${CONF_ARGS[@]}" --add-dynamic-module="$REPO" \
    > configure.log 2>&1) || { tail -30 "$NGX/configure.log" >&2; die "configure failed"; }
make -s -C "$NGX" -f objs/Makefile -j"$JOBS" modules > "$WORK/make.log" 2>&1 \
    || { tail -40 "$WORK/make.log" >&2; die "make modules failed"; }

SO="$OUT/ngx_http_bubble_module.so"
cp "$NGX/objs/ngx_http_bubble_module.so" "$SO"
echo "$TARGET_VERSION" > "$OUT/nginx-version"
if [ "$MODE" = debian ] && command -v dpkg-query >/dev/null; then
    dpkg-query -W -f='${Version}\n' nginx > "$OUT/nginx-deb-version" 2>/dev/null \
        || rm -f "$OUT/nginx-deb-version"
fi


# The module's direct libraries ("NEEDED") and, on Debian, the packages
# that ship them: the runtime image installs exactly these.
needed_libs() {
    if command -v objdump >/dev/null; then
        objdump -p "$1" | awk '$1 == "NEEDED" { print $2 }'
    else
        readelf -d "$1" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'
    fi
}

# "soname path" for every library the loader resolves for $1
resolved_libs() {
    ldd "$1" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }'
}

is_libc() {
    case "$1" in
        libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|\
        libc.musl*|ld-musl*|linux-vdso*|libresolv.so*) return 0 ;;
    esac
    return 1
}

if command -v dpkg-query >/dev/null; then
    : > "$OUT/runtime-debs"
    resolved_libs "$SO" > "$WORK/resolved"
    for lib in $(needed_libs "$SO"); do
        is_libc "$lib" && continue      # libc6: in every Debian image
        path="$(awk -v l="$lib" '$1 == l { print $2 }' "$WORK/resolved")"
        [ -n "$path" ] || die "$lib (needed by the module) is not found by ldd"
        # dpkg knows one spelling (merged /usr: /lib or /usr/lib, link
        # or target), so ask for each
        real="$(readlink -f "$path")"
        pkg=
        for f in "$path" "$real" "${real#/usr}" "/usr${path#/usr}"; do
            pkg="$(dpkg-query -S "$f" 2>/dev/null | head -1 | cut -d: -f1)" \
                || true
            [ -n "$pkg" ] && break
        done
        [ -n "$pkg" ] || die "no Debian package ships $path"
        echo "$pkg" >> "$OUT/runtime-debs"
    done
    sort -u -o "$OUT/runtime-debs" "$OUT/runtime-debs"
    say "runtime packages: $(tr '\n' ' ' < "$OUT/runtime-debs")"
fi


if [ "$BUNDLE" = 1 ]; then
    command -v patchelf >/dev/null || die "--bundle needs patchelf"
    mkdir -p "$OUT/lib"
    resolved_libs "$SO" | while read -r soname path; do
        is_libc "$soname" && continue
        cp -L "$path" "$OUT/lib/$soname"
        # DT_RPATH (not RUNPATH): it also serves the libraries' own
        # dependencies, on glibc and on musl
        # shellcheck disable=SC2016  # $ORIGIN is for the loader
        patchelf --force-rpath --set-rpath '$ORIGIN' "$OUT/lib/$soname"
    done
    # shellcheck disable=SC2016
    patchelf --force-rpath --set-rpath '$ORIGIN/lib' "$SO"
    # the loader must now resolve every non-libc library inside OUT/lib
    resolved_libs "$SO" | while read -r soname path; do
        is_libc "$soname" && continue
        case "$path" in
            "$OUT"/lib/*) ;;
            *) die "$soname resolves to $path, outside the bundle" ;;
        esac
    done
    # fonts: the same families the image ships, and a fontconfig file that
    # names only them (FONTCONFIG_FILE; nginx needs `env FONTCONFIG_FILE=`)
    mkdir -p "$OUT/fonts"
    for fam in "DejaVu Sans" "DejaVu Serif" "DejaVu Sans Mono" "Noto Sans CJK SC"; do
        fc-list -f '%{file}\n' "$fam" | while read -r f; do
            [ -n "$f" ] && cp -L "$f" "$OUT/fonts/"
        done
    done
    ls "$OUT"/fonts/*.tt? >/dev/null 2>&1 || die "no fonts found to bundle"
    cat > "$OUT/fonts/fonts.conf" <<EOF
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<!-- written by docker/build-module.sh (bundle mode) -->
<fontconfig>
  <dir prefix="relative">.</dir>
  <cachedir>/tmp/bubble-fontconfig</cachedir>
  <alias><family>sans-serif</family>
    <prefer><family>DejaVu Sans</family><family>Noto Sans CJK SC</family></prefer>
  </alias>
</fontconfig>
EOF
    say "bundled $(find "$OUT/lib" -type f | wc -l) libraries," \
        "$(find "$OUT/fonts" -name '*.tt?' | wc -l) font files"
fi


# The proof: the target nginx accepts a config that loads the module and
# uses its directives.  Any load error (version, signature, missing
# library, unresolved symbol) fails the build here.
if [ -n "$NGINX_BIN" ]; then
    CHK="$WORK/check"
    mkdir -p "$CHK/logs"
    cat > "$CHK/nginx.conf" <<EOF
load_module $SO;
error_log stderr;
pid $CHK/nginx.pid;
events { worker_connections 16; }
http {
    client_body_temp_path $CHK/body;
    proxy_temp_path $CHK/proxy;
    fastcgi_temp_path $CHK/fastcgi;
    uwsgi_temp_path $CHK/uwsgi;
    scgi_temp_path $CHK/scgi;
    bubble_zone bubble:1m;
    server {
        listen 127.0.0.1:1;
        location /chart { bubble; }
    }
}
EOF
    "$NGINX_BIN" -p "$CHK" -c "$CHK/nginx.conf" -e stderr -t 2> "$CHK/t.log" \
        || { cat "$CHK/t.log" >&2; die "$NGINX_BIN does not load the module"; }
    say "$NGINX_BIN -t loads the module"
fi

say "built $SO ($(wc -c < "$SO") bytes) for nginx $TARGET_VERSION"

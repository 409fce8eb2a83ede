#!/usr/bin/env bash
# make musl, first half: the module's libraries (and nginx's OpenSSL and
# PCRE2) for musl, from Debian 12's source packages (`apt-get source`),
# as static -fPIC archives in one tree:
#
#   tools/musl/build-deps.sh          build, or find, the tree
#   tools/musl/build-deps.sh path     print its directory
#
# The tree is cached outside the clone in $BUBBLE_CACHE/musl-KEY/, KEY a
# hash of the source packages apt resolves (.dsc names), these scripts,
# and the musl, gcc and meson versions; a second run finds it (one build
# at a time: flock).  In the tree:
#   prefix/    include/, lib/*.a, lib/pkgconfig/ (what build-nginx.sh uses)
#   sources    the Debian source package and version of each library
#   times      seconds each library took, and the total
#   logs/      each library's build log
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUBBLE_CACHE=${BUBBLE_CACHE:-/var/cache/ngx_bubble}

# build order: each after what it links
PKGS="zlib libpng1.6 expat freetype fontconfig pixman libffi pcre2 glib2.0
      fribidi harfbuzz cairo pango1.0 yajl openssl libxcrypt"

for c in musl-gcc g++ meson ninja cmake dpkg-source gperf; do
    command -v $c >/dev/null \
        || { echo "$0: $c is missing: make musl-deps" >&2; exit 1; }
done

# the .dsc apt would fetch for a source package (no download)
dsc_of() {
    apt-get source --print-uris -qq "$1" 2>/dev/null \
        | sed -n "s/^'[^']*' \([^ ]*\.dsc\) .*/\1/p" | head -1
}

dscs=
for p in $PKGS; do
    d=$(dsc_of "$p")
    [ -n "$d" ] || { echo "$0: apt knows no source package $p:" \
        "make musl-deps adds the deb-src entries" >&2; exit 1; }
    dscs="$dscs$d
"
done
key=$( { echo "$dscs";
         cat "$here"/build-deps.sh "$here"/recipes.sh "$here"/env.sh \
             "$here"/musl-g++ "$here"/musl-g++.specs "$here"/meson-native.ini;
         dpkg-query -W -f='${Package} ${Version}\n' musl-tools musl-dev \
             gcc g++ meson ninja-build cmake; } | sha256sum | cut -c1-16)
cache=$BUBBLE_CACHE/musl-$key

if [ "${1:-}" = path ]; then
    echo "$cache"
    exit 0
fi

export MUSL_PREFIX=$cache/prefix

# fetch PKG into the current directory, Debian's patches applied: the
# version apt resolves, else an older one the archive still serves (a
# security update's files can be missing from a mirror for a while),
# else the orig tarball of the resolved one (its .dsc checks it); prints
# "PKG VERSION HOW"
fetch() {
    local p=$1 v vs
    vs=$(apt-cache showsrc "$p" | sed -n 's/^Version: //p' | sort -u \
        | sort -r -V)
    for v in $vs; do
        if apt-get source -qq "$p=$v" > "fetch-$p.log" 2>&1; then
            echo "$p $v debian-patched"
            return
        fi
        rm -rf "${p}"[-_]*
    done
    v=$(echo "$vs" | head -1)
    apt-get source -qq --tar-only "$p=$v" >> "fetch-$p.log" 2>&1 \
        && apt-get source -qq --dsc-only "$p=$v" >> "fetch-$p.log" 2>&1 \
        || { cat "fetch-$p.log" >&2; return 1; }
    local dsc orig
    dsc=$(ls "${p}"_*.dsc | head -1)
    for orig in "${p}"_*.orig.tar.*; do
        # shellcheck disable=SC2046
        grep -q "$(sha256sum "$orig" | cut -d' ' -f1)" "$dsc" \
            || { echo "$0: $orig does not match $dsc" >&2; return 1; }
    done
    mkdir "$p-${v%%-*}"
    tar -xf "$(ls "${p}"_*.orig.tar.* | head -1)" -C "$p-${v%%-*}" \
        --strip-components=1
    echo "$p $v orig-only (Debian's diff is not served)"
}

mkdir -p "$BUBBLE_CACHE"
exec 9> "$BUBBLE_CACHE/.lock-musl"
flock 9
if [ -f "$cache/done" ]; then
    echo "musl libraries: cached in $cache"
    cat "$cache/times"
    exit 0
fi

echo "musl libraries: building into $cache"
rm -rf "$cache"
mkdir -p "$cache/src" "$cache/logs" "$MUSL_PREFIX/lib/pkgconfig" \
    "$MUSL_PREFIX/include" "$MUSL_PREFIX/compat-include"
# what musl's headers lack: the kernel's (Alpine's linux-headers)
ln -s /usr/include/linux /usr/include/asm-generic \
    /usr/include/x86_64-linux-gnu/asm "$MUSL_PREFIX/compat-include/"

t_all=$SECONDS
: > "$cache/times.tmp"
: > "$cache/sources"
for p in $PKGS; do
    t0=$SECONDS
    cd "$cache/src"
    fetch "$p" | tee -a "$cache/sources"
    dir=$(find . -maxdepth 1 -type d -name "${p}-*" | head -1)
    log=$cache/logs/$p.log
    # a shell of its own, so that its errexit holds
    if ! bash -c 'set -euo pipefail; . "$1/env.sh"; . "$1/recipes.sh"
                  cd "$2" && "build_$3"' _ "$here" "$dir" "$p" > "$log" 2>&1
    then
        tail -25 "$log" | cut -c1-300
        echo "musl libraries: $p FAILED (log: $log)" >&2
        exit 1
    fi
    rm -rf "$cache/src"/*
    printf '%-12s %4d s\n' "$p" $((SECONDS - t0)) | tee -a "$cache/times.tmp"
done
printf '%-12s %4d s\n' total $((SECONDS - t_all)) >> "$cache/times.tmp"
cd "$cache"
mv times.tmp times
rm -rf src

"$here/check-deps.sh" "$MUSL_PREFIX"
touch "$cache/done"
echo "musl libraries: built in $((SECONDS - t_all)) s"

#!/usr/bin/env bash
# tools/musl/check-module.sh NGINX MODULE: what `make musl` promises.
#   - nginx's interpreter is musl's loader, and it needs only musl's libc
#   - the .so needs only musl's libc (readelf -d: NEEDED), and every symbol
#     it leaves undefined is nginx's or musl libc's
#   - fontconfig (the .so's, through fonts.conf next to it) finds the fonts
#   - nginx -t loads the module through musl's loader
set -euo pipefail
nginx=${1:?usage: $0 NGINX MODULE}
so=${2:?usage: $0 NGINX MODULE}
here=$(cd "$(dirname "$0")" && pwd)
fonts=$(cd "$(dirname "$so")/.." && pwd)/fonts
libc=/usr/lib/x86_64-linux-musl/libc.so
loader=/lib/ld-musl-x86_64.so.1
fail() { echo "check-module: $*" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

interp=$(readelf -l "$nginx" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ "$interp" = "$loader" ] || fail "$nginx: interpreter '$interp', not $loader"
for f in "$nginx" "$so"; do
    needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    [ "$needed" = "libc.so " ] || fail "$f needs: $needed(only libc.so expected)"
done
echo "check-module: nginx and the .so need only libc.so; nginx's interpreter is $loader"

nm -D --defined-only "$nginx" "$libc" 2>/dev/null | awk 'NF == 3 { print $3 }' \
    | sed 's/@.*//' | sort -u > "$tmp/defined"
nm -D --undefined-only "$so" | awk '{ print $NF }' | sed 's/@.*//' \
    | sort -u > "$tmp/undefined"
comm -23 "$tmp/undefined" "$tmp/defined" | grep -v '^__gmon_start__$\|^_ITM_\|^__cxa_finalize$' \
    > "$tmp/missing" || true
[ ! -s "$tmp/missing" ] || fail "the .so leaves undefined: $(tr '\n' ' ' < "$tmp/missing")"
echo "check-module: its $(wc -l < "$tmp/undefined") undefined symbols are nginx's or musl libc's;" \
    "$(nm -D --defined-only "$so" | wc -l) exported"

# fontconfig: the families of core/bubble_text.h, through the tree's own
# fontconfig and the fonts.conf build-nginx.sh ships
cache=$("$here/build-deps.sh" path)
cat > "$tmp/fcmatch.c" <<'C'
#include <stdio.h>
#include <fontconfig/fontconfig.h>
int main(int argc, char **argv)
{
    int i, bad = 0;
    for (i = 1; i < argc; i++) {
        FcResult r; FcChar8 *file = NULL, *fam = NULL;
        FcPattern *p = FcNameParse((const FcChar8 *) argv[i]), *m;
        FcConfigSubstitute(NULL, p, FcMatchPattern);
        FcDefaultSubstitute(p);
        m = FcFontMatch(NULL, p, &r);
        if (m) {
            FcPatternGetString(m, FC_FILE, 0, &file);
            FcPatternGetString(m, FC_FAMILY, 0, &fam);
        }
        printf("  %-18s -> %s (%s)\n", argv[i], file ? (char *) file : "none",
               fam ? (char *) fam : "-");
        if (!fam || FcStrCmpIgnoreCase(fam, (const FcChar8 *) argv[i]) != 0)
            bad++;
    }
    return bad;
}
C
# shellcheck disable=SC2046  # pkg-config's words
PKG_CONFIG_LIBDIR=$cache/prefix/lib/pkgconfig musl-gcc -o "$tmp/fcmatch" \
    "$tmp/fcmatch.c" $(PKG_CONFIG_LIBDIR=$cache/prefix/lib/pkgconfig \
    pkg-config --static --cflags --libs fontconfig)
echo "check-module: FONTCONFIG_FILE=$fonts/fonts.conf finds:"
FONTCONFIG_FILE=$fonts/fonts.conf "$tmp/fcmatch" "DejaVu Sans" \
    "Noto Sans CJK SC" || fail "fontconfig does not find the fonts in $fonts"

mkdir -p "$tmp/logs"
cat > "$tmp/nginx.conf" <<C
load_module $so;
env FONTCONFIG_FILE=$fonts/fonts.conf;
error_log stderr;
pid $tmp/nginx.pid;
events { worker_connections 16; }
http {
    client_body_temp_path $tmp/body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    bubble_zone bubble:1m;
    server { listen 127.0.0.1:1; location /chart { bubble; } }
}
C
"$loader" "$nginx" -p "$tmp" -c "$tmp/nginx.conf" -e stderr -t 2> "$tmp/t.log" \
    || { cat "$tmp/t.log" >&2; fail "nginx -t does not load the module"; }
echo "check-module: $loader $nginx -t loads the module ($("$nginx" -v 2>&1))"

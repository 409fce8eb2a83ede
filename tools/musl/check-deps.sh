#!/usr/bin/env bash
# tools/musl/check-deps.sh PREFIX: the musl tree's archives together need
# nothing but musl's libc and libgcc: every symbol one of them leaves
# undefined is defined by another, by musl's libc.a or by libgcc.a.  Above
# all no C++ runtime (harfbuzz is C++ built without libstdc++) and no glibc
# extras (__*_chk, __isoc99_*, versioned symbols).
set -euo pipefail
prefix=${1:?usage: $0 PREFIX}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

libs=("$prefix"/lib/*.a)
nm -g --defined-only "${libs[@]}" /usr/lib/x86_64-linux-musl/libc.a \
    "$(gcc -print-libgcc-file-name)" 2>/dev/null \
    | awk 'NF == 3 { print $3 }' | sort -u > "$tmp/defined"
nm -u "${libs[@]}" 2>/dev/null | awk 'NF == 2 && $1 == "U" { print $2 }' \
    | sort -u > "$tmp/undefined"
# _GLOBAL_OFFSET_TABLE_: the linker's own
comm -23 "$tmp/undefined" "$tmp/defined" | grep -vx '_GLOBAL_OFFSET_TABLE_' \
    > "$tmp/missing" || true
if [ -s "$tmp/missing" ]; then
    echo "$0: undefined in the musl tree ($(wc -l < "$tmp/missing")):" >&2
    for s in $(cat "$tmp/missing"); do
        printf '  %s  (%s)\n' "$s" "$(nm -A -u "${libs[@]}" 2>/dev/null \
            | awk -v s="$s" '$NF == s { sub(/:.*/, "", $1); print $1 }' \
            | sort -u | xargs -n1 basename | tr '\n' ' ')"
    done >&2
    exit 1
fi
cxx=$(nm "$prefix/lib/libharfbuzz.a" 2>/dev/null \
    | grep -cE ' U (_Zn[wa]|_Zd[la]|__cxa_|__gxx_|_Unwind_)' || true)
[ "$cxx" = 0 ] || { echo "$0: libharfbuzz.a needs the C++ runtime" >&2; exit 1; }
echo "musl tree: ${#libs[@]} archives, every symbol resolved within them," \
    "musl's libc and libgcc (no C++ runtime)"

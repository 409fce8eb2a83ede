#!/usr/bin/env bash
# make test-matrix: the module built --with-compat against each nginx of
# tests/matrix/targets (or the targets named as arguments), and the whole
# t/ suite run through each of those nginx binaries; then the mismatch
# test (tests/matrix/mismatch.t).  nginx itself is cached by its inputs
# (tests/matrix/nginx.sh); the summary gives each target's result and time.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
export BUILD=${BUILD:-build}

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(awk '!/^#/ && NF { print $1 }' "$here/targets")
fi

# the official image's nginx runs its workers as "nginx" (--user=nginx)
if ! id nginx >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin nginx
fi

list=$BUILD/matrix/list
mkdir -p "$BUILD/matrix"
: > "$list"
summary=()
failed=0
t_all=$SECONDS

for name in "${targets[@]}"; do
    t0=$SECONDS
    echo "=== $name: build"
    if ! "$here/nginx.sh" module "$name"; then
        summary+=("$name  BUILD FAILED")
        failed=$((failed + 1))
        continue
    fi
    cache=$("$here/nginx.sh" path "$name")
    nginx=$cache/sbin/nginx
    module=$root/$BUILD/matrix/$name/nginx/objs/ngx_http_bubble_module.so
    case $BUILD in /*) module=$BUILD/matrix/$name/nginx/objs/ngx_http_bubble_module.so ;; esac
    version=$("$nginx" -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
    echo "$name $version $nginx $module" >> "$list"
    t1=$SECONDS

    # the README's way for any nginx: its `nginx -V` and its release's
    # source; the script ends with `nginx -t` loading the .so
    echo "=== $name: docker/build-module.sh --mode compat"
    read -r _ _ _ patchdir < <(awk -v n="$name" '$1 == n' "$here/targets")
    compat=(--mode compat --nginx "$nginx" --out "$BUILD/matrix/$name/compat"
            --src "${BUBBLE_NGINX_DIR:-$root/../shared/nginx}/nginx-$version.tar.gz")
    [ "$patchdir" = - ] || compat+=(--patches "${BUBBLE_NGINX_DIR:-$root/../shared/nginx}/$patchdir")
    if ! docker/build-module.sh "${compat[@]}" > "$BUILD/matrix/$name/compat.log" 2>&1; then
        tail -20 "$BUILD/matrix/$name/compat.log"
        summary+=("$name  build-module.sh --mode compat FAILED")
        failed=$((failed + 1))
    fi
    tail -2 "$BUILD/matrix/$name/compat.log"

    echo "=== $name: prove -r t/ through $nginx"
    log=$BUILD/matrix/$name/prove.log
    BUBBLE_NGINX=$nginx BUBBLE_MODULE=$module BUBBLE_ROOT=$root \
        NGX_SRC=$BUILD/matrix/$name/nginx \
        prove -r t/ 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    tests=$(sed -n 's/^Files=\([0-9]*\), Tests=\([0-9]*\),.*/\1 files, \2 tests/p' "$log")
    if [ "$rc" -eq 0 ]; then
        res=PASS
    else
        res=FAIL; failed=$((failed + 1))
    fi
    summary+=("$(printf '%-18s nginx %-7s %s  %s  build %ds, tests %ds' \
        "$name" "$version" "$res" "$tests" $((t1 - t0)) $((SECONDS - t1)))")
done

echo "=== module/nginx version mismatch"
if BUBBLE_MATRIX_LIST=$list BUBBLE_ROOT=$root prove "$here/mismatch.t"; then
    summary+=("mismatch           PASS")
else
    summary+=("mismatch           FAIL"); failed=$((failed + 1))
fi

echo
echo "=== test-matrix summary ($((SECONDS - t_all)) s)"
printf '%s\n' "${summary[@]}"
[ "$failed" -eq 0 ] || { echo "test-matrix: $failed failed" >&2; exit 1; }

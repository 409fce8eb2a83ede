#!/usr/bin/env bash
# Build one image variant with buildah (vfs storage, chroot isolation, no
# pulls: the base images come from tests/image/base-image.sh).
#
#   tests/image/build.sh VARIANT        bookworm | trixie | official
#
#   bookworm   the project's Dockerfile (DEBIAN_RELEASE=bookworm), also
#              tagged ngx-bubble:dev (what conf/kubernetes/ runs)
#   trixie     the same Dockerfile with --build-arg DEBIAN_RELEASE=trixie
#   official   docs/deploy.md's recipe for the official nginx image
#              (docker/official.Dockerfile), FROM a stand-in for
#              nginx:1.30.4: Debian 13 with nginx 1.30.4 built from
#              ../shared/nginx/ with the official image's configure flags
#              (tests/image/nginx-official/Dockerfile)
#
# Tags localhost/ngx-bubble:test-VARIANT.  Layers are cached in the image
# storage ($IMG_CACHE): a rebuild redoes only what changed.
#
#   IMG_NO_CACHE=1        build every layer again
#   IMG_MODULE_SRC=HEAD   take config and ngx_bubble_module/ from the
#                         commit HEAD instead of the work tree (the rest,
#                         Dockerfiles and docker/, from the work tree)
set -euo pipefail
# shellcheck source=tests/image/lib.sh
. "$(dirname "$0")/lib.sh"

VARIANT="${1:?usage: build.sh bookworm|trixie|official}"
IMG_NAME="build $VARIANT"
SHARED_NGINX="${SHARED_NGINX:-$IMG_REPO/../shared/nginx}"
OFFICIAL_NGINX_VERSION=1.30.4
OUT="${IMG_OUT:-$IMG_REPO/build-img}"

img_setup
mkdir -p "$OUT"

BUD=(buildah bud --isolation chroot --pull-never --format docker --layers
     --force-rm)
[ "${IMG_NO_CACHE:-0}" = 1 ] && BUD+=(--no-cache)

# The build context: the work tree (what CI has), or the module's sources
# from HEAD while others edit the work tree.
context() {
    local ctx="$OUT/context"
    if [ "${IMG_MODULE_SRC:-worktree}" = worktree ]; then
        echo "$IMG_REPO"
        return
    fi
    rm -rf "$ctx"
    mkdir -p "$ctx"
    (cd "$IMG_REPO" && git archive "${IMG_MODULE_SRC}" config ngx_bubble_module) \
        | tar -x -C "$ctx"
    cp -a "$IMG_REPO/Dockerfile" "$IMG_REPO/.dockerignore" "$IMG_REPO/docker" "$ctx/"
    echo "$ctx"
}

bud() {
    local log="$1" start
    shift
    start="$(date +%s.%N)"
    if ! "${BUD[@]}" "$@" > "$log" 2>&1; then
        tail -40 "$log" >&2
        img_die "buildah bud failed (log: $log)"
    fi
    img_say "built in $(img_since "$start") s (log: ${log#"$IMG_REPO"/})"
}

# a loopback HTTP server for the nginx source tarball the recipe downloads
# (nginx.org cannot be reached here); prints its URL, sets SERVER_PID
serve_tarballs() {
    local port
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    python3 -m http.server --bind 127.0.0.1 --directory "$SHARED_NGINX" "$port" \
        > "$OUT/http-server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 50); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
        sleep 0.1
    done
    SERVER_URL="http://127.0.0.1:$port"
}

ctx="$(context)"
case "$VARIANT" in
    bookworm|trixie)
        # the build stage tagged too: its layers (the compilers, the -dev
        # packages) are then no dangling image, and the prune after a run
        # keeps them as the cache of the next
        bud "$OUT/bud-$VARIANT-stage.log" --build-arg DEBIAN_RELEASE="$VARIANT" \
            --target build -t "localhost/ngx-bubble-build:$VARIANT" \
            -f "$ctx/Dockerfile" "$ctx"
        bud "$OUT/bud-$VARIANT.log" --build-arg DEBIAN_RELEASE="$VARIANT" \
            -t "localhost/ngx-bubble:test-$VARIANT" -f "$ctx/Dockerfile" "$ctx"
        if [ "$VARIANT" = bookworm ]; then
            buildah tag "localhost/ngx-bubble:test-$VARIANT" localhost/ngx-bubble:dev
        fi
        ;;
    official)
        v="$OFFICIAL_NGINX_VERSION"
        [ -f "$SHARED_NGINX/nginx-$v.tar.gz" ] \
            || img_die "$SHARED_NGINX/nginx-$v.tar.gz is missing"
        # 1. the stand-in for nginx:1.30.4 (context: tests/image/nginx-official
        #    with the tarball and the flags next to its Dockerfile)
        sctx="$OUT/context-nginx-official"
        rm -rf "$sctx"
        cp -a "$IMG_REPO/tests/image/nginx-official" "$sctx"
        cp "$SHARED_NGINX/nginx-$v.tar.gz" "$SHARED_NGINX/official-image.flags" "$sctx/"
        bud "$OUT/bud-nginx-official-stage.log" --build-arg NGINX_VERSION="$v" \
            --target build -t "localhost/nginx-official-standin-build:$v" "$sctx"
        bud "$OUT/bud-nginx-official.log" --build-arg NGINX_VERSION="$v" \
            -t "localhost/nginx-official-standin:$v" "$sctx"
        # 2. the recipe, FROM the stand-in, downloading the same tarball
        #    from a loopback server instead of nginx.org
        serve_tarballs
        trap 'kill "$SERVER_PID" 2>/dev/null || true' EXIT
        args=(--build-arg NGINX_IMAGE="localhost/nginx-official-standin:$v"
              --build-arg NGINX_SOURCE_URL="$SERVER_URL/nginx-$v.tar.gz"
              -f "$ctx/docker/official.Dockerfile")
        bud "$OUT/bud-official-stage.log" "${args[@]}" --target build \
            -t localhost/ngx-bubble-build:official "$ctx"
        bud "$OUT/bud-official.log" "${args[@]}" \
            -t localhost/ngx-bubble:test-official "$ctx"
        ;;
    *)
        img_die "unknown variant $VARIANT (bookworm, trixie, official)"
        ;;
esac
podman image inspect --format '{{.Size}}' "localhost/ngx-bubble:test-$VARIANT" \
    | awk -v v="$VARIANT" '{ printf "build %s: image size %.1f MB\n", v, $1 / 1e6 }'

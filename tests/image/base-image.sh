#!/usr/bin/env bash
# The Debian base images the Dockerfile starts FROM (debian:RELEASE and
# debian:RELEASE-slim), made here because no image registry is reachable:
# debootstrap through debuerreotype, the tool Docker's official Debian
# images are built with, and the same steps its examples/debian.sh takes
# (minbase; the minimizing apt/dpkg config: docker-clean, gzip indexes, no
# translations, policy-rc.d; sources for RELEASE, -updates and -security;
# dist-upgrade; slimify for -slim; fixup and a reproducible tar).
#
#   tests/image/base-image.sh RELEASE...        e.g. bookworm trixie
#
# The tarballs are cached in $IMG_CACHE/base/ under a key of everything
# that decides their content: release, mirror, the date of the suite's
# Release file (a new point release), the month (security updates at most
# a month old), the debootstrap and debuerreotype versions, this script.
# A tarball is used only with its SHA256SUMS intact; images already in
# storage carry the key as a label and are re-imported when it differs.
set -euo pipefail
# shellcheck source=tests/image/lib.sh
. "$(dirname "$0")/lib.sh"
IMG_NAME=base-image

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
DEBUERREOTYPE=/usr/share/debuerreotype/scripts

[ $# -gt 0 ] || img_die "usage: base-image.sh RELEASE..."
[ "$(id -u)" = 0 ] || img_die "needs root (debootstrap, chroot)"
[ -x "$DEBUERREOTYPE/debuerreotype-init" ] \
    || img_die "debuerreotype is missing: make image-deps"

img_setup

pkg_version() { dpkg-query -W -f='${Version}' "$1"; }

# the key: a hash of the inputs, and the inputs in clear next to it
base_inputs() {
    local release="$1" date
    date="$(curl -fsS -m 30 "$MIRROR/dists/$release/InRelease" \
            | sed -n 's/^Date: //p' | head -1)" || date=
    if [ -z "$date" ]; then
        # offline: the newest tarball made for this release, if any
        echo "offline"
        return
    fi
    cat <<EOI
release: $release
mirror: $MIRROR
security-mirror: $SECURITY_MIRROR
suite-date: $date
month: $(date -u +%Y-%m)
debootstrap: $(pkg_version debootstrap)
debuerreotype: $(pkg_version debuerreotype)
script: $(sha256sum "$0" | cut -c1-16)
EOI
}

sources() {
    local release="$1"
    # what debuerreotype-debian-sources-list writes (deb822), without its
    # snapshot.debian.org probing, which cannot reach that host here
    cat <<EOS
Types: deb
URIs: $MIRROR
Suites: $release $release-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: $release-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
}

make_base() {
    local release="$1" dir="$2" work
    work="$(mktemp -d "$IMG_CACHE/tmp/base-$release.XXXXXX")"
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" RETURN
    img_say "debootstrap $release (minbase) from $MIRROR"
    "$DEBUERREOTYPE/debuerreotype-init" --non-debian --keyring \
        /usr/share/keyrings/debian-archive-keyring.gpg \
        "$work/rootfs" "$release" "$MIRROR" > "$work/init.log" 2>&1 \
        || { tail -30 "$work/init.log" >&2; img_die "debootstrap $release failed"; }
    "$DEBUERREOTYPE/debuerreotype-minimizing-config" "$work/rootfs"
    rm -f "$work/rootfs/etc/apt/sources.list"
    mkdir -p "$work/rootfs/etc/apt/sources.list.d"
    sources "$release" > "$work/rootfs/etc/apt/sources.list.d/debian.sources"
    "$DEBUERREOTYPE/debuerreotype-apt-get" "$work/rootfs" update -qq
    "$DEBUERREOTYPE/debuerreotype-apt-get" "$work/rootfs" dist-upgrade -yqq \
        > "$work/upgrade.log" 2>&1 \
        || { tail -30 "$work/upgrade.log" >&2; img_die "dist-upgrade $release failed"; }
    # the official images' last steps: no lists, no logs of the build
    "$DEBUERREOTYPE/debuerreotype-chroot" "$work/rootfs" apt-get clean
    "$DEBUERREOTYPE/debuerreotype-recalculate-epoch" "$work/rootfs" || true
    "$DEBUERREOTYPE/debuerreotype-tar" "$work/rootfs" "$work/full.tar"

    cp -a "$work/rootfs" "$work/slim"
    "$DEBUERREOTYPE/debuerreotype-slimify" "$work/slim"
    "$DEBUERREOTYPE/debuerreotype-tar" "$work/slim" "$work/slim.tar"

    (cd "$work" && sha256sum full.tar slim.tar > SHA256SUMS)
    mkdir -p "$dir.new"
    mv "$work/full.tar" "$work/slim.tar" "$work/SHA256SUMS" "$dir.new/"
    rm -rf "$dir"
    mv "$dir.new" "$dir"
}

import() {
    local tar="$1" ref="$2" key="$3" have
    have="$(podman image inspect --format \
        '{{index .Labels "org.ngx-bubble.base"}}' "$ref" 2>/dev/null || true)"
    if [ "$have" = "$key" ]; then
        img_say "$ref is $key (in storage)"
        return
    fi
    img_say "import $ref from $key"
    podman import --quiet --change 'CMD ["bash"]' \
        --change "LABEL org.ngx-bubble.base=$key" "$tar" "$ref" > /dev/null
}

for release in "$@"; do
    start="$(date +%s.%N)"
    inputs="$(base_inputs "$release")"
    if [ "$inputs" = offline ]; then
        # shellcheck disable=SC2012
        dir="$(ls -dt "$IMG_CACHE/base/debian-$release-"* 2>/dev/null | head -1)"
        [ -n "$dir" ] || img_die "$MIRROR unreachable and no cached $release base"
        img_say "$MIRROR unreachable: using the newest cached $(basename "$dir")"
    else
        key="$(printf '%s\n' "$inputs" | sha256sum | cut -c1-16)"
        dir="$IMG_CACHE/base/debian-$release-$key"
        if [ -f "$dir/SHA256SUMS" ] && (cd "$dir" && sha256sum --quiet -c SHA256SUMS); then
            img_say "cached $(basename "$dir")"
        else
            make_base "$release" "$dir"
            printf '%s\n' "$inputs" > "$dir/inputs"
            img_say "made $(basename "$dir") in $(img_since "$start") s"
        fi
        # older tarballs of this release are superseded
        for old in "$IMG_CACHE/base/debian-$release-"*; do
            [ "$old" = "$dir" ] || rm -rf "$old"
        done
    fi
    (cd "$dir" && sha256sum --quiet -c SHA256SUMS) \
        || img_die "$dir: checksum mismatch (remove it to rebuild)"
    name="$(basename "$dir")"
    import "$dir/full.tar" "docker.io/library/debian:$release" "$name"
    import "$dir/slim.tar" "docker.io/library/debian:$release-slim" "$name-slim"
done

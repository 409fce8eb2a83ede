# shellcheck shell=bash
# Common settings of the image tests (tests/image/*.sh source this).
#
# Everything the OCI tools keep lives under $IMG_CACHE (default
# /var/cache/ngx_bubble/images), outside the clone and apart from any
# other podman or buildah user of the machine: its own storage (overlay,
# or vfs), its own containers.conf (runc, no default ulimits: crun and
# podman's default ulimits fail in this sandbox), its own run directories.

IMG_CACHE="${IMG_CACHE:-/var/cache/ngx_bubble/images}"
IMG_RUN="${IMG_RUN:-/run/ngx_bubble/containers}"
# overlay: a layer holds what its step changed; vfs (the issue's recipe,
# IMG_STORAGE_DRIVER=vfs) copies the whole root filesystem at every layer,
# about 3 times the time and 15 times the disk.  One storage per driver.
IMG_STORAGE_DRIVER="${IMG_STORAGE_DRIVER:-overlay}"
IMG_STORAGE="$IMG_CACHE/storage-$IMG_STORAGE_DRIVER"
# shellcheck disable=SC2034  # used by the scripts that source this
IMG_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

export CONTAINERS_STORAGE_CONF="$IMG_CACHE/storage.conf"
export CONTAINERS_CONF="$IMG_CACHE/containers.conf"
# buildah's own temporary files (layers being committed) next to storage
export TMPDIR="$IMG_CACHE/tmp"

img_say() { printf '%s: %s\n' "${IMG_NAME:-image}" "$*"; }
img_die() { printf '%s: %s\n' "${IMG_NAME:-image}" "$*" >&2; exit 1; }

img_setup() {
    mkdir -p "$IMG_STORAGE" "$IMG_CACHE/base" "$IMG_CACHE/tmp" \
             "$IMG_RUN/runroot-$IMG_STORAGE_DRIVER" "$IMG_RUN/libpod"
    # written every time: the files are ours, and a changed setting here
    # must reach the tools
    cat > "$CONTAINERS_STORAGE_CONF" <<EOC
# written by tests/image/lib.sh
[storage]
driver = "$IMG_STORAGE_DRIVER"
graphroot = "$IMG_STORAGE"
runroot = "$IMG_RUN/runroot-$IMG_STORAGE_DRIVER"
EOC
    cat > "$CONTAINERS_CONF" <<EOC
# written by tests/image/lib.sh
[containers]
default_ulimits = []
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$IMG_RUN/events.log"
tmp_dir = "$IMG_RUN/libpod"
EOC
}

# one image test at a time on a machine: storage, ports and cgroups are
# shared resources (flock is released when the holder exits)
img_lock() {
    exec 9> "$IMG_CACHE/lock"
    if ! flock -n 9; then
        img_say "waiting for another image test to finish ($IMG_CACHE/lock)"
        # bounded: a container left running by a killed run may hold it
        flock -w 1200 9 || img_die "$IMG_CACHE/lock still held after 20 min"
    fi
}

# seconds since $1 (date +%s.%N), one decimal
img_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

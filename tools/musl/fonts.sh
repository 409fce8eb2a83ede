#!/usr/bin/env bash
# tools/musl/fonts.sh DIR: the fonts the musl module renders with, and a
# fonts.conf naming only them, into DIR.  The musl fontconfig reads no
# /etc/fonts of Debian's: nginx passes FONTCONFIG_FILE=DIR/fonts.conf to
# its workers (`env FONTCONFIG_FILE=...;` in nginx.conf), and DIR is copied
# with the .so (conf/ingress-nginx/).  The families are the image's
# (docker/build-module.sh --bundle): DejaVu, and Noto Sans CJK for the
# text DejaVu lacks (core/bubble_text.h).
set -euo pipefail
dir=${1:?usage: $0 DIR}
mkdir -p "$dir"

n=0
for fam in "DejaVu Sans" "DejaVu Serif" "DejaVu Sans Mono" "Noto Sans CJK SC"; do
    files=$(fc-list -f '%{file}\n' "$fam" | sort -u)
    [ -n "$files" ] || { echo "$0: no font of '$fam' (fonts-dejavu-core," \
        "fonts-noto-cjk)" >&2; exit 1; }
    for f in $files; do
        cp -L --update "$f" "$dir/"
        n=$((n + 1))
    done
done

cat > "$dir/fonts.conf.tmp" <<'CONF'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<!-- written by tools/musl/fonts.sh: the fonts of this directory only -->
<fontconfig>
  <dir prefix="relative">.</dir>
  <cachedir>/tmp/bubble-fontconfig</cachedir>
  <!-- a family that names no generic one falls back to sans-serif -->
  <match target="pattern">
    <test qual="all" name="family" compare="not_eq"><string>sans-serif</string></test>
    <test qual="all" name="family" compare="not_eq"><string>serif</string></test>
    <test qual="all" name="family" compare="not_eq"><string>monospace</string></test>
    <edit name="family" mode="append_last"><string>sans-serif</string></edit>
  </match>
  <alias><family>sans-serif</family>
    <prefer><family>DejaVu Sans</family><family>Noto Sans CJK SC</family></prefer>
  </alias>
  <alias><family>serif</family>
    <prefer><family>DejaVu Serif</family><family>Noto Sans CJK SC</family></prefer>
  </alias>
  <alias><family>monospace</family>
    <prefer><family>DejaVu Sans Mono</family><family>Noto Sans CJK SC</family></prefer>
  </alias>
</fontconfig>
CONF
mv "$dir/fonts.conf.tmp" "$dir/fonts.conf"
echo "fonts: $n files and fonts.conf in $dir"

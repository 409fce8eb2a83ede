# tools/musl/env.sh, sourced by build-deps.sh and build-nginx.sh: the
# compilers and flags of the musl build, and where its pieces live.
#
#   BUBBLE_CACHE   root of the cached dependency trees (/var/cache/ngx_bubble)
#   MUSL_PREFIX    set by the caller: the installed dependency tree
#
# C goes through Debian's musl-gcc; C++ (harfbuzz) through tools/musl/musl-g++.
# Everything is static and position independent, for one .so that needs
# only musl's libc.

musl_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUBBLE_CACHE=${BUBBLE_CACHE:-/var/cache/ngx_bubble}
JOBS=${JOBS:-$(nproc)}

export CC=musl-gcc
export CXX=$musl_here/musl-g++
export AR=ar RANLIB=ranlib
# -ffunction-sections/-fdata-sections: the module links with --gc-sections
export CFLAGS="-O2 -fPIC -ffunction-sections -fdata-sections"
export CXXFLAGS="$CFLAGS"
export CPPFLAGS="-I$MUSL_PREFIX/include -idirafter $MUSL_PREFIX/compat-include"
export LDFLAGS="-L$MUSL_PREFIX/lib"
# only the musl tree's .pc files, never Debian's (glibc) ones
export PKG_CONFIG_LIBDIR=$MUSL_PREFIX/lib/pkgconfig
export PKG_CONFIG_PATH=
export PATH=$MUSL_PREFIX/bin:$PATH

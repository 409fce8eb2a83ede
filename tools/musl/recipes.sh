# tools/musl/recipes.sh, sourced by build-deps.sh: how each library of the
# musl stack is configured and built, one function per Debian source
# package, run in its unpacked (Debian-patched) tree.  Static, -fPIC, the
# libraries only: no shared objects, docs, tests, examples, tools or
# introspection.  $MUSL_PREFIX is the install tree; env.sh set CC, CFLAGS
# and PKG_CONFIG_LIBDIR.

# meson_libs [-Dopt ...]: configure a meson project, build only its static
# libraries (and what they need: generated headers), install only the
# "devel" files (headers, archives, .pc) through a staging directory, so
# nothing lands outside the prefix (fontconfig's /etc/fonts, for one)
meson_libs() {
    local stage=$PWD/_stage
    meson setup _b --prefix="$MUSL_PREFIX" --libdir=lib --buildtype=plain \
        --default-library=static -Db_staticpic=true --wrap-mode=nofallback \
        --native-file "$musl_here/meson-native.ini" \
        "$@"
    local libs
    libs=$(meson introspect _b --targets | python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    if t["type"] == "static library" and t["installed"]:
        for f in t["filename"]:
            print(os.path.relpath(f, os.path.abspath("_b")))')
    [ -n "$libs" ] || { echo "meson_libs: no static library" >&2; return 1; }
    # shellcheck disable=SC2086
    ninja -C _b -j"$JOBS" $libs
    DESTDIR=$stage meson install -C _b --no-rebuild --tags devel
    cp -a "$stage$MUSL_PREFIX"/. "$MUSL_PREFIX"/
}

# configure_static [--opt ...]: an autotools package, static and -fPIC
configure_static() {
    ./configure --prefix="$MUSL_PREFIX" --libdir="$MUSL_PREFIX/lib" \
        --disable-shared --enable-static --with-pic "$@"
}

# Debian's patches of configure.ac or Makefile.am (build-system only:
# maintainer mode, symbol lists) would have make run autotools again;
# the shipped generated files are kept current instead
autotools_keep() {
    find . -name aclocal.m4 -exec touch {} +
    sleep 1
    find . \( -name configure -o -name config.h.in \) -exec touch {} +
    sleep 1
    find . -name Makefile.in -exec touch {} +
}

# cmake_static SRCDIR [-Dopt ...]: configure a CMake project in _b
cmake_static() {
    local src=$PWD/$1
    shift
    cmake -S "$src" -B _b -DCMAKE_BUILD_TYPE=None -DCMAKE_C_COMPILER="$CC" \
        -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF \
        -DCMAKE_INSTALL_PREFIX="$MUSL_PREFIX" -DCMAKE_INSTALL_LIBDIR=lib \
        -DCMAKE_FIND_ROOT_PATH="$MUSL_PREFIX" \
        -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY \
        -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY "$@"
}

build_zlib() {
    # with Debian's own flags for amd64 (debian/rules)
    CFLAGS="$CFLAGS -O3 -DUNALIGNED_OK" ./configure --prefix="$MUSL_PREFIX" --static
    make -j"$JOBS" libz.a
    make install
}

build_libpng1.6() {
    autotools_keep
    configure_static
    make -j"$JOBS" libpng16.la
    make install-libLTLIBRARIES install-pkgincludeHEADERS \
        install-nodist_pkgincludeHEADERS install-pkgconfigDATA \
        install-header-links install-library-links install-libpng-pc
}

build_expat() {
    # Debian's tree is the git tag's (no configure), and its patches test
    # "#if XML_DTD == 1", which only autotools' config.h defines so
    cd expat
    autoreconf -fi
    configure_static --without-docbook --without-examples --without-tests \
        --without-xmlwf
    make -j"$JOBS" -C lib
    make -C lib install
    make install-pkgconfigDATA
}

build_freetype() {
    meson_libs -Dbrotli=disabled -Dbzip2=disabled -Dharfbuzz=disabled \
        -Dpng=enabled -Dzlib=system -Dtests=disabled -Dmmap=enabled
}

build_fontconfig() {
    # like Alpine's: the configuration in /etc/fonts and its cache in
    # /var/cache/fontconfig when FONTCONFIG_FILE does not say otherwise
    meson_libs -Ddoc=disabled -Dnls=disabled -Dtests=disabled \
        -Dtools=disabled -Dcache-build=disabled --sysconfdir=/etc \
        --localstatedir=/var
}

build_pixman() {
    meson_libs -Dtests=disabled -Dgtk=disabled \
        -Dlibpng=disabled -Dopenmp=disabled -Dtimers=false -Dgnuplot=false
}

build_libffi() {
    configure_static --disable-docs --disable-multi-os-directory \
        --disable-exec-static-tramp
    make -j"$JOBS"
    make install
}

build_pcre2() {
    # 8-bit with JIT: glib, and nginx's --with-pcre-jit
    configure_static --enable-jit --disable-pcre2grep-jit --disable-pcre2grep-libz \
        --disable-pcre2grep-libbz2 --disable-pcre2test-libedit
    make -j"$JOBS" libpcre2-8.la
    make install-libLTLIBRARIES install-nodist_includeHEADERS \
        install-pkgconfigDATA
    # the pcre2.pc for 8 bits only
    rm -f "$MUSL_PREFIX"/lib/pkgconfig/libpcre2-{16,32,posix}.pc
}

build_glib2.0() {
    meson_libs -Dselinux=disabled -Dxattr=false -Dlibmount=disabled \
        -Dman=false -Dgtk_doc=false -Dtests=false -Dinstalled_tests=false \
        -Dnls=disabled -Ddtrace=false -Dsystemtap=false -Dsysprof=disabled \
        -Dlibelf=disabled -Doss_fuzz=disabled -Dbsymbolic_functions=false
}

build_fribidi() {
    meson_libs -Ddocs=false
}

build_harfbuzz() {
    # C++ through musl-g++; harfbuzz itself adds -fno-exceptions -fno-rtti
    # -fno-threadsafe-statics
    meson_libs -Dglib=disabled -Dgobject=disabled -Dcairo=disabled \
        -Dchafa=disabled -Dicu=disabled -Dgraphite2=disabled \
        -Dfreetype=enabled -Dtests=disabled -Dintrospection=disabled \
        -Ddocs=disabled -Dbenchmark=disabled
}

build_cairo() {
    # image, PNG, SVG, PDF and FreeType/fontconfig surfaces only
    autotools_keep
    configure_static --enable-png --enable-svg --enable-pdf --enable-ft \
        --enable-fc --disable-ps --disable-script --disable-xlib \
        --disable-xlib-xrender --disable-xcb --disable-xlib-xcb \
        --disable-xcb-shm --disable-qt --disable-quartz --disable-win32 \
        --disable-os2 --disable-beos --disable-drm --disable-gallium \
        --disable-gl --disable-glesv2 --disable-glesv3 --disable-cogl \
        --disable-directfb --disable-vg --disable-egl --disable-glx \
        --disable-wgl --disable-tee --disable-xml --disable-gobject \
        --disable-trace --disable-interpreter --disable-symbol-lookup \
        --disable-valgrind --disable-full-testing --disable-gtk-doc
    make -j"$JOBS" -C src libcairo.la
    make -C src install-libLTLIBRARIES install-cairoincludeHEADERS \
        install-nodist_cairoincludeHEADERS install-pkgconfigDATA
}

build_pango1.0() {
    meson_libs -Dintrospection=disabled -Dgtk_doc=false \
        -Dinstall-tests=false -Dfontconfig=enabled -Dfreetype=enabled \
        -Dcairo=enabled -Dxft=disabled -Dlibthai=disabled -Dsysprof=disabled
}

build_yajl() {
    cmake_static .
    cd _b
    make -j"$JOBS" yajl_s
    local v
    v=$(ls -d yajl-*/ | head -1)
    mkdir -p "$MUSL_PREFIX/include/yajl" "$MUSL_PREFIX/lib/pkgconfig"
    cp ../src/api/*.h "$v"include/yajl/yajl_version.h "$MUSL_PREFIX/include/yajl/"
    cp "$v"lib/libyajl_s.a "$MUSL_PREFIX/lib/libyajl.a"
    sed "s|^prefix=.*|prefix=$MUSL_PREFIX|; s|/lib/[^ ]*$|/lib|" \
        "$v"share/pkgconfig/yajl.pc > "$MUSL_PREFIX/lib/pkgconfig/yajl.pc"
}

build_libxcrypt() {
    # nginx's crypt() (auth_basic): Debian's musl drops musl's own crypt
    # and <crypt.h> (Debian bug #947193), so Debian's libxcrypt, static
    autoreconf -fi
    configure_static --disable-obsolete-api --disable-werror
    make -j"$JOBS" libcrypt.la
    make install-libLTLIBRARIES install-nodist_includeHEADERS \
        install-pkgconfigDATA
}

build_openssl() {
    # libcrypto (module and nginx) and libssl (nginx); Alpine's places
    # for openssl.cnf and certificates
    CFLAGS= CXXFLAGS= CPPFLAGS= LDFLAGS= ./Configure linux-x86_64 \
        --prefix="$MUSL_PREFIX" --libdir=lib --openssldir=/etc/ssl \
        no-shared no-tests no-module no-afalgeng \
        -fPIC -ffunction-sections -fdata-sections -O2 \
        -idirafter "$MUSL_PREFIX/compat-include"
    make -j"$JOBS" build_libs
    make install_dev
}

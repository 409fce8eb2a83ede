# The module for musl (ingress-nginx, NGINX Gateway Fabric, nginx:*-alpine;
# docs/deploy.md): its libraries built for musl from Debian 12's source
# packages, nginx 1.27.1 with ingress-nginx's patches and flags built with
# musl-gcc, and the module against it: one .so that needs only musl's
# libc, with its fonts and fonts.conf.
#
#   make musl-deps   deb-src entries and the build tools (root, apt-get)
#   make musl        $(BUILD)/musl/sbin/nginx, $(BUILD)/musl/modules/
#                    ngx_http_bubble_module.so, $(BUILD)/musl/fonts/; the
#                    libraries are cached in $(BUBBLE_CACHE)/musl-KEY (about
#                    6 minutes on 2 cores the first time, seconds after)
#   make test-musl   the whole t/ suite through that nginx and module

# build tools (cmake: yajl; autoconf, automake, libtool: expat, libxcrypt;
# gperf: fontconfig; libglib2.0-dev-bin: glib-mkenums for pango), and
# fontconfig and the fonts $(BUILD)/musl/fonts/ is made of
MUSL_PKGS    = musl musl-dev musl-tools dpkg-dev build-essential g++ meson \
               ninja-build cmake autoconf automake libtool pkg-config gperf \
               python3 perl patch xz-utils bzip2 libglib2.0-dev-bin \
               fontconfig fonts-dejavu-core fonts-noto-cjk curl

BUBBLE_CACHE ?= /var/cache/ngx_bubble

.PHONY: musl-deps musl test-musl

musl-deps:
	@tools/musl/apt-sources.sh
	$(call install-pkgs,$(MUSL_PKGS))

musl: musl-deps
	BUBBLE_CACHE=$(BUBBLE_CACHE) tools/musl/build-deps.sh
	BUILD=$(BUILD) BUBBLE_CACHE=$(BUBBLE_CACHE) tools/musl/build-nginx.sh

test-musl: musl
	BUILD=$(BUILD) tools/musl/test-musl.sh

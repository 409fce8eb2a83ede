# The nginx matrix (README "Compatibility"): nginx 1.24.0, 1.26.3, 1.27.1
# with ingress-nginx's patches, 1.30.4 and 1.31.4 built from
# ../shared/nginx/ (cached in $(BUBBLE_CACHE) by their inputs), the module
# built against each --with-compat, and the whole t/ suite through each;
# then the version-mismatch test and the musl compile check.
#
#   make test-matrix                  every target of tests/matrix/targets
#   make test-matrix TARGETS=official-1.31.4
#   make matrix-nginx                 only build (or find) the nginx binaries
#
# For each target the matrix also runs the documented way to build the
# module for an nginx of your own, docker/build-module.sh --mode compat,
# which reads that nginx's `nginx -V` and proves the .so loads.

# musl-tools: the musl compile check; ngtcp2-client: t/020's HTTP/3 client
MATRIX_PKGS  = musl-tools ngtcp2-client patch

BUBBLE_CACHE ?= /var/cache/ngx_bubble
TARGETS      ?= $(shell awk '!/^\#/ && NF { print $$1 }' tests/matrix/targets)

.PHONY: test-matrix matrix-nginx musl-check

matrix-nginx:
	@for t in $(TARGETS); do \
	    BUBBLE_CACHE=$(BUBBLE_CACHE) tests/matrix/nginx.sh nginx $$t || exit 1; \
	done

test-matrix:
	BUILD=$(BUILD) BUBBLE_CACHE=$(BUBBLE_CACHE) tests/matrix/run.sh $(TARGETS)
	BUILD=$(BUILD) tests/matrix/musl_check.sh

musl-check:
	BUILD=$(BUILD) tests/matrix/musl_check.sh

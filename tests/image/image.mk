# The images built and run for real (tests/image/, docs/deploy.md
# "Tested images"): buildah and podman from Debian, runc, base images
# made with debootstrap (no registry is reachable), overlay storage
# (IMG_STORAGE_DRIVER=vfs for the issue's recipe).
#
#   make image-deps     install buildah, podman, runc, ... (root)
#   make image-test     build and check the bookworm, trixie and official
#                       variants, podman kube play conf/kubernetes/, the
#                       three-replica scale-out
#   make image-test IMAGE_VARIANTS=trixie IMAGE_STEPS="build check"
#   make image-clean    drop the cached images and layers
#
# The base images, the image storage (and its layer cache) live in
# $(IMG_CACHE), outside the clone; the logs in build-img/.

IMAGE_PKGS = buildah podman runc catatonit debootstrap debuerreotype \
             debian-archive-keyring wget curl iproute2 python3-yaml \
             poppler-utils
IMG_CACHE ?= /var/cache/ngx_bubble/images

.PHONY: image-deps image-test image-clean

image-deps:
	@missing=""; for p in $(IMAGE_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    if [ "$$(id -u)" != 0 ]; then echo "make image-deps needs root" >&2; exit 1; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all image test packages present"; fi

image-test: image-deps
	IMG_CACHE=$(IMG_CACHE) IMAGE_VARIANTS="$(IMAGE_VARIANTS)" \
	    IMAGE_STEPS="$(IMAGE_STEPS)" IMG_STORAGE_DRIVER="$(IMG_STORAGE_DRIVER)" \
	    tests/image/run.sh

image-clean:
	-IMG_CACHE=$(IMG_CACHE) bash -c '. tests/image/lib.sh && img_setup \
	    && podman rm -af -t 0; podman pod rm -af; buildah rm --all; \
	    podman image prune -af' > /dev/null 2>&1
	rm -rf $(IMG_CACHE) /run/ngx_bubble/containers build-img

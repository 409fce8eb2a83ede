# Deployment (docs/deploy.md): the Dockerfiles and manifests checked
# statically (the scale-out router and the custom-metrics HPA too), and
# the Docker build script run natively with the image's nginx.conf and
# the ingress-nginx snippets (tests/deploy/, ~3 minutes).  The images
# themselves are built and run by make image-test (tests/image/).

DEPLOY_PKGS = python3-yaml shellcheck patchelf fontconfig binutils

.PHONY: deploy-deps deploy-check

deploy-deps:
	@missing=""; for p in $(DEPLOY_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	        | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    if [ "$$(id -u)" != 0 ]; then echo "make deploy-deps needs root" >&2; exit 1; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "all deployment test packages present"; fi

deploy-check: deploy-deps build
	python3 tests/deploy/check_dockerfiles.py
	BUBBLE_MODULE=$(abspath $(MODULE)) python3 tests/deploy/check_manifests.py
	python3 tests/deploy/check_scaleout.py
	python3 tests/deploy/test_native.py

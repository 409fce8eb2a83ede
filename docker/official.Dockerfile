# ngx_bubble on the official nginx image (docs/deploy.md, section 3):
# the module built for that image's own nginx, its libraries and fonts
# added, docker/nginx.conf as /etc/nginx/nginx.conf, non-root.
#
#   docker build -f docker/official.Dockerfile -t ngx-bubble:official .
#   docker build -f docker/official.Dockerfile \
#       --build-arg NGINX_VERSION=1.31.4 -t ngx-bubble:official-mainline .
#   docker run --rm -p 8080:8080 --memory 1g --read-only --tmpfs /tmp ngx-bubble:official
#
# The nginx.org images are Debian and built --with-compat, so the module
# is built in compat mode from the source of the image's own release (it
# reads `nginx -V` and ends with that nginx's `nginx -t` loading the .so).
# NGINX_SOURCE_URL overrides where that source comes from (a mirror; the
# tests serve ../shared/nginx/ on loopback, tests/image/build.sh).

ARG NGINX_VERSION=1.30.4
ARG NGINX_IMAGE=nginx:${NGINX_VERSION}

FROM ${NGINX_IMAGE} AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends bash curl ca-certificates \
        build-essential pkg-config libpcre2-dev libssl-dev zlib1g-dev \
        libcairo2-dev libpango1.0-dev libharfbuzz-dev libfontconfig-dev \
        libyajl-dev fontconfig fonts-dejavu-core fonts-noto-cjk patchelf \
    && rm -rf /var/lib/apt/lists/*
COPY config /src/config
COPY ngx_bubble_module /src/ngx_bubble_module
COPY docker /src/docker
ARG NGINX_SOURCE_URL=
RUN v="$(nginx -v 2>&1 | sed 's|.*nginx/||')" \
    && curl -fsSLo /tmp/nginx.tgz \
        "${NGINX_SOURCE_URL:-https://nginx.org/download/nginx-$v.tar.gz}" \
    && /src/docker/build-module.sh --mode compat --src /tmp/nginx.tgz \
        --nginx "$(command -v nginx)" --out /out


FROM ${NGINX_IMAGE}
# the packages of the module's libraries (runtime-debs) and the fonts,
# with fontconfig's caches built for a read-only root
COPY --from=build /out/runtime-debs /opt/bubble/
COPY docker/install-runtime.sh /usr/local/sbin/install-runtime.sh
RUN /usr/local/sbin/install-runtime.sh --libs-only /opt/bubble \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ngx_http_bubble_module.so /out/nginx-version /opt/bubble/
# /etc/nginx/modules is the image's link to /usr/lib/nginx/modules, where
# docker/nginx.conf's load_module looks
COPY --from=build /out/ngx_http_bubble_module.so /etc/nginx/modules/
COPY docker/nginx.conf /etc/nginx/nginx.conf
# fail the build if nginx refuses the config; drop what -t created in /tmp
RUN nginx -t -e stderr && rm -rf /tmp/*

# the image's own nginx user: docker/nginx.conf listens on 8080 and 9145
# and writes only /tmp, so nginx needs no root (the image's ENTRYPOINT,
# STOPSIGNAL SIGQUIT and CMD `nginx -g "daemon off;"` are kept)
USER 101:101
EXPOSE 8080 9145
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]

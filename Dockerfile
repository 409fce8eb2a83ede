# ngx_bubble: nginx with the bubble chart module, as a non-root container.
#
#   docker build -t ngx-bubble:dev .
#   docker run --rm -p 8080:8080 --memory 1g --read-only --tmpfs /tmp ngx-bubble:dev
#
# The module is built against Debian's own nginx (nginx-dev ships that
# nginx's source and configure flags), and the runtime stage installs that
# same nginx package version, so the .so always matches the binary that
# loads it and nginx keeps Debian's security updates.  docs/deploy.md says
# why this and not an nginx.org release built from source.
#
# Every build step is docker/build-module.sh, which CI runs natively
# (`make deploy-check`, part of `make test`); `make image-test` builds this
# file with buildah for DEBIAN_RELEASE=bookworm and trixie and runs the
# images with podman (tests/image/, docs/deploy.md section 6).

ARG DEBIAN_RELEASE=bookworm

FROM debian:${DEBIAN_RELEASE} AS build

WORKDIR /src
COPY docker/build-module.sh docker/build-module.sh
RUN docker/build-module.sh --install-deps --deps-only \
    && rm -rf /var/lib/apt/lists/*
COPY config config
COPY ngx_bubble_module ngx_bubble_module
RUN docker/build-module.sh --out /out


FROM debian:${DEBIAN_RELEASE}-slim

# the nginx package version the module was built for and its libraries'
# packages first: a layer that a new module alone does not redo
COPY --from=build /out/nginx-deb-version /out/runtime-debs /opt/bubble/
COPY docker/install-runtime.sh /usr/local/sbin/install-runtime.sh
RUN /usr/local/sbin/install-runtime.sh /opt/bubble \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/nginx-version /opt/bubble/
COPY --from=build /out/ngx_http_bubble_module.so /usr/lib/nginx/modules/

COPY docker/nginx.conf /etc/bubble/nginx.conf
# fail the build if nginx refuses the config; drop what -t created in /tmp
RUN nginx -t -c /etc/bubble/nginx.conf -e stderr && rm -rf /tmp/*

USER 10001:10001
EXPOSE 8080 9145
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]
CMD ["nginx", "-c", "/etc/bubble/nginx.conf", "-e", "stderr", "-g", "daemon off;"]

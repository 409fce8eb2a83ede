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
# (`make deploy-check`, part of `make test`).

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

# the module, the nginx version it was built for, its library packages
COPY --from=build /out /opt/bubble
COPY docker/install-runtime.sh /usr/local/sbin/install-runtime.sh
RUN /usr/local/sbin/install-runtime.sh /opt/bubble \
    && rm -rf /var/lib/apt/lists/*

COPY docker/nginx.conf /etc/bubble/nginx.conf
# fail the build if nginx refuses the config; drop what -t created in /tmp
RUN nginx -t -c /etc/bubble/nginx.conf -e stderr && rm -rf /tmp/*

USER 10001:10001
EXPOSE 8080 9145
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=15s --timeout=3s --start-period=5s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]
CMD ["nginx", "-c", "/etc/bubble/nginx.conf", "-e", "stderr", "-g", "daemon off;"]

# hookgate: multi-stage build, for users with Docker. CI builds the same image without a daemon
# (scripts/build-image, which checks that USER, WORKDIR, EXPOSE, ENTRYPOINT and CMD here agree
# with it) and runs it (scripts/run-image).
#   docker build -t hookgate .
#   docker run --rm -p 8080:8080 hookgate            # serves examples/quickstart
FROM swift:6.3-noble AS build
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
COPY scripts ./scripts
COPY examples ./examples
# The release binary (static Swift standard library, as .ci/run builds it), then the
# distroless-style root: the stripped binary, the few libraries it loads and CA certificates,
# taken from the distribution's packages; no shell.
RUN apt-get update && apt-get install -y --no-install-recommends binutils ca-certificates \
    && scripts/image-root "$(scripts/build-release | tail -n 1)" /rootfs

FROM scratch
COPY --from=build /rootfs /
# The queue's home (--data-dir hookgate-data, relative to here); mount a volume at
# /var/lib/hookgate to keep it. A fixed non-root user (the distroless "nonroot" id), as
# Kubernetes' runAsNonRoot expects.
USER 65532:65532
WORKDIR /var/lib/hookgate
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hookgate"]
CMD ["serve", "--config", "/etc/hookgate/hookgate.yaml", "--listen", ":8080"]

# hookgate: multi-stage build. The release binary links the Swift standard library statically, so
# the runtime image needs only libc and CA certificates (for Google's token keys over HTTPS).
#   docker build -t hookgate .
#   docker run --rm -p 8080:8080 hookgate            # serves examples/quickstart
FROM swift:6.3-noble AS build
WORKDIR /src
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
COPY Tests ./Tests
COPY scripts ./scripts
# The same command .ci/run runs, so this line stays true.
RUN cp "$(scripts/build-release | tail -n 1)" /hookgate

FROM ubuntu:24.04
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /hookgate /usr/local/bin/hookgate
COPY examples/quickstart /etc/hookgate
# The delivery queue's default home (--data-dir hookgate-data, relative to here); mount a volume
# at /var/lib/hookgate to keep it. A fixed non-root user (the distroless "nonroot" id), as
# Kubernetes' runAsNonRoot expects.
RUN mkdir -p /var/lib/hookgate && chown 65532:65532 /var/lib/hookgate
WORKDIR /var/lib/hookgate
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hookgate"]
CMD ["serve", "--config", "/etc/hookgate/hookgate.yaml", "--listen", ":8080"]

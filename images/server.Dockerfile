# syntax=docker/dockerfile:1
# The Sextant inference server image (`sextant-server serve` / `route`).
#   docker build -f images/server.Dockerfile -t ghcr.io/sextant-ml/sextant-server:dev .
# The build command is the one hack/build-static.sh runs (DeliveryTests checks they agree):
# a release build with the Swift runtime linked statically, so the runtime image needs only
# glibc, libstdc++, libgcc and zlib. The runtime image has no shell and runs as non-root.

FROM swift:6.3-bookworm AS build
WORKDIR /src
# Dependencies first, so a source change does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
COPY . .
RUN swift build -c release --static-swift-stdlib --product sextant-server \
    && bin="$(swift build -c release --static-swift-stdlib --show-bin-path)" \
    && mkdir -p /staging/bin /staging/lib \
    && cp "$bin/sextant-server" /staging/bin/ \
    && strip --strip-debug /staging/bin/sextant-server \
    && cp "$(ldd /staging/bin/sextant-server | awk '/libz\.so/ {print $3}')" /staging/lib/

FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="sextant-server" \
      org.opencontainers.image.description="Sextant inference server: native ONNX, KServe V1 and Open Inference Protocol V2, drift and online accuracy; also the canary traffic router" \
      org.opencontainers.image.source="https://github.com/sextant-ml/sextant" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /staging/lib/ /usr/local/lib/sextant/
ENV LD_LIBRARY_PATH=/usr/local/lib/sextant
COPY --from=build /staging/bin/sextant-server /usr/local/bin/sextant-server
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/sextant-server"]
CMD ["--help"]

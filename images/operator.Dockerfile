# syntax=docker/dockerfile:1
# The Sextant operator image (`sextant-operator run`).
#   docker build -f images/operator.Dockerfile -t ghcr.io/sextant-ml/sextant-operator:dev .
# The build command is the one hack/build-static.sh runs (DeliveryTests checks they agree):
# a release build with the Swift runtime linked statically, so the runtime image needs only
# glibc, libstdc++, libgcc and zlib. The runtime image has no shell and runs as non-root.

FROM swift:6.3-bookworm AS build
WORKDIR /src
# Dependencies first, so a source change does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
COPY . .
RUN swift build -c release --static-swift-stdlib --product sextant-operator \
    && bin="$(swift build -c release --static-swift-stdlib --show-bin-path)" \
    && mkdir -p /staging/bin /staging/lib \
    && cp "$bin/sextant-operator" /staging/bin/ \
    && strip --strip-debug /staging/bin/sextant-operator \
    && cp "$(ldd /staging/bin/sextant-operator | awk '/libz\.so/ {print $3}')" /staging/lib/

FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="sextant-operator" \
      org.opencontainers.image.description="Sextant operator: model registry, progressive delivery and retraining for machine-learning models on Kubernetes" \
      org.opencontainers.image.source="https://github.com/sextant-ml/sextant" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /staging/lib/ /usr/local/lib/sextant/
ENV LD_LIBRARY_PATH=/usr/local/lib/sextant
COPY --from=build /staging/bin/sextant-operator /usr/local/bin/sextant-operator
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/sextant-operator"]
CMD ["run"]

#!/usr/bin/env bash
# Builds the two shipped executables the way the Dockerfiles do: a release build with the Swift
# standard library (and Foundation) linked statically, in its own scratch directory so it does
# not disturb the debug build that `swift test` uses.
#
# Then prints each binary's dynamic dependencies and fails if any Swift runtime library is still
# linked dynamically: the runtime image (distroless/cc) carries only glibc, libgcc and libstdc++.
#
#   hack/build-static.sh            # binaries in .build-static/release/
#   SCRATCH=/tmp/x hack/build-static.sh
#
# The ImageTests test target starts these binaries and probes them.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch="${SCRATCH:-.build-static}"
products=(sextant-operator sextant-server)

# The same command as in images/*.Dockerfile (ImageTests checks that they agree). SwiftPM takes
# one --product per invocation; the second build reuses the first one's modules.
for product in "${products[@]}"; do
    swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$product"
done

bin="$(swift build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)"
status=0
for product in "${products[@]}"; do
    echo "== ldd $bin/$product"
    deps="$(ldd "$bin/$product")"
    echo "$deps"
    if grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime|lib_FoundationICU|libicu' <<<"$deps"; then
        echo "error: $product links a Swift runtime library dynamically" >&2
        status=1
    fi
    ls -l "$bin/$product"
done
exit "$status"

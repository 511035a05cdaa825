#!/usr/bin/env bash
# Regenerates Sources/SextantModelRuntime/Generated/onnx-subset.pb.swift from
# hack/onnx/onnx-subset.proto. The generated file is committed; run this only after
# changing the .proto.
#
# Needs:
#   - protoc (Debian: `apt-get install protobuf-compiler`)
#   - protoc-gen-swift, built here from the swift-protobuf version pinned in
#     Package.resolved: `swift package resolve` checks it out under
#     .build/checkouts/swift-protobuf and we build its `protoc-gen-swift` product in
#     release mode (its own .build inside that checkout). Set PROTOC_GEN_SWIFT to use
#     an existing plugin binary instead.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler" >&2; exit 1; }

plugin="${PROTOC_GEN_SWIFT:-}"
if [[ -z "$plugin" ]]; then
  swift package resolve
  checkout="$root/.build/checkouts/swift-protobuf"
  [[ -d "$checkout" ]] || { echo "swift-protobuf checkout missing at $checkout" >&2; exit 1; }
  (cd "$checkout" && swift build -c release --product protoc-gen-swift)
  plugin="$(cd "$checkout" && swift build -c release --show-bin-path)/protoc-gen-swift"
fi

out="Sources/SextantModelRuntime/Generated"
mkdir -p "$out"
protoc \
  --plugin=protoc-gen-swift="$plugin" \
  --swift_out="$out" \
  --swift_opt=Visibility=Internal \
  --proto_path=hack/onnx \
  hack/onnx/onnx-subset.proto
echo "wrote $out/onnx-subset.pb.swift"

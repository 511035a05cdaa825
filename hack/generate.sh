#!/usr/bin/env bash
# Regenerates everything derived from the Swift API types: crds/*.yaml, docs/reference.md and
# the API summary in README.md. Run it after changing Sources/SextantAPI; tests fail on drift.
#   hack/generate.sh           write the files
#   hack/generate.sh --check   exit non-zero if any file is out of date
set -euo pipefail
cd "$(dirname "$0")/.."
swift run --quiet sextant-crdgen --output crds --reference docs/reference.md --readme README.md "$@"

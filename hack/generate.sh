#!/usr/bin/env bash
# Regenerates everything derived from the Swift sources: crds/*.yaml, docs/reference.md, the API
# summary in README.md, the Helm chart's crds/ and RBAC rules (charts/sextant/templates/_rules.tpl,
# from OperatorPermissions.rules), and the plain manifests under manifests/ (rendered from the
# chart by Helm's engine: hack/helm-render.py, which needs PyPI helm-python-sdk), and the
# powers-of-five table of KubeCore's number parser (hack/powers-of-five.py). Run it after
# changing Sources/SextantAPI, OperatorPermissions or the chart; tests fail on drift.
#   hack/generate.sh           write the files
#   hack/generate.sh --check   exit non-zero if any file is out of date
set -euo pipefail
cd "$(dirname "$0")/.."
swift run --quiet sextant-crdgen --output crds --reference docs/reference.md --readme README.md --chart charts/sextant "$@"
python3 hack/helm-render.py manifests "$@"
table=Sources/KubeCore/PowersOfFive.swift
if [ "${1:-}" = "--check" ]; then
  python3 hack/powers-of-five.py | cmp -s - "$table" || { echo "$table is out of date: run hack/generate.sh" >&2; exit 1; }
else
  python3 hack/powers-of-five.py > "$table"
fi

#!/usr/bin/env bash
# Installs what the SextantServerTests need beyond Swift: Python 3 with pip (on the machines
# already), and these PyPI packages. Call from .ci/run before `swift test`.
#   - moto[server], boto3: the s3:// loading test runs a real moto_server with IAM auth on.
#   - tritonclient[http], numpy: the Triton/KServe client compatibility test.
# The http:// loading test uses python3's built-in http.server.
#   - scikit-learn, skl2onnx: the retraining test runs hack/fixtures/train_tiny.py as a Job.
#   - kubernetes-validate: the DeliveryTests check the rendered chart against the Kubernetes
#     1.33 OpenAPI schemas it ships (offline), strictly (no unknown fields).
#   - check-jsonschema: the DeliveryTests validate .github/workflows against the GitHub workflow
#     schema it ships (offline).
#   - helm-python-sdk: Helm's engine as a library (no helm binary); the DeliveryTests render
#     charts/sextant with it through hack/helm-render.py, which hack/generate.sh also runs.
set -euo pipefail
python3 -m pip install -q "moto[server]" boto3 "tritonclient[http]" numpy scikit-learn skl2onnx helm-python-sdk check-jsonschema kubernetes-validate

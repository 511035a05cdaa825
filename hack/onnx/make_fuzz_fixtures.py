"""Writes randomized parity fixtures: each fixture model with N random rows and onnxruntime's outputs.

Usage: python hack/onnx/make_fuzz_fixtures.py OUTPUT_DIR [rows] [seed]
Then:  SEXTANT_ONNX_FIXTURES=OUTPUT_DIR swift test --filter FixtureTests

Rows mix the fixture's own rows, Gaussian noise at the fixture's scale, exact copies of
fixture values into random columns (to hit tree thresholds), zeros, large values and NaNs.
"""
import glob
import json
import math
import os
import shutil
import sys

import numpy as np
import onnxruntime as ort

out_dir = sys.argv[1]
n_rows = int(sys.argv[2]) if len(sys.argv) > 2 else 256
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
here = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Fixtures", "onnx")
os.makedirs(out_dir, exist_ok=True)


def encode(value):
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
    return value


for path in sorted(glob.glob(os.path.join(here, "*.onnx"))):
    name = os.path.basename(path)[:-5]
    expected = json.load(open(path[:-5] + ".expected.json"))
    (input_name, spec), = expected["inputs"].items()
    base = np.array([float(v) for v in spec["data"]], dtype=np.float64).reshape(spec["shape"])
    rng = np.random.default_rng(seed)
    finite = np.where(np.isfinite(base), base, 0)
    scale = np.maximum(np.abs(finite).max(axis=0), 1e-3)
    rows = []
    for i in range(n_rows):
        kind = i % 6
        if kind == 0:
            row = base[rng.integers(len(base))].copy()
        elif kind in (1, 2):
            row = rng.normal(0, 1, base.shape[1]) * scale
        elif kind == 3:
            row = base[rng.integers(len(base))].copy()
            cols = rng.integers(base.shape[1], size=2)
            row[cols] = finite[rng.integers(len(base), size=2), cols]
        elif kind == 4:
            row = rng.normal(0, 1, base.shape[1]) * scale * 10
        else:
            row = rng.normal(0, 1, base.shape[1]) * scale
            row[rng.integers(base.shape[1])] = np.nan
        rows.append(row)
    x = np.array(rows, dtype=np.float32)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    results = session.run(None, {input_name: x})
    outputs = {}
    for out_name, value in zip(names, results):
        if isinstance(value, list):
            key_type = "INT64" if isinstance(next(iter(value[0])), int) else "BYTES"
            outputs[out_name] = {"datatype": "MAP", "keyType": key_type, "valueType": "FP32", "shape": [len(value)],
                                 "data": [{str(k): encode(float(v)) for k, v in m.items()} for m in value]}
        else:
            arr = np.asarray(value)
            dtype = {"float32": "FP32", "float64": "FP64", "int64": "INT64", "int32": "INT32", "object": "BYTES"}[str(arr.dtype)]
            data = [encode(float(v)) if dtype.startswith("FP") else (int(v) if dtype.startswith("INT") else str(v))
                    for v in arr.ravel()]
            outputs[out_name] = {"datatype": dtype, "shape": list(arr.shape), "data": data}
    doc = {"model": name, "inputs": {input_name: {"datatype": "FP32", "shape": list(x.shape),
                                                  "data": [encode(float(v)) for v in x.ravel()]}},
           "outputs": outputs, "outputNames": names}
    shutil.copy(path, os.path.join(out_dir, name + ".onnx"))
    with open(os.path.join(out_dir, name + ".expected.json"), "w") as f:
        json.dump(doc, f)
    print(name, x.shape)

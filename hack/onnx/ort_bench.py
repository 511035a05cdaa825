"""Times onnxruntime in-process on a fixture model, for comparison with sextant-model-bench.

Usage: python hack/onnx/ort_bench.py [model.onnx] [batch rows] [iterations]
Needs numpy and onnxruntime (the fixture venv from hack/fixtures/requirements.txt has both).
"""
import json
import sys
import time

import numpy as np
import onnxruntime as ort

path = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/onnx/benchmark_random_forest.onnx"
batch = int(sys.argv[2]) if len(sys.argv) > 2 else 64
iterations = int(sys.argv[3]) if len(sys.argv) > 3 else 2000

expected = json.load(open(path.replace(".onnx", ".expected.json")))
(name, spec), = expected["inputs"].items()
rows = np.array([float(v) for v in spec["data"]], dtype=np.float32).reshape(spec["shape"])
x = np.ascontiguousarray(np.resize(rows, (batch, rows.shape[1])))

for threads in (1, 0):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    for _ in range(50):
        session.run(None, {name: x})
    start = time.perf_counter()
    for _ in range(iterations):
        session.run(None, {name: x})
    per_batch = (time.perf_counter() - start) / iterations
    label = "1 thread" if threads == 1 else "default threads"
    print(f"onnxruntime {ort.__version__} ({label}): batch {batch}: {per_batch * 1e6:.2f} us per batch, "
          f"{per_batch * 1e6 / batch:.3f} us per row")

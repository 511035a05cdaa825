"""Writes synthetic ONNX models that exercise operator options the fixture zoo does not use, with
random inputs and onnxruntime's outputs, in the fixture format (`<name>.onnx` + `<name>.expected.json`).

Usage: python hack/onnx/make_parity_models.py OUTPUT_DIR [rows] [seed]
Then:  SEXTANT_ONNX_FIXTURES=OUTPUT_DIR swift test --filter FixtureTests
"""
import json
import math
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import TensorProto as T, helper, numpy_helper

out_dir = sys.argv[1]
n_rows = int(sys.argv[2]) if len(sys.argv) > 2 else 200
rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
os.makedirs(out_dir, exist_ok=True)
F = 4


def random_trees(n_trees, depth, modes, missing):
    t = dict(nodes_treeids=[], nodes_nodeids=[], nodes_featureids=[], nodes_modes=[], nodes_values=[],
             nodes_truenodeids=[], nodes_falsenodeids=[], nodes_missing_value_tracks_true=[])
    leaves = []
    for tree in range(n_trees):
        count = 2 ** (depth + 1) - 1
        for node in range(count):
            t["nodes_treeids"].append(tree)
            t["nodes_nodeids"].append(node)
            if node >= 2 ** depth - 1:
                t["nodes_featureids"].append(0); t["nodes_modes"].append("LEAF"); t["nodes_values"].append(0.0)
                t["nodes_truenodeids"].append(0); t["nodes_falsenodeids"].append(0)
                t["nodes_missing_value_tracks_true"].append(0)
                leaves.append((tree, node))
            else:
                t["nodes_featureids"].append(int(rng.integers(F)))
                t["nodes_modes"].append(str(rng.choice(modes)))
                t["nodes_values"].append(float(np.float32(rng.choice([0.0, 0.5, -0.5, rng.normal()]))))
                t["nodes_truenodeids"].append(2 * node + 1); t["nodes_falsenodeids"].append(2 * node + 2)
                t["nodes_missing_value_tracks_true"].append(int(missing and rng.random() < 0.5))
    return t, leaves


def votes(prefix, leaves, ids, positive=False, per_leaf=1):
    v = {f"{prefix}_treeids": [], f"{prefix}_nodeids": [], f"{prefix}_ids": [], f"{prefix}_weights": []}
    for tree, node in leaves:
        for k in rng.choice(ids, size=min(per_leaf, len(ids)), replace=False):
            v[f"{prefix}_treeids"].append(tree); v[f"{prefix}_nodeids"].append(node)
            v[f"{prefix}_ids"].append(int(k))
            w = rng.random() if positive else rng.normal()
            v[f"{prefix}_weights"].append(float(np.float32(w)))
    return v


def model(name, nodes, outputs, initializers=(), ml=3, onnx_opset=17):
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("input", T.FLOAT, [None, F])],
                              [helper.make_tensor_value_info(n, t, None) for n, t in outputs],
                              initializer=list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", onnx_opset), helper.make_opsetid("ai.onnx.ml", ml)])
    m.ir_version = 8
    return name, m


def ml(op, inputs, outputs, **attrs):
    return helper.make_node(op, inputs, outputs, domain="ai.onnx.ml", **attrs)


def enc(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


models = []
for i, (modes, missing) in enumerate([(["BRANCH_LEQ"], False), (["BRANCH_LT"], True), (["BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ", "BRANCH_LEQ"], True)]):
    t, leaves = random_trees(5, 3, modes, missing)
    models.append(model(f"p_tree_multi_{i}", [ml("TreeEnsembleClassifier", ["input"], ["label", "probabilities"], classlabels_int64s=[4, 5, 6],
                        post_transform=["NONE", "SOFTMAX", "SOFTMAX_ZERO"][i], base_values=[0.1, -0.2, 0.3], **t, **votes("class", leaves, [0, 1, 2], per_leaf=2))],
                        [("label", T.INT64), ("probabilities", T.FLOAT)]))
    t, leaves = random_trees(4, 3, modes, missing)
    models.append(model(f"p_tree_binary_strings_{i}", [ml("TreeEnsembleClassifier", ["input"], ["label", "probabilities"], classlabels_strings=["no", "yes"],
                        post_transform=["NONE", "LOGISTIC", "NONE"][i], **t, **votes("class", leaves, [0], positive=(i == 0)))],
                        [("label", T.STRING), ("probabilities", T.FLOAT)]))
    t, leaves = random_trees(4, 3, modes, missing)
    models.append(model(f"p_tree_binary_both_{i}", [ml("TreeEnsembleClassifier", ["input"], ["label", "probabilities"], classlabels_int64s=[0, 1],
                        post_transform=["NONE", "LOGISTIC", "SOFTMAX"][i], base_values=[[0.2], [0.1, 0.1], []][i] or None, **t, **votes("class", leaves, [0, 1]))],
                        [("label", T.INT64), ("probabilities", T.FLOAT)]))
    t, leaves = random_trees(6, 3, modes, missing)
    models.append(model(f"p_tree_regressor_{i}", [ml("TreeEnsembleRegressor", ["input"], ["variable"], n_targets=2,
                        aggregate_function=["SUM", "AVERAGE", "MAX"][i], post_transform=["NONE", "LOGISTIC", "SOFTMAX"][i],
                        base_values=[0.5, -0.5], **t, **votes("target", leaves, [0, 1], per_leaf=2))], [("variable", T.FLOAT)]))
# Single-target regressor with MIN and PROBIT-free base value.
t, leaves = random_trees(5, 2, ["BRANCH_LEQ"], False)
models.append(model("p_tree_regressor_min", [ml("TreeEnsembleRegressor", ["input"], ["variable"], n_targets=1, aggregate_function="MIN",
                    base_values=[1.5], **t, **votes("target", leaves, [0]))], [("variable", T.FLOAT)]))

coef = [float(np.float32(c)) for c in rng.normal(size=3 * F)]
for transform in ["NONE", "LOGISTIC", "SOFTMAX", "SOFTMAX_ZERO"]:
    models.append(model(f"p_linear_multi_{transform.lower()}", [ml("LinearClassifier", ["input"], ["label", "probabilities"], coefficients=coef,
                        intercepts=[0.1, 0.0, -0.1], classlabels_strings=["a", "b", "c"], post_transform=transform)],
                        [("label", T.STRING), ("probabilities", T.FLOAT)]))
models.append(model("p_linear_binary_strings", [ml("LinearClassifier", ["input"], ["label", "probabilities"], coefficients=coef[:F],
                    intercepts=[0.2], classlabels_strings=["neg", "pos"], post_transform="LOGISTIC")],
                    [("label", T.STRING), ("probabilities", T.FLOAT)]))
for norm in ["MAX", "L1", "L2"]:
    models.append(model(f"p_normalizer_{norm.lower()}", [ml("Normalizer", ["input"], ["variable"], norm=norm)], [("variable", T.FLOAT)]))

w1 = numpy_helper.from_array(rng.normal(size=(F, 5)).astype(np.float32), "w1")
b1 = numpy_helper.from_array(rng.normal(size=(5,)).astype(np.float32), "b1")
w2 = numpy_helper.from_array(rng.normal(size=(3, 5)).astype(np.float32), "w2")
models.append(model("p_dense_graph", [
    helper.make_node("Gemm", ["input", "w1", "b1"], ["h1"], alpha=0.7, beta=1.3),
    helper.make_node("Tanh", ["h1"], ["t1"]),
    helper.make_node("Gemm", ["t1", "w2"], ["h2"], transB=1),
    helper.make_node("Sigmoid", ["h2"], ["s2"]),
    helper.make_node("LogSoftmax", ["h2"], ["variable"], axis=1),
    helper.make_node("ArgMax", ["s2"], ["label"], axis=1, keepdims=0),
], [("variable", T.FLOAT), ("label", T.INT64)], [w1, b1, w2]))
idx = numpy_helper.from_array(np.array([3, 0], dtype=np.int64), "idx")
ax = numpy_helper.from_array(np.array([1], dtype=np.int64), "ax")
shape = numpy_helper.from_array(np.array([0, -1], dtype=np.int64), "shape")
models.append(model("p_shape_graph", [
    helper.make_node("Gather", ["input", "idx"], ["g"], axis=1),
    helper.make_node("Unsqueeze", ["g", "ax"], ["u"]),
    helper.make_node("Squeeze", ["u", "ax"], ["s"]),
    helper.make_node("Concat", ["s", "input"], ["c"], axis=1),
    helper.make_node("Flatten", ["c"], ["f"], axis=1),
    helper.make_node("Reshape", ["f", "shape"], ["r"]),
    helper.make_node("Div", ["r", "r"], ["d"]),
    helper.make_node("Sub", ["r", "d"], ["variable"]),
], [("variable", T.FLOAT)], [idx, ax, shape]))

for name, m in models:
    x = rng.normal(size=(n_rows, F)).astype(np.float32)
    x[::7, 1] = np.nan
    x[::5, 2] = 0.5
    x[::9, 0] = -0.5
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    outputs = {}
    for out_name, value in zip(names, session.run(None, {"input": x})):
        arr = np.asarray(value)
        dtype = {"float32": "FP32", "int64": "INT64", "object": "BYTES"}[str(arr.dtype)]
        data = [enc(float(v)) if dtype == "FP32" else (int(v) if dtype == "INT64" else str(v)) for v in arr.ravel()]
        outputs[out_name] = {"datatype": dtype, "shape": list(arr.shape), "data": data}
    doc = {"model": name, "inputs": {"input": {"datatype": "FP32", "shape": [n_rows, F], "data": [enc(float(v)) for v in x.ravel()]}},
           "outputs": outputs, "outputNames": names}
    open(os.path.join(out_dir, name + ".onnx"), "wb").write(m.SerializeToString())
    json.dump(doc, open(os.path.join(out_dir, name + ".expected.json"), "w"))
print(f"wrote {len(models)} models to {out_dir}")

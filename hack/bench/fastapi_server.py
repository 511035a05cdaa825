"""A FastAPI + uvicorn + onnxruntime V2 server, the Python baseline for hack/bench-server.

Usage: python3 fastapi_server.py MODEL.onnx NAME PORT
"""
import sys

import numpy as np
import onnxruntime as ort
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

model_path, name, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
output_names = [o.name for o in session.get_outputs() if o.type.startswith("tensor")]
app = FastAPI()
DTYPES = {np.dtype("float32"): "FP32", np.dtype("float64"): "FP64", np.dtype("int64"): "INT64", np.dtype("int32"): "INT32"}


@app.get("/v2/health/ready")
def ready():
    return {"ready": True}


@app.post(f"/v2/models/{name}/infer")
async def infer(request: Request):
    body = await request.json()
    feeds = {t["name"]: np.asarray(t["data"], dtype=np.float32).reshape(t["shape"]) for t in body["inputs"]}
    results = session.run(output_names, feeds)
    outputs = [
        {"name": n, "datatype": DTYPES.get(r.dtype, "BYTES"), "shape": list(r.shape), "data": r.ravel().tolist()}
        for n, r in zip(output_names, results)
    ]
    return JSONResponse({"model_name": name, "outputs": outputs})


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)

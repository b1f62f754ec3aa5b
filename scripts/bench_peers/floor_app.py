"""The floor of `make bench-serving`: the champion's ONNX graph behind a bare ASGI app.

No framework, no validation, no feature derivation, no store, no log, no metrics: a body in
mlflow's `dataframe_split` format (the model inputs, `features.MODEL_INPUTS`) -> P(survived).
What is left is HTTP, JSON and onnxruntime, the least any Python server of this model can do per request.
Run: uvicorn --factory scripts.bench_peers.floor_app:create --port P (BENCH_ONNX=<graph file>).
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import onnxruntime as ort

HEADERS = [(b"content-type", b"application/json")]


def create() -> Callable[..., Awaitable[None]]:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(os.environ["BENCH_ONNX"], options, providers=["CPUExecutionProvider"])
    output = session.get_outputs()[1].name
    # Each input's type from the graph itself: floats for numbers, strings for categories and keys.
    numeric = {node.name for node in session.get_inputs() if node.type == "tensor(float)"}

    def score(body: bytes) -> bytes:
        split = json.loads(body)["dataframe_split"]
        columns = list(zip(*split["data"], strict=True))
        feed: dict[str, Any] = {}
        for name, values in zip(split["columns"], columns, strict=True):
            if name in numeric:
                feed[name] = np.array([np.nan if v is None else v for v in values], np.float32).reshape(-1, 1)
            else:
                feed[name] = np.array(values, dtype=str).reshape(-1, 1)
        probability = session.run([output], feed)[0][:, 1]
        return json.dumps({"predictions": probability.tolist()}).encode()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        answer = score(body) if scope["method"] == "POST" else b'{"status":"ok"}'
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": answer})

    return app

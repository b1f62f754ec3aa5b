"""The servers `make bench-serving` compares, each one worker, each serving the same champion.

This API runs as in production (validation, the online store's ticket sizes, the prediction log,
metrics). The peers take the model inputs, `features.MODEL_INPUTS` (no validation, no
features, no log): mlflow and the floor in mlflow's `dataframe_split` body, MLServer in the V2
protocol with its pandas codec, KServe and BentoML as {"instances": rows}. Peers live in
throw-away venvs under PEERS_DIR (`scripts/bench_peers/install.sh`), never in the project's
lock; a peer whose venv is missing is reported as skipped.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PEERS_DIR = Path(os.environ.get("BENCH_PEERS_DIR", Path(tempfile.gettempdir()) / "titanic-mlops-bench-peers"))
SCRIPTS = ROOT / "scripts" / "bench_peers"


@dataclass(frozen=True)
class Server:
    name: str
    command: list[str]
    ready: str
    predict: str
    one: bytes
    batch: bytes
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path = ROOT
    venv: Path | None = None  # a peer's throw-away venv; None: the project's own


def _clean(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


def vectors(frame: Any) -> list[list[Any]]:
    return [[_clean(v) for v in row] for row in frame.itertuples(index=False)]


def split_body(frame: Any) -> bytes:
    return json.dumps({"dataframe_split": {"columns": list(frame.columns), "data": vectors(frame)}}).encode()


def instances_body(frame: Any) -> bytes:
    return json.dumps({"instances": vectors(frame)}).encode()


def v2_body(frame: Any) -> bytes:
    """MLServer's V2 body: one input per column, decoded to a DataFrame by its pandas codec.

    A gap is JSON null: NaN is not JSON (MLServer answered the batch, which has gaps, with a
    422 "JSON decode error"), and its FP64 decoding turns null back into NaN.
    """
    inputs = []
    for column in frame.columns:
        numeric = frame[column].dtype.kind == "f"
        data = [_clean(v) for v in frame[column].tolist()]
        inputs.append(
            {"name": column, "shape": [len(frame)], "datatype": "FP64" if numeric else "BYTES", "data": data}
        )
    body = {"inputs": inputs, "parameters": {"content_type": "pd"}, "outputs": [{"name": "predict_proba"}]}
    return json.dumps(body).encode()


def peers(
    base_port: int, model: Path, graph: Path, champion_uri: str, one: Any, batch: Any, tmp: Path
) -> list[Server]:
    """Every peer, on consecutive ports from `base_port`; `one`/`batch` are model-input frames."""
    # The champion's pipeline holds a step of the project's own (domain.group_survival), so a peer
    # unpickles it with the checkout's domain package on its path, as a custom model ships its code.
    columns = {
        "BENCH_MODEL": str(model),
        "BENCH_COLUMNS": ",".join(one.columns),
        "PYTHONPATH": str(ROOT / "src"),
    }
    mlflow_port, mls, ks, bento, floor = (base_port + i for i in (0, 2, 6, 8, 10))
    settings = tmp / "mlserver-repository"
    settings.mkdir(exist_ok=True)
    (settings / "settings.json").write_text(
        json.dumps({"http_port": mls, "grpc_port": mls + 1, "metrics_port": mls + 2, "parallel_workers": 1})
    )
    (settings / "titanic").mkdir(exist_ok=True)  # MLServer names a model after its folder
    (settings / "titanic" / "model-settings.json").write_text(
        json.dumps(
            {
                "name": "titanic",
                "implementation": "mlserver_sklearn.SKLearnModel",
                "parameters": {"uri": str(model)},
            }
        )
    )
    local = "http://127.0.0.1"
    return [
        Server(
            "mlflow models serve",
            [
                "mlflow",
                "models",
                "serve",
                "-m",
                champion_uri,
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(mlflow_port),
            ],
            f"{local}:{mlflow_port}/health",
            f"{local}:{mlflow_port}/invocations",
            split_body(one),
            split_body(batch),
        ),
        Server(
            "MLServer (sklearn runtime)",
            ["mlserver", "start", str(settings)],
            f"{local}:{mls}/v2/health/ready",
            f"{local}:{mls}/v2/models/titanic/infer",
            v2_body(one),
            v2_body(batch),
            env={"PYTHONPATH": columns["PYTHONPATH"]},
            cwd=settings,  # it writes its metrics files into the working directory
            venv=PEERS_DIR / "mlserver",
        ),
        Server(
            "KServe model server",
            ["python", str(SCRIPTS / "kserve_model.py")],
            f"{local}:{ks}/v1/models/titanic",
            f"{local}:{ks}/v1/models/titanic:predict",
            instances_body(one),
            instances_body(batch),
            env={**columns, "BENCH_PORT": str(ks)},
            venv=PEERS_DIR / "kserve",
        ),
        Server(
            "BentoML",
            ["bentoml", "serve", "bentoml_service:Titanic", "--port", str(bento), "--host", "127.0.0.1"],
            f"{local}:{bento}/readyz",
            f"{local}:{bento}/predict",
            instances_body(one),
            instances_body(batch),
            env=columns,
            cwd=SCRIPTS,
            venv=PEERS_DIR / "bentoml",
        ),
        Server(
            "floor: ONNX behind bare ASGI",
            [
                "uvicorn",
                "--factory",
                "scripts.bench_peers.floor_app:create",
                "--host",
                "127.0.0.1",
                "--port",
                str(floor),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            f"{local}:{floor}/",
            f"{local}:{floor}/",
            split_body(one),
            split_body(batch),
            env={"BENCH_ONNX": str(graph)},
        ),
    ]

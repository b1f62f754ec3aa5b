"""`POST /predict` and `GET /passengers/{id}/prediction`: score, log, then answer.

The log append returns the prediction ids; `answer` builds the body from the scoring and those
ids, so nothing depends on the order things happen to be filled in.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import Response

from serving import challenger, deps, schemas
from serving.http import FastJSON, request_id
from serving.runtime import Runtime
from titanic_mlops.domain import schema
from titanic_mlops.domain.errors import OnlineStoreUnavailable, UnknownPassenger
from titanic_mlops.domain.features import input_rows
from titanic_mlops.services import scoring
from titanic_mlops.services.anomaly import Flags

router = APIRouter()


def answer(scored: scoring.Scoring, ids: list[int], flags: Flags | None = None) -> dict[str, Any]:
    """The /predict body: the version that answered and one entry per passenger."""
    n = len(ids)
    score = [None] * n if flags is None else flags.score.tolist()
    anomalous = [None] * n if flags is None else flags.anomalous.tolist()
    return {
        "model_name": scored.model.name,
        "model_version": scored.model.version,
        "predictions": [
            {
                "passenger_id": pid,
                "survived": s,
                "probability": p,
                "prediction_id": i,
                "anomaly_score": a,
                "anomalous": f,
            }
            for pid, s, p, i, a, f in zip(
                scored.passenger_ids,
                scored.survived.tolist(),
                scored.probability.tolist(),
                ids,
                score,
                anomalous,
                strict=True,
            )
        ],
    }


async def log(
    request: Request, runtime: Runtime, scored: scoring.Scoring, records: list[dict[str, Any]]
) -> list[int]:
    """Append one row per prediction before answering (durable on return); the ids it got.

    On the log's writer thread, never on the event loop: a log waiting on a lock must not stall
    `/health`; a write that fails or does not confirm in time is a 503 naming why (`LogWriter`).
    Requests logging at the same time share one commit (group commit), each with its own ids.
    """
    began = deps.started(request) or time.perf_counter()
    latency_ms = (time.perf_counter() - began) * 1000
    rows = scoring.log_rows(scored, records, request_id(request), latency_ms)
    ids = await runtime.writer.append("the prediction", rows)
    runtime.metrics.logged(scored, len(ids))
    return ids


@router.post("/predict", response_model=schemas.PredictResponse, responses=deps.ERRORS)
async def predict(body: schemas.PredictRequest, request: Request) -> Response:
    """Score passengers given in Kaggle columns; population features come from the store."""
    runtime, ready, records, scored = deps.scored_batch(request, body.instances)
    runtime.metrics.missing_inputs(scored)
    flags = ready.model.anomalies(scored.inputs)
    runtime.metrics.anomalies(scored, flags)
    slot = runtime.challenger  # a12: shadow or canary while an experiment runs
    served = await challenger.serve(slot, request, runtime, scored, records, log, answer) if slot else None
    if served is None:
        return FastJSON(answer(scored, await log(request, runtime, scored, records), flags))
    if flags is not None:  # the experiment's answer, in request order, carries the same flags
        for entry, score, flagged in zip(
            served["predictions"], flags.score.tolist(), flags.anomalous.tolist(), strict=True
        ):
            entry["anomaly_score"], entry["anomalous"] = score, flagged
    return FastJSON(served)


@router.get(
    "/passengers/{passenger_id}/prediction",
    response_model=schemas.PassengerPrediction,
    responses={
        404: {"description": "the online store does not know this PassengerId"},
        503: {"description": "no model is loaded yet, or the online store is unavailable"},
    },
)
async def passenger(
    passenger_id: Annotated[int, Path(ge=1, le=schema.BOUNDS[schema.ID][1])], request: Request
) -> Response:
    """Score a known passenger from the Feast online store, by PassengerId."""
    runtime, ready = deps.ready(request)
    try:
        scored = scoring.score_stored([passenger_id], ready.online.store, ready.model.model)
    except OnlineStoreUnavailable as exc:
        raise HTTPException(503, str(exc), headers={"Retry-After": "5"}) from exc
    except UnknownPassenger as exc:
        raise HTTPException(404, f"passenger_id: {passenger_id} is not in the online store") from exc
    ids = await log(request, runtime, scored, [{schema.ID: passenger_id}])
    flags = ready.model.anomalies(scored.inputs)
    runtime.metrics.anomalies(scored, flags)
    inputs = {
        k: None if isinstance(v, float) and v != v else v for k, v in input_rows(scored.inputs)[0].items()
    }
    return FastJSON(
        {
            "model_name": scored.model.name,
            "model_version": scored.model.version,
            **answer(scored, ids, flags)["predictions"][0],
            "features": inputs,
        }
    )

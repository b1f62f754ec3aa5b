"""`POST /feedback`: ground truth for earlier predictions (one object, or a list)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from serving import deps, schemas
from serving.http import FastJSON
from titanic_mlops.stores.interfaces import FeedbackTargetMissing, PredictionLog

router = APIRouter()


@router.post(
    "/feedback",
    response_model=schemas.FeedbackResponse,
    responses={404: {"description": "no logged prediction matches"}, **deps.ERRORS},
)
async def feedback(
    body: schemas.FeedbackByPrediction | schemas.FeedbackByPassenger | schemas.FeedbackBatch,
    request: Request,
) -> Response:
    """Ground truth for earlier predictions (one object, or a list from a simulator)."""
    runtime = deps.runtime(request)
    items = body if isinstance(body, list) else [body]
    limit = runtime.deployment.settings.max_batch_size
    if len(items) > limit:
        raise HTTPException(413, f"body: {len(items)} items exceed the limit of {limit}")
    found, missing = await runtime.writer.write("the feedback", lambda: _record(runtime.log, items))
    if not found:
        first = items[0]
        by_prediction = isinstance(first, schemas.FeedbackByPrediction)
        target = (
            first.prediction_id if isinstance(first, schemas.FeedbackByPrediction) else first.passenger_id
        )
        what = "prediction_id" if by_prediction else "passenger_id"
        raise HTTPException(404, f"{what}: no logged prediction for {target}")
    return FastJSON({"accepted": len(found), "prediction_ids": found, "missing": missing})


def _record(
    log: PredictionLog, items: list[schemas.FeedbackByPrediction | schemas.FeedbackByPassenger]
) -> tuple[list[int], list[int]]:
    """On the log's writer thread: the prediction ids labelled, and the positions matching none."""
    found, missing = [], []
    for position, item in enumerate(items):
        try:
            if isinstance(item, schemas.FeedbackByPrediction):
                found.append(log.add_feedback(item.survived, prediction_id=item.prediction_id))
            else:
                found.append(log.add_feedback(item.survived, passenger_id=item.passenger_id))
        except FeedbackTargetMissing:
            missing.append(position)
    return found, missing

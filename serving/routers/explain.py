"""`POST /explain`: the same body as `/predict`, answered with SHAP contributions per model input.

The explainer of the serving version is built on the first request that needs it (the
scikit-learn pipeline and the version's sidecar, both hash-checked) and kept until the version
changes; it runs in a worker thread, since one explanation costs milliseconds, not microseconds.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from serving import deps, schemas
from serving.http import FastJSON
from titanic_mlops.services import explain

router = APIRouter()


def _cache(request: Request) -> explain.ExplainerCache:
    state = request.app.state
    if getattr(state, "explainers", None) is None:
        state.explainers = explain.ExplainerCache(deps.runtime(request).follower.registry)
    cache: explain.ExplainerCache = state.explainers
    return cache


@router.post(
    "/explain",
    response_model=schemas.ExplainResponse,
    responses={**deps.ERRORS, 409: {"description": "the serving version has no sidecar to explain with"}},
)
async def explain_passengers(body: schemas.PredictRequest, request: Request) -> Response:
    """Why: base value plus one contribution per model input gives the output (logit or probability)."""
    *_, scored = deps.scored_batch(request, body.instances)
    try:
        explainer = await run_in_threadpool(_cache(request).get, scored.model)
    except explain.NoExplainer as exc:
        raise HTTPException(409, str(exc)) from exc
    explained = await run_in_threadpool(explain.explain_columns, explainer, scored.inputs)
    return FastJSON(
        {
            "model_version": scored.model.version,
            "explanations": explain.explanation_rows(explained, scored.passenger_ids),
        }
    )

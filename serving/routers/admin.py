"""`POST /admin/reload`: check the alias now; needs the admin bearer token."""

from __future__ import annotations

import asyncio
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from serving import deps, schemas
from serving.http import FastJSON

router = APIRouter()
_bearer = HTTPBearer(auto_error=False, description="TITANIC_MLOPS_ADMIN_TOKEN")


@router.post(
    "/admin/reload",
    response_model=schemas.ReloadResponse,
    responses={
        401: {"description": "no bearer token"},
        403: {"description": "wrong token, or none configured"},
        503: {"description": "the tracking server does not answer (the current model serves on)"},
    },
)
async def reload(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Response:
    """Check the alias now (a refused version is retried); needs the admin bearer token."""
    runtime = deps.runtime(request)
    token = runtime.deployment.settings.admin_token
    expected = token.get_secret_value() if token else None
    if expected is None:
        raise HTTPException(403, "admin reload is disabled: TITANIC_MLOPS_ADMIN_TOKEN is not set")
    if credentials is None:
        raise HTTPException(
            401, "Authorization: Bearer <token> is required", headers={"WWW-Authenticate": "Bearer"}
        )
    if not secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(403, "wrong admin token")
    result = await asyncio.to_thread(runtime.reload, True)
    served, refused = runtime.ready, runtime.follower.refused
    version = served.model.version if served else None
    if result == "error":
        still = f"still serving version {version}" if version else "no model is loaded"
        raise HTTPException(
            503, f"the tracking server does not answer; {still}", headers={"Retry-After": "5"}
        )
    reason = refused.reason if result == "refused" and refused else None
    return FastJSON({"result": result, "model_version": version, "reason": reason})

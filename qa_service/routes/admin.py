"""Admin endpoints: re-ingest over HTTP, behind a bearer token from the environment.

Disabled (404) unless settings.admin_token (SIQA_ADMIN_TOKEN) is set; 401 without
or with a malformed `Authorization: Bearer <token>`; 403 with a wrong token. The
token is compared in constant time.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field

from ingest.build import IngestReport
from qa_service.deps import SettingsDep
from qa_service.reingest import JobRunning, JobStatus, ReingestJobs
from qa_service.schemas import ErrorResponse

bearer = HTTPBearer(auto_error=False, description="The token in SIQA_ADMIN_TOKEN.", scheme_name="AdminToken")


def require_admin(request: Request, settings: SettingsDep, _: Annotated[object, Depends(bearer)] = None) -> None:
    expected = settings.admin_token.get_secret_value() if settings.admin_token else ""
    if not expected:
        raise HTTPException(404, "admin endpoints are disabled: set SIQA_ADMIN_TOKEN to enable them")
    challenge = {"WWW-Authenticate": "Bearer"}
    header = request.headers.get("authorization")
    if header is None:
        raise HTTPException(401, "an Authorization: Bearer <token> header is required", challenge)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise HTTPException(401, "malformed Authorization header: expected 'Bearer <token>'", challenge)
    if not hmac.compare_digest(token.encode("utf-8", "surrogateescape"), expected.encode("utf-8")):
        raise HTTPException(403, "the admin token is not valid")


router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    responses={
        401: {"model": ErrorResponse, "description": "No or malformed bearer token."},
        403: {"model": ErrorResponse, "description": "Wrong token."},
        404: {"model": ErrorResponse, "description": "Admin endpoints are disabled (no SIQA_ADMIN_TOKEN), or no such job."},
    },
)




class ReingestJobResponse(BaseModel):
    job_id: str
    status: JobStatus
    started_at: str
    finished_at: str | None = None
    summary: str | None = Field(default=None, description="One line: counts, time, the version switched to.")
    report: IngestReport | None = Field(default=None, description="The ingest report, the same one `python -m ingest` prints.")
    error: str | None = None
    serving_index_version: str | None = Field(default=None, description="The version this process answers from now.")
    status_url: str


def get_jobs(request: Request) -> ReingestJobs:
    return request.app.state.reingest


JobsDep = Annotated[ReingestJobs, Depends(get_jobs)]


def _body(job_id: str, jobs: ReingestJobs, request: Request) -> ReingestJobResponse:
    job = jobs.get(job_id)
    assert job is not None
    engine = request.app.state.engine
    return ReingestJobResponse(
        job_id=job.id,
        status=job.status,
        started_at=job.started_at,
        finished_at=job.finished_at,
        summary=job.summary,
        report=IngestReport(**job.report) if job.report else None,
        error=job.error,
        serving_index_version=engine.index.build_id if engine is not None else None,
        status_url=f"/v1/admin/reingest/{job.id}",
    )


@router.post(
    "/reingest",
    status_code=202,
    response_model=ReingestJobResponse,
    operation_id="start_reingest",
    responses={409: {"model": ErrorResponse, "description": "A re-ingest is already running."}},
)
def start_reingest(request: Request, response: Response, jobs: JobsDep) -> ReingestJobResponse:
    """Re-read the corpus folder the service was configured with, build a new index
    version beside the live one, and switch to it when complete. Returns at once
    with a job id; poll the status URL."""
    try:
        job = jobs.start()
    except JobRunning as exc:
        raise HTTPException(409, str(exc)) from None
    response.headers["Location"] = f"/v1/admin/reingest/{job.id}"
    return _body(job.id, jobs, request)


@router.get("/reingest/{job_id}", response_model=ReingestJobResponse, operation_id="get_reingest")
def get_reingest(request: Request, jobs: JobsDep, job_id: str = Path(max_length=64)) -> ReingestJobResponse:
    """A re-ingest job: running, succeeded (with the ingest report) or failed (with the error)."""
    if jobs.get(job_id) is None:
        raise HTTPException(404, f"no re-ingest job {job_id!r} (only the last jobs of this process are kept)")
    return _body(job_id, jobs, request)

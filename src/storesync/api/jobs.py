"""``/api/v1/jobs``: background work (imports, later channel pushes) and its outcome."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import Query, Router, Schema, Status

from storesync.api.auth import Principal, require
from storesync.core import jobs
from storesync.core.errors import NotFound, PermissionDenied
from storesync.core.models import Job
from storesync.core.permissions import Perm

router = Router(tags=["jobs"])

# Who may see or retry a job: the permission its work needs.
KIND_PERMISSIONS = {"import.products": Perm.MANAGE_CATALOG,
                    "import.inventory": Perm.MANAGE_INVENTORY}


class Progress(Schema):
    done: int
    total: int | None
    stage: str


class JobOut(Schema):
    id: uuid.UUID
    kind: str
    state: str
    progress: Progress
    last_error: str
    result: dict[str, Any]
    report_url: str | None
    filename: str
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobPage(Schema):
    items: list[JobOut]
    next_cursor: str | None


def job_out(job: Job) -> dict[str, Any]:
    return {
        "id": job.id, "kind": job.kind, "state": job.state,
        "progress": {"done": job.progress_done, "total": job.progress_total,
                     "stage": job.stage},
        "last_error": job.last_error, "result": job.result,
        "report_url": f"/api/v1/jobs/{job.id}/report" if job.result_file else None,
        "filename": str(job.params.get("filename", "")), "attempts": job.attempts,
        "created_at": job.created_at, "started_at": job.started_at,
        "finished_at": job.finished_at,
    }


def _visible_kinds(who: Principal) -> list[str]:
    return [kind for kind, perm in KIND_PERMISSIONS.items() if perm in who.permissions]


def _job(request: HttpRequest, job_id: uuid.UUID) -> tuple[Principal, Job]:
    who = require(request)
    job = jobs.job_get(workspace_id=who.workspace_id, job_id=job_id)
    perm = KIND_PERMISSIONS.get(job.kind)
    if perm is None or perm not in who.permissions:
        raise NotFound("no such job")  # not told apart from a missing one
    return who, job


@router.get("", response=JobPage, summary="Jobs, newest first")
def list_jobs(request: HttpRequest, cursor: str | None = None,
              limit: int = Query(50, ge=1, le=200), kind: str | None = None,
              state: str | None = None) -> dict[str, Any]:
    who = require(request)
    kinds = _visible_kinds(who)
    if kind and kind not in kinds:
        raise PermissionDenied(f"this token's role cannot see {kind} jobs")
    page = jobs.job_list(workspace_id=who.workspace_id, cursor=cursor, limit=limit,
                         kinds=[kind] if kind else kinds, state=state)
    return {"items": [job_out(j) for j in page.items], "next_cursor": page.next_cursor}


@router.get("/{job_id}", response=JobOut, summary="A job's state, progress and errors")
def get_job(request: HttpRequest, job_id: uuid.UUID) -> dict[str, Any]:
    return job_out(_job(request, job_id)[1])


@router.get("/{job_id}/report", response={200: None},
            summary="The full problem report of an import (CSV: row, column, value, problem)")
def job_report(request: HttpRequest, job_id: uuid.UUID) -> FileResponse:
    _, job = _job(request, job_id)
    path = jobs.jobs_dir() / job.result_file if job.result_file else None
    if path is None or not path.is_file():
        raise NotFound("this job has no report")
    return FileResponse(path.open("rb"), as_attachment=True, content_type="text/csv",
                        filename=f"job-{job.id}-problems.csv")


@router.post("/{job_id}/retry", response={202: JobOut},
             summary="Queue a failed or cancelled job again")
def retry_job(request: HttpRequest, job_id: uuid.UUID) -> Status:
    who, job = _job(request, job_id)
    job = jobs.job_retry(workspace_id=who.workspace_id, job_id=job.id, actor=who.actor)
    return Status(202, job_out(job))


@router.post("/{job_id}/cancel", response=JobOut, summary="Cancel a queued or running job")
def cancel_job(request: HttpRequest, job_id: uuid.UUID) -> dict[str, Any]:
    who, job = _job(request, job_id)
    return job_out(jobs.job_cancel(workspace_id=who.workspace_id, job_id=job.id,
                                   actor=who.actor))

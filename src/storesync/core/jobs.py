"""Background-job records: what runs, how far it got, how it ended, and running it again.

A ``Job`` row is the visible side of a Huey task. ``job_create`` stores it and enqueues
``core.tasks.job_run`` after commit; the task looks up the runner of the job's ``kind`` in
``RUNNERS`` and calls it with a ``JobContext``, through which the runner reports progress. The
task marks the job succeeded (with the runner's summary) or failed (with a human-readable
error); ``job_retry`` puts a failed or cancelled job back in the queue with the same params.

Runners are named by dotted path, not imported here: ``core`` sits below the apps whose work
it runs (an import-linter contract), and a path keeps the kinds listed in one place.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.ids import parse_id, uuid7
from storesync.core.models import Job, JobState
from storesync.core.pagination import Page, keyset_page
from storesync.core.tenancy import workspace_scope
from storesync.security.audit import Actor

# kind -> "module.path:function" taking (JobContext) and returning the result summary.
RUNNERS: dict[str, str] = {
    "import.products": "storesync.catalog.bulk:run_import_job",
    "import.inventory": "storesync.inventory.bulk:run_import_job",
    "channels.initial_sync": "storesync.channels.initial:run_initial_sync_job",
}
FINISHED = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
MAX_ERROR_CHARS = 2000


class JobFailed(Exception):
    """Raised by a runner for an expected failure (a rejected file): message and summary kept."""

    def __init__(self, message: str, *, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.result = result


class JobCancelled(Exception):
    """Raised inside a runner (by ``JobContext.progress``) when someone cancelled the job."""


def jobs_dir() -> Path:
    """Where jobs keep their files (uploads, reports): ``<data dir>/jobs``, private."""
    path = Path(settings.DATA_DIR) / "jobs"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def runner_for(kind: str) -> Callable[[JobContext], dict[str, Any]]:
    path = RUNNERS.get(kind)
    if path is None:
        raise ValidationError(f"no runner for job kind {kind!r}", field="kind")
    runner: Callable[[JobContext], dict[str, Any]] = import_string(path.replace(":", "."))
    return runner


@dataclass
class JobContext:
    """What a runner sees: the job's identity and params, and a way to report progress."""

    job_id: uuid.UUID
    workspace_id: uuid.UUID
    kind: str
    params: dict[str, Any]
    actor: Actor

    def progress(self, *, done: int, total: int | None = None, stage: str = "") -> None:
        """Record progress; raises ``JobCancelled`` if the job was cancelled meanwhile."""
        job_progress(workspace_id=self.workspace_id, job_id=self.job_id, done=done, total=total,
                     stage=stage)

    def set_result_file(self, relative_path: str) -> None:
        with workspace_scope(self.workspace_id), transaction.atomic():
            Job.objects.filter(id=self.job_id).update(result_file=relative_path)


def _enqueue(workspace_id: uuid.UUID, job_id: uuid.UUID) -> None:
    from storesync.core.tasks import job_run

    transaction.on_commit(lambda: job_run(str(workspace_id), str(job_id)))


def job_create(*, workspace_id: uuid.UUID, kind: str, params: dict[str, Any], actor: Actor,
               job_id: uuid.UUID | None = None) -> Job:
    """A queued job of ``kind``, enqueued once the surrounding transaction commits."""
    runner_for(kind)
    with workspace_scope(workspace_id), transaction.atomic():
        job = Job.objects.create(
            id=job_id or uuid7(), workspace_id=workspace_id, kind=kind, params=params,
            created_by_type=actor.type, created_by_id=actor.id,
        )
        _enqueue(workspace_id, job.id)
    return job


def job_start(*, workspace_id: uuid.UUID, job_id: uuid.UUID) -> Job | None:
    """Move a queued job to running; None if it is not queued (cancelled, or already taken)."""
    with workspace_scope(workspace_id), transaction.atomic():
        taken = Job.objects.filter(id=job_id, state=JobState.QUEUED).update(
            state=JobState.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1,
            progress_done=0, progress_total=None, stage="", last_error="")
        return Job.objects.get(id=job_id) if taken else None


def job_progress(*, workspace_id: uuid.UUID, job_id: uuid.UUID, done: int,
                 total: int | None = None, stage: str = "") -> None:
    """Record how far a running job got; raises ``JobCancelled`` if it no longer runs."""
    with workspace_scope(workspace_id), transaction.atomic():
        changes: dict[str, Any] = {"progress_done": max(done, 0), "updated_at": timezone.now()}
        if total is not None:
            changes["progress_total"] = max(total, 0)
        if stage:
            changes["stage"] = stage[:40]
        if not Job.objects.filter(id=job_id, state=JobState.RUNNING).update(**changes):
            raise JobCancelled(str(job_id))


def job_finish(*, workspace_id: uuid.UUID, job_id: uuid.UUID, result: dict[str, Any]) -> Job:
    """Mark a running job succeeded with its summary."""
    return _end(workspace_id, job_id, JobState.SUCCEEDED, result=result)


def job_fail(*, workspace_id: uuid.UUID, job_id: uuid.UUID, error: str,
             result: dict[str, Any] | None = None) -> Job:
    """Mark a job failed; ``error`` is shown to people, so it says what went wrong plainly."""
    return _end(workspace_id, job_id, JobState.FAILED, error=error, result=result)


def _end(workspace_id: uuid.UUID, job_id: uuid.UUID, state: JobState, *, error: str = "",
         result: dict[str, Any] | None = None) -> Job:
    with workspace_scope(workspace_id), transaction.atomic():
        job = Job.objects.select_for_update().filter(id=job_id).first()
        if job is None:
            raise NotFound("no such job")
        if job.state in FINISHED:
            return job  # cancelled while running: keep the cancellation
        job.state = state
        job.last_error = error[:MAX_ERROR_CHARS]
        if result is not None:
            job.result = result
        job.finished_at = timezone.now()
        job.save()
        return job


def job_cancel(*, workspace_id: uuid.UUID, job_id: uuid.UUID | str, actor: Actor) -> Job:
    """Cancel a queued or running job; a running one stops at its next progress report."""
    jid = parse_id(job_id, what="job")
    with workspace_scope(workspace_id), transaction.atomic():
        job = Job.objects.select_for_update().filter(id=jid).first()
        if job is None:
            raise NotFound("no such job")
        if job.state in FINISHED:
            raise Conflict(f"the job already ended ({job.state})", field="state")
        job.state = JobState.CANCELLED
        job.finished_at = timezone.now()
        job.last_error = f"cancelled by {actor.type} {actor.id}".strip()
        job.save()
        return job


def job_retry(*, workspace_id: uuid.UUID, job_id: uuid.UUID | str, actor: Actor) -> Job:
    """Queue a failed or cancelled job again with the same params (409 otherwise)."""
    jid = parse_id(job_id, what="job")
    with workspace_scope(workspace_id), transaction.atomic():
        job = Job.objects.select_for_update().filter(id=jid).first()
        if job is None:
            raise NotFound("no such job")
        if job.state not in (JobState.FAILED, JobState.CANCELLED):
            raise Conflict(f"only a failed or cancelled job can be retried; this one is "
                           f"{job.state}", field="state")
        job.state = JobState.QUEUED
        job.last_error = ""
        job.result = {}
        job.result_file = ""
        job.progress_done, job.progress_total, job.stage = 0, None, ""
        job.started_at = job.finished_at = None
        job.save()
        _enqueue(workspace_id, job.id)
        return job


def job_get(*, workspace_id: uuid.UUID, job_id: uuid.UUID | str) -> Job:
    jid = parse_id(job_id, what="job")
    with workspace_scope(workspace_id):
        job = Job.objects.filter(id=jid).first()
    if job is None:
        raise NotFound("no such job")
    return job


def job_list(*, workspace_id: uuid.UUID, cursor: str | None = None, limit: int = 50,
             kinds: Collection[str] | None = None, state: str | None = None) -> Page[Job]:
    """Newest first, optionally only of some kinds or of one state."""
    with workspace_scope(workspace_id):
        queryset = Job.objects.all()
        if kinds is not None:
            queryset = queryset.filter(kind__in=list(kinds))
        if state:
            queryset = queryset.filter(state=state)
        return keyset_page(queryset, cursor=cursor, limit=limit)

"""Job records: state, progress, failure, cancellation and retry, through the real task."""

from __future__ import annotations

import pytest

from storesync.core import jobs
from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.models import JobState
from storesync.security.audit import Actor

ACTOR = Actor("user", "u-1")
SEEN: list[jobs.JobContext] = []


def record_runner(context: jobs.JobContext) -> dict:
    """A runner for these tests: reports progress, or fails as its params say."""
    SEEN.append(context)
    context.progress(done=1, total=2, stage="half")
    if context.params.get("fail") == "expected":
        raise jobs.JobFailed("the file was refused", result={"errors": [1]})
    if context.params.get("fail") == "crash":
        raise RuntimeError("secret detail")
    return {"ok": True}


@pytest.fixture(autouse=True)
def _test_runner(monkeypatch):
    monkeypatch.setitem(jobs.RUNNERS, "test.record", f"{__name__}:record_runner")
    SEEN.clear()


def _run(workspace, params, capture):
    with capture(execute=True):
        return jobs.job_create(workspace_id=workspace.workspace.id, kind="test.record",
                               params=params, actor=ACTOR)


def test_a_job_runs_after_commit_and_records_its_result(
        workspace, django_capture_on_commit_callbacks):
    ws = workspace.workspace.id
    job = _run(workspace, {"n": 1}, django_capture_on_commit_callbacks)
    done = jobs.job_get(workspace_id=ws, job_id=job.id)
    assert done.state == JobState.SUCCEEDED and done.result == {"ok": True}
    assert (done.progress_done, done.progress_total, done.stage) == (1, 2, "half")
    assert done.created_by_type == "user" and done.created_by_id == "u-1"
    assert done.started_at <= done.finished_at and done.attempts == 1
    assert SEEN[0].actor == ACTOR and SEEN[0].params == {"n": 1}


def test_failures_are_recorded_in_plain_words_and_can_be_retried(
        workspace, django_capture_on_commit_callbacks):
    ws = workspace.workspace.id
    job = _run(workspace, {"fail": "expected"}, django_capture_on_commit_callbacks)
    failed = jobs.job_get(workspace_id=ws, job_id=job.id)
    assert failed.state == JobState.FAILED and failed.last_error == "the file was refused"
    assert failed.result == {"errors": [1]}
    crashed = _run(workspace, {"fail": "crash"}, django_capture_on_commit_callbacks)
    crashed = jobs.job_get(workspace_id=ws, job_id=crashed.id)
    assert "RuntimeError" in crashed.last_error and "secret" not in crashed.last_error
    with django_capture_on_commit_callbacks(execute=True):
        jobs.job_retry(workspace_id=ws, job_id=job.id, actor=ACTOR)
    again = jobs.job_get(workspace_id=ws, job_id=job.id)
    assert again.state == JobState.FAILED and again.attempts == 2 and len(SEEN) == 3
    with pytest.raises(Conflict):
        jobs.job_cancel(workspace_id=ws, job_id=job.id, actor=ACTOR)


def test_cancelled_jobs_do_not_run_and_only_ended_jobs_retry(workspace):
    ws = workspace.workspace.id
    job = jobs.job_create(workspace_id=ws, kind="test.record", params={}, actor=ACTOR)
    with pytest.raises(Conflict, match="queued"):
        jobs.job_retry(workspace_id=ws, job_id=job.id, actor=ACTOR)
    jobs.job_cancel(workspace_id=ws, job_id=job.id, actor=ACTOR)
    assert jobs.job_start(workspace_id=ws, job_id=job.id) is None
    with pytest.raises(jobs.JobCancelled):
        jobs.job_progress(workspace_id=ws, job_id=job.id, done=1)
    assert jobs.job_get(workspace_id=ws, job_id=job.id).state == JobState.CANCELLED


def test_jobs_are_private_to_their_workspace_and_kinds_are_known(workspace, other_workspace):
    job = jobs.job_create(workspace_id=workspace.workspace.id, kind="test.record", params={},
                          actor=ACTOR)
    with pytest.raises(NotFound):
        jobs.job_get(workspace_id=other_workspace.workspace.id, job_id=job.id)
    assert jobs.job_list(workspace_id=other_workspace.workspace.id).items == []
    with pytest.raises(ValidationError, match="no runner"):
        jobs.job_create(workspace_id=workspace.workspace.id, kind="nope", params={},
                        actor=ACTOR)

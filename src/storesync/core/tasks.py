"""Background jobs of the core app."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from storesync.core.errors import StoresyncError
from storesync.core.logs import get_logger
from storesync.core.models import Invitation, Workspace
from storesync.core.tenancy import workspace_scope
from storesync.security.access import personal_data_access
from storesync.security.audit import Actor

log = get_logger(__name__)


@db_task(retries=5, retry_delay=30)
def send_invitation(workspace_id: str, invitation_id: str, token: str) -> None:
    """Email the invitation link. Retried: an SMTP outage delays the mail, never loses it."""
    wid = uuid.UUID(workspace_id)
    with workspace_scope(wid):
        invitation = Invitation.objects.filter(id=invitation_id).first()
        if invitation is None or invitation.accepted_at or invitation.revoked_at:
            return
        workspace = Workspace.objects.get(id=wid)
        with personal_data_access(
            actor=Actor.system("mailer"), workspace_id=wid, purpose="invitation"
        ):
            recipient = invitation.email
    link = f"{settings.CONFIG.base_url}/invitations/{token}/"
    send_mail(
        subject=f"You are invited to {workspace.name} on storesync",
        message=(
            f"You have been invited to join {workspace.name} as {invitation.role}.\n\n"
            f"Accept within 7 days: {link}\n\nIf you did not expect this, ignore this email."
        ),
        from_email=None,
        recipient_list=[recipient],
    )


@db_task()
def job_run(workspace_id: str, job_id: str) -> None:
    """Run a ``core.Job``: its runner reports progress; the outcome is stored on the job.

    Not retried by Huey: a failed job stays failed, with its error, until someone retries it
    (``job_retry``), because most failures (a bad file, a conflict) need a person first.
    """
    from storesync.core import jobs

    wid, jid = uuid.UUID(workspace_id), uuid.UUID(job_id)
    job = jobs.job_start(workspace_id=wid, job_id=jid)
    if job is None:
        return
    context = jobs.JobContext(job_id=jid, workspace_id=wid, kind=job.kind, params=job.params,
                              actor=Actor(job.created_by_type, job.created_by_id))
    try:
        result = jobs.runner_for(job.kind)(context)
    except jobs.JobCancelled:
        return
    except jobs.JobFailed as exc:
        jobs.job_fail(workspace_id=wid, job_id=jid, error=str(exc), result=exc.result)
        return
    except StoresyncError as exc:  # a rule of the domain: its message is for people
        where = f" ({exc.field})" if exc.field else ""
        jobs.job_fail(workspace_id=wid, job_id=jid, error=f"{exc.message}{where}")
        return
    except Exception as exc:
        log.exception("job_failed", job_id=job_id, kind=job.kind)
        jobs.job_fail(workspace_id=wid, job_id=jid,
                      error=f"the job stopped on an unexpected error ({type(exc).__name__}); "
                            "it is logged, and the job can be retried")
        return
    jobs.job_finish(workspace_id=wid, job_id=jid, result=result)


@db_periodic_task(crontab(minute="7", hour="*/6"))
def optimize_database() -> str:
    """SQLite keeps no statistics unless told: without them the planner can pick a poor index
    once tables grow (the order list at 1M rows did). ``PRAGMA optimize`` runs ANALYZE only on
    tables whose shape changed, so it is cheap to run every few hours, as SQLite's documentation
    recommends for long-lived connections. PostgreSQL's autovacuum does this on its own."""
    if connection.vendor != "sqlite":
        return "skipped"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            # Never analyzed: SQLite before 3.46 only optimizes tables this connection used,
            # so a database's first statistics are gathered whole, once.
            cursor.execute("ANALYZE")
            return "analyzed"
        cursor.execute("PRAGMA optimize")
    return "optimized"

"""Jobs of the privacy engine: codes and links by email, running requests, retries, sweeps."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from storesync.core.logs import get_logger
from storesync.core.models import Workspace
from storesync.core.tenancy import system_scope, workspace_scope
from storesync.privacy import lifts, propagation, retention, services
from storesync.privacy.requests_models import DataSubjectRequest, Propagation, RequestStatus
from storesync.security.access import Purpose, personal_data_access
from storesync.security.audit import Actor

log = get_logger(__name__)


def _recipient(wid: uuid.UUID, request_id: str) -> tuple[DataSubjectRequest | None, str]:
    with workspace_scope(wid):
        request = DataSubjectRequest.objects.filter(id=request_id).first()
        if request is None:
            return None, ""
        with personal_data_access(actor=Actor.system("mailer"), workspace_id=wid,
                                  purpose=Purpose.DATA_SUBJECT_REQUEST):
            return request, request.email or ""


@db_task(retries=5, retry_delay=30)
def send_code(workspace_id: str, request_id: str, code: str) -> None:
    """Email the verification code (retried: an SMTP outage delays it, never loses it)."""
    wid = uuid.UUID(workspace_id)
    request, email = _recipient(wid, request_id)
    if request is None or not email:
        return
    workspace = Workspace.objects.get(id=wid)
    send_mail(
        subject=f"Your verification code for {workspace.name}",
        message=(f"Someone asked {workspace.name} for a privacy request ({request.kind}) about "
                 f"this email address.\n\nVerification code: {code}\n\nIt works once, for 15 "
                 "minutes. If you did not ask, ignore this email: nothing happens without it."),
        from_email=None, recipient_list=[email])


@db_task(retries=5, retry_delay=30)
def send_export_link(workspace_id: str, request_id: str, token: str) -> None:
    """Email the one-time download link of an access export."""
    wid = uuid.UUID(workspace_id)
    request, email = _recipient(wid, request_id)
    if request is None or not email:
        return
    workspace = Workspace.objects.get(id=wid)
    link = f"{settings.CONFIG.base_url}/privacy/{workspace.slug}/download/{token}"
    send_mail(
        subject=f"Your data from {workspace.name} is ready",
        message=(f"Download a copy of the data {workspace.name} holds about you:\n\n{link}\n\n"
                 "The link works once and expires in 7 days."),
        from_email=None, recipient_list=[email])


@db_task(retries=3, retry_delay=60)
def run_request(workspace_id: str, request_id: str) -> None:
    services.dsr_run(workspace_id=uuid.UUID(workspace_id), request_id=request_id)


@db_task(retries=5, retry_delay=60)
def lift_restriction(workspace_id: str, request_id: str) -> int | None:
    """Tell the requester that their restriction is about to be lifted, then lift it
    (retried: a mail outage delays the lift, never skips the notice)."""
    return lifts.restriction_lift_carry_out(workspace_id=uuid.UUID(workspace_id),
                                            request_id=uuid.UUID(request_id))


@db_task(retries=2, retry_delay=60)
def dispatch_propagations(workspace_id: str) -> int:
    """Send the workspace's due propagations (a staff "retry now" enqueues this)."""
    return propagation.dispatch(workspace_id=uuid.UUID(workspace_id))


@db_periodic_task(crontab(minute="*/10"))
def resume_requests() -> int:
    """Every 10 minutes: re-run approved requests whose job died before finishing, carry out
    lifts still waiting for their notice, and retry due propagations."""
    stale = timezone.now() - timedelta(minutes=10)
    with system_scope():
        unfinished = list(DataSubjectRequest.objects.filter(
            status=RequestStatus.IN_PROGRESS, local_done_at__isnull=True,
            received_at__lt=stale).values_list("workspace_id", "id")[:200])
        # Lifts whose job gave up (a long mail outage): the notice, then the lift, again.
        lifting = list(DataSubjectRequest.objects.filter(
            outcome__has_key="lift_requested_at").exclude(outcome__has_key="lifted_at")
            .values_list("workspace_id", "id")[:200])
        retry = set(Propagation.objects.filter(
            state=Propagation.State.PENDING, next_attempt_at__lte=timezone.now())
            .values_list("workspace_id", flat=True).distinct())
    for wid, rid in unfinished:
        services.dsr_run(workspace_id=wid, request_id=rid)
    for wid, rid in lifting:
        lifts.restriction_lift_carry_out(workspace_id=wid, request_id=rid)
    for wid in retry:
        propagation.dispatch(workspace_id=wid)
    return len(unfinished)


@db_periodic_task(crontab(hour="2", minute="41"))
def retention_sweep_all() -> None:
    """Daily: in every workspace, record a dry-run report (what is due), then apply it."""
    actor = Actor.system("retention")
    for wid in Workspace.objects.values_list("id", flat=True):
        retention.retention_sweep(workspace_id=wid, apply=False, actor=actor)
        reports = retention.retention_sweep(workspace_id=wid, apply=True, actor=actor)
        log.info("retention_swept", workspace=str(wid),
                 disposed={r.name: r.disposed for r in reports if r.disposed})


@db_task(retries=5, retry_delay=30)
def send_notice(workspace_id: str, email: str, subject: str, body: str) -> None:
    """Tell the requester how their request ended (the address travels with the job because
    an erasure has already removed it from the database)."""
    workspace = Workspace.objects.get(id=uuid.UUID(workspace_id))
    send_mail(subject=f"{subject} ({workspace.name})", message=body, from_email=None,
              recipient_list=[email])

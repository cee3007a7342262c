"""Telling every recipient that received the data of an erasure, a correction, a restriction
or the lifting of a restriction (GDPR Art. 19).

One ``Propagation`` row per connection (from the subject's orders) and per processor
(registered by the processors part of the privacy app) and action; the row is created in the
same transaction as the local change. After commit, ``dispatch`` sends the action's signal
(``SIGNALS``) for each due row; the channels app's receiver performs the platform call and
reports back through ``propagation_record_result``. A row becomes ``succeeded`` only on that
confirmation; without a receiver, or on an error, it stays pending and is retried with
exponential backoff, then marked ``failed`` for a person to look at.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from storesync.core.errors import Conflict, NotFound
from storesync.core.logs import get_logger
from storesync.core.tenancy import workspace_scope
from storesync.privacy import signals
from storesync.privacy.requests_models import DataSubjectRequest, Propagation, RequestStatus
from storesync.privacy.subject_data import Subject
from storesync.security import audit

log = get_logger(__name__)
MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(minutes=5)

# Other recipients (processors such as couriers, email providers): each returns
# (recipient_type, recipient_id, name) for the subject.
RecipientResolver = Callable[[Subject], list[tuple[str, str, str]]]
_resolvers: dict[str, RecipientResolver] = {}


# The actions a row can carry and the signal each sends.
SIGNALS = {
    "erasure": signals.erasure_requested,
    "correction": signals.correction_requested,
    "restriction": signals.restriction_requested,
    "restriction_lift": signals.restriction_lift_requested,
}


def register_recipients(name: str, resolver: RecipientResolver) -> None:
    """Add recipients (processors) that must hear of erasures, corrections and
    restrictions."""
    _resolvers[name] = resolver


def plan(request: DataSubjectRequest, subject: Subject, *, action: str) -> int:
    """Create the propagation rows (in the caller's transaction); returns how many."""
    if action not in SIGNALS:
        raise ValueError(f"unknown propagation action {action!r}")
    recipients = {("connection", str(c), "") for c in subject.connection_ids}
    if request.connection_id:
        recipients.add(("connection", str(request.connection_id), ""))
    for resolver in _resolvers.values():
        recipients |= set(resolver(subject))
    now = timezone.now()
    Propagation.objects.bulk_create([
        Propagation(workspace_id=request.workspace_id, request=request, recipient_type=kind,
                    recipient_id=ident, recipient_name=name, action=action, next_attempt_at=now)
        for kind, ident, name in sorted(recipients)], ignore_conflicts=True)
    return len(recipients)


def _send(row: Propagation, request: DataSubjectRequest) -> str:
    """Send the signal for one row; '' if some receiver took it, else the problem."""
    results = SIGNALS[row.action].send_robust(
        sender=Propagation, workspace_id=row.workspace_id, request_id=request.id,
        propagation_id=row.id, recipient_type=row.recipient_type,
        recipient_id=row.recipient_id, scope=request.scope,
        customer_ids=list(request.customer_ids))
    errors = [repr(r) for _, r in results if isinstance(r, Exception)]
    if errors:
        return "; ".join(errors)[:500]
    if not any(r for _, r in results):
        return "no receiver is installed for this recipient yet"
    return ""


def _outcome(row: Propagation, problem: str) -> tuple[bool, str]:
    """(confirmed, problem) after the signal: a receiver that took the row reported through
    ``propagation_record_result``; a row still pending then carries its reported error."""
    state, reported = Propagation.objects.filter(id=row.id).values_list(
        "state", "last_error").get()
    if state == Propagation.State.SUCCEEDED:
        return True, ""
    return False, problem or reported or "the recipient did not confirm"


def dispatch(*, workspace_id: uuid.UUID, request_id: uuid.UUID | None = None) -> int:
    """Send signals for every due pending row (of one request, or all); returns how many."""
    now = timezone.now()
    with workspace_scope(workspace_id):
        rows = Propagation.objects.filter(state=Propagation.State.PENDING,
                                          next_attempt_at__lte=now).select_related("request")
        if request_id is not None:
            rows = rows.filter(request_id=request_id)
        sent = 0
        for row in list(rows[:500]):
            confirmed, problem = _outcome(row, _send(row, row.request))
            sent += 1
            if confirmed:
                continue
            with transaction.atomic():
                row.attempts += 1
                row.last_error = problem
                if problem and row.attempts >= MAX_ATTEMPTS:
                    row.state = Propagation.State.FAILED
                row.next_attempt_at = now + BASE_DELAY * (2 ** min(row.attempts, 8))
                # a receiver may already have confirmed inside send(): keep its verdict
                Propagation.objects.filter(id=row.id, state=Propagation.State.PENDING).update(
                    attempts=row.attempts, last_error=row.last_error, state=row.state,
                    next_attempt_at=row.next_attempt_at)
            if problem:
                log.warning("privacy_propagation_pending", propagation=str(row.id),
                            attempts=row.attempts)
    return sent


def propagation_record_result(*, workspace_id: uuid.UUID, propagation_id: uuid.UUID,
                              ok: bool, error: str = "", note: str = "") -> Propagation:
    """A recipient confirmed (``ok``, with ``note``: what it did, in words) or failed; the
    request completes when all confirmed."""
    with workspace_scope(workspace_id), transaction.atomic():
        row = Propagation.objects.select_for_update().filter(id=propagation_id).first()
        if row is None:
            raise NotFound("no such propagation")
        if row.state == Propagation.State.SUCCEEDED:
            raise Conflict("already confirmed", field="propagation_id")
        if ok:
            row.state, row.confirmed_at, row.last_error, row.note = (
                Propagation.State.SUCCEEDED, timezone.now(), "", note[:500])
        else:
            row.last_error = error[:500] or "failed"
        row.save(update_fields=["state", "confirmed_at", "last_error", "note"])
        audit.record(action=audit.Action.PRIVACY_PROPAGATION_RESULT,
                     actor=audit.Actor.system("channels"), workspace_id=workspace_id,
                     subject_type="privacy_request", subject_id=row.request_id,
                     detail={"recipient": f"{row.recipient_type}:{row.recipient_id}",
                             "action": row.action, "ok": ok})
        _maybe_complete(row.request_id)
    return row


def propagation_retry(*, workspace_id: uuid.UUID, propagation_id: uuid.UUID) -> None:
    """Staff retry a failed propagation now: due at once, sent by a job after commit (the
    platform calls run in the worker, never in the staff member's web request)."""
    with workspace_scope(workspace_id), transaction.atomic():
        Propagation.objects.filter(id=propagation_id).exclude(
            state=Propagation.State.SUCCEEDED).update(
            state=Propagation.State.PENDING, next_attempt_at=timezone.now())
        from storesync.privacy.rights_tasks import dispatch_propagations

        wid = str(workspace_id)
        transaction.on_commit(lambda: dispatch_propagations(wid))


def _maybe_complete(request_id: uuid.UUID) -> None:
    open_rows = Propagation.objects.filter(request_id=request_id).exclude(
        state=Propagation.State.SUCCEEDED).exists()
    if open_rows:
        return
    request = DataSubjectRequest.objects.select_for_update().get(id=request_id)
    if request.status == RequestStatus.IN_PROGRESS and request.local_done_at:
        request.status = RequestStatus.COMPLETED
        request.completed_at = timezone.now()
        request.save(update_fields=["status", "completed_at"])
        audit.record(action=audit.Action.PRIVACY_REQUEST_COMPLETED,
                     actor=audit.Actor.system("privacy"), workspace_id=request.workspace_id,
                     subject_type="privacy_request", subject_id=request.id,
                     detail={"kind": request.kind})

"""Telling every recipient that received the data of an erasure, a correction, a restriction
or the lifting of a restriction (GDPR Art. 19).

One ``Propagation`` row per connection (from the subject's orders) and per processor
(registered by the processors part of the privacy app) and action; the row is created in the
same transaction as the local change. After commit, ``dispatch`` sends the action's signal
(``SIGNALS``) for each due row; the receiver of the row's recipient type does the work and
reports back. A channel (the channels app's receiver) confirms at once through
``propagation_record_result``: only then is the row ``succeeded``; on an error it stays
pending and is retried with exponential backoff, then marked ``failed`` for a person to look
at. A processor is told by an email (``privacy.processor_notices``): its row is then ``sent``
until staff record its answer (``propagation_answer_record``), or ``waiting`` while the
processor has no privacy contact on file. Neither is retried by the dispatcher.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.ids import parse_id
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
# Called with (request, subject, action) once the rows are created, in the same transaction
# (the processors part notes how each processor knows the person, before anything changes).
PlannedHook = Callable[[DataSubjectRequest, Subject, str], None]
_planned_hooks: dict[str, PlannedHook] = {}


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


def register_planned(name: str, hook: PlannedHook) -> None:
    """Run ``hook`` after ``plan`` created a request's rows for an action."""
    _planned_hooks[name] = hook


def plan(request: DataSubjectRequest, subject: Subject, *, action: str) -> int:
    """Create the propagation rows (in the caller's transaction); returns how many. Called
    before the local change, so that the planned hooks still see the data as it was."""
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
    for hook in _planned_hooks.values():
        hook(request, subject, action)
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
    """(settled, problem) after the signal. A receiver that took the row either confirmed it,
    or handed it to a person (``sent``: a notice awaits the processor's answer; ``waiting``:
    nothing can be sent yet); a row still pending carries its reported error and is retried."""
    state, reported = Propagation.objects.filter(id=row.id).values_list(
        "state", "last_error").get()
    if state != Propagation.State.PENDING:
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
            settled, problem = _outcome(row, _send(row, row.request))
            sent += 1
            if settled:
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
                              ok: bool, error: str = "", note: str = "", final: bool = False,
                              actor: audit.Actor | None = None) -> Propagation:
    """A recipient confirmed (``ok``, with ``note``: what it did, in words) or failed; the
    request completes when all confirmed. A failure is retried unless ``final`` (the
    recipient refused, or could not comply): the row is then ``failed``, with ``note``."""
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
            if final:
                row.state, row.note = Propagation.State.FAILED, note[:500]
        fields = ["state", "confirmed_at", "last_error", "note"]
        if ok or final:
            # The recipient answered: how it knew the person is no longer needed here.
            row.subject_reference = None
            fields.append("subject_reference")
        row.save(update_fields=fields)
        detail: dict[str, object] = {"recipient": f"{row.recipient_type}:{row.recipient_id}",
                                     "action": row.action, "ok": ok}
        if final:
            detail["final"] = True
        if actor is not None and note:
            detail["note"] = note[:500]  # a person's record of the recipient's answer
        audit.record(action=audit.Action.PRIVACY_PROPAGATION_RESULT,
                     actor=actor or audit.Actor.system("channels"), workspace_id=workspace_id,
                     subject_type="privacy_request", subject_id=row.request_id, detail=detail)
        _maybe_complete(row.request_id)
    return row


ANSWERS = ("confirmed", "refused")


def propagation_answer_record(*, workspace_id: uuid.UUID, request_id: uuid.UUID | str,
                              propagation_id: uuid.UUID | str, outcome: str, note: str,
                              actor: audit.Actor) -> Propagation:
    """Staff record a processor's answer to its notice: ``confirmed`` (the row succeeds and
    the request completes once every row has) or ``refused`` (it refused or could not
    comply: the row fails, and can be sent again). ``note`` says what the processor answered
    and how ("DHL confirmed deletion by email 2026-11-20"); it is kept on the row and in the
    audit log, so it must not repeat the person's data."""
    if outcome not in ANSWERS:
        raise ValidationError(f"one of {', '.join(ANSWERS)}", field="outcome")
    note = note.strip()
    if not note or len(note) > 500:
        raise ValidationError("say what the processor answered, and how (at most 500 "
                              "characters)", field="note")
    rid = parse_id(request_id, what="request")
    pid = parse_id(propagation_id, what="recipient")
    with workspace_scope(workspace_id):
        row = Propagation.objects.filter(id=pid, request_id=rid).first()
        if row is None:
            raise NotFound("no such recipient on this request")
        if row.recipient_type != "processor":
            raise Conflict("a channel confirms through its own connection: retry it instead",
                           field="propagation_id")
        return propagation_record_result(
            workspace_id=workspace_id, propagation_id=row.id, ok=outcome == "confirmed",
            error="the processor refused or could not comply", note=note,
            final=outcome == "refused", actor=actor)


def propagation_release_waiting(*, workspace_id: uuid.UUID, recipient_type: str,
                                recipient_id: str) -> int:
    """Rows that waited for this recipient (a processor's missing privacy contact) become due
    again, sent by a job after commit; returns how many."""
    with workspace_scope(workspace_id), transaction.atomic():
        released = Propagation.objects.filter(
            recipient_type=recipient_type, recipient_id=recipient_id,
            state=Propagation.State.WAITING).update(
            state=Propagation.State.PENDING, next_attempt_at=timezone.now())
        if released:
            from storesync.privacy.rights_tasks import dispatch_propagations

            wid = str(workspace_id)
            transaction.on_commit(lambda: dispatch_propagations(wid))
    return released


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

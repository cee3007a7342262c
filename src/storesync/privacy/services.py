"""Data-subject requests: submit, verify, approve, run, reject, and platform requests.

A request is verified by a code emailed to the address it names; only then is anything looked
up. Whether the address matches a customer never changes what the requester sees. Running a
request (``dsr_run``) is idempotent and resumable: erasure records ``local_done_at`` in the
same transaction as the erasure itself, so a job interrupted before it commits runs again from
the start, and one interrupted after only re-sends the propagation signals.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.ids import parse_id
from storesync.core.models import Workspace, normalise_email
from storesync.core.tenancy import workspace_scope
from storesync.core.validation import validate_email_address
from storesync.privacy import deadlines, erasure, export, propagation, verification
from storesync.privacy.requests_models import (
    DataSubjectRequest,
    Jurisdiction,
    RequestKind,
    RequestStatus,
    RightsSettings,
    SubjectRestriction,
)
from storesync.privacy.subject_data import Subject, email_digests, subject_find
from storesync.security import audit
from storesync.security.access import Purpose, personal_data_access

EXPORT_TTL = timedelta(days=7)
CORRECTABLE = ("first_name", "last_name", "email", "phone")
AUTOMATIC = {RequestKind.ACCESS, RequestKind.PORTABILITY, RequestKind.RESTRICTION,
             RequestKind.OBJECTION, RequestKind.DO_NOT_SELL}
OPEN = (RequestStatus.UNVERIFIED, RequestStatus.PENDING, RequestStatus.IN_PROGRESS)
SYSTEM = audit.Actor.system("privacy")


def workspace_by_slug(slug: str) -> Workspace:
    found = Workspace.objects.filter(slug=slug).first()
    if found is None:
        raise NotFound("no such privacy centre")
    return found


def rights_settings(workspace_id: uuid.UUID) -> RightsSettings:
    with workspace_scope(workspace_id):
        found = RightsSettings.objects.filter().first()
    return found or RightsSettings(workspace_id=workspace_id)


def _clean_details(kind: str, details: dict[str, str] | None) -> str | None:
    details = {k: str(v).strip() for k, v in (details or {}).items() if str(v).strip()}
    message = details.pop("message", "")
    if len(message) > 2000:
        raise ValidationError("at most 2000 characters", field="details.message")
    if kind == RequestKind.CORRECTION:
        unknown = set(details) - set(CORRECTABLE)
        if unknown:
            raise ValidationError("not a field that can be corrected",
                                  field=f"details.{sorted(unknown)[0]}")
        if not details:
            raise ValidationError("say what should be corrected", field="details")
        if "email" in details:
            details["email"] = validate_email_address(details["email"], field="details.email")
    elif details:
        raise ValidationError("only a correction carries field values",
                              field=f"details.{sorted(details)[0]}")
    if message:
        details["message"] = message
    return json.dumps(details) if details else None


def dsr_submit(*, workspace_slug: str, email: str, kind: str, jurisdiction: str = "",
               details: dict[str, str] | None = None, client_ip: str,
               source: str = "privacy_centre") -> DataSubjectRequest:
    """Record a request and email its verification code. Never looks the email up, so the
    answer is the same whether or not anyone with that address is known."""
    workspace = workspace_by_slug(workspace_slug)
    if kind not in RequestKind.values:
        raise ValidationError(f"one of {', '.join(RequestKind.values)}", field="kind")
    if jurisdiction and jurisdiction not in Jurisdiction.values:
        raise ValidationError(f"one of {', '.join(Jurisdiction.values)}", field="jurisdiction")
    address = validate_email_address(email, field="email")
    verification.throttle_submission(email_key=verification.email_key(normalise_email(address)),
                                     client_ip=client_ip)
    jurisdiction = jurisdiction or rights_settings(workspace.id).default_jurisdiction
    code = verification.new_code()
    now = timezone.now()
    with workspace_scope(workspace.id), transaction.atomic():
        request = DataSubjectRequest(
            workspace_id=workspace.id, kind=kind, jurisdiction=jurisdiction, email=address,
            details=_clean_details(kind, details), source=source,
            code_expires_at=now + verification.CODE_TTL,
            due_at=deadlines.due_at(jurisdiction, now))
        request.code_hash = verification.code_hash(request.id, code)
        request.save(force_insert=True)
        audit.record(action=audit.Action.PRIVACY_REQUEST_RECEIVED, actor=SYSTEM,
                     workspace_id=workspace.id, subject_type="privacy_request",
                     subject_id=request.id, detail={"kind": kind, "source": source})
        from storesync.privacy.rights_tasks import send_code

        transaction.on_commit(lambda: send_code(str(workspace.id), str(request.id), code))
    return request


def _locked(workspace_id: uuid.UUID, request_id: uuid.UUID | str) -> DataSubjectRequest:
    rid = parse_id(request_id, what="request")
    found = DataSubjectRequest.objects.select_for_update().filter(id=rid).first()
    if found is None:
        raise NotFound("no such request")
    return found


def _check_code(request: DataSubjectRequest, code: str) -> str:
    """'' when the code is right, else why not (the attempt is then counted)."""
    if request.status != RequestStatus.UNVERIFIED:
        return "used"
    if request.code_attempts >= verification.MAX_ATTEMPTS:
        return "locked"
    if request.code_expires_at is None or request.code_expires_at <= timezone.now():
        return "expired"
    if not verification.code_matches(request.id, code, request.code_hash):
        return "wrong"
    return ""


_WHY = {
    "used": "this request is already verified: a code works once",
    "locked": "too many wrong codes: submit the request again for a new code",
    "expired": "the code has expired (codes last 15 minutes): submit the request again",
    "wrong": "that code is not right; check the email and try again",
}


def dsr_verify(*, workspace_slug: str, request_id: uuid.UUID | str, code: str,
               client_ip: str) -> DataSubjectRequest:
    """Accept the emailed code. A wrong, expired, replayed or throttled code changes nothing
    but the attempt count, and the error says which it was."""
    workspace = workspace_by_slug(workspace_slug)
    verification.throttle_attempt(client_ip=client_ip)
    with workspace_scope(workspace.id):
        with transaction.atomic():
            request = _locked(workspace.id, request_id)
            problem = _check_code(request, code)
            if problem == "wrong":
                request.code_attempts += 1
                request.save(update_fields=["code_attempts"])
            elif not problem:
                _verified(request)
        if problem:
            raise (Conflict if problem == "used" else ValidationError)(_WHY[problem], field="code")
    return request


def _verified(request: DataSubjectRequest) -> None:
    with personal_data_access(actor=SYSTEM, workspace_id=request.workspace_id,
                              purpose=Purpose.DATA_SUBJECT_REQUEST):
        email = request.email or ""
    subject = subject_find(workspace_id=request.workspace_id, email=email)
    request.customer_ids = [str(c) for c in subject.customer_ids]
    request.status = RequestStatus.PENDING
    request.verified_at = timezone.now()
    request.code_hash = ""
    request.save(update_fields=["customer_ids", "status", "verified_at", "code_hash"])
    audit.record(action=audit.Action.PRIVACY_REQUEST_VERIFIED, actor=SYSTEM,
                 workspace_id=request.workspace_id, subject_type="privacy_request",
                 subject_id=request.id, detail={"matched_customers": len(subject.customer_ids)})
    if _runs_without_review(request):
        _start(request, SYSTEM)


def _runs_without_review(request: DataSubjectRequest) -> bool:
    if request.kind in AUTOMATIC:
        return True
    if request.kind != RequestKind.CORRECTION:
        return False
    # A correction of the email to the very address the requester just proved is safe.
    with personal_data_access(actor=SYSTEM, workspace_id=request.workspace_id,
                              purpose=Purpose.DATA_SUBJECT_REQUEST):
        wanted = json.loads(request.details or "{}")
        wanted.pop("message", None)
        return set(wanted) == {"email"} and normalise_email(wanted["email"]) == \
            normalise_email(request.email or "")


def _start(request: DataSubjectRequest, actor: audit.Actor) -> None:
    request.status = RequestStatus.IN_PROGRESS
    request.save(update_fields=["status"])
    audit.record(action=audit.Action.PRIVACY_REQUEST_APPROVED, actor=actor,
                 workspace_id=request.workspace_id, subject_type="privacy_request",
                 subject_id=request.id)
    from storesync.privacy.rights_tasks import run_request

    wid, rid = str(request.workspace_id), str(request.id)
    transaction.on_commit(lambda: run_request(wid, rid))


def dsr_approve(*, workspace_id: uuid.UUID, request_id: uuid.UUID | str,
                actor: audit.Actor) -> DataSubjectRequest:
    """Staff approve a verified request; it then runs as a job."""
    with workspace_scope(workspace_id), transaction.atomic():
        request = _locked(workspace_id, request_id)
        if request.status != RequestStatus.PENDING:
            raise Conflict(f"a request that is {request.status} cannot be approved",
                           field="action")
        _start(request, actor)
    return request


def dsr_reject(*, workspace_id: uuid.UUID, request_id: uuid.UUID | str, actor: audit.Actor,
               reason: str) -> DataSubjectRequest:
    """Refuse a request, with the reason the law requires us to give."""
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise ValidationError("a reason (at most 500 characters) is required", field="reason")
    with workspace_scope(workspace_id), transaction.atomic():
        request = _locked(workspace_id, request_id)
        if request.status not in OPEN or request.local_done_at:
            raise Conflict(f"a request that is {request.status} cannot be rejected",
                           field="action")
        request.status = RequestStatus.REJECTED
        request.completed_at = timezone.now()
        request.outcome = {**request.outcome, "rejected_because": reason}
        request.save(update_fields=["status", "completed_at", "outcome"])
        audit.record(action=audit.Action.PRIVACY_REQUEST_REJECTED, actor=actor,
                     workspace_id=workspace_id, subject_type="privacy_request",
                     subject_id=request.id, detail={"reason": reason})
        if request.status != RequestStatus.UNVERIFIED:
            _notify(request, f"We could not carry out your request: {reason}")
    return request


def request_subject(request: DataSubjectRequest) -> tuple[Subject, list[bytes]]:
    """The request's subject and the blind-index digests of its email (an audited read)."""
    with personal_data_access(actor=SYSTEM, workspace_id=request.workspace_id,
                              purpose=Purpose.DATA_SUBJECT_REQUEST):
        email = request.email or ""
    ids = [uuid.UUID(c) for c in request.customer_ids]
    subject = subject_find(workspace_id=request.workspace_id, email=email, customer_ids=ids,
                           connection_id=request.connection_id if request.scope == "connection"
                           else None)
    digests = email_digests(DataSubjectRequest, request.workspace_id, email) if email else []
    return subject, digests


NOTICES = {
    RequestKind.ERASURE: "We have erased your personal data. Records the law obliges us to keep "
                         "(tax invoices) keep only what the law requires, until the legal period "
                         "ends. Sales channels that received your data are asked to erase it too.",
    RequestKind.CORRECTION: "We have corrected your data, and asked the sales channels that "
                            "hold a copy to correct it too.",
    RequestKind.RESTRICTION: "Your data is now restricted: we keep it but do not use it. Sales "
                             "channels and service providers that received your data are told "
                             "of the restriction too.",
    RequestKind.OBJECTION: "We no longer use your data for marketing or analytics. Sales "
                           "channels and service providers that received your data are told "
                           "of your objection too.",
    RequestKind.DO_NOT_SELL: "We will not sell or share your data for advertising. Sales "
                             "channels and service providers that received your data are told "
                             "of your choice too.",
}


def _notify(request: DataSubjectRequest, body: str, email: str = "") -> None:
    """Email the requester after commit (``email`` when the row no longer holds it)."""
    if not email:
        with personal_data_access(actor=SYSTEM, workspace_id=request.workspace_id,
                                  purpose=Purpose.DATA_SUBJECT_REQUEST):
            email = request.email or ""
    if not email:
        return
    from storesync.privacy.rights_tasks import send_notice

    wid, title = str(request.workspace_id), f"Your privacy request: {request.kind}"
    transaction.on_commit(lambda: send_notice(wid, email, title, body))


def _complete(request: DataSubjectRequest, outcome: dict[str, Any]) -> None:
    request.status = RequestStatus.COMPLETED
    request.completed_at = timezone.now()
    request.outcome = {**request.outcome, **outcome}
    request.save(update_fields=["status", "completed_at", "outcome"])
    audit.record(action=audit.Action.PRIVACY_REQUEST_COMPLETED, actor=SYSTEM,
                 workspace_id=request.workspace_id, subject_type="privacy_request",
                 subject_id=request.id, detail={"kind": request.kind})


def dsr_run(*, workspace_id: uuid.UUID, request_id: uuid.UUID | str) -> DataSubjectRequest:
    """Carry out an approved request (idempotent: a finished step is never repeated)."""
    with workspace_scope(workspace_id):
        with transaction.atomic():
            request = _locked(workspace_id, request_id)
            if request.status != RequestStatus.IN_PROGRESS:
                return request
            if request.local_done_at is None:
                _RUNNERS[RequestKind(request.kind)](request)
        propagation.dispatch(workspace_id=workspace_id, request_id=request.id)
    return request


def _run_export(request: DataSubjectRequest) -> None:
    subject, digests = request_subject(request)
    with personal_data_access(actor=SYSTEM, workspace_id=request.workspace_id,
                              purpose=Purpose.DATA_SUBJECT_REQUEST):
        archive, counts = export.build_export(subject, request, digests)
    token = secrets.token_urlsafe(32)
    request.export = base64.b64encode(archive).decode()
    request.export_token_sha256 = hashlib.sha256(token.encode()).hexdigest()
    request.export_expires_at = timezone.now() + EXPORT_TTL
    request.local_done_at = timezone.now()
    request.save(update_fields=["export", "export_token_sha256", "export_expires_at",
                                "local_done_at"])
    _complete(request, {"rows": counts})
    from storesync.privacy.rights_tasks import send_export_link

    wid, rid = str(request.workspace_id), str(request.id)
    transaction.on_commit(lambda: send_export_link(wid, rid, token))


def _run_erasure(request: DataSubjectRequest) -> None:
    subject, digests = request_subject(request)
    _notify(request, NOTICES[RequestKind.ERASURE])  # reads the address before it goes
    # Planned first: how each processor knows the person is noted before it is erased.
    made = propagation.plan(request, subject, action="erasure")
    counts = erasure.erase_locally(subject, request, digests)
    request.email = None
    request.email_bidx = None
    request.details = None
    request.local_done_at = timezone.now()
    request.outcome = {"erased": counts.as_dict(), "recipients": made,
                       "legal_holds": counts.orders_held}
    request.save(update_fields=["email", "email_bidx", "details", "local_done_at", "outcome"])
    audit.record(action=audit.Action.PRIVACY_SUBJECT_ERASED, actor=SYSTEM,
                 workspace_id=request.workspace_id, subject_type="privacy_request",
                 subject_id=request.id, detail=counts.as_dict())
    if not made:
        _complete(request, {})


RESTRICTION_FLAG = {RequestKind.RESTRICTION: "restricted", RequestKind.OBJECTION: "objected",
                    RequestKind.DO_NOT_SELL: "do_not_sell"}


def _run_restriction(request: DataSubjectRequest) -> None:
    """Set the request's flag on its customers and, in the same transaction, plan telling
    every recipient of the subject's data (GDPR Art. 19): the request completes when they
    all confirmed, at once when there are none."""
    flag = RESTRICTION_FLAG[RequestKind(request.kind)]
    for customer_id in request.customer_ids:
        row, _ = SubjectRestriction.objects.get_or_create(
            workspace_id=request.workspace_id, customer_id=customer_id)
        setattr(row, flag, True)
        setattr(row, f"{flag}_by", request)
        row.request = request
        row.save()
    audit.record(action=audit.Action.PRIVACY_RESTRICTION_CHANGED, actor=SYSTEM,
                 workspace_id=request.workspace_id, subject_type="privacy_request",
                 subject_id=request.id, detail={"set": flag,
                                                "customers": len(request.customer_ids)})
    subject, _ = request_subject(request)
    made = propagation.plan(request, subject, action="restriction")
    request.local_done_at = timezone.now()
    request.outcome = {**request.outcome, "flag": flag,
                       "customers": len(request.customer_ids), "recipients": made}
    request.save(update_fields=["local_done_at", "outcome"])
    if not made:
        _complete(request, {})
    _notify(request, NOTICES[RequestKind(request.kind)])


def _run_correction(request: DataSubjectRequest) -> None:
    from storesync.customers.services import customer_update

    with personal_data_access(actor=SYSTEM, workspace_id=request.workspace_id,
                              purpose=Purpose.DATA_SUBJECT_REQUEST):
        changes = json.loads(request.details or "{}")
    changes.pop("message", None)
    subject, _ = request_subject(request)
    # Planned first: processors are told by the values they hold, not the corrected ones.
    made = propagation.plan(request, subject, action="correction")
    for customer_id in subject.customer_ids:
        customer_update(workspace_id=request.workspace_id, customer_id=customer_id,
                        changes=changes, actor=SYSTEM)
    audit.record(action=audit.Action.PRIVACY_CORRECTION_APPLIED, actor=SYSTEM,
                 workspace_id=request.workspace_id, subject_type="privacy_request",
                 subject_id=request.id, fields=sorted(changes))
    request.local_done_at = timezone.now()
    request.outcome = {"corrected_fields": sorted(changes),
                       "customers": len(subject.customer_ids), "recipients": made}
    request.save(update_fields=["local_done_at", "outcome"])
    _notify(request, NOTICES[RequestKind.CORRECTION])
    if not made:
        _complete(request, {})


_RUNNERS = {
    RequestKind.ACCESS: _run_export, RequestKind.PORTABILITY: _run_export,
    RequestKind.ERASURE: _run_erasure, RequestKind.CORRECTION: _run_correction,
    RequestKind.RESTRICTION: _run_restriction, RequestKind.OBJECTION: _run_restriction,
    RequestKind.DO_NOT_SELL: _run_restriction,
}


def restriction_lift(*, workspace_id: uuid.UUID, request_id: uuid.UUID | str,
                     actor: audit.Actor) -> DataSubjectRequest:
    """Staff lift the flag a restriction/objection/do-not-sell request set.

    The person is told first (GDPR Art. 18(3): "informed by the controller before the
    restriction of processing is lifted"): this records the decision and enqueues a job that
    emails the requester and only then lifts the flag and tells every recipient of the data
    (``privacy.lifts``). A restriction whose recipients have not all confirmed yet can be
    lifted too: the person's choice does not wait for a channel."""
    with workspace_scope(workspace_id), transaction.atomic():
        request = _locked(workspace_id, request_id)
        flag = request.outcome.get("flag")
        if request.status not in (RequestStatus.IN_PROGRESS, RequestStatus.COMPLETED) \
                or not request.local_done_at or not flag:
            raise Conflict("only a carried-out restriction can be lifted", field="action")
        if request.outcome.get("lifted_at"):
            raise Conflict("this restriction is already lifted", field="action")
        if request.outcome.get("lift_requested_at"):
            raise Conflict("this restriction is being lifted: the requester is told first",
                           field="action")
        request.outcome = {**request.outcome, "lift_requested_at": timezone.now().isoformat()}
        request.save(update_fields=["outcome"])
        audit.record(action=audit.Action.PRIVACY_RESTRICTION_CHANGED, actor=actor,
                     workspace_id=workspace_id, subject_type="privacy_request",
                     subject_id=request.id, detail={"lift_requested": flag})
        from storesync.privacy.rights_tasks import lift_restriction

        wid, rid = str(workspace_id), str(request.id)
        transaction.on_commit(lambda: lift_restriction(wid, rid))
    return request


PLATFORM_TOPICS = {"customers/data_request": (RequestKind.ACCESS, "subject"),
                   "customers/redact": (RequestKind.ERASURE, "subject"),
                   "shop/redact": (RequestKind.ERASURE, "connection")}


def request_from_platform(*, workspace_id: uuid.UUID, connection_id: uuid.UUID, topic: str,
                          event_id: str, email: str = "",
                          customer_ids: list[uuid.UUID] | None = None) -> DataSubjectRequest:
    """A platform's compliance webhook (Shopify: customers/data_request, customers/redact,
    shop/redact) as a verified request that runs at once. Idempotent per platform event:
    the same ``event_id`` returns the request it created the first time."""
    if topic not in PLATFORM_TOPICS:
        raise ValidationError(f"one of {', '.join(PLATFORM_TOPICS)}", field="topic")
    if not event_id.strip():
        raise ValidationError("required", field="event_id")
    kind, scope = PLATFORM_TOPICS[topic]
    address = validate_email_address(email, field="email") if email.strip() else None
    if scope == "subject" and not (address or customer_ids):
        raise ValidationError("an email or customer ids are required", field="email")
    source_event = f"{connection_id}:{event_id.strip()}"
    jurisdiction = rights_settings(workspace_id).default_jurisdiction
    now = timezone.now()
    with workspace_scope(workspace_id):
        existing = DataSubjectRequest.objects.filter(
            source="platform", source_event_id=source_event).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                request = DataSubjectRequest.objects.create(
                    workspace_id=workspace_id, kind=kind, jurisdiction=jurisdiction,
                    email=address, source="platform", source_event_id=source_event,
                    connection_id=connection_id, scope=scope, verified_at=now,
                    status=RequestStatus.PENDING, due_at=deadlines.due_at(jurisdiction, now),
                    customer_ids=[str(c) for c in customer_ids or ()])
                audit.record(action=audit.Action.PRIVACY_REQUEST_RECEIVED, actor=SYSTEM,
                             workspace_id=workspace_id, subject_type="privacy_request",
                             subject_id=request.id, detail={"kind": kind, "topic": topic})
                if address:
                    subject = subject_find(workspace_id=workspace_id, email=address,
                                           customer_ids=customer_ids)
                    request.customer_ids = [str(c) for c in subject.customer_ids]
                    request.save(update_fields=["customer_ids"])
                _start(request, SYSTEM)
        except IntegrityError:  # the same event, delivered twice at once
            return DataSubjectRequest.objects.get(source="platform", source_event_id=source_event)
    return request


def rights_settings_update(*, workspace_id: uuid.UUID, actor: audit.Actor,
                            default_jurisdiction: str | None = None,
                            inactive_customer_years: int | None = None,
                            abandoned_checkout_days: int | None = None) -> RightsSettings:
    """Change the workspace's privacy settings (only the ones given)."""
    if default_jurisdiction is not None and default_jurisdiction not in Jurisdiction.values:
        raise ValidationError(f"one of {', '.join(Jurisdiction.values)}",
                              field="default_jurisdiction")
    if inactive_customer_years is not None and not 1 <= inactive_customer_years <= 20:
        raise ValidationError("between 1 and 20", field="inactive_customer_years")
    if abandoned_checkout_days is not None and not 1 <= abandoned_checkout_days <= 3650:
        raise ValidationError("between 1 and 3650", field="abandoned_checkout_days")
    changes = {k: v for k, v in (("default_jurisdiction", default_jurisdiction),
                                 ("inactive_customer_years", inactive_customer_years),
                                 ("abandoned_checkout_days", abandoned_checkout_days))
               if v is not None}
    with workspace_scope(workspace_id), transaction.atomic():
        row, _ = RightsSettings.objects.get_or_create(workspace_id=workspace_id)
        for name, value in changes.items():
            setattr(row, name, value)
        row.save()
        audit.record(action=audit.Action.RIGHTS_SETTINGS_CHANGED, actor=actor,
                     workspace_id=workspace_id, subject_type="rights_settings",
                     subject_id=row.id, detail=changes)
    return row

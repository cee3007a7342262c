"""Lifting a restriction, objection or do-not-sell request, the person told first.

GDPR Art. 18(3): a data subject who obtained a restriction "shall be informed by the
controller before the restriction of processing is lifted". ``services.restriction_lift``
records the staff member's decision (``lift_requested_at``) and enqueues
``rights_tasks.lift_restriction``, which runs ``restriction_lift_carry_out``:

1. the requester is emailed (the request's notice, ``rights_tasks.send_notice``), and the
   notice is recorded in the request's outcome (``lift_notice``) and the audit log, in its
   own transaction: a mail error leaves nothing lifted and the job is retried, and a retry
   after the notice went out does not send it again;
2. then, in one transaction, the flag is lifted where this request's flag still stands and a
   ``restriction_lift`` propagation row is planned per recipient of the data (Art. 19), sent
   after commit.

A request whose address is gone (a later erasure removed it) is lifted without a notice, and
the outcome says why. The same objection and do-not-sell requests get the same notice: the
law requires it only for Art. 18, but the person hears of every choice of theirs undone.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.privacy import propagation
from storesync.privacy.requests_models import DataSubjectRequest, SubjectRestriction
from storesync.privacy.services import request_subject
from storesync.security import audit
from storesync.security.access import Purpose, personal_data_access

SYSTEM = audit.Actor.system("privacy")
WHAT = {"restricted": "the restriction of the processing of your data",
        "objected": "your objection to the use of your data for marketing and analytics",
        "do_not_sell": "your opt-out of the sale and sharing of your data"}
NO_ADDRESS = "not sent: the request no longer holds an address (a later erasure removed it)"


def lift_notice_text(request: DataSubjectRequest, workspace_name: str) -> str:
    """What the requester is told before their restriction is lifted."""
    what = WHAT.get(str(request.outcome.get("flag")), "the restriction you asked for")
    asked = request.received_at.strftime("%d %B %Y")
    return (f"{workspace_name} is about to lift {what}, which you asked for on {asked} "
            f"(request {request.id}). The law requires us to tell you before we do so "
            "(GDPR Art. 18(3)). Once it is lifted we may use your data again as our privacy "
            "policy describes, and we tell the sales channels and service providers that "
            "received your data. If you think it should stay, reply to this email; you may "
            "also complain to your data protection authority.")


def _locked(request_id: uuid.UUID) -> DataSubjectRequest | None:
    return DataSubjectRequest.objects.select_for_update().filter(id=request_id).first()


def _notice(workspace_id: uuid.UUID, request_id: uuid.UUID) -> bool:
    """Tell the requester (once); False when there is nothing to lift (any more)."""
    with workspace_scope(workspace_id), transaction.atomic():
        # Locked while the mail goes out, so that a concurrent run does not send it twice.
        request = _locked(request_id)
        if request is None or not request.outcome.get("lift_requested_at") \
                or request.outcome.get("lifted_at"):
            return False
        if request.outcome.get("lift_notice"):
            return True
        with personal_data_access(actor=SYSTEM, workspace_id=workspace_id,
                                  purpose=Purpose.DATA_SUBJECT_REQUEST):
            email = request.email or ""
        notice: dict[str, str] = {"not_sent": NO_ADDRESS}
        if email:
            from storesync.privacy.rights_tasks import send_notice

            workspace = Workspace.objects.get(id=workspace_id)
            # Sent now, before the lift commits; a failure raises and nothing is lifted.
            send_notice.call_local(str(workspace_id), email,
                                   f"Your privacy request: {request.kind}",
                                   lift_notice_text(request, workspace.name))
            notice = {"sent_at": timezone.now().isoformat()}
        request.outcome = {**request.outcome, "lift_notice": notice}
        request.save(update_fields=["outcome"])
        audit.record(action=audit.Action.PRIVACY_SUBJECT_NOTIFIED, actor=SYSTEM,
                     workspace_id=workspace_id, subject_type="privacy_request",
                     subject_id=request.id,
                     detail={"notice": "restriction_lift", "sent": "sent_at" in notice})
    return True


def _lift(workspace_id: uuid.UUID, request_id: uuid.UUID) -> int | None:
    """Lift the flag where this request's flag still stands (a later request that set it
    again keeps it) and plan the recipients' rows; returns customers, or None if done."""
    with workspace_scope(workspace_id), transaction.atomic():
        request = _locked(request_id)
        if request is None or request.outcome.get("lifted_at"):
            return None
        flag = str(request.outcome["flag"])
        by = f"{flag}_by"
        still_this = Q(**{by: request}) | Q(**{f"{by}__isnull": True})
        lifted = SubjectRestriction.objects.filter(
            still_this, customer_id__in=request.customer_ids,
        ).update(**{flag: False, by: None}, updated_at=timezone.now())
        subject, _ = request_subject(request)
        told = propagation.plan(request, subject, action="restriction_lift")
        request.outcome = {**request.outcome, "lifted_at": timezone.now().isoformat(),
                           "lift_recipients": told}
        request.save(update_fields=["outcome"])
        audit.record(action=audit.Action.PRIVACY_RESTRICTION_CHANGED, actor=SYSTEM,
                     workspace_id=workspace_id, subject_type="privacy_request",
                     subject_id=request.id, detail={"lifted": flag, "customers": lifted,
                                                    "recipients": told})
        if told:
            from storesync.privacy.rights_tasks import dispatch_propagations

            wid = str(workspace_id)
            transaction.on_commit(lambda: dispatch_propagations(wid))
    return lifted


def restriction_lift_carry_out(*, workspace_id: uuid.UUID,
                               request_id: uuid.UUID) -> int | None:
    """Tell the requester, then lift (idempotent: a finished step is not repeated); returns
    how many customers' flag was lifted, or None when there was nothing (left) to lift."""
    if not _notice(workspace_id, request_id):
        return None
    return _lift(workspace_id, request_id)

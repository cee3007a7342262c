"""Reads for the privacy engine: the staff queue and a request's details."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from storesync.core.errors import NotFound
from storesync.core.ids import parse_id
from storesync.core.tenancy import workspace_scope
from storesync.privacy.requests_models import DataSubjectRequest, Propagation, RequestStatus
from storesync.security.access import Purpose, personal_data_access
from storesync.security.audit import Actor

OPEN = (RequestStatus.PENDING, RequestStatus.IN_PROGRESS)


@dataclass(frozen=True)
class QueueItem:
    request: DataSubjectRequest
    overdue: bool
    days_left: int


def _item(request: DataSubjectRequest, now: datetime) -> QueueItem:
    is_open = request.status in (*OPEN, RequestStatus.UNVERIFIED)
    return QueueItem(request, is_open and request.due_at < now,
                     (request.due_at - now).days if is_open else 0)


def request_queue(*, workspace_id: uuid.UUID, status: str | None = None, limit: int = 200,
                  include_unverified: bool = False) -> list[QueueItem]:
    """Open requests first, earliest deadline first (overdue ones lead), then closed ones,
    newest first. Unverified requests are hidden unless asked for: nobody proved them yet."""
    now = timezone.now()
    with workspace_scope(workspace_id):
        qs = DataSubjectRequest.objects.all()
        if status:
            qs = qs.filter(status=status)
        elif not include_unverified:
            qs = qs.exclude(status=RequestStatus.UNVERIFIED)
        qs = qs.annotate(closed=Case(When(status__in=OPEN, then=Value(0)),
                                     default=Value(1), output_field=IntegerField()))
        rows = list(qs.order_by("closed", "due_at")[:limit])
    open_rows = [r for r in rows if r.status in OPEN]
    closed = sorted((r for r in rows if r.status not in OPEN),
                    key=lambda r: r.received_at, reverse=True)
    return [_item(r, now) for r in open_rows + closed]


def request_get(*, workspace_id: uuid.UUID, request_id: uuid.UUID | str) -> QueueItem:
    rid = parse_id(request_id, what="request")
    with workspace_scope(workspace_id):
        found = DataSubjectRequest.objects.filter(id=rid).first()
    if found is None:
        raise NotFound("no such request")
    return _item(found, timezone.now())


def request_propagations(*, workspace_id: uuid.UUID,
                         request_id: uuid.UUID) -> list[Propagation]:
    with workspace_scope(workspace_id):
        return list(Propagation.objects.filter(request_id=request_id).order_by(
            "recipient_type", "recipient_id", "id"))


def public_status(*, workspace_id: uuid.UUID, request_id: uuid.UUID | str) -> DataSubjectRequest:
    """The request as its requester may see it (no personal data is read)."""
    return request_get(workspace_id=workspace_id, request_id=request_id).request


RESTRICTING = ("restriction", "objection", "do_not_sell")


def public_state(*, request: DataSubjectRequest) -> str:
    """The status the requester sees. A restriction, objection or do-not-sell request is
    done for them once it binds here: telling the recipients of their data (GDPR Art. 19) is
    our follow-up, and whether there are any would tell whether the address is a customer's,
    which the requester's pages never reveal."""
    if request.kind in RESTRICTING and request.local_done_at and \
            request.status == RequestStatus.IN_PROGRESS:
        return str(RequestStatus.COMPLETED)
    return str(request.status)


def request_details(*, request: DataSubjectRequest, actor: Actor) -> dict[str, str]:
    """What the requester asked for (proposed corrections, their message): an audited read."""
    with personal_data_access(actor=actor, workspace_id=request.workspace_id,
                              purpose=Purpose.DATA_SUBJECT_REQUEST):
        raw = request.details
    return dict(json.loads(raw)) if raw else {}

"""``/api/v1/privacy``, the rights part: the data map (record of processing), the staff queue
of data-subject requests, the rights settings, and the public endpoints a storefront uses to
submit and verify a request.

The public endpoints need no token; they are rate-limited per email and per client address,
and their answers never reveal whether an address belongs to a customer.
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from storesync.api.auth import require
from storesync.api.schemas import Strict
from storesync.core.errors import ValidationError
from storesync.core.permissions import Perm
from storesync.privacy import datamap, propagation, selectors, services
from storesync.privacy.selectors import QueueItem

router = Router(tags=["privacy"])
public = Router(tags=["privacy (public)"], auth=None)


@router.get("/datamap", summary="Record of processing activities, from the data map",
            response={200: list[dict[str, Any]]})
def get_datamap(request: HttpRequest,
                format: Literal["json", "csv"] | None = Query(None)) -> Any:
    require(request, Perm.MANAGE_PRIVACY)
    rows = datamap.processing_record()
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("Accept", ""))
    if not wants_csv:
        return rows
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "; ".join(v) if isinstance(v, list) else v for k, v in row.items()})
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="record-of-processing.csv"'
    return response


class SettingsOut(Schema):
    default_jurisdiction: str
    inactive_customer_years: int
    abandoned_checkout_days: int


class SettingsIn(Strict):
    default_jurisdiction: str | None = Field(None, max_length=8)
    inactive_customer_years: int | None = None
    abandoned_checkout_days: int | None = None


@router.get("/rights-settings", response=SettingsOut,
            summary="Data-subject rights: default jurisdiction and retention periods")
def get_settings(request: HttpRequest) -> Any:
    who = require(request, Perm.MANAGE_PRIVACY)
    return services.rights_settings(who.workspace_id)


@router.patch("/rights-settings", response=SettingsOut,
              summary="Change the default jurisdiction and retention periods")
def patch_settings(request: HttpRequest, payload: SettingsIn) -> Any:
    who = require(request, Perm.MANAGE_PRIVACY)
    return services.rights_settings_update(workspace_id=who.workspace_id, actor=who.actor,
                                            **payload.model_dump(exclude_none=True))


class PropagationOut(Schema):
    """One recipient told of the request: ``action`` is erasure, correction, restriction or
    restriction_lift; ``state`` pending (due to be sent), sent (a processor was emailed and
    its answer is awaited: record it with ``.../answer``), waiting (no privacy contact on file
    for the processor), succeeded or failed; ``note`` says what the recipient did or
    answered."""

    id: uuid.UUID
    recipient_type: str
    recipient_id: str
    recipient_name: str
    action: str
    state: str
    attempts: int
    last_error: str
    note: str
    notified_at: datetime | None
    confirmed_at: datetime | None


class RequestOut(Schema):
    id: uuid.UUID
    kind: str
    status: str
    jurisdiction: str
    source: str
    received_at: datetime
    verified_at: datetime | None
    due_at: datetime
    overdue: bool
    days_left: int
    completed_at: datetime | None
    matched_customers: int
    outcome: dict[str, Any]
    propagations: list[PropagationOut] = []
    details: dict[str, str] = {}


def _view(item: QueueItem, with_propagations: bool = False) -> dict[str, Any]:
    r = item.request
    view: dict[str, Any] = {
        "id": r.id, "kind": r.kind, "status": r.status, "jurisdiction": r.jurisdiction,
        "source": r.source, "received_at": r.received_at, "verified_at": r.verified_at,
        "due_at": r.due_at, "overdue": item.overdue, "days_left": item.days_left,
        "completed_at": r.completed_at, "matched_customers": len(r.customer_ids),
        "outcome": r.outcome,
    }
    if with_propagations:
        view["propagations"] = selectors.request_propagations(workspace_id=r.workspace_id,
                                                             request_id=r.id)
    return view


@router.get("/requests", response=list[RequestOut],
            summary="The queue: open requests by deadline (overdue first), then closed ones")
def list_requests(request: HttpRequest, status: str | None = Query(None, max_length=12),
                  limit: int = Query(100, ge=1, le=500)) -> list[dict[str, Any]]:
    who = require(request, Perm.MANAGE_PRIVACY)
    items = selectors.request_queue(workspace_id=who.workspace_id, status=status, limit=limit)
    return [_view(i) for i in items]


@router.get("/requests/{request_id}", response=RequestOut,
            summary="Read a request, with what it asks for (an audited read)")
def get_request(request: HttpRequest, request_id: str) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_PRIVACY)
    item = selectors.request_get(workspace_id=who.workspace_id, request_id=request_id)
    view = _view(item, with_propagations=True)
    view["details"] = selectors.request_details(request=item.request, actor=who.actor)
    return view


class ActionIn(Strict):
    action: Literal["approve", "reject", "lift_restriction", "retry_propagation"]
    reason: str = Field("", max_length=500)
    propagation_id: uuid.UUID | None = None


@router.post("/requests/{request_id}/actions", response=RequestOut,
             summary="Act on a request: approve (run it), reject (with a reason), lift a "
                     "restriction (the requester is emailed first, then it is lifted: GDPR "
                     "Art. 18(3)), retry a propagation (a processor's notice is sent again)")
def act(request: HttpRequest, request_id: str, payload: ActionIn) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_PRIVACY)
    wid = who.workspace_id
    item = selectors.request_get(workspace_id=wid, request_id=request_id)
    if payload.action == "approve":
        services.dsr_approve(workspace_id=wid, request_id=item.request.id, actor=who.actor)
    elif payload.action == "reject":
        services.dsr_reject(workspace_id=wid, request_id=item.request.id, actor=who.actor,
                            reason=payload.reason)
    elif payload.action == "lift_restriction":
        services.restriction_lift(workspace_id=wid, request_id=item.request.id,
                                  actor=who.actor)
    else:
        if payload.propagation_id is None:
            raise ValidationError("required for retry_propagation", field="propagation_id")
        propagation.propagation_retry(workspace_id=wid, propagation_id=payload.propagation_id)
    return _view(selectors.request_get(workspace_id=wid, request_id=item.request.id),
                 with_propagations=True)


class AnswerIn(Strict):
    outcome: str = Field(max_length=20, description="confirmed, or refused (it refused or "
                                                    "could not comply)")
    note: str = Field("", max_length=500, description=(
        "what the processor answered and how, e.g. \"DHL confirmed deletion by email "
        "2026-11-20\"; no personal data"))


@router.post("/requests/{request_id}/propagations/{propagation_id}/answer",
             response=RequestOut,
             summary="Record a processor's answer to its notice: confirmed (the row succeeds; "
                     "the request completes once every recipient has) or refused")
def answer(request: HttpRequest, request_id: str, propagation_id: str,
           payload: AnswerIn) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_PRIVACY)
    wid = who.workspace_id
    item = selectors.request_get(workspace_id=wid, request_id=request_id)
    propagation.propagation_answer_record(
        workspace_id=wid, request_id=item.request.id, propagation_id=propagation_id,
        outcome=payload.outcome, note=payload.note, actor=who.actor)
    return _view(selectors.request_get(workspace_id=wid, request_id=item.request.id),
                 with_propagations=True)


class SubmitIn(Strict):
    email: str = Field(max_length=254)
    kind: str = Field(max_length=12)
    jurisdiction: str = Field("", max_length=8)
    details: dict[str, str] = Field(default_factory=dict)


class SubmittedOut(Schema):
    request_id: uuid.UUID
    status: str
    message: str


SENT = ("If this address can receive email, a 6-digit code is on its way. Enter it within "
        "15 minutes to confirm the request.")


def _client(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


@public.post("/{slug}/requests", response={202: SubmittedOut},
             summary="Submit a request (a verification code is emailed)")
def submit(request: HttpRequest, slug: str, payload: SubmitIn) -> Status:
    created = services.dsr_submit(workspace_slug=slug, email=payload.email, kind=payload.kind,
                                  jurisdiction=payload.jurisdiction, details=payload.details,
                                  client_ip=_client(request), source="api")
    return Status(202, {"request_id": created.id, "status": "verification_sent",
                        "message": SENT})


class VerifyIn(Strict):
    code: str = Field(min_length=6, max_length=6, pattern=r"^\d{6}$")


class VerifiedOut(Schema):
    request_id: uuid.UUID
    status: str
    kind: str
    due_at: datetime


@public.post("/{slug}/requests/{request_id}/verify", response=VerifiedOut,
             summary="Confirm a request with the emailed code")
def verify(request: HttpRequest, slug: str, request_id: str,
           payload: VerifyIn) -> dict[str, Any]:
    done = services.dsr_verify(workspace_slug=slug, request_id=request_id, code=payload.code,
                               client_ip=_client(request))
    fresh = selectors.public_status(workspace_id=done.workspace_id, request_id=done.id)
    return {"request_id": fresh.id, "status": selectors.public_state(request=fresh),
            "kind": fresh.kind, "due_at": fresh.due_at}

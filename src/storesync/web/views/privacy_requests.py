"""Settings → Privacy requests: the staff queue, by deadline, overdue flagged, and one
request's page with its actions (approve, reject with a reason, lift a restriction, retry a
recipient, record a processor's answer to its notice)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from storesync.core.errors import NotFound, StoresyncError
from storesync.core.permissions import Perm
from storesync.privacy import propagation, selectors, services
from storesync.web.membership import member_of, member_required


@require_GET
@member_required(Perm.MANAGE_PRIVACY)
def queue(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    items = selectors.request_queue(workspace_id=member.workspace.id)
    return render(request, "storesync/settings/privacy_queue.html", {
        "items": items, "overdue": sum(1 for i in items if i.overdue),
        "centre_path": f"/privacy/{member.workspace.slug}/"})


def _act(request: HttpRequest, request_id: uuid.UUID) -> str:
    member = member_of(request)
    wid, actor, action = member.workspace.id, member.actor, request.POST.get("action", "")
    if action == "approve":
        services.dsr_approve(workspace_id=wid, request_id=request_id, actor=actor)
        return "Approved: the request is being carried out."
    if action == "reject":
        services.dsr_reject(workspace_id=wid, request_id=request_id, actor=actor,
                            reason=request.POST.get("reason", ""))
        return "Rejected; the requester sees the reason."
    if action == "lift":
        services.restriction_lift(workspace_id=wid, request_id=request_id, actor=actor)
        return ("Lift under way: the requester is emailed first (GDPR Art. 18(3)); then the "
                "restriction is lifted and the channels and service providers that received "
                "the data are told in the background.")
    if action == "retry":
        propagation.propagation_retry(workspace_id=wid, propagation_id=uuid.UUID(
            request.POST.get("propagation_id", "")))
        return "Retry queued: the recipient is told again in the background."
    if action == "answer":
        row = propagation.propagation_answer_record(
            workspace_id=wid, request_id=request_id,
            propagation_id=request.POST.get("propagation_id", ""),
            outcome=request.POST.get("outcome", ""), note=request.POST.get("note", ""),
            actor=actor)
        if row.state == "succeeded":
            return f"Recorded: {row.recipient_name} confirmed."
        return f"Recorded: {row.recipient_name} refused or could not comply."
    raise Http404("Unknown action.")


def _lift_times(outcome: dict[str, Any]) -> dict[str, datetime | None]:
    """The lift's moments, as datetimes the page shows in the workspace's zone."""
    notice = outcome.get("lift_notice") or {}
    raw = {"requested_at": outcome.get("lift_requested_at"),
           "notice_sent_at": notice.get("sent_at"), "lifted_at": outcome.get("lifted_at")}
    return {name: datetime.fromisoformat(value) if value else None
            for name, value in raw.items()}


@require_http_methods(["GET", "POST"])
@member_required(Perm.MANAGE_PRIVACY)
def detail(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    member = member_of(request)
    try:
        item = selectors.request_get(workspace_id=member.workspace.id, request_id=request_id)
    except NotFound:
        raise Http404("No such request.") from None
    if request.method == "POST":
        try:
            messages.success(request, _act(request, request_id))
        except (StoresyncError, ValueError) as exc:
            messages.error(request, getattr(exc, "message", "That recipient does not exist."))
        return redirect("web:privacy_detail", request_id=request_id)
    return render(request, "storesync/settings/privacy_detail.html", {
        "item": item, "req": item.request, "lift": _lift_times(item.request.outcome),
        "details": selectors.request_details(request=item.request, actor=member.actor),
        "propagations": selectors.request_propagations(workspace_id=member.workspace.id,
                                                       request_id=request_id)})

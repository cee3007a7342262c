"""Settings → Audit log: the workspace's hash-chained events, newest first.

Paginated by keyset on the chain's sequence number (``?before=<seq>``), so a page costs the
same at any depth of a log that only grows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from storesync.core.models import Membership
from storesync.core.permissions import Perm
from storesync.core.tenancy import workspace_scope
from storesync.security import tokens
from storesync.security.audit import chain_of
from storesync.security.models import AuditEvent
from storesync.web.membership import member_of, member_required

PAGE_SIZE = 50


@dataclass(frozen=True)
class Row:
    event: AuditEvent
    actor: str
    subject: str
    detail: str


def actor_names(workspace_id: uuid.UUID) -> dict[tuple[str, str], str]:
    """Readable names for this workspace's members and tokens; other ids stay short ids."""
    with workspace_scope(workspace_id):
        names = {("user", str(m.user_id)): m.user.email
                 for m in Membership.objects.select_related("user")}
    for token in tokens.token_list(workspace_id=workspace_id):
        for kind in ("token", "api_token"):  # as actor, and as the subject of token.* events
            names[(kind, str(token.id))] = f"token “{token.name}”"
    return names


def actor_label(names: dict[tuple[str, str], str], kind: str, ident: str) -> str:
    """A member's email, a token's name, or the kind and a short id."""
    if not ident:
        return kind
    return names.get((kind, ident)) or f"{kind} {ident[-8:]}"


@require_GET
@member_required(Perm.VIEW_AUDIT, personal_data=True)
def audit_log(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    events = AuditEvent.objects.filter(chain=chain_of(member.workspace.id))
    before = request.GET.get("before")
    if before:
        if not before.isdigit():
            raise Http404("That page of the audit log does not exist.")
        events = events.filter(seq__lt=int(before))
    batch = list(events.order_by("-seq")[: PAGE_SIZE + 1])
    names = actor_names(member.workspace.id) if batch else {}
    rows = [Row(e, actor_label(names, e.actor_type, e.actor_id),
                actor_label(names, e.subject_type, e.subject_id),
                ", ".join(f"{k}: {v}" for k, v in sorted(e.detail.items())))
            for e in batch[:PAGE_SIZE]]
    return render(request, "storesync/settings/audit.html", {
        "rows": rows, "paged": bool(before),
        "next_before": batch[PAGE_SIZE - 1].seq if len(batch) > PAGE_SIZE else None,
    })

"""Channels: every connection's sync health, its dead letters, and replaying them."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from storesync.channels import outbox, selectors
from storesync.core.errors import NotFound
from storesync.core.permissions import Perm
from storesync.web.membership import member_of, member_required

DEAD_LETTERS_SHOWN = 50


@member_required(Perm.MANAGE_CHANNELS)
def channel_list(request: HttpRequest) -> HttpResponse:
    ws = member_of(request).workspace.id
    rows = [
        {"health": health,
         "dead": selectors.dead_letters(workspace_id=ws, connection_id=health.id,
                                        limit=DEAD_LETTERS_SHOWN)
         if health.dead_letters else []}
        for health in selectors.connection_health_list(workspace_id=ws)
    ]
    return render(request, "storesync/channels.html", {"rows": rows})


@require_POST
@member_required(Perm.MANAGE_CHANNELS)
def dead_letters_replay(request: HttpRequest, connection_id: uuid.UUID) -> HttpResponse:
    member = member_of(request)
    try:
        count = outbox.dead_letter_replay(workspace_id=member.workspace.id,
                                          connection_id=connection_id, actor=member.actor)
    except NotFound:
        raise Http404("There is no such connection in this workspace.") from None
    messages.success(request, f"{count} parked update(s) queued to be pushed again.")
    return redirect("web:channels")

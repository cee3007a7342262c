"""One connection's page: its health, first-sync jobs (with retry), and the mapping of channel
variants the first sync could not match."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from storesync.channels import initial, mapping, selectors
from storesync.core.errors import NotFound, StoresyncError
from storesync.core.jobs import job_retry
from storesync.core.permissions import Perm
from storesync.web.membership import member_of, member_required

DEAD_LETTERS_SHOWN = 50


@member_required(Perm.MANAGE_CHANNELS)
def connection_detail(request: HttpRequest, connection_id: uuid.UUID) -> HttpResponse:
    ws = member_of(request).workspace.id
    try:
        health = selectors.connection_health(workspace_id=ws, connection_id=connection_id)
    except NotFound:
        raise Http404("There is no such connection in this workspace.") from None
    query = request.GET.get("q", "")
    return render(request, "storesync/channel_detail.html", {
        "health": health,
        "dead": selectors.dead_letters(workspace_id=ws, connection_id=health.id,
                                       limit=DEAD_LETTERS_SHOWN) if health.dead_letters else [],
        "jobs": mapping.connection_jobs(workspace_id=ws, connection_id=health.id),
        "unmatched": mapping.unmatched_list(workspace_id=ws, connection_id=health.id),
        "held": mapping.held_requests(workspace_id=ws, connection_id=health.id),
        "query": query,
        "found": mapping.variant_search(workspace_id=ws, query=query),
        "default_days": initial.DEFAULT_DAYS,
    })


@require_POST
@member_required(Perm.MANAGE_CHANNELS)
def initial_sync_start(request: HttpRequest, connection_id: uuid.UUID) -> HttpResponse:
    member = member_of(request)
    try:
        days = int(request.POST.get("days") or initial.DEFAULT_DAYS)
    except ValueError:
        days = 0  # refused below, naming the field
    try:
        initial.initial_sync_start(workspace_id=member.workspace.id, connection_id=connection_id,
                                   actor=member.actor, days=days,
                                   create_missing=request.POST.get("create_missing") == "on")
    except NotFound:
        raise Http404("There is no such connection in this workspace.") from None
    except StoresyncError as exc:
        messages.error(request, f"{exc.field}: {exc.message}" if exc.field else exc.message)
    else:
        messages.success(request, "First sync started; its progress shows below.")
    return redirect("web:connection", connection_id=connection_id)


@require_POST
@member_required(Perm.MANAGE_CHANNELS)
def job_retry_view(request: HttpRequest, connection_id: uuid.UUID,
                   job_id: uuid.UUID) -> HttpResponse:
    member = member_of(request)
    try:
        job_retry(workspace_id=member.workspace.id, job_id=job_id, actor=member.actor)
    except NotFound:
        raise Http404("There is no such job in this workspace.") from None
    except StoresyncError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "The job was queued again.")
    return redirect("web:connection", connection_id=connection_id)


@require_POST
@member_required(Perm.MANAGE_CHANNELS)
def unmatched_map(request: HttpRequest, connection_id: uuid.UUID,
                  unmatched_id: uuid.UUID) -> HttpResponse:
    member = member_of(request)
    sku = request.POST.get("sku", "")
    create = request.POST.get("action") == "create"
    change = mapping.unmatched_create if create else mapping.unmatched_map
    try:
        change(workspace_id=member.workspace.id, connection_id=connection_id,
               unmatched_id=unmatched_id, sku=sku, actor=member.actor)
    except StoresyncError as exc:
        messages.error(request, f"{exc.field}: {exc.message}" if exc.field else exc.message)
    else:
        messages.success(request, f"Created {sku.strip()} in the hub and listed it." if create
                         else f"Listed {sku.strip()} on this channel; its stock is pushed.")
    return redirect("web:connection", connection_id=connection_id)

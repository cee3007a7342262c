"""Switching between the workspaces a person belongs to."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from storesync.core.selectors import memberships_of
from storesync.web.membership import member_required, select_workspace


@member_required()
def workspace_list(request: HttpRequest) -> HttpResponse:
    return render(request, "storesync/workspaces.html",
                  {"memberships": memberships_of(user=request.user)})  # type: ignore[arg-type]


@require_POST
@member_required()
def workspace_select(request: HttpRequest, slug: str) -> HttpResponse:
    for membership in memberships_of(user=request.user):  # type: ignore[arg-type]
        if membership.workspace.slug == slug:
            select_workspace(request, membership.workspace_id)
            return redirect("web:dashboard")
    raise Http404("no such workspace")

"""Switching between the workspaces a person belongs to (remembered in the session)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from storesync.core.models import Membership, User
from storesync.core.selectors import memberships_of
from storesync.web.membership import member_required, select_workspace


def _memberships(request: HttpRequest) -> list[Membership]:
    assert isinstance(request.user, User)
    return memberships_of(user=request.user)


@require_http_methods(["GET"])
@member_required()
def workspace_list(request: HttpRequest) -> HttpResponse:
    return render(request, "storesync/workspaces.html", {"memberships": _memberships(request)})


@require_http_methods(["GET", "POST"])
@member_required()
def workspace_select(request: HttpRequest, slug: str) -> HttpResponse:
    """GET asks to confirm (a link alone never changes state); POST switches.

    Only the person's own workspaces exist here: any other slug is a 404.
    """
    membership = next((m for m in _memberships(request) if m.workspace.slug == slug), None)
    if membership is None:
        raise Http404("You are not a member of that workspace.")
    if request.method == "GET":
        return render(request, "storesync/workspace_select.html", {"target": membership})
    select_workspace(request, membership.workspace_id)
    messages.success(request, f"Now working in {membership.workspace.name}.")
    return redirect("web:dashboard")

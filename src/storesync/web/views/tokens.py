"""Settings → API tokens: list, create (plaintext shown once), revoke."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from storesync.core.errors import StoresyncError
from storesync.core.permissions import Perm
from storesync.security import tokens
from storesync.web.membership import member_of, member_required
from storesync.web.views.forms import add_error
from storesync.web.views.members import WithRoleForm, role_choices

PAGE_SIZE = 50


class TokenForm(WithRoleForm):
    name = forms.CharField(label="Name", max_length=100,
                           help_text="What uses it, e.g. “warehouse scanner”.")


@member_required(Perm.MANAGE_TOKENS)
def api_tokens(request: HttpRequest) -> HttpResponse:
    """GET lists the workspace's tokens; POST creates one and shows its plaintext once."""
    member = member_of(request)
    ws = member.workspace.id
    roles = role_choices(ws, with_owner=True)
    form = TokenForm(request.POST if request.method == "POST" else None, roles=roles)
    plaintext = None
    if form.is_bound and form.is_valid():
        try:
            issued = tokens.token_create(workspace_id=ws, name=form.cleaned_data["name"],
                                         role=form.cleaned_data["role"], actor=member.actor,
                                         created_by_id=member.membership.user_id)
        except StoresyncError as exc:
            add_error(form, exc)
        else:
            plaintext = issued.plaintext
            messages.success(request, f"Token “{issued.token.name}” created.")
            form = TokenForm(roles=roles)
    page = Paginator(tokens.token_list(workspace_id=ws), PAGE_SIZE).get_page(
        request.GET.get("page"))
    response = render(request, "storesync/settings/tokens.html", {
        "page": page, "form": form, "plaintext": plaintext, "now": timezone.now(),
    }, status=400 if form.errors else 200)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@member_required(Perm.MANAGE_TOKENS)
def token_revoke(request: HttpRequest, token_id: uuid.UUID) -> HttpResponse:
    member = member_of(request)
    ws = member.workspace.id
    # token_revoke ignores unknown ids; another workspace's token must look absent (404).
    if not any(t.id == token_id for t in tokens.token_list(workspace_id=ws)):
        raise Http404("There is no such token in this workspace.")
    tokens.token_revoke(workspace_id=ws, token_id=token_id, actor=member.actor)
    messages.success(request, "Token revoked: requests using it are refused from now on.")
    return redirect("web:tokens")

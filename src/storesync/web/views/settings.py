"""Workspace settings: members, invitations, roles, API tokens, the audit log."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from storesync.core import services
from storesync.core.errors import StoresyncError
from storesync.core.models import Invitation, Membership, Role
from storesync.core.permissions import BUILTIN_ROLES, Perm
from storesync.core.tenancy import workspace_scope
from storesync.security import tokens
from storesync.security.models import AuditEvent
from storesync.web.membership import member_of, member_required
from storesync.web.views.forms import add_error


def _role_choices(workspace_id: uuid.UUID, *, with_owner: bool = False) -> list[tuple[str, str]]:
    with workspace_scope(workspace_id):
        custom = list(Role.objects.order_by("slug").values_list("slug", "name"))
    builtin = [(r, r) for r in BUILTIN_ROLES if with_owner or r != "owner"]
    return builtin + [(slug, f"{name} (custom)") for slug, name in custom]


class _WithRole(forms.Form):
    """A form with a ``role`` choice among the workspace's roles."""

    def __init__(self, *args: Any, roles: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"] = forms.ChoiceField(choices=roles)


class InviteForm(_WithRole):
    email = forms.CharField(max_length=254)


class RoleForm(forms.Form):
    slug = forms.SlugField(max_length=40)
    name = forms.CharField(max_length=100)
    permissions = forms.MultipleChoiceField(choices=[(p.value, p.value) for p in Perm],
                                            widget=forms.CheckboxSelectMultiple)


class TokenForm(_WithRole):
    name = forms.CharField(max_length=100)


@member_required(Perm.MANAGE_MEMBERS)
def members(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    ws = member.workspace.id
    invite = InviteForm(request.POST if request.POST.get("form") == "invite" else None,
                        roles=_role_choices(ws))
    role_form = RoleForm(request.POST if request.POST.get("form") == "role" else None)
    link = None
    if invite.is_bound and invite.is_valid():
        try:
            issued = services.invitation_create(
                workspace_id=ws, email=invite.cleaned_data["email"],
                role=invite.cleaned_data["role"], actor=member.actor,
                invited_by_id=member.membership.user_id)
            link = request.build_absolute_uri(f"/invitations/{issued.token}/")
            messages.success(request, "Invitation sent. The link is shown once below.")
            invite = InviteForm(roles=_role_choices(ws))
        except StoresyncError as exc:
            add_error(invite, exc)
    if role_form.is_bound and role_form.is_valid():
        try:
            services.role_create(workspace_id=ws, actor=member.actor, **role_form.cleaned_data)
            messages.success(request, "Role created.")
            return redirect("web:members")
        except StoresyncError as exc:
            add_error(role_form, exc)
    with workspace_scope(ws):
        people = list(Membership.objects.select_related("user").order_by("created_at"))
        pending = list(Invitation.objects.filter(accepted_at__isnull=True,
                                                        revoked_at__isnull=True)
                   .order_by("-created_at"))
        roles = list(Role.objects.order_by("slug"))
    return render(request, "storesync/settings/members.html", {
        "people": people, "pending": pending, "roles": roles, "invite": invite,
        "role_form": role_form, "link": link, "role_choices": _role_choices(ws, with_owner=True),
    })


@require_POST
@member_required(Perm.MANAGE_MEMBERS)
def member_change(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    member = member_of(request)
    try:
        if request.POST.get("action") == "remove":
            services.membership_remove(workspace_id=member.workspace.id, user_id=user_id,
                                       actor=member.actor)
            messages.success(request, "Member removed.")
        else:
            services.membership_set_role(workspace_id=member.workspace.id, user_id=user_id,
                                         role=request.POST.get("role", ""), actor=member.actor)
            messages.success(request, "Role changed.")
    except StoresyncError as exc:
        messages.error(request, exc.message)
    return redirect("web:members")


@require_POST
@member_required(Perm.MANAGE_MEMBERS)
def invitation_revoke(request: HttpRequest, invitation_id: uuid.UUID) -> HttpResponse:
    member = member_of(request)
    try:
        services.invitation_revoke(workspace_id=member.workspace.id,
                                   invitation_id=invitation_id, actor=member.actor)
        messages.success(request, "Invitation revoked.")
    except StoresyncError as exc:
        messages.error(request, exc.message)
    return redirect("web:members")


@member_required(Perm.MANAGE_TOKENS)
def api_tokens(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    ws = member.workspace.id
    form = TokenForm(request.POST or None, roles=_role_choices(ws, with_owner=True))
    plaintext = None
    if request.method == "POST" and request.POST.get("revoke"):
        try:
            tokens.token_revoke(workspace_id=ws, token_id=uuid.UUID(request.POST["revoke"]),
                                actor=member.actor)
        except ValueError:
            messages.error(request, "Not a token id.")
        return redirect("web:tokens")
    if form.is_bound and form.is_valid():
        try:
            issued = tokens.token_create(workspace_id=ws, name=form.cleaned_data["name"],
                                         role=form.cleaned_data["role"], actor=member.actor,
                                         created_by_id=member.membership.user_id)
            plaintext = issued.plaintext
            form = TokenForm(roles=_role_choices(ws, with_owner=True))
        except StoresyncError as exc:
            add_error(form, exc)
    response = render(request, "storesync/settings/tokens.html", {
        "tokens": tokens.token_list(workspace_id=ws), "form": form, "plaintext": plaintext})
    response["Cache-Control"] = "no-store"
    return response


@member_required(Perm.VIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    member = member_of(request)
    events = AuditEvent.objects.filter(chain=str(member.workspace.id)).order_by("-seq")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "storesync/settings/audit.html", {"page": page})

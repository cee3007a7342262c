"""Settings → Members: people, their roles, invitations and custom roles.

Every write goes through ``storesync.core.services``; their errors are shown next to the field
they name. The invitation link is shown once, in the response to the invite (the email sent
by the background job carries it too); only its hash is stored.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from storesync.core import services
from storesync.core.errors import StoresyncError
from storesync.core.models import Invitation, Membership, Role
from storesync.core.permissions import BUILTIN_ROLES, Perm
from storesync.core.tenancy import workspace_scope
from storesync.web.membership import Member, member_of, member_required
from storesync.web.views.forms import add_error

PAGE_SIZE = 50


def role_choices(workspace_id: uuid.UUID, *, with_owner: bool) -> list[tuple[str, str]]:
    """Built-in roles, then the workspace's custom roles (marked as such)."""
    with workspace_scope(workspace_id):
        custom = list(Role.objects.order_by("slug").values_list("slug", "name"))
    builtin = [(r, r) for r in BUILTIN_ROLES if with_owner or r != "owner"]
    return builtin + [(slug, f"{name} (custom)") for slug, name in custom]


class WithRoleForm(forms.Form):
    """A form with a ``role`` choice among the workspace's roles."""

    def __init__(self, *args: Any, roles: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"] = forms.ChoiceField(label="Role", choices=roles)


class InviteForm(WithRoleForm):
    email = forms.EmailField(label="Email", max_length=254)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].initial = "viewer"  # least privilege unless chosen otherwise


class RoleForm(forms.Form):
    slug = forms.SlugField(label="Short name", max_length=40,
                           help_text="Lowercase letters, digits and hyphens, e.g. packer.")
    name = forms.CharField(label="Name", max_length=100)
    permissions = forms.MultipleChoiceField(
        label="Permissions", widget=forms.CheckboxSelectMultiple,
        choices=[(p.value, p.value.replace("_", " ").capitalize()) for p in Perm])


def _invite(request: HttpRequest, member: Member, form: InviteForm) -> str | None:
    """Create the invitation; its one-time link, or None (errors are on the form)."""
    if not form.is_valid():
        return None
    try:
        issued = services.invitation_create(
            workspace_id=member.workspace.id, email=form.cleaned_data["email"],
            role=form.cleaned_data["role"], actor=member.actor,
            invited_by_id=member.membership.user_id)
    except StoresyncError as exc:
        add_error(form, exc)
        return None
    messages.success(request, "Invitation created and emailed. The link is shown once, below.")
    return request.build_absolute_uri(reverse("web:invitation", args=[issued.token]))


def _create_role(request: HttpRequest, member: Member, form: RoleForm) -> bool:
    if not form.is_valid():
        return False
    try:
        services.role_create(workspace_id=member.workspace.id, actor=member.actor,
                             **form.cleaned_data)
    except StoresyncError as exc:
        add_error(form, exc)
        return False
    messages.success(request, f"Role “{form.cleaned_data['name']}” created.")
    return True


@member_required(Perm.MANAGE_MEMBERS, personal_data=True)
def members(request: HttpRequest) -> HttpResponse:
    """GET lists; POST with ``form=invite`` or ``form=role`` creates an invitation or a role."""
    member = member_of(request)
    ws = member.workspace.id
    posted = request.POST.get("form") if request.method == "POST" else None
    invite = InviteForm(request.POST if posted == "invite" else None,
                        roles=role_choices(ws, with_owner=False))
    role_form = RoleForm(request.POST if posted == "role" else None)
    link = None
    if posted == "invite":
        link = _invite(request, member, invite)
        if link is not None:
            invite = InviteForm(roles=role_choices(ws, with_owner=False))
    elif posted == "role" and _create_role(request, member, role_form):
        return redirect("web:members")
    with workspace_scope(ws):
        people = Paginator(Membership.objects.select_related("user").order_by("created_at"),
                           PAGE_SIZE).get_page(request.GET.get("page"))
        # Read the page now, inside the scope: on PostgreSQL, row-level security hides every
        # row from a query that runs later, in the template.
        people.object_list = list(people.object_list)
        pending = list(Invitation.objects.filter(accepted_at__isnull=True,
                                                 revoked_at__isnull=True)
                       .order_by("-created_at")
                       .only("id", "role", "created_at", "expires_at")[:PAGE_SIZE])
        roles = list(Role.objects.order_by("slug"))
    status = 400 if posted and (invite.errors or role_form.errors) else 200
    response = render(request, "storesync/settings/members.html", {
        "people": people, "pending": pending, "roles": roles, "invite": invite,
        "role_form": role_form, "link": link,
        "role_choices": role_choices(ws, with_owner=True),
    }, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@member_required(Perm.MANAGE_MEMBERS)
def member_change(request: HttpRequest, user_id: uuid.UUID) -> HttpResponse:
    """``action=role`` (with ``role``) changes a member's role; ``action=remove`` removes them."""
    member = member_of(request)
    ws = member.workspace.id
    try:
        if request.POST.get("action") == "remove":
            services.membership_remove(workspace_id=ws, user_id=user_id, actor=member.actor)
            messages.success(request, "Member removed.")
        else:
            services.membership_set_role(workspace_id=ws, user_id=user_id,
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
        messages.success(request, "Invitation revoked: its link no longer works.")
    except StoresyncError as exc:
        messages.error(request, exc.message)
    return redirect("web:members")

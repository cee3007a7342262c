"""The signed-in member's workspace: resolved once per request, checked by every view.

``request.member`` is set for signed-in users who belong to a workspace (the one chosen in the
switcher, else their first). Views declare what they need with ``@member_required(perm)``;
pages that show personal data add ``@personal_data_page``, which sends a member who has not
enrolled TOTP to enrolment first (MFA before personal data, for every role that may see it).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from storesync.core.models import Membership, Workspace
from storesync.core.permissions import Perm
from storesync.core.roles import role_permissions
from storesync.core.selectors import memberships_of
from storesync.security.audit import Actor

SESSION_KEY = "storesync_workspace"
View = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Member:
    membership: Membership
    workspace: Workspace
    permissions: frozenset[Perm]

    @property
    def actor(self) -> Actor:
        return Actor("user", str(self.membership.user_id))

    def can(self, perm: str) -> bool:
        return Perm(perm) in self.permissions


def resolve(request: HttpRequest) -> Member | None:
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = memberships_of(user=user)
    if not memberships:
        return None
    chosen = request.session.get(SESSION_KEY)
    membership = next((m for m in memberships if str(m.workspace_id) == chosen), memberships[0])
    permissions = role_permissions(workspace_id=membership.workspace_id, role=membership.role)
    return Member(membership, membership.workspace, permissions)


class MemberMiddleware:
    def __init__(self, get_response: View) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.member = resolve(request)  # type: ignore[attr-defined]
        return self.get_response(request)


def member_of(request: HttpRequest) -> Member:
    member = getattr(request, "member", None)
    assert isinstance(member, Member)
    return member


def member_required(perm: Perm | None = None) -> Callable[[View], View]:
    """Signed in, member of a workspace, and (if named) holding ``perm`` — else 403."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect(f"/accounts/login/?next={request.path}")
            member = getattr(request, "member", None)
            if member is None:
                raise PermissionDenied("you are not a member of any workspace")
            if perm is not None and perm not in member.permissions:
                raise PermissionDenied(f"your role lacks the {perm.value} permission")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def has_totp(user: Any) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def personal_data_page(view: View) -> View:
    """Members who may see personal data must have TOTP enrolled before any such page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        member = member_of(request)
        if Perm.VIEW_PERSONAL_DATA in member.permissions and not has_totp(request.user):
            messages.warning(request, "Your role can see customers' personal data: set up "
                             "two-factor authentication first.")
            return redirect(f"/accounts/2fa/totp/activate/?next={request.path}")
        return view(request, *args, **kwargs)

    return wrapper


def select_workspace(request: HttpRequest, workspace_id: uuid.UUID) -> None:
    request.session[SESSION_KEY] = str(workspace_id)

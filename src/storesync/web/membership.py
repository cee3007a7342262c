"""The signed-in member's workspace: resolved once per request, checked by every view.

``MemberMiddleware`` does two things for the staff UI:

* it sets ``request.member`` for signed-in users who belong to a workspace: the one chosen in
  the switcher (``/w/``, remembered in the session), else their oldest membership. Anonymous
  visitors and people without a workspace get ``None``;
* it sends anonymous visitors of any ``web:`` page to the sign-in page, unless the view is
  marked with Django's ``@login_not_required`` (the invitation page). Pages outside the web
  app (health probes, the API, allauth's own pages) are left to their own rules.

Views then declare what they need with ``@member_required(perm)``, which answers 403 when the
member's role lacks ``perm``. Pages that show personal data pass ``personal_data=True``, which
adds the MFA gate of ``storesync.web.mfa``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone

from storesync.core.errors import ValidationError
from storesync.core.models import Membership, User, Workspace
from storesync.core.permissions import Perm
from storesync.core.roles import role_permissions
from storesync.core.selectors import memberships_of
from storesync.security.audit import Actor
from storesync.web import mfa
from storesync.web.localtime import business_timezone

SESSION_KEY = "storesync_workspace"
View = Callable[..., HttpResponse]
# What ``member_required`` wraps: pages, and streamed or file downloads.
AnyView = TypeVar("AnyView", bound=Callable[..., HttpResponseBase])
# Requests that never render a staff page: no session lookup, no membership query.
_SKIPPED_PREFIXES = ("/api/", "/webhooks/", "/static/", "/healthz", "/readyz", "/metrics")


@dataclass(frozen=True)
class Member:
    """A person acting in one workspace, with the permissions of their role there."""

    membership: Membership
    workspace: Workspace
    permissions: frozenset[Perm]

    @property
    def actor(self) -> Actor:
        return Actor("user", str(self.membership.user_id))

    def can(self, perm: Perm | str) -> bool:
        return Perm(perm) in self.permissions


def _permissions(membership: Membership) -> frozenset[Perm]:
    try:
        return role_permissions(workspace_id=membership.workspace_id, role=membership.role)
    except ValidationError:
        return frozenset()  # a custom role that no longer exists grants nothing


def resolve(request: HttpRequest) -> Member | None:
    """The member the request acts as, or None (anonymous, or in no workspace)."""
    user = request.user
    if not isinstance(user, User):
        return None
    memberships = memberships_of(user=user)
    if not memberships:
        return None
    chosen = request.session.get(SESSION_KEY)
    membership = next((m for m in memberships if str(m.workspace_id) == chosen), memberships[0])
    return Member(membership, membership.workspace, _permissions(membership))


class MemberMiddleware:
    """Sets ``request.member``; sends anonymous visitors of staff pages to sign in."""

    def __init__(self, get_response: View) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        skipped = request.path.startswith(_SKIPPED_PREFIXES)
        member = None if skipped else resolve(request)
        request.member = member  # type: ignore[attr-defined]
        if member is None:
            return self.get_response(request)
        # Pages show times in the workspace's business day (IST for an Indian shop).
        timezone.activate(business_timezone(member.workspace))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(self, request: HttpRequest, view_func: View, view_args: Any,
                     view_kwargs: Any) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or match.app_name != "web":
            return None
        if not getattr(view_func, "login_required", True) or request.user.is_authenticated:
            return None
        return redirect_to_login(request.get_full_path())


def member_of(request: HttpRequest) -> Member:
    """The request's member; only call it from views behind ``member_required``."""
    member = getattr(request, "member", None)
    assert isinstance(member, Member)
    return member


def member_required(perm: Perm | None = None, *, personal_data: bool = False
                    ) -> Callable[[AnyView], AnyView]:
    """A member of a workspace holding ``perm`` (if named), else 403.

    ``personal_data=True`` marks a page that shows or looks up personal data: members whose
    role may see personal data are sent to enrol TOTP first (``storesync.web.mfa``).
    """

    def decorate(view: AnyView) -> AnyView:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            member = getattr(request, "member", None)
            if not isinstance(member, Member):
                # Anonymous visitors were sent to sign in by the middleware already.
                raise PermissionDenied("You are not a member of any workspace. Ask an owner "
                                       "for an invitation.")
            if perm is not None and perm not in member.permissions:
                raise PermissionDenied(f"Your role ({member.membership.role}) lacks the "
                                       f"“{perm.value}” permission.")
            if personal_data:
                gate = mfa.require_totp(request, member.permissions)
                if gate is not None:
                    return gate
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]  # same signature, by functools.wraps

    return decorate


def select_workspace(request: HttpRequest, workspace_id: uuid.UUID) -> None:
    request.session[SESSION_KEY] = str(workspace_id)

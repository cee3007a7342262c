"""The MFA gate: no personal data on screen for a role that may see it until TOTP is enrolled.

Rule: a member whose role holds ``Perm.VIEW_PERSONAL_DATA`` (owners and admins always do;
managers and staff by default; custom roles when granted) must have an active TOTP
authenticator (``allauth.mfa``) before any page that shows or looks up personal data. Without
one, the page redirects to allauth's TOTP activation (``mfa_activate_totp``) with a message
saying why, and remembers where the member was going: after enrolment, the recovery-codes page
offers to continue there (``web:after_mfa``).

A role without that permission sees only masked data, so it is not asked to enrol. Signing in
with a password alone cannot bypass the gate later: once TOTP exists, allauth asks for the
second factor at every sign-in.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from storesync.core.permissions import MFA_REQUIRED_PERMISSION, Perm

CONTINUE_KEY = "storesync_after_mfa"
MESSAGE = ("Your role can see personal data, so your account needs two-factor "
           "authentication first. Setting it up takes a minute, with any authenticator app.")


def has_totp(user: object) -> bool:
    """True when ``user`` has an active TOTP authenticator."""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def require_totp(request: HttpRequest, permissions: frozenset[Perm]) -> HttpResponse | None:
    """A redirect to TOTP enrolment when the gate applies, else None (go ahead)."""
    if MFA_REQUIRED_PERMISSION not in permissions or has_totp(request.user):
        return None
    messages.warning(request, MESSAGE)
    if request.method == "GET":
        request.session[CONTINUE_KEY] = request.get_full_path()
    return redirect("mfa_activate_totp")


def continue_url(request: HttpRequest) -> str:
    """Where to go after enrolment (a local path the gate stored), once; else the dashboard."""
    target = request.session.pop(CONTINUE_KEY, None)
    if isinstance(target, str) and url_has_allowed_host_and_scheme(
            target, allowed_hosts=None, require_https=False) and target.startswith("/"):
        return target
    return "/"

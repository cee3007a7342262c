"""Accepting an invitation: the one staff page open to visitors who are not signed in.

* Signed in as the invited address: an "Accept" button joins the workspace.
* Signed in as someone else: the service refuses, and the page says why.
* Not signed in: a set-password form creates the account (for the invited address) and signs
  it in; if that address already has an account, the page asks to sign in first.

Expired, used and revoked links are all the same 404: a link never tells which.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from storesync.core.errors import Conflict, NotFound, StoresyncError
from storesync.core.models import Invitation, Membership, User
from storesync.core.services import invitation_accept, invitation_find
from storesync.web.membership import select_workspace
from storesync.web.views.forms import add_error


class AcceptForm(forms.Form):
    """Accepting as the signed-in user: no fields, only the service's errors."""


class PasswordForm(forms.Form):
    password = forms.CharField(label="Choose a password", widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}), min_length=12, max_length=200,
        help_text="At least 12 characters; a few unrelated words work well.")
    confirm = forms.CharField(label="Repeat it", widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}), max_length=200)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("confirm"):
            self.add_error("confirm", "The two passwords differ.")
        return data


def _joined(request: HttpRequest, invitation: Invitation, membership: Membership) -> HttpResponse:
    select_workspace(request, membership.workspace_id)
    messages.success(request, f"Welcome to {invitation.workspace.name}.")
    return redirect("web:dashboard")


def _accept_signed_in(request: HttpRequest, token: str, invitation: Invitation,
                      form: AcceptForm) -> HttpResponse | None:
    assert isinstance(request.user, User)
    try:
        membership = invitation_accept(token=token, user=request.user)
    except StoresyncError as exc:
        add_error(form, exc)
        return None
    return _joined(request, invitation, membership)


def _accept_new_account(request: HttpRequest, token: str, invitation: Invitation,
                        form: PasswordForm) -> tuple[HttpResponse | None, bool]:
    """Create the account and sign it in; (response, account_exists)."""
    if not form.is_valid():
        return None, False
    try:
        membership = invitation_accept(token=token, password=form.cleaned_data["password"])
    except Conflict as exc:
        add_error(form, exc)
        return None, True
    except StoresyncError as exc:
        add_error(form, exc)
        return None, False
    login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
    return _joined(request, invitation, membership), False


@login_not_required
def accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_find(token)
    except NotFound:
        return render(request, "storesync/invitation.html", {"invalid": True}, status=404)
    data = request.POST if request.method == "POST" else None
    form: forms.Form
    done: HttpResponse | None = None
    account_exists = False
    if request.user.is_authenticated:
        form = AcceptForm(data)
        if data is not None:
            done = _accept_signed_in(request, token, invitation, form)
    else:
        form = PasswordForm(data)
        if data is not None:
            done, account_exists = _accept_new_account(request, token, invitation, form)
    if done is not None:
        return done
    response = render(request, "storesync/invitation.html", {
        "invitation": invitation, "form": form, "account_exists": account_exists,
        "invalid": False,
    }, status=400 if form.errors else 200)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the token is in this page's URL
    return response

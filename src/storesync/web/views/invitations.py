"""Accepting an invitation (the one public page besides sign-in)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from storesync.core.errors import NotFound, StoresyncError
from storesync.core.models import User
from storesync.core.services import invitation_accept, invitation_find
from storesync.web.membership import select_workspace
from storesync.web.views.forms import add_error


class PasswordForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput, min_length=12, max_length=200)
    confirm = forms.CharField(widget=forms.PasswordInput, max_length=200)

    def clean(self) -> dict[str, str]:
        data = super().clean() or {}
        if data.get("password") != data.get("confirm"):
            self.add_error("confirm", "the two passwords differ")
        return data


def accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_find(token)
    except NotFound:
        return render(request, "storesync/invitation.html", {"invalid": True}, status=404)
    form = PasswordForm(request.POST or None) if not request.user.is_authenticated else None
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                membership = invitation_accept(token=token, user=request.user)
            elif form is not None and form.is_valid():
                membership = invitation_accept(token=token, password=form.cleaned_data["password"])
                user = User.objects.get(id=membership.user_id)
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                membership = None
            if membership is not None:
                select_workspace(request, membership.workspace_id)
                messages.success(request, f"Welcome to {invitation.workspace.name}.")
                return redirect("web:dashboard")
        except StoresyncError as exc:
            if form is not None:
                add_error(form, exc)
            else:
                messages.error(request, exc.message)
    return render(request, "storesync/invitation.html",
                  {"invitation": invitation, "form": form, "invalid": False})

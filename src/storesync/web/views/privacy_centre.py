"""The public privacy centre of a workspace: ``/privacy/<workspace-slug>/``.

No sign-in and no staff navigation. A visitor submits a request, proves the email with the
code it received, and follows the request's progress; an access export is downloaded once
through the emailed link. What the pages say never depends on whether the address belongs to
a customer.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from storesync.core.errors import NotFound, StoresyncError
from storesync.core.models import Workspace
from storesync.privacy import downloads, selectors, services
from storesync.privacy.requests_models import Jurisdiction, RequestKind, RequestStatus
from storesync.web.views.forms import add_error

KINDS = [
    (RequestKind.ACCESS, "Get a copy of my data"),
    (RequestKind.PORTABILITY, "Get my data in a portable format (JSON and CSV)"),
    (RequestKind.CORRECTION, "Correct my data"),
    (RequestKind.ERASURE, "Delete my data"),
    (RequestKind.RESTRICTION, "Restrict the use of my data"),
    (RequestKind.OBJECTION, "Object to marketing and analytics"),
    (RequestKind.DO_NOT_SELL, "Do not sell or share my data"),
]


class RequestForm(forms.Form):
    kind = forms.ChoiceField(label="What would you like us to do?", choices=KINDS,
                             widget=forms.RadioSelect)
    email = forms.EmailField(label="Your email address", max_length=254, widget=forms.EmailInput(
        attrs={"autocomplete": "email"}))
    jurisdiction = forms.ChoiceField(label="Where do you live? (decides our deadline)",
                                     choices=[("", "Let the shop decide"),
                                              *Jurisdiction.choices], required=False)
    first_name = forms.CharField(label="Correct first name to", max_length=255, required=False)
    last_name = forms.CharField(label="Correct last name to", max_length=255, required=False)
    phone = forms.CharField(label="Correct phone to", max_length=32, required=False)
    message = forms.CharField(label="Anything else we should know", max_length=2000,
                              required=False, widget=forms.Textarea(attrs={"rows": 3}))


class CodeForm(forms.Form):
    code = forms.RegexField(label="6-digit code from the email", regex=r"^\d{6}$",
                            max_length=6, widget=forms.TextInput(
                                attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))


def _workspace(slug: str) -> Workspace:
    try:
        return services.workspace_by_slug(slug)
    except NotFound:
        raise Http404("There is no privacy centre here.") from None


def _client(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    # Not "no-referrer": Chromium then posts forms with ``Origin: null``, which CSRF refuses.
    response["Referrer-Policy"] = "same-origin"
    return response


@login_not_required
@require_http_methods(["GET", "POST"])
def centre(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = _workspace(slug)
    form = RequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        details = {k: data[k] for k in ("first_name", "last_name", "phone", "message")
                   if data[k]}
        if data["kind"] != RequestKind.CORRECTION:
            details = {"message": details["message"]} if "message" in details else {}
        try:
            created = services.dsr_submit(
                workspace_slug=slug, email=data["email"], kind=data["kind"],
                jurisdiction=data["jurisdiction"], details=details, client_ip=_client(request))
        except StoresyncError as exc:
            add_error(form, exc)
        else:
            return redirect("web:privacy_request", slug=slug, request_id=created.id)
    return _private(render(request, "privacy/centre.html", {
        "workspace": workspace, "form": form}, status=400 if form.errors else 200))


@login_not_required
@require_http_methods(["GET", "POST"])
def request_status(request: HttpRequest, slug: str, request_id: uuid.UUID) -> HttpResponse:
    workspace = _workspace(slug)
    try:
        found = selectors.public_status(workspace_id=workspace.id, request_id=request_id)
    except NotFound:
        raise Http404("No such request.") from None
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.dsr_verify(workspace_slug=slug, request_id=request_id,
                                code=form.cleaned_data["code"], client_ip=_client(request))
        except StoresyncError as exc:
            add_error(form, exc)
        else:
            return redirect("web:privacy_request", slug=slug, request_id=request_id)
    context: dict[str, Any] = {
        "workspace": workspace, "req": found, "form": form,
        "state": selectors.public_state(request=found),
        "unverified": found.status == RequestStatus.UNVERIFIED,
        "kind_label": dict(KINDS).get(RequestKind(found.kind), found.kind),
    }
    return _private(render(request, "privacy/request.html", context,
                           status=400 if form.errors else 200))


@login_not_required
@require_GET
def download(request: HttpRequest, slug: str, token: str) -> HttpResponse:
    workspace = _workspace(slug)
    try:
        _, archive = downloads.export_download(workspace_slug=slug, token=token,
                                                   client_ip=_client(request))
    except NotFound:
        return _private(render(request, "privacy/expired.html", {"workspace": workspace},
                               status=404))
    response = HttpResponse(archive, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="my-data-{slug}.zip"'
    return _private(response)

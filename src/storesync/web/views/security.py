"""Back from TOTP enrolment to the page the MFA gate stopped the member at."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from storesync.web import mfa


@require_GET
def after_mfa(request: HttpRequest) -> HttpResponse:
    return redirect(mfa.continue_url(request))

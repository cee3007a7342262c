"""The public privacy pages of a seller's shop: no sign-in.

* ``/privacy/<slug>/consent`` — the storefront consent API (JSON) used by the banner script:
  authenticated by the workspace's public key only, answering CORS only for the seller's
  configured storefront origins, rate-limited per client address. Subjects are anonymous
  visitors (the banner's random id): a public key must not be able to change a known
  customer's consent, so customer consent goes through the authenticated REST API.
* ``/privacy/<slug>/policy`` — the policy in force and every earlier version.
* ``/privacy/unsubscribe/<token>`` — RFC 8058 one-click unsubscribe: ``POST`` with
  ``List-Unsubscribe=One-Click`` withdraws marketing consent; ``GET`` only shows a confirmation
  page (link scanners follow GETs, so a GET never unsubscribes).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from storesync.core.errors import NotFound, StoresyncError, ValidationError
from storesync.privacy import consent, policies
from storesync.privacy.consent import Decision
from storesync.privacy.consent_models import (
    ConsentPurpose,
    ConsentSource,
    PrivacySettings,
    SubjectType,
)
from storesync.privacy.subjects import Subject, subject_parse
from storesync.security.audit import Actor

RATE_LIMIT_PER_MINUTE = 60
MAX_BODY = 4096


def _error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    return JsonResponse({"error": body}, status=status)


def _throttled(request: HttpRequest, slug: str) -> bool:
    key = f"privacy-consent:{slug}:{request.META.get('REMOTE_ADDR', '')}"
    if cache.add(key, 1, timeout=60):
        return False
    try:
        return int(cache.incr(key)) > RATE_LIMIT_PER_MINUTE
    except ValueError:
        return False


def _cors(response: HttpResponse, origin: str | None) -> HttpResponse:
    response["Vary"] = "Origin"
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
    response["Cache-Control"] = "no-store"
    return response


def _state(settings: PrivacySettings, subject: Subject, gpc: bool) -> dict[str, Any]:
    ws = settings.workspace_id
    current = consent.consent_current(workspace_id=ws, subject=subject)
    policy = policies.policy_current(workspace_id=ws)
    return {
        "visitor_id": subject.id,
        "purposes": {p: current[p].state if p in current else None
                     for p in ConsentPurpose.values if p != ConsentPurpose.NECESSARY},
        "allows": {p: consent.consent_allows(workspace_id=ws, subject=subject, purpose=p)
                   for p in ConsentPurpose.values},
        "decided_at": consent.consent_last_changed(current),
        "policy_version": policy.version if policy else None,
        "banner_version": settings.banner_version,
        "gpc": gpc,
    }


def _decisions(body: dict[str, Any]) -> list[Decision]:
    choices = body.get("choices")
    if not isinstance(choices, dict) or not choices:
        raise ValidationError("an object of purpose: 'granted' | 'withdrawn'", field="choices")
    return [Decision(str(p), str(s)) for p, s in choices.items()]


def _record(request: HttpRequest, settings: PrivacySettings, subject: Subject,
            body: dict[str, Any], gpc: bool) -> None:
    decisions = _decisions(body)
    if gpc:  # the browser's signal wins over a banner grant of sale/sharing
        decisions = [d for d in decisions if d.purpose != ConsentPurpose.SALE_SHARE]
    evidence = {"banner_version": str(body.get("banner_version") or settings.banner_version)[:40],
                "user_agent_sha256": consent.user_agent_hash(
                    request.headers.get("User-Agent", "")), "gpc": gpc}
    actor = Actor("visitor", subject.id)
    if decisions:
        consent.consent_record_many(
            workspace_id=settings.workspace_id, subject=subject, decisions=decisions,
            source=ConsentSource.STOREFRONT_BANNER, actor=actor, evidence=evidence,
            policy_version=str(body.get("policy_version") or "")[:40])
    if gpc:
        consent.consent_record_gpc(workspace_id=settings.workspace_id, subject=subject,
                                   actor=actor, evidence=evidence)


@csrf_exempt  # no cookies are used: the public key and the Origin check authorise the call
@login_not_required
@require_http_methods(["GET", "POST", "OPTIONS"])
def storefront_consent(request: HttpRequest, slug: str) -> HttpResponse:
    """Read (GET) or record (POST) a visitor's consent choices for a seller's storefront."""
    origin = request.headers.get("Origin")
    if request.method != "OPTIONS" and _throttled(request, slug):  # before any lookup
        response = _error(429, "throttled", "too many requests; retry in a minute")
        response["Retry-After"] = "60"
        return _cors(response, None)
    settings = consent.privacy_settings_by_key(slug=slug, public_key=request.GET.get("key", ""))
    if settings is None:
        return _cors(_error(403, "permission_denied", "unknown shop or public key", "key"), None)
    if origin and origin not in settings.storefront_origins:
        return _cors(_error(403, "permission_denied",
                            "this origin is not a storefront of the shop", "Origin"), None)
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), origin)
    gpc = request.headers.get("Sec-GPC", "").strip() == "1"
    try:
        body: dict[str, Any] = {}
        if request.method == "POST":
            if len(request.body) > MAX_BODY:
                raise ValidationError("the request body is too large", field="body")
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                raise ValidationError("the body is not valid JSON", field="body") from None
            if not isinstance(body, dict):
                raise ValidationError("a JSON object", field="body")
        visitor = str(body.get("visitor_id") or request.GET.get("visitor_id") or "")
        subject = subject_parse(workspace_id=settings.workspace_id,
                                subject_type=SubjectType.VISITOR, subject_id=visitor,
                                field_prefix="visitor_id:")
        if request.method == "POST":
            _record(request, settings, subject, body, gpc)
        elif gpc:
            consent.consent_record_gpc(workspace_id=settings.workspace_id, subject=subject,
                                       actor=Actor("visitor", subject.id),
                                       evidence={"gpc": True})
    except StoresyncError as exc:
        field = exc.field.replace("visitor_id:subject_id", "visitor_id") if exc.field else None
        return _cors(_error(exc.status, exc.code, exc.message, field), origin)
    response = JsonResponse(_state(settings, subject, gpc),
                            status=201 if request.method == "POST" else 200)
    return _cors(response, origin)


@login_not_required
@require_GET
def policy_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The policy in force and its history, for anyone."""
    try:
        workspace, current, history = policies.policy_public(slug=slug)
    except NotFound:
        raise Http404("There is no such shop.") from None
    return render(request, "storesync/privacy/public_policy.html", {
        "shop": workspace, "current": current, "history": history, "now": timezone.now()})


@csrf_exempt  # mail clients POST without cookies (RFC 8058); the signed token authorises it
@login_not_required
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: confirm. POST ``List-Unsubscribe=One-Click``: withdraw marketing consent."""
    try:
        consent.unsubscribe_verify(token=token)
    except ValidationError as exc:
        return render(request, "storesync/privacy/unsubscribe.html",
                      {"error": exc.message}, status=400)
    if request.method == "GET":
        return render(request, "storesync/privacy/unsubscribe.html", {"token": token})
    if request.POST.get("List-Unsubscribe") != "One-Click":
        return render(request, "storesync/privacy/unsubscribe.html", {
            "error": "The request did not say List-Unsubscribe=One-Click.", "token": token},
            status=400)
    consent.unsubscribe_apply(token=token, user_agent=request.headers.get("User-Agent", ""))
    return render(request, "storesync/privacy/unsubscribe.html", {"done": True})


"""Request-wide concerns: request ids, database outages, security headers, body size, metrics."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from storesync.core.context import new_request_id, request_id
from storesync.core.logs import get_logger
from storesync.web import errors, metrics

log = get_logger(__name__)
Handler = Callable[[HttpRequest], HttpResponse]
MACHINE_PREFIXES = ("/api/", "/webhooks/")


def _is_machine(request: HttpRequest) -> bool:
    return request.path.startswith(MACHINE_PREFIXES)


class RequestContextMiddleware:
    """Tags every log line of a request with a request id (also returned as X-Request-Id)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = new_request_id()
        token = request_id.set(rid)
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        response["X-Request-Id"] = rid
        return response


class DatabaseUnavailableMiddleware:
    """A database that cannot be reached is a 503 with Retry-After, never a 500."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.error("database_unavailable", path=request.path, error=type(exception).__name__)
        return errors.unavailable(request)


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy: own scripts and styles only."""

    CSP = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
        "form-action 'self'; object-src 'none'"
    )

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.CSP)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.path.startswith(("/api/", "/accounts/", "/settings/", "/customers/")):
            response.setdefault("Cache-Control", "no-store")
        return response


class BodySizeLimitMiddleware:
    """Refuse a declared body over the limit before reading it (413, JSON on machine paths)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.limit = int(settings.STORESYNC_MAX_BODY_BYTES)
        self.upload_limit = int(settings.STORESYNC_MAX_UPLOAD_BYTES)
        self.upload_paths = re.compile(settings.STORESYNC_UPLOAD_PATHS)

    def _limit(self, request: HttpRequest) -> int:
        # File uploads (product images) get their own, larger limit; every other body keeps
        # the small one, so a JSON endpoint cannot be made to buffer megabytes.
        multipart = request.content_type == "multipart/form-data"
        if multipart and request.method == "POST" and self.upload_paths.fullmatch(request.path):
            return self.upload_limit
        return self.limit

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            size = int(declared)
        except ValueError:
            size = -1
        limit = self._limit(request)
        if size < 0 or size > limit:
            metrics.rejected_bodies.inc()
            message = (f"the request body is too large (at most {limit:,} bytes)" if size > 0
                       else "Content-Length is not a number")
            status = 413 if size > 0 else 400
            if _is_machine(request):
                return JsonResponse({"error": {"code": "payload_too_large" if status == 413
                                               else "bad_request", "message": message,
                                               "field": "body"}}, status=status)
            return HttpResponse(message, status=status, content_type="text/plain")
        return self.get_response(request)


class MetricsMiddleware:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        metrics.http_latency.labels(request.method or "").observe(time.perf_counter() - started)
        metrics.http_requests.labels(request.method or "", str(response.status_code)).inc()
        return response

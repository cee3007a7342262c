"""Error pages for failures outside a view (middleware, session, template rendering)."""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

from storesync.web import metrics

_UNAVAILABLE_HTML = (
    "<!doctype html><title>Unavailable</title><h1>storesync is unavailable</h1>"
    "<p>The database cannot be reached. Try again in a moment.</p>"
)


def unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON for machines (API, webhooks), a short page for people."""
    metrics.db_unavailable.inc()
    response: HttpResponse
    if request.path.startswith(("/api/", "/webhooks/")):
        body = {"code": "unavailable", "message": "the database is unavailable; retry shortly"}
        response = JsonResponse({"error": body}, status=503)
    else:
        response = HttpResponse(_UNAVAILABLE_HTML, status=503)
    response["Retry-After"] = "5"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a lost database (raised in any middleware) is a 503, not a 500."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        return unavailable(request)
    if request.path.startswith(("/api/", "/webhooks/")):
        return JsonResponse({"error": {"code": "internal_error",
                                       "message": "the request could not be completed"}},
                            status=500)
    return HttpResponse("<!doctype html><title>Error</title><h1>Something went wrong</h1>"
                        "<p>The error has been logged.</p>", status=500)

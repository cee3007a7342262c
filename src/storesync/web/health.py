"""``/healthz`` (the process answers), ``/readyz`` (database and queue reachable), ``/metrics``."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from storesync.web import metrics


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def _ping_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_database() -> str | None:
    # A broken connection is discarded by Django at the end of the request
    # (close_if_unusable_or_obsolete), so the next probe reconnects.
    try:
        _ping_database()
    except Exception as exc:
        return type(exc).__name__
    return None


def _check_queue() -> str | None:
    try:
        huey = settings.HUEY
        huey.storage.queue_size()
    except Exception as exc:
        return type(exc).__name__
    return None


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    checks = {"database": _check_database(), "queue": _check_queue()}
    ready = all(v is None for v in checks.values())
    body = {"status": "ready" if ready else "unavailable",
            "checks": {k: "ok" if v is None else f"failed: {v}" for k, v in checks.items()}}
    return JsonResponse(body, status=200 if ready else 503)


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse(generate_latest(metrics.registry), content_type=CONTENT_TYPE_LATEST)

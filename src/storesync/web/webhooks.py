"""``POST /webhooks/<platform>/<connection_id>``: the channel inbox's HTTP door.

It only verifies, stores and acknowledges (``channels.inbox.inbox_receive``); processing runs
in a worker after commit. Platforms retry on anything but 2xx, so a duplicate delivery is
answered 200 without being stored or processed again.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from storesync.channels.connectors.base import InvalidWebhook
from storesync.channels.inbox import inbox_receive
from storesync.channels.models import Platform
from storesync.core.errors import NotFound
from storesync.web import metrics

MAX_WEBHOOK_BYTES = 1024 * 1024

webhooks_received = Counter(
    "storesync_webhooks_received_total", "Webhooks verified and stored", ["platform"],
    registry=metrics.registry,
)
webhooks_duplicate = Counter(
    "storesync_webhooks_duplicate_total", "Webhook deliveries already stored (acknowledged)",
    ["platform"], registry=metrics.registry,
)
webhooks_rejected = Counter(
    "storesync_webhooks_rejected_total", "Webhooks refused", ["platform", "reason"],
    registry=metrics.registry,
)


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "field": "body"}},
                        status=status)


@csrf_exempt
@require_POST
def receive(request: HttpRequest, platform: str, connection_id: str) -> HttpResponse:
    # Labels only from the known set: a URL must not mint new time series.
    label = platform if platform in Platform.values else "other"
    try:
        body = request.body
    except RawPostDataException:  # pragma: no cover - nothing reads the stream before us
        body = b""
    if len(body) > MAX_WEBHOOK_BYTES:
        webhooks_rejected.labels(label, "too_large").inc()
        return _error(413, "payload_too_large", "the webhook body is too large")
    try:
        result = inbox_receive(platform=platform, connection_id=connection_id,
                               headers=request.headers, body=body)
    except (NotFound, LookupError):
        # No detail: an unknown connection id tells a prober nothing.
        webhooks_rejected.labels(label, "unknown_connection").inc()
        return HttpResponse(status=404)
    except InvalidWebhook as exc:
        reason = "signature" if exc.status == 401 else "malformed"
        webhooks_rejected.labels(label, reason).inc()
        return _error(exc.status, "invalid_webhook", exc.message)
    if result.outcome == "duplicate":
        webhooks_duplicate.labels(label).inc()
    elif result.outcome == "stored":
        webhooks_received.labels(label).inc()
    return JsonResponse({"ok": True, "outcome": result.outcome.value})


class _OutboxCollector:
    """Outbox rows waiting and dead, read at scrape time (every process reports the same)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from storesync.channels.selectors import outbox_totals

        try:
            totals = outbox_totals()
        except DatabaseError:
            return
        pending = GaugeMetricFamily("storesync_outbox_pending",
                                    "Outbox rows not yet pushed to their channel")
        pending.add_metric([], totals["pending"])
        yield pending
        dead = GaugeMetricFamily("storesync_outbox_dead_letters",
                                 "Outbox rows parked after failed pushes (replay them)")
        dead.add_metric([], totals["dead"])
        yield dead


metrics.registry.register(_OutboxCollector())

"""Prometheus metrics (text format at ``/metrics``)."""

from __future__ import annotations

from collections.abc import Iterator

from django.db import DatabaseError
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

registry = CollectorRegistry(auto_describe=False)

http_requests = Counter(
    "storesync_http_requests_total", "HTTP requests served", ["method", "status"],
    registry=registry,
)
http_latency = Histogram(
    "storesync_http_request_duration_seconds", "Time to serve a request", ["method"],
    registry=registry,
)
db_unavailable = Counter(
    "storesync_database_unavailable_total", "Requests answered 503 for lack of a database",
    registry=registry,
)
rejected_bodies = Counter(
    "storesync_request_body_too_large_total", "Requests refused for body size",
    registry=registry,
)


class _AuditCollector:
    """Reads the last audit verification from the database at scrape time, so that every web
    process reports what the worker found."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from storesync.security.models import AuditVerification

        try:
            last = AuditVerification.objects.order_by("-verified_at").first()
        except DatabaseError:
            return  # /readyz reports the outage; the metrics page itself stays up
        ok = GaugeMetricFamily("storesync_audit_chain_ok",
                               "1 when the last audit verification found every chain intact, "
                               "0 when broken, -1 when never verified")
        ok.add_metric([], -1 if last is None else int(last.ok))
        yield ok
        age = GaugeMetricFamily("storesync_audit_last_verified_timestamp_seconds",
                                "Unix time of the last audit verification (0: never)")
        age.add_metric([], 0 if last is None else last.verified_at.timestamp())
        yield age


registry.register(_AuditCollector())

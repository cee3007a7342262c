"""Prometheus metrics (text format at ``/metrics``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

registry = CollectorRegistry(auto_describe=True)

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
audit_chain_ok = Gauge(
    "storesync_audit_chain_ok", "1 when the last audit verification found every chain intact",
    registry=registry,
)

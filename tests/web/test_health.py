from __future__ import annotations

from django.db import OperationalError
from django.test import Client


def test_healthz_and_readyz(db):
    client = Client()
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "queue": "ok"}


def test_readyz_fails_when_the_database_is_unreachable(db, monkeypatch):
    from storesync.web import health

    def down():
        raise OperationalError("could not connect")

    monkeypatch.setattr(health, "_ping_database", down)
    ready = Client().get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("failed")


def test_readyz_fails_when_the_queue_is_unreachable(db, monkeypatch, settings):
    def down():
        raise ConnectionError("queue down")

    monkeypatch.setattr(settings.HUEY.storage, "queue_size", down)
    assert Client().get("/readyz").status_code == 503


def test_metrics_are_prometheus_text(db):
    client = Client()
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "storesync_http_requests_total" in response.content.decode()


def test_security_headers(db):
    response = Client().get("/healthz")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"

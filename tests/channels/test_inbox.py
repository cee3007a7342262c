"""``POST /webhooks/<platform>/<connection_id>``: verified, stored once (encrypted), answered
fast; processing runs in a worker, never in the request."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.db import connection as db
from django.test import Client

from storesync.channels.models import InboxEvent, InboxState
from storesync.core.tenancy import system_scope, workspace_scope
from storesync.security.access import personal_data_access
from tests.channels.conftest import ACTOR, SECRET
from tests.channels.fake_platform import PLATFORM, sign

ORDER = {"id": 4501, "email": "buyer@example.com", "shipping_address": {"city": "Pune"}}


def _post(channel, body: bytes, *, event_id="evt-1", topic="order.created", secret=SECRET,
          platform=PLATFORM, connection_id=None):
    return Client().post(
        f"/webhooks/{platform}/{connection_id or channel.connection.id}", data=body,
        content_type="application/json",
        headers={"X-Test-Hmac-Sha256": sign(body, secret), "X-Test-Event-Id": event_id,
                 "X-Test-Topic": topic})


def _events():
    with system_scope():
        return list(InboxEvent.objects.all())


@pytest.fixture
def queued():
    """The real queue, not immediate mode: jobs wait until a worker runs them."""
    huey = settings.HUEY
    huey.immediate = False
    huey.flush()
    yield huey
    huey.flush()
    huey.immediate = True


def _metric(client: Client, name: str) -> float:
    text = client.get("/metrics").content.decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith((name + "{", name + " ")))


def test_a_bad_signature_is_401_and_nothing_is_stored(channel):
    before = _metric(Client(), "storesync_webhooks_rejected_total")
    response = _post(channel, json.dumps(ORDER).encode(), secret="not-the-secret-at-all")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_webhook"
    assert _events() == []
    assert _metric(Client(), "storesync_webhooks_rejected_total") == before + 1


def test_a_malformed_body_is_400_and_nothing_is_stored(channel):
    assert _post(channel, b"{not json").status_code == 400
    assert _post(channel, json.dumps(ORDER).encode(), topic="no.such.topic").status_code == 400
    assert _events() == []


def test_a_body_over_one_megabyte_is_413(channel):
    body = json.dumps({"id": 1, "note": "x" * (1024 * 1024)}).encode()
    assert _post(channel, body).status_code == 413
    assert _events() == []


def test_unknown_connection_or_platform_is_a_bare_404(channel, other_workspace):
    body = json.dumps(ORDER).encode()
    for response in (
        _post(channel, body, connection_id="0190c3c4-0000-7000-8000-000000000000"),
        _post(channel, body, connection_id="not-a-uuid"),
        _post(channel, body, platform="shopify"),  # the connection is on another platform
    ):
        assert response.status_code == 404 and response.content == b""
    assert _events() == []


def test_a_stored_payload_is_encrypted_and_read_only_in_an_audited_scope(channel):
    assert _post(channel, json.dumps(ORDER).encode()).status_code == 200
    with workspace_scope(channel.workspace_id), db.cursor() as cursor:
        cursor.execute("SELECT payload FROM channels_inboxevent")
        raw = bytes(cursor.fetchone()[0])
    assert b"buyer@example.com" not in raw
    with workspace_scope(channel.workspace_id):
        event = InboxEvent.objects.get()
        with personal_data_access(actor=ACTOR, workspace_id=channel.workspace_id,
                                  purpose="order_fulfilment"):
            assert json.loads(event.payload)["email"] == "buyer@example.com"
    assert (event.event_id, event.topic, event.resource_id) == ("evt-1", "order.created", "4501")


@pytest.mark.django_db(transaction=True)  # on_commit must fire as it does in production
def test_duplicates_are_stored_once_and_processing_is_queued_not_inline(channel, queued):
    body = json.dumps(ORDER).encode()
    first = _post(channel, body)
    assert first.status_code == 200 and first.json()["outcome"] == "stored"
    [event] = _events()
    assert event.state == InboxState.RECEIVED  # answered before any processing
    assert queued.pending_count() == 1

    again = _post(channel, body)  # the platform retries the same delivery
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert len(_events()) == 1 and queued.pending_count() == 1

    queued.execute(queued.dequeue())  # what a worker does
    [event] = _events()
    assert event.state == InboxState.PROCESSED and event.processed_at is not None
    # An order topic asks reconciliation to fetch the order (queued, not run inline either).
    assert queued.pending_count() == 1
    assert channel.platform.calls == []


@pytest.mark.django_db(transaction=True)
def test_privacy_requests_are_held_not_dropped(channel, queued):
    body = json.dumps({"id": 9, "customer": {"email": "someone@example.com"}}).encode()
    assert _post(channel, body, topic="privacy.customer_redact").status_code == 200
    queued.execute(queued.dequeue())
    [event] = _events()
    assert event.state == InboxState.HELD
    assert queued.pending_count() == 0


def test_ping_is_acknowledged_without_storing(channel):
    response = _post(channel, json.dumps({"id": 0}).encode(), topic="ping", event_id="p-1")
    assert response.status_code == 200 and response.json()["outcome"] == "ping"
    assert _events() == []


@pytest.mark.django_db(transaction=True)
def test_an_uninstall_shows_on_the_connection_health(channel, queued, owner_api):
    assert _post(channel, b'{"id": 1}', topic="app.uninstalled").status_code == 200
    queued.execute(queued.dequeue())
    health = owner_api.get(f"/api/v1/connections/{channel.connection.id}").json()
    assert "uninstalled" in health["last_error"]


def test_payloads_are_deleted_after_30_days_once_handled(channel, queued):
    """The privacy engine's retention sweep owns the deletion; the channels app registers the
    rule for its inbox: handled events go after 30 days, unhandled and held ones wait."""
    from datetime import timedelta

    from django.utils import timezone

    from storesync.privacy.retention import retention_sweep

    for event_id in ("old-processed", "old-skipped", "old-held", "old-unhandled",
                     "new-processed"):
        assert _post(channel, json.dumps(ORDER).encode(), event_id=event_id).status_code == 200
    month_ago = timezone.now() - timedelta(days=31)
    with system_scope():
        events = InboxEvent.objects.all()
        events.filter(event_id__endswith="processed").update(state=InboxState.PROCESSED)
        events.filter(event_id="old-skipped").update(state=InboxState.SKIPPED)
        events.filter(event_id="old-held").update(state=InboxState.HELD)
        events.filter(event_id__startswith="old").update(received_at=month_ago)
    reports = retention_sweep(workspace_id=channel.workspace_id, apply=True, actor=ACTOR)
    assert {r.name: r.disposed for r in reports}["channels.inbox_event"] == 2
    assert sorted(e.event_id for e in _events()) == ["new-processed", "old-held",
                                                     "old-unhandled"]

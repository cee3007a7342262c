"""A channel that stays down: pushes back off, then park as dead letters, which /metrics
shows; once the channel is back a replay brings it up to date."""

from __future__ import annotations

import re

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from storesync.channels import dispatcher
from storesync.channels.models import OutboxItem, OutboxState
from storesync.channels.outbox import MAX_ATTEMPTS, dead_letter_replay
from storesync.core.tenancy import workspace_scope
from storesync.inventory.services import stock_adjust
from tests.channels.e2e.conftest import ACTOR, STOCK, Hub

pytestmark = pytest.mark.django_db(transaction=True)


def _rows(hub: Hub) -> list[OutboxItem]:
    with workspace_scope(hub.workspace_id):
        return list(OutboxItem.objects.filter(
            connection_id=hub.connections["woocommerce"].id,
            state__in=[OutboxState.PENDING, OutboxState.DEAD]))


def _gauge(name: str) -> float:
    text = httpx.get(f"{settings.CONFIG.base_url}/metrics", timeout=30).text
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


def test_a_channel_down_backs_off_then_dead_letters_then_replays(hub: Hub) -> None:
    sku = hub.skus[0]
    woo = hub.connections["woocommerce"]
    hub.woo_control("POST", "faults", {"error_count": 10_000, "error_status": 503})
    stock_adjust(workspace_id=hub.workspace_id, variant_id=hub.variants[sku],
                 location_id=hub.location_id, delta=-4, reason="count", actor=ACTOR)
    # Shopify is not held up by WooCommerce being down.
    assert hub.shopify_qty(sku) == STOCK - 4
    assert hub.woo_qty(sku) == STOCK
    (row,) = _rows(hub)
    assert row.state == OutboxState.PENDING and row.attempts == 1
    assert row.next_attempt_at > timezone.now(), "a failed push waits before its retry"
    assert "503" in row.last_error
    delays = []
    for _ in range(MAX_ATTEMPTS):  # bounded: the retries the backoff would run over hours
        (row,) = _rows(hub)
        if row.state == OutboxState.DEAD:
            break
        delays.append((row.next_attempt_at - timezone.now()).total_seconds())
        with workspace_scope(hub.workspace_id):  # time passes: the retry is due
            OutboxItem.objects.filter(id=row.id).update(next_attempt_at=timezone.now())
        dispatcher.drain_connection(workspace_id=hub.workspace_id, connection_id=woo.id)
    (row,) = _rows(hub)
    assert row.state == OutboxState.DEAD and row.attempts == MAX_ATTEMPTS
    assert delays[-1] > delays[0] * 4, f"the waits grow: {delays}"
    assert _gauge("storesync_outbox_dead_letters") >= 1
    assert hub.woo_qty(sku) == STOCK

    hub.woo_control("DELETE", "faults")
    assert dead_letter_replay(workspace_id=hub.workspace_id, connection_id=woo.id,
                              actor=ACTOR) == 1
    assert hub.woo_qty(sku) == STOCK - 4
    assert _rows(hub) == []
    assert _gauge("storesync_outbox_dead_letters") == 0

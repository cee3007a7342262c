"""The webhook storm: thousands of deliveries from both channels, 20 % duplicated, 10 %
reordered, 5 % lost (recovered by reconciliation), while the channels answer 5xx in bursts.
At the end every order exists once and every channel shows the hub's available quantity.

``STORESYNC_STORM_WEBHOOKS`` sets the number of deliveries (default 300, which keeps the test
under two minutes on a small CI machine; the full storm is 10,000).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from django.utils import timezone

from storesync.channels import dispatcher, reconcile
from storesync.channels.models import Connection, OutboxItem, OutboxState
from storesync.channels.outbox import dead_letter_replay
from storesync.core.tenancy import workspace_scope
from storesync.orders.models import Order
from tests.channels.e2e.conftest import ACTOR, Hub, build_hub, close_hub

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WEBHOOKS = int(os.environ.get("STORESYNC_STORM_WEBHOOKS", "300"))
SKUS = 12
STOCK = 100_000
POSTERS = int(os.environ.get("STORESYNC_STORM_POSTERS", "1"))
MAX_RECOVERY_ROUNDS = 40


@dataclass(frozen=True)
class Sent:
    url: str
    body: bytes
    headers: dict[str, str]


def _intercept(hub: Hub) -> list[Sent]:
    """Keep every webhook the simulators would send; the test delivers them itself."""
    captured: list[Sent] = []
    lock = threading.Lock()

    def shopify(delivery: Any, delay_s: float = 0.0) -> None:
        with lock:
            captured.append(Sent(delivery.uri, delivery.body, dict(delivery.headers)))

    def woo(delivery: Any) -> None:
        with lock:
            captured.append(Sent(delivery.url, delivery.body, dict(delivery.headers)))

    hub.shopify.deliverer._enqueue = shopify  # type: ignore[method-assign]
    hub.woo.sandbox.dispatcher._enqueue = woo  # type: ignore[method-assign]
    return captured


def _sell(hub: Hub, rng: random.Random, captured: list[Sent]) -> Counter[str]:
    """Sales on both channels until they produced ``WEBHOOKS`` deliveries (before faults)."""
    sold: Counter[str] = Counter()
    with httpx.Client(timeout=30) as http:
        while len(captured) < WEBHOOKS:
            sku, quantity = rng.choice(hub.skus), rng.randint(1, 3)
            if rng.random() < 0.7:
                answer = http.post(f"{hub.shopify.url}/_sandbox/orders",
                                   json={"lines": [{"sku": sku, "quantity": quantity}]})
            else:
                answer = http.post(f"{hub.woo.url}/_sandbox/orders",
                                   json={"line_items": [{"sku": sku, "quantity": quantity}]})
            assert answer.status_code == 201, answer.text
            sold[sku] += quantity
    return sold


def _storm_plan(captured: list[Sent], rng: random.Random) -> list[Sent]:
    """5 % lost, 20 % sent twice, 10 % moved later than deliveries made after them."""
    order = {id(sent): n for n, sent in enumerate(captured)}
    plan = [sent for sent in captured if rng.random() >= 0.05]
    plan += [rng.choice(plan) for _ in range(len(captured) // 5)]
    plan.sort(key=lambda sent: order[id(sent)])
    for i in rng.sample(range(len(plan)), len(plan) // 10):
        j = min(len(plan) - 1, i + rng.randint(1, 50))
        plan[i], plan[j] = plan[j], plan[i]
    return plan


def _deliver(plan: list[Sent], hub: Hub) -> Counter[int]:
    """POST like a platform: retry a non-2xx answer a few times, then give up. Every 100
    deliveries one channel answers 5xx to the next 10 calls."""
    statuses: Counter[int] = Counter()

    def post(numbered: tuple[int, Sent]) -> None:
        n, sent = numbered
        if n % 100 == 50:
            if n % 200 == 50:
                hub.shopify_control("POST", "faults", {"http_5xx": 10})
            else:
                hub.woo_control("POST", "faults", {"error_count": 10, "error_status": 503})
        with httpx.Client(timeout=60) as http:
            for attempt in range(5):
                status = http.post(sent.url, content=sent.body, headers=sent.headers).status_code
                statuses[status] += 1
                if 200 <= status < 300:
                    return
                time.sleep(0.05 * 2 ** attempt)

    with ThreadPoolExecutor(POSTERS) as pool:
        list(pool.map(post, enumerate(plan)))
    return statuses


def _recover(hub: Hub) -> None:
    """What the periodic jobs do afterwards: poll orders (finds the lost webhooks' orders),
    then drain every outbox until nothing waits, replaying dead letters (time travels: the
    test does not wait out backoffs)."""
    hub.shopify_control("POST", "faults", {"http_5xx": 0})
    hub.woo_control("DELETE", "faults")
    for connection in hub.connections.values():
        reconcile.reconcile_orders(workspace_id=hub.workspace_id, connection_id=connection.id)
    for _ in range(MAX_RECOVERY_ROUNDS):
        with workspace_scope(hub.workspace_id):
            waiting = OutboxItem.objects.exclude(state=OutboxState.DONE)
            if not waiting.exists():
                return
            waiting.filter(state=OutboxState.PENDING).update(next_attempt_at=timezone.now())
            Connection.objects.update(throttled_until=None)
        for connection in hub.connections.values():
            dead_letter_replay(workspace_id=hub.workspace_id, connection_id=connection.id,
                               actor=ACTOR)
            dispatcher.drain_connection(workspace_id=hub.workspace_id,
                                        connection_id=connection.id)
    raise AssertionError("outboxes still not drained after recovery")


def test_webhook_storm_ends_with_every_order_once_and_every_channel_equal(
        live_server: Any) -> None:
    from django.conf import settings

    from storesync.channels.sandbox.shopify.server import Config

    original = settings.CONFIG
    # A large API bucket: this test is about faults, not rate limits (the benchmark is).
    hub = build_hub(live_server.url, count=SKUS, stock=STOCK, shopify_config=Config(
        webhook_retry_base_s=0.05, bucket_size=20_000, restore_rate=10_000))
    try:
        rng = random.Random(20261125)
        captured = _intercept(hub)
        sold = _sell(hub, rng, captured)
        webhooks = len(captured)
        plan = _storm_plan(list(captured), rng)
        started = time.monotonic()
        statuses = _deliver(plan, hub)
        elapsed = time.monotonic() - started
        _recover(hub)
        print(f"storm: {webhooks} webhooks planned, {len(plan)} deliveries in {elapsed:.1f} s "
              f"({len(plan) / elapsed:.0f}/s), answers {dict(statuses)}")

        with workspace_scope(hub.workspace_id):
            orders = list(Order.objects.values_list("source", "external_id"))
        shop_orders = len(hub.shopify.shop.orders)
        woo_orders = len(hub.woo.sandbox.store.orders)
        assert len(orders) == len(set(orders)) == shop_orders + woo_orders
        for sku in hub.skus:
            level = hub.level(sku)
            assert (level.on_hand, level.reserved) == (STOCK, sold[sku]), sku
            available = STOCK - sold[sku]
            assert (hub.shopify_qty(sku), hub.woo_qty(sku)) == (available, available), sku
    finally:
        close_hub(hub)
        settings.CONFIG = original

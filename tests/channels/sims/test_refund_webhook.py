"""Shopify's refunds/create applied from its body (the Refund resource names its order):
the refunded units are released or restocked at once, and the same refund arriving again
inside the order (orders/updated, reconciliation) changes nothing."""

from __future__ import annotations

import dataclasses

import pytest

from storesync.channels.models import InboxEvent, InboxState
from storesync.core.tenancy import workspace_scope
from storesync.orders.models import Refund
from tests.channels.sims.conftest import relay, shopify_control
from tests.channels.sims.test_webhooks_and_fulfillments import (
    _order,
    _reserved,
    _wait_topic,
    shop,
)

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["shop"]  # the fixture, used by name


def _deliveries(receiver, topic: str):
    return [r for r in receiver.received if r.headers.get("X-Shopify-Topic") == topic]


def test_a_refund_webhook_releases_the_units_once(shop, shopify, shopify_receiver):
    ws, connection, skus, variants = shop
    sale = shopify_control(shopify, "orders", {"lines": [{"sku": skus[0], "quantity": 3}]})
    _wait_topic(shopify_receiver, "orders/create")
    relay(_deliveries(shopify_receiver, "orders/create"), connection)
    assert _reserved(ws, variants[skus[0]]) == 3
    line_id = shopify.shop.orders[int(sale["id"].rsplit("/", 1)[1])].lines[0].id

    shopify_control(shopify, f"orders/{sale['id']}/refund",
                    {"lines": [{"line_item_id": line_id, "quantity": 2}], "restock": True})
    _wait_topic(shopify_receiver, "refunds/create")
    _wait_topic(shopify_receiver, "orders/updated")
    refund_deliveries = _deliveries(shopify_receiver, "refunds/create")

    assert set(relay(refund_deliveries, connection)) == {200}  # the refund alone first
    order = _order(ws, sale["id"])
    assert _reserved(ws, variants[skus[0]]) == 1
    with workspace_scope(ws):
        [refund] = Refund.objects.filter(order=order)
        event = InboxEvent.objects.get(platform_topic="refunds/create")
    assert refund.external_id.startswith("gid://shopify/Refund/")
    assert event.state == InboxState.PROCESSED and event.error == ""

    # The order body carrying the same refund, a redelivery with a new id: nothing more.
    relay(_deliveries(shopify_receiver, "orders/updated"), connection)
    redelivered = [dataclasses.replace(d, headers={**d.headers, "X-Shopify-Event-Id": "again-1"})
                   for d in refund_deliveries]
    relay(redelivered, connection)
    assert _reserved(ws, variants[skus[0]]) == 1
    with workspace_scope(ws):
        assert Refund.objects.filter(order=order).count() == 1


def test_a_refund_for_an_order_not_stored_yet_brings_the_whole_order(
        shop, shopify, shopify_receiver):
    ws, connection, skus, variants = shop
    sale = shopify_control(shopify, "orders", {"lines": [{"sku": skus[1], "quantity": 2}]})
    line_id = shopify.shop.orders[int(sale["id"].rsplit("/", 1)[1])].lines[0].id
    shopify_control(shopify, f"orders/{sale['id']}/refund",
                    {"lines": [{"line_item_id": line_id, "quantity": 1}], "restock": True})
    _wait_topic(shopify_receiver, "refunds/create")

    relay(_deliveries(shopify_receiver, "refunds/create"), connection)  # reconciles

    order = _order(ws, sale["id"])
    assert _reserved(ws, variants[skus[1]]) == 1
    with workspace_scope(ws):
        assert Refund.objects.filter(order=order).count() == 1

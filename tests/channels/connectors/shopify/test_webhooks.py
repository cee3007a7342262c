"""Webhooks: real deliveries from the sandbox, verified and read by the connector; webhook
subscriptions kept in place."""

from __future__ import annotations

import pytest

from storesync.channels.connectors.base import (
    ChannelLevel,
    ChannelOrder,
    ChannelProduct,
    ChannelRefund,
    InvalidWebhook,
    Topic,
)
from storesync.channels.connectors.shopify import Connector
from storesync.channels.sandbox.shopify.server import SandboxServer
from tests.channels.sandbox.shopify.conftest import Api
from tests.channels.sandbox.shopify.receiver import Receiver

SECRET = "sandbox-client-secret"


def _subscribe(connector: Connector, receiver: Receiver) -> None:
    connector.ensure_subscriptions(address=receiver.url)


def _sale(api: Api, quantity: int = 2) -> dict:
    api.control("POST", "seed", {"products": 1, "variants_per_product": 1, "seed": 11})
    sku = api.control("GET", "state")["levels"][0]["sku"]
    return api.control("POST", "orders", {"lines": [{"sku": sku, "quantity": quantity}],
                                          "shipping": "40.00"})


def test_a_signed_delivery_verifies_and_tampering_does_not(
        connector: Connector, api: Api, receiver: Receiver) -> None:
    _subscribe(connector, receiver)
    order = _sale(api)
    receiver.wait_for(lambda got: len(got) >= 2)
    delivery = receiver.of("orders/create")[0]
    event = connector.verify_webhook(headers=delivery.headers, body=delivery.body,
                                     secret=SECRET)
    assert event.topic is Topic.ORDER_CREATED and event.platform_topic == "orders/create"
    assert event.event_id == delivery.headers["X-Shopify-Event-Id"]
    assert event.resource_id == order["id"] and event.occurred_at is not None
    with pytest.raises(InvalidWebhook) as wrong_secret:
        connector.verify_webhook(headers=delivery.headers, body=delivery.body, secret="other")
    assert wrong_secret.value.status == 401
    tampered = delivery.body.replace(b'"quantity":2', b'"quantity":20')
    assert tampered != delivery.body
    with pytest.raises(InvalidWebhook) as changed:
        connector.verify_webhook(headers=delivery.headers, body=tampered, secret=SECRET)
    assert changed.value.status == 401
    unsigned = {k: v for k, v in delivery.headers.items() if k != "X-Shopify-Hmac-Sha256"}
    with pytest.raises(InvalidWebhook):
        connector.verify_webhook(headers=unsigned, body=delivery.body, secret=SECRET)


def test_header_names_are_case_insensitive_and_the_webhook_id_is_a_fallback(
        connector: Connector, api: Api, receiver: Receiver) -> None:
    _subscribe(connector, receiver)
    _sale(api)
    receiver.wait_for(lambda got: len(got) >= 2)
    delivery = receiver.of("orders/create")[0]
    headers = {k.lower(): v for k, v in delivery.headers.items()
               if k != "X-Shopify-Event-Id"}
    event = connector.verify_webhook(headers=headers, body=delivery.body, secret=SECRET)
    assert event.event_id == delivery.headers["X-Shopify-Webhook-Id"]


def _event(connector: Connector, receiver: Receiver, topic: str, n: int = 0):
    delivery = receiver.of(topic)[n]
    return connector.verify_webhook(headers=delivery.headers, body=delivery.body,
                                    secret=SECRET)


def test_every_topic_is_verified_and_read(connector: Connector, api: Api,
                                          receiver: Receiver) -> None:
    _subscribe(connector, receiver)
    order = _sale(api, quantity=3)
    line = order["line_items"][0]["id"]
    api.control("POST", f"orders/{order['id'].rsplit('/', 1)[1]}/refund",
                {"lines": [{"line_item_id": line, "quantity": 1}], "restock": True})
    api.control("POST", f"orders/{order['id'].rsplit('/', 1)[1]}/cancel", {"reason": "FRAUD"})
    product = next(iter(api.server.shop.products))
    api.control("POST", f"products/{product}", {"title": "Renamed"})
    api.control("DELETE", f"products/{product}")
    api.control("POST", "webhooks/trigger", {"topic": "app/uninstalled"})
    for topic in ("customers/data_request", "customers/redact", "shop/redact"):
        api.control("POST", "webhooks/trigger", {"topic": topic, "address": receiver.url})
    expected = {"orders/create", "orders/updated", "orders/cancelled", "refunds/create",
                "products/update", "products/delete", "inventory_levels/update",
                "app/uninstalled", "customers/data_request", "customers/redact", "shop/redact"}
    receiver.wait_for(lambda got: expected <= {r.headers["X-Shopify-Topic"] for r in got})

    created = connector.parse_event(_event(connector, receiver, "orders/create"))
    assert isinstance(created, ChannelOrder) and created.external_id == order["id"]
    assert created.lines[0].quantity == 3 and created.lines[0].external_id == line
    assert created.shipping_minor == 4000 and created.currency == "INR"
    assert created.lines[0].variant_external_id.startswith("gid://shopify/ProductVariant/")

    cancelled = connector.parse_event(_event(connector, receiver, "orders/cancelled"))
    assert isinstance(cancelled, ChannelOrder) and cancelled.cancel_reason == "fraud"
    assert cancelled.cancelled_at is not None and len(cancelled.refunds) == 1

    refund = connector.parse_event(_event(connector, receiver, "refunds/create"))
    assert isinstance(refund, ChannelRefund)
    assert refund.lines[0].line_external_id == line and refund.lines[0].restock
    assert refund.amount_minor == created.lines[0].unit_price_minor

    updated = connector.parse_event(_event(connector, receiver, "products/update"))
    assert isinstance(updated, ChannelProduct) and updated.title == "Renamed"
    assert updated.variants[0].inventory_item_id.startswith("gid://shopify/InventoryItem/")

    level = connector.parse_event(_event(connector, receiver, "inventory_levels/update"))
    assert isinstance(level, ChannelLevel) and level.available == 7  # 10 stock - 3 sold

    deleted = _event(connector, receiver, "products/delete")
    assert deleted.topic is Topic.PRODUCT_DELETED
    assert deleted.resource_id == f"gid://shopify/Product/{product}"
    assert connector.parse_event(deleted) is None
    assert _event(connector, receiver, "app/uninstalled").topic is Topic.APP_UNINSTALLED
    redact = _event(connector, receiver, "customers/redact")
    assert redact.topic is Topic.CUSTOMER_REDACT and redact.payload["customer"]["email"]
    assert _event(connector, receiver, "customers/data_request").topic is \
        Topic.CUSTOMER_DATA_REQUEST
    assert _event(connector, receiver, "shop/redact").topic is Topic.SHOP_REDACT


def test_subscriptions_are_listed_and_a_removed_one_comes_back(
        connector: Connector, api: Api, sandbox: SandboxServer, receiver: Receiver) -> None:
    ensured = connector.ensure_subscriptions(address=receiver.url)
    assert sorted(s.platform_topic for s in ensured) == sorted(
        ["orders/create", "orders/updated", "orders/cancelled", "refunds/create",
         "products/update", "products/delete", "inventory_levels/update", "app/uninstalled"])
    assert connector.ensure_subscriptions(address=receiver.url) == ensured  # no duplicates
    removed = next(s for s in ensured if s.platform_topic == "orders/create")
    api.control("DELETE", f"subscriptions/{removed.external_id.rsplit('/', 1)[1]}")
    assert "orders/create" not in {s.platform_topic for s in connector.list_subscriptions()}
    again = connector.ensure_subscriptions(address=receiver.url)
    listed = connector.list_subscriptions()
    assert {s.platform_topic for s in listed} == {s.platform_topic for s in ensured}
    assert len(listed) == 8
    recreated = next(s for s in again if s.platform_topic == "orders/create")
    assert recreated.external_id != removed.external_id and recreated.address == receiver.url

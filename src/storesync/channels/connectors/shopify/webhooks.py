"""Verifying and reading Shopify webhook deliveries.

As documented ("Verify webhooks", "Webhooks delivery structure", "Ignore duplicate
webhooks"): ``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the raw body keyed with
the app's client secret, compared in constant time before anything is parsed; the topic is in
``X-Shopify-Topic``; ``X-Shopify-Event-Id`` is the same for every delivery of one event and is
the dedupe key (``X-Shopify-Webhook-Id``, one per delivery, when it is missing);
``X-Shopify-Triggered-At`` says when the event happened.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from storesync.channels.connectors.base import InvalidWebhook, Topic, WebhookEvent
from storesync.channels.connectors.shopify.mapping import MappingError, gid, maybe_when

TOPICS: dict[str, Topic] = {
    "orders/create": Topic.ORDER_CREATED,
    "orders/updated": Topic.ORDER_UPDATED,
    "orders/cancelled": Topic.ORDER_CANCELLED,
    "refunds/create": Topic.REFUND_CREATED,
    "products/create": Topic.PRODUCT_UPDATED,
    "products/update": Topic.PRODUCT_UPDATED,
    "products/delete": Topic.PRODUCT_DELETED,
    "inventory_levels/update": Topic.INVENTORY_UPDATED,
    "app/uninstalled": Topic.APP_UNINSTALLED,
    "customers/data_request": Topic.CUSTOMER_DATA_REQUEST,
    "customers/redact": Topic.CUSTOMER_REDACT,
    "shop/redact": Topic.SHOP_REDACT,
}
# Compliance topics are set in the app's configuration, not through the Admin API.
COMPLIANCE = ("customers/data_request", "customers/redact", "shop/redact")
SUBSCRIBED = ("orders/create", "orders/updated", "orders/cancelled", "refunds/create",
              "products/update", "products/delete", "inventory_levels/update",
              "app/uninstalled")


def enum_topic(topic: str) -> str:
    """``inventory_levels/update`` -> ``INVENTORY_LEVELS_UPDATE``."""
    return topic.upper().replace("/", "_")


def rest_topic(enum: str) -> str:
    """``INVENTORY_LEVELS_UPDATE`` -> ``inventory_levels/update`` (the last ``_`` is the
    ``/``)."""
    head, _, tail = enum.lower().rpartition("_")
    return f"{head}/{tail}" if head else tail


def signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _resource_id(topic: str, payload: Mapping[str, Any]) -> str:
    if topic == "inventory_levels/update":
        return gid("InventoryItem", payload.get("inventory_item_id", ""))
    if topic in ("customers/data_request", "customers/redact"):
        customer = payload.get("customer") or {}
        return gid("Customer", customer.get("id", "")) if customer.get("id") else ""
    if topic in ("shop/redact", "app/uninstalled"):
        return str(payload.get("shop_domain") or payload.get("myshopify_domain") or "")
    kind = {"orders": "Order", "refunds": "Refund", "products": "Product"}[topic.split("/")[0]]
    value = payload.get("admin_graphql_api_id") or payload.get("id")
    return gid(kind, value) if value is not None else ""


def verify(*, headers: Mapping[str, str], body: bytes, secret: str) -> WebhookEvent:
    """The verified event, or ``InvalidWebhook`` (401 bad signature, 400 unreadable)."""
    lower = {k.lower(): v for k, v in headers.items()}
    if not secret:
        raise InvalidWebhook("no webhook secret configured for this connection", status=401)
    given = lower.get("x-shopify-hmac-sha256", "")
    try:
        given_digest = base64.b64decode(given, validate=True)
    except (binascii.Error, ValueError):
        given_digest = b""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if not given or not hmac.compare_digest(given_digest, expected):
        raise InvalidWebhook("the X-Shopify-Hmac-Sha256 signature does not match the body",
                             status=401)
    topic = lower.get("x-shopify-topic", "")
    if topic not in TOPICS:
        raise InvalidWebhook(f"unsupported webhook topic {topic!r}", status=400)
    event_id = lower.get("x-shopify-event-id") or lower.get("x-shopify-webhook-id")
    if not event_id:
        raise InvalidWebhook("no X-Shopify-Event-Id or X-Shopify-Webhook-Id header", status=400)
    try:
        payload = json.loads(body)
        occurred_at = maybe_when(lower.get("x-shopify-triggered-at"), "X-Shopify-Triggered-At")
    except (ValueError, MappingError) as exc:
        raise InvalidWebhook(f"unreadable webhook: {exc}", status=400) from None
    if not isinstance(payload, dict):
        raise InvalidWebhook("the webhook body is not a JSON object", status=400)
    return WebhookEvent(event_id=event_id, topic=TOPICS[topic], platform_topic=topic,
                        payload=payload, occurred_at=occurred_at,
                        resource_id=_resource_id(topic, payload))

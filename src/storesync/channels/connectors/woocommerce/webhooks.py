"""WooCommerce webhook deliveries: signature check, topic mapping, dedupe key.

What core sends (``WC_Webhook::deliver``): a JSON body with ``X-WC-Webhook-Topic``
(``order.created``), ``-Resource``, ``-Event``, ``-Source``, ``-ID``, ``-Delivery-ID`` and
``-Signature`` = base64(HMAC-SHA256(raw body, webhook secret)) (``generate_signature``). On
creation it also sends a ping (``deliver_ping``): the form body ``webhook_id=<id>`` without
any of those headers, which must be answered 200 or the merchant sees an error.

Dedupe key: core makes the delivery id as ``wp_hash(webhook id . current second)``, so two
different events of one webhook within a second share it. The event id is therefore the
delivery id plus a digest of the body: a delivery sent twice dedupes, two events in the same
second do not (ADR 0013).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping

from storesync.channels.connectors.base import InvalidWebhook, Rejected, Topic, WebhookEvent
from storesync.channels.connectors.woocommerce.mapping import item_id, when

# WooCommerce topic -> storesync topic. Core has no cancellation, refund or stock topic: a
# cancellation or refund is an ``order.updated`` (the status says which); a stock change
# (a sale, a restock) saves the product, so it arrives as ``product.updated`` carrying the
# product — or the variation itself, ``type: variation`` — with its new ``stock_quantity``.
TOPICS: dict[str, Topic] = {
    "order.created": Topic.ORDER_CREATED,
    "order.updated": Topic.ORDER_UPDATED,
    "order.restored": Topic.ORDER_UPDATED,
    # A trashed or deleted order no longer sells: release what it held.
    "order.deleted": Topic.ORDER_CANCELLED,
    "product.created": Topic.PRODUCT_UPDATED,
    "product.updated": Topic.PRODUCT_UPDATED,
    "product.restored": Topic.PRODUCT_UPDATED,
    "product.deleted": Topic.PRODUCT_DELETED,
}
SUBSCRIBED = ("order.created", "order.updated", "order.deleted", "product.created",
              "product.updated", "product.deleted")
_PING = re.compile(rb"^webhook_id=(\d+)$")


def signature(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify(*, headers: Mapping[str, str], body: bytes, secret: str) -> WebhookEvent:
    """A verified event, or ``InvalidWebhook`` (401 signature, 400 malformed)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    sent = lowered.get("x-wc-webhook-signature", "").strip()
    if not sent:
        ping = _PING.match(body.strip())
        if ping and not lowered.get("x-wc-webhook-topic"):
            webhook_id = ping.group(1).decode()
            # Unsigned by design in core; acknowledged and never stored, so nothing to forge.
            return WebhookEvent(event_id=f"ping:{webhook_id}", topic=Topic.PING,
                                platform_topic="ping", payload={"webhook_id": webhook_id},
                                resource_id=webhook_id)
        raise InvalidWebhook("missing X-WC-Webhook-Signature", status=401)
    if not secret or not hmac.compare_digest(signature(body, secret).encode(), sent.encode()):
        raise InvalidWebhook("X-WC-Webhook-Signature does not match the body", status=401)
    platform_topic = lowered.get("x-wc-webhook-topic", "").strip().lower()
    delivery_id = lowered.get("x-wc-webhook-delivery-id", "").strip()
    if not platform_topic or not delivery_id:
        raise InvalidWebhook("missing X-WC-Webhook-Topic or X-WC-Webhook-Delivery-ID",
                             status=400)
    topic = TOPICS.get(platform_topic)
    if topic is None:
        raise InvalidWebhook(f"topic {platform_topic} is not one storesync subscribes to",
                             status=400)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise InvalidWebhook("body is not JSON", status=400) from None
    if not isinstance(payload, dict) or "id" not in payload:
        raise InvalidWebhook("body is not a WooCommerce resource", status=400)
    if topic is Topic.ORDER_UPDATED and payload.get("status") == "cancelled":
        topic = Topic.ORDER_CANCELLED
    try:
        occurred = when(payload.get("date_modified_gmt"))
    except Rejected:  # a bad date does not make a signed event invalid
        occurred = None
    # A variation's resource id is its inventory item id ("<parent>/<variation>"), so the
    # engine can read its level with fetch_levels([resource_id]).
    resource_id = (item_id(payload["parent_id"], payload["id"])
                   if payload.get("type") == "variation" and payload.get("parent_id")
                   else str(payload["id"]))
    return WebhookEvent(
        event_id=f"{delivery_id}:{hashlib.sha256(body).hexdigest()[:16]}", topic=topic,
        platform_topic=platform_topic, payload=payload, occurred_at=occurred,
        resource_id=resource_id)

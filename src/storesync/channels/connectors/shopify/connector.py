"""``Connector`` for Shopify, over the GraphQL Admin API (version 2026-04).

Credentials: ``shop`` (``acme.myshopify.com``; for the sandbox a URL such as
``http://127.0.0.1:8081``), ``access_token`` (the Admin API token), optional
``client_secret`` (signs webhooks; ``verify_webhook`` prefers the ``secret`` it is given).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx

from storesync.channels.connectors.base import (
    ChannelError,
    ChannelLevel,
    ChannelOrder,
    ChannelProduct,
    ChannelRefund,
    ContactCorrection,
    CustomerRef,
    FulfillmentPush,
    InvalidWebhook,
    OrderPage,
    PrivacyResult,
    ProcessingRestriction,
    Progress,
    PushOutcome,
    PushResult,
    QuantityUpdate,
    Rejected,
    RestrictionResult,
    ShopInfo,
    Subscription,
    Topic,
    WebhookEvent,
)
from storesync.channels.connectors.shopify import (
    catalog,
    customers,
    mapping,
    orders,
    queries,
    webhooks,
)
from storesync.channels.connectors.shopify import restriction as restriction_ops
from storesync.channels.connectors.shopify.client import GraphQLClient
from storesync.channels.ratelimit import LocalThrottle, Throttle

# Idempotency keys are derived from the request, so a retry of the same push (by this call or
# by the engine after a crash) reuses its key and Shopify applies it once.
IDEMPOTENCY_NAMESPACE = uuid.UUID("5f1d3c52-7a0e-4f43-9d39-2a9e2c8a0d11")
REFERENCE_URI = "gid://storesync/InventorySync/push"
MAX_PUSH_ROUNDS = 3
# Above this many products the catalog comes through one bulk operation.
BULK_THRESHOLD = 250


class Connector:
    """Shopify through the GraphQL Admin API. No network until a method is called."""

    platform: ClassVar[str] = "shopify"
    # "Input arguments that accept an array have a maximum size of 250" (Shopify API limits).
    max_quantity_batch: ClassVar[int] = 250
    topics: ClassVar[tuple[Topic, ...]] = tuple(
        webhooks.TOPICS[t] for t in webhooks.SUBSCRIBED)

    def __init__(self, *, credentials: Mapping[str, Any], http: httpx.Client | None = None,
                 throttle: Throttle | None = None) -> None:
        shop, token = credentials.get("shop"), credentials.get("access_token")
        if not shop or not token:
            raise Rejected("Shopify credentials need 'shop' and 'access_token'")
        self.client = GraphQLClient(shop=str(shop), access_token=str(token), http=http,
                                    throttle=throttle or LocalThrottle())
        self.client_secret = str(credentials.get("client_secret") or "")
        self.bulk_threshold = BULK_THRESHOLD
        self._currency: str | None = None
        self._product_count: int | None = None

    def close(self) -> None:
        self.client.close()

    # --- shop ---------------------------------------------------------------------------------

    def verify_credentials(self) -> ShopInfo:
        """Reads the shop; ``AuthFailed`` when the token is refused."""
        data = self.client.execute("Shop", queries.SHOP)
        shop = data["shop"]
        self._currency = shop["currencyCode"]
        self._product_count = int((data.get("productsCount") or {}).get("count") or 0)
        return ShopInfo(name=shop["name"], domain=shop["myshopifyDomain"],
                        currency=shop["currencyCode"],
                        plan=(shop.get("plan") or {}).get("publicDisplayName") or "")

    def currency(self) -> str:
        """The shop's currency (one call the first time)."""
        if self._currency is None:
            self.verify_credentials()
        assert self._currency is not None
        return self._currency

    # --- catalog and stock ------------------------------------------------------------------

    def import_catalog(self, *, progress: Progress | None = None) -> Iterator[ChannelProduct]:
        """Every product with its variants: paged for up to ``bulk_threshold`` products, one
        bulk operation above."""
        self.verify_credentials()
        currency, total = self.currency(), self._product_count
        try:
            if total is not None and total > self.bulk_threshold:
                yield from catalog.bulk(self.client, currency, total, progress)
            else:
                yield from catalog.paged(self.client, currency, total, progress)
        except (mapping.MappingError, KeyError) as exc:
            raise Rejected(f"Shopify sent a product storesync cannot read: {exc}") from None

    def fetch_levels(self, inventory_item_ids: Sequence[str]) -> list[ChannelLevel]:
        """Available quantities of these items at every location, 25 items a call."""
        levels: list[ChannelLevel] = []
        ids = list(dict.fromkeys(inventory_item_ids))
        for start in range(0, len(ids), queries.ITEMS_PER_LEVEL_QUERY):
            chunk = ids[start:start + queries.ITEMS_PER_LEVEL_QUERY]
            data = self.client.execute("Levels", queries.LEVELS, {"ids": chunk})
            for node in data["nodes"]:
                if not node:  # an id Shopify does not know (deleted variant)
                    continue
                for level in node["inventoryLevels"]["nodes"]:
                    available = next((q["quantity"] for q in level["quantities"]
                                      if q["name"] == "available"), 0)
                    levels.append(ChannelLevel(inventory_item_id=node["id"],
                                               location_id=level["location"]["id"],
                                               available=int(available),
                                               sku=node.get("sku") or ""))
        return levels

    def push_quantities(self, updates: Sequence[QuantityUpdate]) -> list[PushResult]:
        """``inventorySetQuantities`` with ``changeFromQuantity`` (``expected``), 250 a call.

        Shopify applies a call all or nothing: quantities it refuses (stale, unknown item) are
        reported and the rest is sent again, at most ``MAX_PUSH_ROUNDS`` times. Stale results
        carry the quantity Shopify has now, read in one more call.
        """
        results: dict[int, PushResult] = {}
        numbered = list(enumerate(updates))
        for start in range(0, len(numbered), self.max_quantity_batch):
            self._push_batch(numbered[start:start + self.max_quantity_batch], results)
        stale = [i for i, r in results.items() if r.outcome is PushOutcome.STALE]
        if stale:
            now = {(lv.inventory_item_id, lv.location_id): lv.available for lv in
                   self.fetch_levels([updates[i].inventory_item_id for i in stale])}
            for i in stale:
                u = updates[i]
                results[i] = PushResult(u, PushOutcome.STALE, retryable=True,
                                        channel_quantity=now.get((u.inventory_item_id,
                                                                  u.location_id)),
                                        error=results[i].error)
        return [results[i] for i in range(len(updates))]

    def _push_batch(self, batch: list[tuple[int, QuantityUpdate]],
                    results: dict[int, PushResult]) -> None:
        pending = batch
        for _ in range(MAX_PUSH_ROUNDS):
            if not pending:
                return
            request = {"name": "available", "reason": "correction",
                       "referenceDocumentUri": REFERENCE_URI,
                       "quantities": [{"inventoryItemId": u.inventory_item_id,
                                       "locationId": u.location_id, "quantity": u.quantity,
                                       "changeFromQuantity": u.expected} for _, u in pending]}
            key = str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, json.dumps(request, sort_keys=True)))
            data = self.client.execute("SetQuantities", queries.SET_QUANTITIES,
                                       {"input": request, "key": key})
            errors = data["inventorySetQuantities"]["userErrors"]
            if not errors:
                for i, u in pending:
                    results[i] = PushResult(u, PushOutcome.OK, channel_quantity=u.quantity)
                return
            pending = self._refused(pending, errors, results)
        for i, u in pending:
            results[i] = PushResult(u, PushOutcome.FAILED, retryable=True,
                                    error="still refused after several rounds")

    @staticmethod
    def _refused(pending: list[tuple[int, QuantityUpdate]], errors: list[dict[str, Any]],
                 results: dict[int, PushResult]) -> list[tuple[int, QuantityUpdate]]:
        """Record the refused quantities; the ones to send again."""
        by_position: dict[int, dict[str, Any]] = {}
        for error in errors:
            field = error.get("field") or []
            if len(field) >= 3 and field[:2] == ["input", "quantities"] and field[2].isdigit():
                by_position[int(field[2])] = error
            elif error.get("code") == "IDEMPOTENCY_CONCURRENT_REQUEST":
                raise ChannelError(f"Shopify is still applying this push: {error['message']}")
            else:
                raise Rejected(f"Shopify refused the quantity push: {error['message']}")
        again: list[tuple[int, QuantityUpdate]] = []
        for position, (i, u) in enumerate(pending):
            refusal = by_position.get(position)
            if refusal is None:
                again.append((i, u))
            elif refusal.get("code") == "CHANGE_FROM_QUANTITY_STALE":
                results[i] = PushResult(u, PushOutcome.STALE, error=refusal["message"])
            else:
                results[i] = PushResult(u, PushOutcome.FAILED, retryable=False,
                                        error=f"{refusal.get('code')}: {refusal['message']}")
        return again

    # --- orders ----------------------------------------------------------------------------

    def import_orders(self, *, updated_since: datetime | None,
                      cursor: str | None) -> OrderPage:
        """Orders updated at or after ``updated_since``, oldest change first, one page."""
        return orders.import_page(self.client, updated_since=updated_since, cursor=cursor)

    def push_fulfillment(self, fulfillment: FulfillmentPush) -> str:
        """``fulfillmentCreate`` on the order's open fulfillment orders."""
        return orders.push_fulfillment(self.client, fulfillment)

    # --- webhooks ----------------------------------------------------------------------------

    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes,
                       secret: str) -> WebhookEvent:
        """HMAC over the raw body with ``secret`` (or the credentials' ``client_secret``)."""
        return webhooks.verify(headers=headers, body=body, secret=secret or self.client_secret)

    def parse_event(self, event: WebhookEvent
                    ) -> ChannelOrder | ChannelProduct | ChannelLevel | ChannelRefund | None:
        """The record a verified event carries (None for topics that carry none: deletions,
        uninstall, compliance requests, which the engine reads from ``payload``)."""
        payload = dict(event.payload)
        try:
            if event.topic in (Topic.ORDER_CREATED, Topic.ORDER_UPDATED, Topic.ORDER_CANCELLED):
                return mapping.rest_order(payload)
            if event.topic is Topic.REFUND_CREATED:
                return mapping.rest_refund(payload, self.currency())
            if event.topic is Topic.PRODUCT_UPDATED:
                return mapping.rest_product(payload, self.currency())
            if event.topic is Topic.INVENTORY_UPDATED:
                return mapping.rest_level(payload)
        except (mapping.MappingError, KeyError, TypeError, ValueError) as exc:
            raise InvalidWebhook(f"unreadable {event.platform_topic} body: {exc}",
                                 status=400) from None
        return None

    # --- privacy ------------------------------------------------------------------------------

    def erase_customer(self, subject: CustomerRef) -> PrivacyResult:
        return customers.erase(self.client, subject)

    def correct_customer(self, subject: CustomerRef,
                         correction: ContactCorrection) -> PrivacyResult:
        return customers.correct(self.client, subject, correction)

    def restrict_customer(self, subject: CustomerRef,
                          restriction: ProcessingRestriction) -> RestrictionResult:
        return restriction_ops.restrict(self.client, subject, restriction)

    def list_subscriptions(self) -> list[Subscription]:
        """Every webhook subscription this app has on the shop."""
        found: list[Subscription] = []
        after: str | None = None
        while True:
            data = self.client.execute("Subscriptions", queries.SUBSCRIPTIONS, {
                "first": queries.SUBSCRIPTIONS_PER_PAGE, "after": after})
            connection = data["webhookSubscriptions"]
            found += [Subscription(external_id=n["id"],
                                   platform_topic=webhooks.rest_topic(n["topic"]),
                                   address=n["uri"], active=True) for n in connection["nodes"]]
            if not connection["pageInfo"]["hasNextPage"]:
                return found
            after = connection["pageInfo"]["endCursor"]

    def ensure_subscriptions(self, *, address: str) -> list[Subscription]:
        """One subscription per subscribed topic pointing at ``address``; missing ones (never
        made, or removed by Shopify after failed deliveries) are created. Compliance topics
        are configured with the app, not through the API, so they are not listed here."""
        existing = {(s.platform_topic, s.address): s for s in self.list_subscriptions()}
        ensured = []
        for topic in webhooks.SUBSCRIBED:
            current = existing.get((topic, address))
            if current is None:
                data = self.client.execute("SubscriptionCreate", queries.SUBSCRIPTION_CREATE, {
                    "topic": webhooks.enum_topic(topic),
                    "sub": {"uri": address, "format": "JSON"}})
                payload = data["webhookSubscriptionCreate"]
                if payload["userErrors"]:
                    raise Rejected(f"Shopify refused the {topic} subscription: " + "; ".join(
                        e["message"] for e in payload["userErrors"]))
                node = payload["webhookSubscription"]
                current = Subscription(external_id=node["id"], platform_topic=topic,
                                       address=node["uri"], active=True)
            ensured.append(current)
        return ensured

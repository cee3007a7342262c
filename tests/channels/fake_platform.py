"""A small in-process platform that implements the connector Protocol and records every call.

It stands in for the outside world (as the platform simulators do over HTTP): it keeps its
own quantities per (inventory item, location), applies compare-and-set like Shopify's
``changeFromQuantity``, signs webhooks with HMAC-SHA256 and serves orders page by page.
Tests script failures through ``PlatformState``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from storesync.channels.connectors.base import (
    AuthFailed,
    ChannelError,
    ChannelLevel,
    ChannelOrder,
    ChannelProduct,
    InvalidWebhook,
    OrderPage,
    PrivacyResult,
    PushOutcome,
    PushResult,
    QuantityUpdate,
    RestrictionResult,
    ShopInfo,
    Subscription,
    Topic,
    WebhookEvent,
)

PLATFORM = "ebay"  # a platform name no other connector package claims in these tests
SHOPS: dict[str, PlatformState] = {}


@dataclass
class PlatformState:
    shop: str
    token: str = "good-token"
    levels: dict[tuple[str, str], int] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    max_batch: int = 250
    # Raised by the next push calls, in order (an exception instance each).
    push_errors: list[BaseException] = field(default_factory=list)
    # Raised by every push while set (a platform outage).
    outage: ChannelError | None = None
    # Sold on the channel between storesync's read and its push: applied before a push.
    sell_before_push: dict[tuple[str, str], int] = field(default_factory=dict)
    order_pages: list[list[ChannelOrder]] = field(default_factory=list)
    push_delay_s: float = 0.0  # a slow platform, to overlap two dispatchers
    # Items the platform refuses one by one (the rest of the call succeeds).
    rejected_items: dict[str, str] = field(default_factory=dict)

    def pushes(self) -> list[list[QuantityUpdate]]:
        return [list(args) for name, args in self.calls if name == "push_quantities"]


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Connector:
    platform: ClassVar[str] = PLATFORM
    max_quantity_batch: ClassVar[int] = 250
    topics: ClassVar[tuple[Topic, ...]] = (Topic.ORDER_CREATED, Topic.ORDER_UPDATED)

    def __init__(self, *, credentials: dict[str, Any], http: Any = None,
                 throttle: Any = None) -> None:
        self.state = SHOPS[credentials["shop"]]
        self.token = credentials.get("access_token", "")
        self.max_quantity_batch = self.state.max_batch  # type: ignore[misc]

    def _check(self) -> None:
        if self.token != self.state.token:
            raise AuthFailed("invalid access token", status=401)

    def verify_credentials(self) -> ShopInfo:
        self.state.calls.append(("verify_credentials", None))
        self._check()
        return ShopInfo(name="Test shop", domain=self.state.shop, currency="INR")

    def import_catalog(self, *, progress: Any = None) -> Iterator[ChannelProduct]:
        return iter(())

    def fetch_levels(self, inventory_item_ids: Sequence[str]) -> list[ChannelLevel]:
        self.state.calls.append(("fetch_levels", tuple(inventory_item_ids)))
        self._check()
        return [ChannelLevel(inventory_item_id=item, location_id=location, available=quantity)
                for (item, location), quantity in sorted(self.state.levels.items())
                if item in inventory_item_ids]

    def import_orders(self, *, updated_since: datetime | None,
                      cursor: str | None) -> OrderPage:
        self.state.calls.append(("import_orders", (updated_since, cursor)))
        orders = [o for page in self.state.order_pages for o in page
                  if updated_since is None or o.updated_at >= updated_since]
        start = int(cursor or 0)
        page = orders[start:start + 2]
        more = start + 2 < len(orders)
        return OrderPage(orders=tuple(page), next_cursor=str(start + 2) if more else None)

    def push_quantities(self, updates: Sequence[QuantityUpdate]) -> list[PushResult]:
        self.state.calls.append(("push_quantities", tuple(updates)))
        self._check()
        assert len(updates) <= self.max_quantity_batch, "batch above the platform's maximum"
        time.sleep(self.state.push_delay_s)
        if self.state.push_errors:
            raise self.state.push_errors.pop(0)
        if self.state.outage is not None:
            raise self.state.outage
        for key, sold in self.state.sell_before_push.items():
            self.state.levels[key] = self.state.levels.get(key, 0) - sold
        self.state.sell_before_push.clear()
        results = []
        for update in updates:
            key = (update.inventory_item_id, update.location_id)
            if update.inventory_item_id in self.state.rejected_items:
                results.append(PushResult(update, PushOutcome.FAILED, retryable=False,
                                          error=self.state.rejected_items[update.inventory_item_id]))
                continue
            current = self.state.levels.get(key, 0)
            if update.expected is not None and update.expected != current:
                results.append(PushResult(update, PushOutcome.STALE, channel_quantity=current))
                continue
            self.state.levels[key] = update.quantity
            results.append(PushResult(update, PushOutcome.OK, channel_quantity=update.quantity))
        return results

    def push_fulfillment(self, fulfillment: Any) -> str:
        raise NotImplementedError("not used by the engine tests")

    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes,
                       secret: str) -> WebhookEvent:
        given = headers.get("X-Test-Hmac-Sha256", "")
        if not hmac.compare_digest(given, sign(body, secret)):
            raise InvalidWebhook("signature does not match", status=401)
        try:
            payload = json.loads(body)
            topic = Topic(headers.get("X-Test-Topic", ""))
        except ValueError:
            raise InvalidWebhook("not a JSON object with a known topic", status=400) from None
        event_id = headers.get("X-Test-Event-Id", "")
        if not event_id or not isinstance(payload, dict):
            raise InvalidWebhook("no event id", status=400)
        return WebhookEvent(event_id=event_id, topic=topic,
                            platform_topic=headers.get("X-Test-Topic", ""), payload=payload,
                            resource_id=str(payload.get("id", "")))

    def parse_event(self, event: WebhookEvent) -> None:
        """The test platform's bodies carry no full record: the engine reconciles instead."""
        return

    def erase_customer(self, subject: Any) -> Any:
        self.state.calls.append(("erase_customer", subject))
        self._check()
        return PrivacyResult(len(subject.customer_ids), "erased on the test platform")

    def correct_customer(self, subject: Any, correction: Any) -> Any:
        self.state.calls.append(("correct_customer", (subject, correction)))
        self._check()
        return PrivacyResult(len(subject.customer_ids), "corrected on the test platform")

    def restrict_customer(self, subject: Any, restriction: Any) -> Any:
        self.state.calls.append(("restrict_customer", (subject, restriction)))
        self._check()
        return RestrictionResult(len(subject.customer_ids), "recorded on the test platform")

    def list_subscriptions(self) -> list[Subscription]:
        return []

    def ensure_subscriptions(self, *, address: str) -> list[Subscription]:
        self.state.calls.append(("ensure_subscriptions", address))
        self._check()
        return [Subscription(external_id=f"sub-{n}", platform_topic=topic.value,
                             address=address, active=True)
                for n, topic in enumerate(self.topics)]

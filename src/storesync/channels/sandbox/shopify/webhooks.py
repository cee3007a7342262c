"""Webhook delivery with Shopify's headers, signature and retry policy.

Each delivery is an HTTP POST of the JSON body with (shopify.dev, "Webhooks delivery
structure"): ``X-Shopify-Topic``, ``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256 of the raw
body keyed with the app's client secret), ``X-Shopify-Shop-Domain``, ``X-Shopify-API-Version``,
``X-Shopify-Webhook-Id`` (one per delivery, kept across its retries),
``X-Shopify-Event-Id`` (one per event: "the same value across more than one webhook
indicates a duplicate") and ``X-Shopify-Triggered-At``.

Retries (changelog "Updates to webhook retry mechanism", 2024-09): a delivery that does not
get a 2xx within the timeout (1 s to connect, 5 s in all) is retried 8 times with exponential
backoff, over 4 hours on Shopify, with the original payload; after the retries are spent a
subscription created through the Admin API is removed. The simulator keeps the shape and
scales the clock: retry k waits ``retry_base_s * 2**k`` (Shopify's 4 hours correspond to
``retry_base_s`` of about 56 s).
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from storesync.channels.sandbox.shopify import state as st
from storesync.channels.sandbox.shopify.faults import Faults

MAX_RETRIES = 8
TIMEOUT = httpx.Timeout(5.0, connect=1.0)


def sign(body: bytes, secret: str) -> str:
    """The ``X-Shopify-Hmac-Sha256`` value for ``body``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def enum_topic(topic: str) -> str:
    """``orders/create`` -> ``ORDERS_CREATE`` (WebhookSubscriptionTopic)."""
    return topic.upper().replace("/", "_")


@dataclass
class Delivery:
    subscription_id: int | None  # None: a compliance topic sent to the app's configured URI
    uri: str
    topic: str
    body: bytes
    headers: dict[str, str]
    attempt: int = 0
    outcomes: list[str] = field(default_factory=list)


class Deliverer:
    """A background thread that sends due deliveries in order of due time."""

    def __init__(self, shop: st.Shop, *, secret: str, api_version: str, faults: Faults,
                 retry_base_s: float = 1.0) -> None:
        self.shop = shop
        self.secret = secret
        self.api_version = api_version
        self.faults = faults
        self.retry_base_s = retry_base_s
        self.log: list[dict[str, Any]] = []
        self._queue: list[tuple[float, int, Delivery]] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._client = httpx.Client(timeout=TIMEOUT)
        self._thread = threading.Thread(target=self._run, name="shopify-webhooks", daemon=True)
        self._thread.start()

    def publish(self, topic: str, payload: dict[str, Any], *, uri: str | None = None) -> int:
        """Send ``topic`` to every subscription for it (or to ``uri`` alone); returns how many
        deliveries were queued."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        event_id = str(uuid.uuid4())
        with self.shop.lock:
            targets: list[tuple[int | None, str]] = (
                [(None, uri)] if uri else
                [(s.id, s.uri) for s in self.shop.subscriptions.values()
                 if s.topic == enum_topic(topic)])
        for subscription_id, address in targets:
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "Shopify-Captain-Hook",
                "X-Shopify-Topic": topic,
                "X-Shopify-Hmac-Sha256": sign(body, self.secret),
                "X-Shopify-Shop-Domain": self.shop.domain,
                "X-Shopify-API-Version": self.api_version,
                "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                "X-Shopify-Event-Id": event_id,
                "X-Shopify-Triggered-At": st.now().isoformat().replace("+00:00", "Z"),
            }
            delivery = Delivery(subscription_id, address, topic, body, headers)
            if self.faults.take("webhook_drop"):
                self._record(delivery, "dropped")
                continue
            delay = self.faults.webhook_delay_s if self.faults.take("webhook_delay") else 0.0
            self._enqueue(delivery, delay)
            if self.faults.take("webhook_duplicate"):
                self._enqueue(Delivery(subscription_id, address, topic, body, dict(headers)),
                              delay)
        return len(targets)

    def _enqueue(self, delivery: Delivery, delay_s: float) -> None:
        with self._wake:
            heapq.heappush(self._queue, (time.monotonic() + delay_s, next(self._seq), delivery))
            self._wake.notify()

    def _record(self, delivery: Delivery, outcome: str) -> None:
        with self.shop.lock:
            self.log.append({"topic": delivery.topic, "uri": delivery.uri,
                             "webhook_id": delivery.headers["X-Shopify-Webhook-Id"],
                             "event_id": delivery.headers["X-Shopify-Event-Id"],
                             "attempt": delivery.attempt, "outcome": outcome})

    def _next_due(self) -> Delivery | None:
        with self._wake:
            while not self._stopped:
                if self._queue:
                    due = self._queue[0][0] - time.monotonic()
                    if due <= 0:
                        return heapq.heappop(self._queue)[2]
                    self._wake.wait(timeout=due)
                else:
                    self._wake.wait(timeout=1.0)
            return None

    def _run(self) -> None:
        while (delivery := self._next_due()) is not None:
            try:
                response = self._client.post(delivery.uri, content=delivery.body,
                                             headers=delivery.headers)
                outcome = str(response.status_code)
                delivered = 200 <= response.status_code < 300
            except httpx.HTTPError as exc:
                outcome, delivered = type(exc).__name__, False
            self._record(delivery, outcome)
            if not delivered:
                self._retry(delivery)

    def _retry(self, delivery: Delivery) -> None:
        if delivery.attempt >= MAX_RETRIES:
            if delivery.subscription_id is not None:
                with self.shop.lock:
                    self.shop.subscriptions.pop(delivery.subscription_id, None)
                self._record(delivery, "subscription removed")
            return
        delivery.attempt += 1
        self._enqueue(delivery, self.retry_base_s * 2 ** (delivery.attempt - 1))

    def pending(self) -> int:
        with self._wake:
            return len(self._queue)

    def close(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify_all()
        self._thread.join(timeout=5)
        self._client.close()

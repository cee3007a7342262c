"""Webhook delivery of the simulated store, following ``WC_Webhook`` (class-wc-webhook.php).

- Only ``active`` webhooks deliver; the payload is the v3 REST representation of the
  resource, or ``{"id": ...}`` for a ``deleted`` event (``build_payload``), built after the
  request that caused it, once per resource and request (see ``request_scope``).
- ``deliver``: POST of the JSON body with ``X-WC-Webhook-Source`` (site URL + ``/``),
  ``-Topic``, ``-Resource``, ``-Event``, ``-Signature`` (base64 of HMAC-SHA256 of the exact
  body with the webhook's secret, ``generate_signature``), ``-ID`` and ``-Delivery-ID``.
  The delivery id is ``wp_hash(webhook id . current unix second)`` in core, so two
  deliveries of one webhook within the same second share it; the simulator does the same.
- ``log_delivery``: 2xx, 301 and 302 (``200 <= code < 303``) are successes and reset
  ``failure_count`` to 0. ``failed_delivery``: when ``failure_count`` is already above
  ``woocommerce_max_webhook_delivery_failures`` (5) the webhook becomes ``disabled``,
  otherwise the count goes up by one. So with the default, the 7th consecutive failure
  disables it (counts 1..6 first). Changing the status through the REST API does not reset
  the count: only a successful delivery does.
- ``deliver_ping`` on creation: a POST whose body is ``webhook_id=<id>``, without the
  ``X-WC-Webhook-*`` headers; its answer does not count as a failure.

Deliveries run on one background thread, as Action Scheduler runs them after the request.
Faults for tests (``Faults``): drop, duplicate, or hold and send in reverse order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from storesync.channels.sandbox.woocommerce.orders import order_view
from storesync.channels.sandbox.woocommerce.state import Json, Store

MAX_DELIVERY_FAILURES = 5  # woocommerce_max_webhook_delivery_failures
USER_AGENT = "WooCommerce/9.4.0 Hookshot (WordPress/6.7.1)"
DELIVERY_TIMEOUT_S = 5.0  # core waits a minute; the sandbox's receivers are local


def signature(body: bytes, secret: str) -> str:
    """``WC_Webhook::generate_signature``: base64(HMAC-SHA256(body, secret))."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Faults:
    """Webhook faults the ``/_sandbox/faults`` endpoint sets; counters run down per use."""

    drop: int = 0
    duplicate: int = 0
    reorder: bool = False


@dataclass
class Delivery:
    webhook_id: int
    topic: str
    body: bytes
    headers: dict[str, str]
    url: str


@dataclass
class Dispatcher:
    store: Store
    source_url: str
    faults: Faults = field(default_factory=Faults)
    # the latest attempts, for /_sandbox/state
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=10_000))
    _queue: queue.Queue[Delivery | None] = field(default_factory=queue.Queue)
    _held: list[Delivery] = field(default_factory=list)
    _idle: threading.Condition = field(default_factory=threading.Condition)
    _pending: int = 0
    _thread: threading.Thread | None = None
    _local: threading.local = field(default_factory=threading.local)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="woo-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=DELIVERY_TIMEOUT_S + 1)

    # --- producing ------------------------------------------------------------------

    @contextmanager
    def request_scope(self) -> Iterator[None]:
        """One HTTP request. Core queues deliveries and builds them after the request (Action
        Scheduler), and a webhook delivers a resource once per request however many hooks
        fire for it (``is_already_processed``): two lines of one product in a sale save it
        twice, one ``product.updated`` goes out, with the quantity after both."""
        self._local.emitted = []
        try:
            yield
        finally:
            emitted, self._local.emitted = self._local.emitted, None
            for topic, resource_id in dict.fromkeys(emitted):
                self._queue_event(topic, resource_id)

    def emit(self, topic: str, resource_id: int) -> None:
        """An event happened; delivered when the current request ends (at once outside one)."""
        emitted = getattr(self._local, "emitted", None)
        if emitted is not None:
            emitted.append((topic, resource_id))
        else:
            self._queue_event(topic, resource_id)

    def _queue_event(self, topic: str, resource_id: int) -> None:
        """Queue a delivery to every active webhook subscribed to ``topic``."""
        resource, event = topic.split(".", 1)
        with self.store.lock:
            hooks = [h for h in self.store.webhooks.values()
                     if h["status"] == "active" and h["topic"] == topic]
            if not hooks:
                return
            payload = self._payload(resource, event, resource_id)
        body = json.dumps(payload, separators=(",", ":")).encode()
        for hook in hooks:
            delivery = Delivery(hook["id"], topic, body, self._headers(hook, body),
                                hook["delivery_url"])
            self._enqueue(delivery)

    def _payload(self, resource: str, event: str, resource_id: int) -> Json:
        if event == "deleted":
            return {"id": resource_id}
        try:
            if resource == "order":
                return order_view(self.store.view(self.store.orders[resource_id]))
            return self.store.product_payload(resource_id)
        except KeyError:
            # Gone before the delivery was built: core sends what the endpoint answers.
            return {"code": f"woocommerce_rest_{resource}_invalid_id",
                    "message": "Invalid ID.", "data": {"status": 404}}

    def _headers(self, hook: Json, body: bytes) -> dict[str, str]:
        resource, event = hook["topic"].split(".", 1)
        second = str(int(self.store.now().timestamp()))
        delivery_id = hmac.new(b"sandbox-wp-salt", f"{hook['id']}{second}".encode(),
                               hashlib.md5).hexdigest()
        return {
            "Content-Type": "application/json", "User-Agent": USER_AGENT,
            "X-WC-Webhook-Source": self.source_url + "/",
            "X-WC-Webhook-Topic": hook["topic"], "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": signature(body, hook["secret"]),
            "X-WC-Webhook-ID": str(hook["id"]), "X-WC-Webhook-Delivery-ID": delivery_id,
        }

    def _enqueue(self, delivery: Delivery) -> None:
        with self._idle:
            if self.faults.drop > 0:
                self.faults.drop -= 1
                self.log.append({"webhook_id": delivery.webhook_id, "topic": delivery.topic,
                                 "status": "dropped"})
                return
            copies = 1
            if self.faults.duplicate > 0:
                self.faults.duplicate -= 1
                copies = 2
            if self.faults.reorder:
                self._held.extend([delivery] * copies)
                return
            self._pending += copies
        for _ in range(copies):
            self._queue.put(delivery)

    def release_held(self) -> int:
        """Send the held deliveries, newest first (the ``reorder`` fault)."""
        with self._idle:
            held, self._held = self._held[::-1], []
            self.faults.reorder = False
            self._pending += len(held)
        for delivery in held:
            self._queue.put(delivery)
        return len(held)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every queued delivery has been attempted; False on timeout."""
        deadline = time.monotonic() + timeout_s
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    # --- delivering -----------------------------------------------------------------

    def _run(self) -> None:
        with httpx.Client(timeout=DELIVERY_TIMEOUT_S, follow_redirects=False) as client:
            while (delivery := self._queue.get()) is not None:
                try:
                    self._deliver(client, delivery)
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()

    def _deliver(self, client: httpx.Client, delivery: Delivery) -> None:
        with self.store.lock:
            hook = self.store.webhooks.get(delivery.webhook_id)
            if hook is None or hook["status"] != "active":
                return
        try:
            code = client.post(delivery.url, content=delivery.body,
                               headers=delivery.headers).status_code
        except httpx.HTTPError:
            code = 0  # WP_Error: counted as a failure like any non-2xx answer
        self.log.append({"webhook_id": delivery.webhook_id, "topic": delivery.topic,
                         "status": code,
                         "delivery_id": delivery.headers["X-WC-Webhook-Delivery-ID"]})
        with self.store.lock:
            if 200 <= code < 303:
                hook["failure_count"] = 0
            elif hook["failure_count"] > MAX_DELIVERY_FAILURES:
                hook["status"] = "disabled"
            else:
                hook["failure_count"] += 1

    def ping(self, hook: Json) -> int:
        """``deliver_ping``: the form body ``webhook_id=<id>``; returns the status (0: none)."""
        try:
            response = httpx.post(
                hook["delivery_url"], content=f"webhook_id={hook['id']}".encode(),
                headers={"User-Agent": USER_AGENT,
                         "Content-Type": "application/x-www-form-urlencoded"},
                timeout=DELIVERY_TIMEOUT_S)
        except httpx.HTTPError:
            return 0
        self.log.append({"webhook_id": hook["id"], "topic": "ping",
                         "status": response.status_code})
        return response.status_code

"""``Connector`` for WooCommerce (REST API v3), built by ``registry.build_connector``.

Credentials: ``url`` (the store's base URL: ``https://shop.example.com``, or the loopback
sandbox), ``consumer_key``, ``consumer_secret``, ``webhook_secret`` (the connection's webhook
secret, which the webhooks are created with; needed by ``ensure_subscriptions`` only)
and, optionally, ``requests_per_s`` (the client-side request rate, default 5 per second).

Stock: WooCommerce has one stock quantity per product or variation and no locations; levels
are reported at the single location ``LOCATION_ID``. It has no compare-and-set either, so a
push sets the quantity unconditionally (see ``push_quantities``).
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from storesync.channels.connectors.base import (
    AuthFailed,
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
    Throttled,
    Topic,
    WebhookEvent,
)
from storesync.channels.connectors.woocommerce import customers, mapping, webhooks
from storesync.channels.connectors.woocommerce import restriction as restriction_ops
from storesync.channels.connectors.woocommerce.client import (
    BUCKET_RATE_PER_S,
    PER_PAGE,
    WooClient,
)
from storesync.channels.ratelimit import Throttle

LOCATION_ID = "default"
ORDERS_PER_PAGE = 50  # each order with refunds costs two more calls; keep pages modest
UNCONDITIONAL = "unconditional: WooCommerce has no compare-and-set; expected was ignored"
_SHIPMENT = re.compile(r"\[storesync shipment: ([0-9x,]*)\]")
_ITEM = re.compile(r"^(\d+)(?:/(\d+))?$")
CURRENCY_TTL_S = 600.0
_CURRENCIES: dict[str, tuple[float, str]] = {}  # store URL -> (when read, currency)


def _parse_item(inventory_item_id: str) -> tuple[int, int] | None:
    match = _ITEM.match(inventory_item_id)
    return (int(match.group(1)), int(match.group(2) or 0)) if match else None


class Connector:
    """WooCommerce through its REST API v3; every network error is a ``ChannelError``."""

    platform: ClassVar[str] = "woocommerce"
    max_quantity_batch: ClassVar[int] = 100  # woocommerce_rest_batch_items_limit
    topics: ClassVar[tuple[Topic, ...]] = (
        Topic.ORDER_CREATED, Topic.ORDER_UPDATED, Topic.ORDER_CANCELLED,
        Topic.PRODUCT_UPDATED, Topic.PRODUCT_DELETED)

    def __init__(self, *, credentials: dict[str, Any], http: httpx.Client | None,
                 throttle: Throttle) -> None:
        self._client = WooClient(url=str(credentials.get("url") or ""),
                                 consumer_key=str(credentials.get("consumer_key") or ""),
                                 consumer_secret=str(credentials.get("consumer_secret") or ""),
                                 http=http, throttle=throttle,
                                 requests_per_s=float(credentials.get("requests_per_s")
                                                      or BUCKET_RATE_PER_S))
        self._webhook_secret = str(credentials.get("webhook_secret") or "")
        self._currency: str | None = None

    def close(self) -> None:
        """Release the connection pool this connector opened (none when ``http`` was given)."""
        self._client.close()

    # --- shop ---------------------------------------------------------------------------

    def _read_currency(self) -> str:
        """The store's currency, read now (an authenticated call)."""
        setting = self._client.request("GET", "/settings/general/woocommerce_currency")
        currency = str(setting.get("value") or "") if isinstance(setting, dict) else ""
        if not currency:
            raise ChannelError("WooCommerce did not say the store's currency")
        self._currency = currency
        _CURRENCIES[self._client.base_url] = (time.monotonic(), currency)
        return currency

    def _store_currency(self) -> str:
        """The store's currency, remembered per store for ``CURRENCY_TTL_S``: every stock
        change arrives as a product webhook whose prices need it, and the engine builds a
        connector per webhook, so asking each time would double the calls of a busy store."""
        if self._currency is None:
            remembered = _CURRENCIES.get(self._client.base_url)
            if remembered and time.monotonic() - remembered[0] < CURRENCY_TTL_S:
                self._currency = remembered[1]
            else:
                return self._read_currency()
        return self._currency

    def verify_credentials(self) -> ShopInfo:
        """The site's name (``/wp-json/``) and currency (an authenticated settings read,
        which is what proves the keys: always made, never remembered)."""
        currency = self._read_currency()
        index = self._client.site_index()
        domain = urlsplit(str(index.get("url") or self._client.base_url)).netloc
        return ShopInfo(name=str(index.get("name") or domain), domain=domain,
                        currency=currency)

    # --- catalog and stock ------------------------------------------------------------

    def import_catalog(self, *, progress: Progress | None = None) -> Iterator[ChannelProduct]:
        """Every product, oldest id first, 100 a page; a variable product's variations are
        read from ``/products/<id>/variations`` (also paged) before it is yielded."""
        currency = self._store_currency()
        done = 0
        for page in self._client.pages("/products", {"orderby": "id", "order": "asc"}):
            for product in page.items:
                variations: list[Any] = []
                if product.get("type") == "variable":
                    for vpage in self._client.pages(f"/products/{product['id']}/variations"):
                        variations.extend(vpage.items)
                yield mapping.product_from(product, variations, currency)
                done += 1
                if progress is not None:
                    progress(done, page.total)

    def _groups(self, ids: Sequence[str]) -> dict[int, list[tuple[str, int]]]:
        """Parent product id (0: simple products) -> [(inventory item id, object id)]."""
        groups: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for raw in ids:
            parsed = _parse_item(raw)
            if parsed is None:
                continue
            product_id, variation_id = parsed
            if variation_id:
                groups[product_id].append((raw, variation_id))
            else:
                groups[0].append((raw, product_id))
        return groups

    def fetch_levels(self, inventory_item_ids: Sequence[str]) -> list[ChannelLevel]:
        """Current ``stock_quantity`` of each item that manages stock (an item that does not
        has no quantity on WooCommerce, only a status, and is left out)."""
        levels = []
        for parent, members in self._groups(inventory_item_ids).items():
            path = f"/products/{parent}/variations" if parent else "/products"
            by_object = {obj: raw for raw, obj in members}
            for start in range(0, len(members), PER_PAGE):
                chunk = members[start:start + PER_PAGE]
                include = ",".join(str(obj) for _, obj in chunk)
                for page in self._client.pages(path, {"include": include}):
                    for item in page.items:
                        raw = by_object.get(int(item["id"]))
                        if raw and item.get("manage_stock") and item.get(
                                "stock_quantity") is not None:
                            levels.append(ChannelLevel(raw, LOCATION_ID,
                                                       int(item["stock_quantity"]),
                                                       sku=str(item.get("sku") or "")))
        return levels

    def push_quantities(self, updates: Sequence[QuantityUpdate]) -> list[PushResult]:
        """Set quantities through the batch endpoints, at most 100 objects a call:
        ``/products/batch`` for simple products, ``/products/<id>/variations/batch`` for
        each parent's variations. ``manage_stock`` is switched on with the quantity.

        WooCommerce has no compare-and-set: ``expected`` is ignored and each OK result says
        so in ``error``. A sale between the engine's last read and this write is
        overwritten (the sale's stock reduction is lost on the channel), so the engine must
        re-read levels (``fetch_levels``) after every order webhook and push again.

        If a call fails, its updates come back FAILED (retryable as the error is: a parent
        product deleted on WooCommerce is not, a 5xx is) and the other calls go on; after a
        throttle or an auth failure the remaining calls are not tried, and if nothing was
        applied that error itself is raised, so ``Throttled.retry_after_s`` reaches the
        engine.
        """
        results: dict[int, PushResult] = {}
        calls: list[tuple[str, list[int]]] = []
        by_parent: dict[int, list[int]] = defaultdict(list)
        for index, update in enumerate(updates):
            parsed = _parse_item(update.inventory_item_id)
            if parsed is None:
                results[index] = PushResult(update, PushOutcome.FAILED, error=(
                    f"not a WooCommerce item id: {update.inventory_item_id!r}"),
                    retryable=False)
                continue
            by_parent[parsed[0] if parsed[1] else 0].append(index)
        for parent, indexes in by_parent.items():
            path = f"/products/{parent}/variations/batch" if parent else "/products/batch"
            calls.extend((path, indexes[i:i + self.max_quantity_batch])
                         for i in range(0, len(indexes), self.max_quantity_batch))
        stop: ChannelError | None = None
        for path, chunk in calls:
            if stop is None:
                try:
                    results.update(self._push_chunk(path, chunk, updates))
                    continue
                except ChannelError as error:
                    if isinstance(error, Throttled | AuthFailed):
                        stop = error  # the next calls would be refused the same way
                    failure = error
            else:
                failure = stop
            results.update({i: PushResult(updates[i], PushOutcome.FAILED, error=str(failure),
                                          retryable=failure.retryable) for i in chunk})
        applied = any(r.outcome is PushOutcome.OK for r in results.values())
        if stop is not None and not applied:
            raise stop
        return [results[i] for i in range(len(updates))]

    def _push_chunk(self, path: str, chunk: list[int],
                    updates: Sequence[QuantityUpdate]) -> dict[int, PushResult]:
        body = {"update": [{"id": self._object_id(updates[i]), "manage_stock": True,
                            "stock_quantity": updates[i].quantity} for i in chunk]}
        answer = self._client.request("POST", path, body=body)
        returned = answer.get("update") if isinstance(answer, dict) else None
        if not isinstance(returned, list) or len(returned) != len(chunk):
            raise ChannelError("WooCommerce answered the batch with a different item count")
        results = {}
        for index, item in zip(chunk, returned, strict=True):
            update = updates[index]
            error = item.get("error") if isinstance(item, dict) else None
            if error:
                results[index] = PushResult(update, PushOutcome.FAILED, retryable=False,
                                            error=f"{error.get('code')}: {error.get('message')}")
            else:
                results[index] = PushResult(
                    update, PushOutcome.OK, channel_quantity=item.get("stock_quantity"),
                    error=UNCONDITIONAL if update.expected is not None else "")
        return results

    @staticmethod
    def _object_id(update: QuantityUpdate) -> int:
        parsed = _parse_item(update.inventory_item_id)
        assert parsed is not None  # filtered before
        return parsed[1] or parsed[0]

    # --- orders -------------------------------------------------------------------------

    def import_orders(self, *, updated_since: datetime | None,
                      cursor: str | None) -> OrderPage:
        """Orders by modification time, oldest first, ``ORDERS_PER_PAGE`` at a time
        (``orderby=modified``, ``modified_after``: WooCommerce 5.8 and later).

        The cursor is keyset-like: the last modification second seen and the ids already
        returned at that second. ``modified_after`` is strict and to the second, so the
        query asks from one second earlier and drops what was already returned; a page
        entirely within one second moves on by page number instead.
        """
        state = self._cursor(cursor) if cursor else {
            "after": (updated_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
                      if updated_since else None),
            "skip": [], "page": 1}
        params: dict[str, Any] = {"orderby": "modified", "order": "asc",
                                  "per_page": ORDERS_PER_PAGE, "page": state["page"],
                                  "dates_are_gmt": "true"}
        after = state["after"]
        if after:
            earlier = datetime.fromisoformat(after) - timedelta(seconds=1)
            params["modified_after"] = earlier.strftime("%Y-%m-%dT%H:%M:%S")
        page, _ = self._client.page("/orders", params)
        skip = set(state["skip"])
        fresh = [o for o in page.items
                 if not after or str(o.get("date_modified_gmt")) > after
                 or (str(o.get("date_modified_gmt")) == after and o["id"] not in skip)]
        orders = tuple(self._order(o) for o in fresh)
        if len(page.items) < ORDERS_PER_PAGE:
            return OrderPage(orders, None)
        last = max(str(o.get("date_modified_gmt")) for o in page.items)
        at_last = [o["id"] for o in page.items if str(o.get("date_modified_gmt")) == last]
        if last == after:
            next_state = {"after": after, "skip": sorted(skip | set(at_last)),
                          "page": state["page"] + 1}
        else:
            next_state = {"after": last, "skip": at_last, "page": 1}
        return OrderPage(orders, json.dumps(next_state))

    def fetch_order(self, external_id: str) -> ChannelOrder:
        """One order as WooCommerce has it now, with its refunds (beyond the Protocol: a
        webhook's payload lacks the refund lines, so the engine can read the order whole)."""
        if not external_id.isdigit():
            raise Rejected(f"not a WooCommerce order id: {external_id!r}")
        return self._order(self._client.request("GET", f"/orders/{external_id}"))

    @staticmethod
    def _cursor(cursor: str) -> dict[str, Any]:
        try:
            state = json.loads(cursor)
            if isinstance(state, dict) and {"after", "skip", "page"} <= state.keys():
                return state
        except ValueError:
            pass
        raise Rejected(f"not a WooCommerce order cursor: {cursor[:40]!r}")

    def _order(self, order: dict[str, Any]) -> ChannelOrder:
        refunds: list[Any] = []
        notes: list[Any] = []
        if order.get("refunds"):
            for page in self._client.pages(f"/orders/{order['id']}/refunds"):
                refunds.extend(page.items)
            found = self._client.request("GET", f"/orders/{order['id']}/notes")
            notes = found if isinstance(found, list) else []
        return mapping.order_from(order, refunds, notes)

    def push_fulfillment(self, fulfillment: FulfillmentPush) -> str:
        """An order note with the carrier, tracking number and lines (a customer note, so
        the buyer is emailed, when ``notify_customer``), and status ``completed`` once every
        line has shipped. Core WooCommerce has no shipment object and no tracking field;
        the note is where merchants and buyers see it (ADR 0013). Returns the note id."""
        oid = str(fulfillment.order_external_id)
        if not oid.isdigit():
            raise Rejected(f"not a WooCommerce order id: {oid!r}")
        order = self._client.request("GET", f"/orders/{oid}")
        ordered = {str(line["id"]): int(line["quantity"]) for line in order["line_items"]}
        shipped: dict[str, int] = defaultdict(int)
        for note in self._client.request("GET", f"/orders/{oid}/notes"):
            for match in _SHIPMENT.finditer(str(note.get("note", ""))):
                for pair in filter(None, match.group(1).split(",")):
                    line_id, _, quantity = pair.partition("x")
                    shipped[line_id] += int(quantity or 0)
        lines = dict(fulfillment.lines) if fulfillment.lines else {
            lid: qty - shipped[lid] for lid, qty in ordered.items() if qty > shipped[lid]}
        unknown = sorted(set(lines) - set(ordered))
        if unknown:
            raise Rejected(f"order {oid} has no line {', '.join(unknown)}")
        note = self._client.request("POST", f"/orders/{oid}/notes", body={
            "note": _shipment_note(fulfillment, lines),
            "customer_note": fulfillment.notify_customer})
        for lid, qty in lines.items():
            shipped[lid] += qty
        if all(shipped[lid] >= qty for lid, qty in ordered.items()) and order.get(
                "status") not in ("completed", "cancelled", "refunded"):
            self._client.request("PUT", f"/orders/{oid}", body={"status": "completed"})
        return str(note["id"])

    # --- webhooks -----------------------------------------------------------------------

    def verify_webhook(self, *, headers: Mapping[str, str], body: bytes,
                       secret: str) -> WebhookEvent:
        """See ``webhooks.verify``: signature, topic, ping, dedupe key."""
        return webhooks.verify(headers=headers, body=body, secret=secret)

    def parse_event(self, event: WebhookEvent
                    ) -> ChannelOrder | ChannelProduct | ChannelLevel | ChannelRefund | None:
        """The record a verified event carries.

        Orders: the body is the order, but without its refunds' lines (WooCommerce sends only
        ``refunds: [{id, total}]``) and, for ``order.deleted``, with nothing but the id; such
        an order is read whole with ``fetch_order``.

        Products (``product.created``/``.updated``/``.restored``): the ``ChannelProduct``,
        with the stock the body shows in ``levels`` (a stock change saves the product, so the
        same topic is also the stock event). Three bodies arrive: a simple product (itself
        its one variant); a variable product, whose ``variations`` are ids only, so they are
        read with ``GET /products/<id>/variations`` (what the store has now); and a single
        variation (``type: variation``, core's ``woocommerce_new_product_variation`` and
        ``..._update_product_variation`` hooks), given as its parent naming that variation
        alone (``complete`` False)."""
        payload = dict(event.payload)
        try:
            if event.topic in (Topic.ORDER_CREATED, Topic.ORDER_UPDATED,
                               Topic.ORDER_CANCELLED):
                if payload.get("refunds") or "line_items" not in payload:
                    return self.fetch_order(str(payload["id"]))
                return mapping.order_from(payload, [], [])
            if event.topic is Topic.PRODUCT_UPDATED:
                return self._product_event(payload)
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidWebhook(f"unreadable {event.platform_topic} body: {exc}",
                                 status=400) from None
        return None

    def _product_event(self, body: dict[str, Any]) -> ChannelProduct:
        currency = self._store_currency()
        if body.get("type") == "variation" and body.get("parent_id"):
            product = mapping.variation_product(body, currency)
            level = mapping.level_of(body, product.variants[0].inventory_item_id,
                                     LOCATION_ID)
            return replace(product, levels=(level,) if level else ())
        variations: list[Any] = []
        if body.get("type") == "variable":
            for page in self._client.pages(f"/products/{int(body['id'])}/variations"):
                variations.extend(page.items)
        product = mapping.product_from(body, variations, currency)
        # The parent's own quantity (shared by variations whose stock it manages), then each
        # variation's: read just now, so as fresh as the body or fresher.
        levels = [mapping.level_of(body, mapping.item_id(body["id"]), LOCATION_ID)]
        levels.extend(mapping.level_of(v, mapping.item_id(body["id"], v["id"]), LOCATION_ID)
                      for v in variations)
        return replace(product, levels=tuple(x for x in levels if x is not None))

    def _webhooks(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for page in self._client.pages("/webhooks", {"status": "all"}):
            found.extend(page.items)
        return found

    @staticmethod
    def _subscription(hook: dict[str, Any]) -> Subscription:
        return Subscription(external_id=str(hook["id"]), platform_topic=str(hook["topic"]),
                            address=str(hook["delivery_url"]),
                            active=hook.get("status") == "active")

    # --- privacy ------------------------------------------------------------------------

    def erase_customer(self, subject: CustomerRef) -> PrivacyResult:
        return customers.erase(self._client, subject)

    def correct_customer(self, subject: CustomerRef,
                         correction: ContactCorrection) -> PrivacyResult:
        return customers.correct(self._client, subject, correction)

    def restrict_customer(self, subject: CustomerRef,
                          restriction: ProcessingRestriction) -> RestrictionResult:
        return restriction_ops.restrict(self._client, subject, restriction)

    def list_subscriptions(self) -> list[Subscription]:
        """Every webhook of the store (WooCommerce's are per store, not per app)."""
        return [self._subscription(h) for h in self._webhooks()]

    def ensure_subscriptions(self, *, address: str) -> list[Subscription]:
        """One active webhook per subscribed topic pointing at ``address``, with storesync's
        secret: a missing one is created (WooCommerce then pings ``address``), an existing
        one is set ``active`` with the current secret — which brings back a paused one or
        one core disabled after repeated failed deliveries. Core does not reset the failure
        count on re-activation, only on the next successful delivery, so the receiver must
        be healthy first."""
        if not self._webhook_secret:
            # Without it WooCommerce would sign with a random secret storesync cannot know,
            # and every delivery would be refused as forged.
            raise Rejected("credentials need the connection's webhook_secret to subscribe")
        existing = self._webhooks()
        result = []
        for topic in webhooks.SUBSCRIBED:
            mine = [h for h in existing if h["topic"] == topic and h["delivery_url"] == address]
            if mine:
                # The secret is write-only, so it is set again even on an active webhook: a
                # rotated secret reaches WooCommerce on the next ensure.
                hook = next((h for h in mine if h.get("status") == "active"), mine[0])
                hook = self._client.request("PUT", f"/webhooks/{hook['id']}", body={
                    "status": "active", "secret": self._webhook_secret})
            else:
                hook = self._client.request("POST", "/webhooks", body={
                    "name": f"storesync {topic}", "topic": topic, "delivery_url": address,
                    "secret": self._webhook_secret, "status": "active"})
            result.append(self._subscription(hook))
        return result


def _shipment_note(fulfillment: FulfillmentPush, lines: dict[str, int]) -> str:
    carrier = fulfillment.carrier or "the carrier"
    parts = [f"Shipped with {carrier}."]
    if fulfillment.tracking_number:
        parts.append(f"Tracking number: {fulfillment.tracking_number}.")
    if fulfillment.tracking_url:
        parts.append(f"Track it at {fulfillment.tracking_url}")
    marker = ",".join(f"{lid}x{qty}" for lid, qty in sorted(lines.items()))
    # The marker lets a later partial shipment know what was already sent.
    parts.append(f"[storesync shipment: {marker}]")
    return " ".join(parts)

"""The REST API v3 routes of the simulated store (``/wp-json/wc/v3/...``).

Follows the WooCommerce REST API v3 reference (woocommerce.github.io/woocommerce-rest-api-docs)
and core's controllers for what the reference leaves out:

- Errors: ``{"code": ..., "message": ..., "data": {"status": ...}}`` (``WP_Error``).
- Collections: ``page`` and ``per_page`` (1..100, else 400 ``rest_invalid_param``), headers
  ``X-WP-Total``, ``X-WP-TotalPages`` and ``Link`` with ``rel="prev"``/``rel="next"``.
- Variations: ``GET /products/<id>/variations`` lists by post parent, so an id without
  variations (or no product at all) answers an empty page, not 404;
  ``POST /products/<id>/variations`` creates one (``product.created`` carries it).
- Batches (``/products/batch``, ``/products/<id>/variations/batch``):
  ``create``/``update``/``delete`` together at most 100 objects
  (``woocommerce_rest_batch_items_limit``), else 413
  ``woocommerce_rest_request_entity_too_large`` (``WC_REST_Controller::check_batch_limit``);
  an item that fails carries ``{"id", "error": {...}}`` in its place, the others apply.
- Orders: ``after``/``before`` (created), ``modified_after``/``modified_before``, ``status``,
  ``orderby`` (``date``, ``id``, ``modified``), ``order``.
- Orders also take ``customer`` (a customer id); ``PUT /orders/<id>`` also writes
  ``billing``, ``shipping``, ``customer_id`` and ``meta_data`` (what the privacy
  anonymisation sends). Customers: see ``customers.py``.
- Webhooks: ``name``, ``topic`` (validated), ``delivery_url`` (http or https), ``secret``,
  ``status`` (``active``, ``paused``, ``disabled``); the ping on creation.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from storesync.channels.sandbox.woocommerce import customers as customer_ops
from storesync.channels.sandbox.woocommerce import orders as order_ops
from storesync.channels.sandbox.woocommerce.state import (
    WEBHOOK_STATUSES,
    WEBHOOK_TOPICS,
    Json,
    Store,
    StoreError,
)
from storesync.channels.sandbox.woocommerce.webhooks import Dispatcher

BATCH_LIMIT = 100
PREFIX = "/wp-json/wc/v3"
EDITABLE = {"POST", "PUT", "PATCH"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    base_url: str


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request, re.Match[str]], Response]


def _int(query: dict[str, str], name: str, default: int) -> int:
    try:
        return int(query.get(name, default))
    except ValueError:
        raise StoreError("rest_invalid_param", f"Invalid parameter(s): {name}", 400) from None


def _when(value: str, name: str) -> str:
    """An ISO 8601 filter value as the ``YYYY-MM-DDTHH:MM:SS`` UTC text stored here (the
    simulated site's timezone is UTC, so ``dates_are_gmt`` changes nothing)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise StoreError("rest_invalid_param", f"Invalid parameter(s): {name}", 400) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S")


def paginate(request: Request, items: list[Json]) -> Response:
    per_page = _int(request.query, "per_page", 10)
    page = _int(request.query, "page", 1)
    if not 1 <= per_page <= 100:
        raise StoreError("rest_invalid_param", "Invalid parameter(s): per_page", 400)
    if page < 1:
        raise StoreError("rest_invalid_param", "Invalid parameter(s): page", 400)
    total = len(items)
    pages = math.ceil(total / per_page) if total else 0
    chunk = items[(page - 1) * per_page: page * per_page]
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
    links = []
    base = f"{request.base_url}{request.path}"
    if page > 1:
        prev_query = {**request.query, "page": str(min(page - 1, max(pages, 1)))}
        links.append(f'<{base}?{urlencode(prev_query)}>; rel="prev"')
    if pages > page:
        links.append(f'<{base}?{urlencode({**request.query, "page": str(page + 1)})}>; '
                     'rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return Response(200, chunk, headers)


def _ids(query: dict[str, str], name: str) -> set[int] | None:
    if not query.get(name):
        return None
    try:
        return {int(x) for x in query[name].split(",") if x}
    except ValueError:
        raise StoreError("rest_invalid_param", f"Invalid parameter(s): {name}", 400) from None


def _filter_dates(items: Iterable[Json], query: dict[str, str]) -> list[Json]:
    """``after``/``before`` on the creation date, ``modified_*`` on the change date; each
    strictly after/before, as ``WP_Date_Query`` compares by default."""
    selected = list(items)
    for name, key, later in (("after", "date_created_gmt", True),
                             ("before", "date_created_gmt", False),
                             ("modified_after", "date_modified_gmt", True),
                             ("modified_before", "date_modified_gmt", False)):
        if query.get(name):
            bound = _when(query[name], name)
            selected = [x for x in selected if (x[key] > bound if later else x[key] < bound)]
    return selected


def _sort(items: list[Json], query: dict[str, str], default: str) -> list[Json]:
    orderby = query.get("orderby", default)
    keys = {"date": "date_created_gmt", "id": "id", "modified": "date_modified_gmt",
            "include": "id"}
    if items and "name" in items[0]:
        keys["title"] = "name"
    if orderby not in keys:
        raise StoreError("rest_invalid_param", "Invalid parameter(s): orderby", 400)
    descending = query.get("order", "desc") == "desc"
    return sorted(items, key=lambda x: (x[keys[orderby]], x["id"]), reverse=descending)


class Rest:
    """Routes ``(method, pattern) -> handler`` over one ``Store`` and its ``Dispatcher``."""

    def __init__(self, store: Store, dispatcher: Dispatcher) -> None:
        self.store = store
        self.dispatcher = dispatcher
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (m, re.compile(f"^{PREFIX}{p}$"), h) for m, p, h in (
                ("GET", r"/settings/general/(?P<id>[\w-]+)", self.setting),
                ("GET", r"/products", self.products),
                ("POST", r"/products", self.product_create),
                ("PUT", r"/products/batch", self.products_batch),
                ("GET", r"/products/(?P<id>\d+)", self.product),
                ("PUT", r"/products/(?P<id>\d+)", self.product_update),
                ("DELETE", r"/products/(?P<id>\d+)", self.product_delete),
                ("GET", r"/products/(?P<id>\d+)/variations", self.variations),
                ("POST", r"/products/(?P<id>\d+)/variations", self.variation_create),
                ("PUT", r"/products/(?P<id>\d+)/variations/batch", self.variations_batch),
                ("PUT", r"/products/(?P<id>\d+)/variations/(?P<vid>\d+)",
                 self.variation_update),
                ("GET", r"/orders", self.orders),
                ("POST", r"/orders", self.order_create),
                ("GET", r"/orders/(?P<id>\d+)", self.order),
                ("PUT", r"/orders/(?P<id>\d+)", self.order_update),
                ("DELETE", r"/orders/(?P<id>\d+)", self.order_delete),
                ("GET", r"/orders/(?P<id>\d+)/notes", self.notes),
                ("POST", r"/orders/(?P<id>\d+)/notes", self.note_create),
                ("GET", r"/orders/(?P<id>\d+)/refunds", self.refunds),
                ("POST", r"/orders/(?P<id>\d+)/refunds", self.refund_create),
                ("GET", r"/customers", self.customers),
                ("POST", r"/customers", self.customer_create),
                ("GET", r"/customers/(?P<id>\d+)", self.customer),
                ("PUT", r"/customers/(?P<id>\d+)", self.customer_update),
                ("DELETE", r"/customers/(?P<id>\d+)", self.customer_delete),
                ("GET", r"/webhooks", self.webhooks),
                ("POST", r"/webhooks", self.webhook_create),
                ("GET", r"/webhooks/(?P<id>\d+)", self.webhook),
                ("PUT", r"/webhooks/(?P<id>\d+)", self.webhook_update),
                ("DELETE", r"/webhooks/(?P<id>\d+)", self.webhook_delete),
            )
        ]

    def route(self, request: Request) -> Response:
        for method, pattern, handler in self.routes:
            match = pattern.match(request.path)
            # WordPress registers updates and batches as EDITABLE: POST, PUT and PATCH.
            allowed = EDITABLE if method == "PUT" else {method}
            if match and request.method in allowed:
                return handler(request, match)
        return Response(404, {"code": "rest_no_route", "message":
                              "No route was found matching the URL and request method.",
                              "data": {"status": 404}})

    # --- settings ---------------------------------------------------------------------

    def setting(self, request: Request, match: re.Match[str]) -> Response:
        if match["id"] != "woocommerce_currency":
            raise StoreError("rest_setting_setting_invalid", "Invalid setting.", 404)
        return Response(200, {"id": "woocommerce_currency", "label": "Currency",
                              "type": "select", "value": self.store.currency})

    # --- products ---------------------------------------------------------------------

    def products(self, request: Request, match: re.Match[str]) -> Response:
        include = _ids(request.query, "include")
        with self.store.lock:
            items = [self.store.view(p) for p in self.store.products.values()
                     if include is None or p["id"] in include]
        if request.query.get("sku"):
            items = [p for p in items if p["sku"] == request.query["sku"]]
        items = _filter_dates(items, request.query)
        return paginate(request, _sort(items, request.query, "date"))

    def product(self, request: Request, match: re.Match[str]) -> Response:
        return Response(200, self.store.view(self.store.item(int(match["id"]))))

    def product_create(self, request: Request, match: re.Match[str]) -> Response:
        pid = self.store.create_product(request.body or {})
        return Response(201, self.store.view(self.store.products[pid]))

    def product_update(self, request: Request, match: re.Match[str]) -> Response:
        item = self.store.item(int(match["id"]))
        return Response(200, self.store.view(self.store.update_item(item, request.body or {})))

    def product_delete(self, request: Request, match: re.Match[str]) -> Response:
        if request.query.get("force") not in ("true", "1"):
            raise StoreError("woocommerce_rest_trash_not_supported",
                             "Products do not support trashing in the sandbox.", 501)
        return Response(200, self.store.delete_product(int(match["id"])))

    def variations(self, request: Request, match: re.Match[str]) -> Response:
        # Core lists the variations whose post parent is the id (a plain query): an id that
        # is no product, or a simple product, has none, and the answer is an empty page.
        include = _ids(request.query, "include")
        with self.store.lock:
            product = self.store.products.get(int(match["id"]))
            items = [self.store.view(self.store.variations[v])
                     for v in (product["variations"] if product else ())
                     if include is None or v in include]
        return paginate(request, sorted(items, key=lambda v: v["id"]))

    def variation_create(self, request: Request, match: re.Match[str]) -> Response:
        created = self.store.create_variation(int(match["id"]), request.body or {})
        return Response(201, self.store.view(created))

    def variation_update(self, request: Request, match: re.Match[str]) -> Response:
        item = self.store.item(int(match["id"]), int(match["vid"]))
        return Response(200, self.store.view(self.store.update_item(item, request.body or {})))

    def products_batch(self, request: Request, match: re.Match[str]) -> Response:
        return self._batch(request.body, lambda oid: self.store.item(oid),
                           lambda spec: self.store.create_product(spec),
                           lambda oid: self.store.delete_product(oid))

    def variations_batch(self, request: Request, match: re.Match[str]) -> Response:
        parent = int(match["id"])
        self.store.item(parent)
        return self._batch(request.body, lambda oid: self.store.item(parent, oid),
                           None, None)

    def _batch(self, body: Any, find: Callable[[int], Json],
               create: Callable[[Json], int] | None,
               delete: Callable[[int], Json] | None) -> Response:
        if not isinstance(body, dict):
            raise StoreError("rest_invalid_json", "Invalid JSON body passed.", 400)
        total = sum(len(body.get(k) or []) for k in ("create", "update", "delete"))
        if total > BATCH_LIMIT:
            raise StoreError("woocommerce_rest_request_entity_too_large",
                             f"Unable to accept more than {BATCH_LIMIT} items for this "
                             "request.", 413)
        result: Json = {}

        def created(spec: Json) -> Json:
            if create is None:
                return _unsupported()
            return self.store.view(self.store.products[create(spec)])

        def updated(spec: Json) -> Json:
            return self.store.view(self.store.update_item(find(int(spec.get("id") or 0)),
                                                          spec))

        def deleted(oid: Any) -> Json:
            return delete(int(oid)) if delete is not None else _unsupported()

        if body.get("create"):
            result["create"] = [self._one(created, spec, 0) for spec in body["create"]]
        if body.get("update"):
            result["update"] = [self._one(updated, spec, spec.get("id", 0))
                                for spec in body["update"]]
        if body.get("delete"):
            result["delete"] = [self._one(deleted, oid, oid) for oid in body["delete"]]
        return Response(200, result)

    @staticmethod
    def _one(apply: Callable[[Any], Json], arg: Any, oid: Any) -> Json:
        try:
            return apply(arg)
        except StoreError as error:
            return {"id": oid, "error": {"code": error.code, "message": error.message,
                                         "data": {"status": error.status}}}

    # --- orders -----------------------------------------------------------------------

    def orders(self, request: Request, match: re.Match[str]) -> Response:
        include = _ids(request.query, "include")
        statuses = set(filter(None, request.query.get("status", "any").split(",")))
        customer = _int(request.query, "customer", -1) if "customer" in request.query \
            else None
        with self.store.lock:
            items = [order_ops.order_view(self.store.view(o))
                     for o in self.store.orders.values()
                     if (include is None or o["id"] in include)
                     and ("any" in statuses or o["status"] in statuses)
                     and (customer is None or o["customer_id"] == customer)]
        items = _filter_dates(items, request.query)
        return paginate(request, _sort(items, request.query, "date"))

    def order(self, request: Request, match: re.Match[str]) -> Response:
        found = order_ops.order_get(self.store, int(match["id"]))
        return Response(200, order_ops.order_view(self.store.view(found)))

    def order_create(self, request: Request, match: re.Match[str]) -> Response:
        spec = {"status": "pending", **(request.body or {})}
        created = order_ops.order_create(self.store, spec)
        return Response(201, order_ops.order_view(self.store.view(created)))

    def order_update(self, request: Request, match: re.Match[str]) -> Response:
        changed = order_ops.order_update(self.store, int(match["id"]), request.body or {})
        return Response(200, order_ops.order_view(self.store.view(changed)))

    def order_delete(self, request: Request, match: re.Match[str]) -> Response:
        if request.query.get("force") not in ("true", "1"):
            raise StoreError("woocommerce_rest_trash_not_supported",
                             "The sandbox deletes orders only with force=true.", 501)
        gone = order_ops.order_delete(self.store, int(match["id"]))
        return Response(200, order_ops.order_view(self.store.view(gone)))

    # --- customers --------------------------------------------------------------------

    def customers(self, request: Request, match: re.Match[str]) -> Response:
        include = _ids(request.query, "include")
        items = [self.store.view(c) for c in customer_ops.listed(self.store, request.query)
                 if include is None or c["id"] in include]
        return paginate(request, sorted(items, key=lambda c: c["id"]))

    def customer(self, request: Request, match: re.Match[str]) -> Response:
        return Response(200, self.store.view(customer_ops.get(self.store, int(match["id"]))))

    def customer_create(self, request: Request, match: re.Match[str]) -> Response:
        return Response(201, self.store.view(customer_ops.create(self.store,
                                                                 request.body or {})))

    def customer_update(self, request: Request, match: re.Match[str]) -> Response:
        changed = customer_ops.update(self.store, int(match["id"]), request.body or {})
        return Response(200, self.store.view(changed))

    def customer_delete(self, request: Request, match: re.Match[str]) -> Response:
        force = request.query.get("force") in ("true", "1")
        return Response(200, customer_ops.delete(self.store, int(match["id"]), force))

    def notes(self, request: Request, match: re.Match[str]) -> Response:
        order_ops.order_get(self.store, int(match["id"]))
        kind = request.query.get("type", "any")
        with self.store.lock:
            notes = [dict(n) for n in self.store.notes[int(match["id"])]
                     if kind == "any" or n["customer_note"] == (kind == "customer")]
        return Response(200, notes[::-1])  # newest first, as comments are listed

    def note_create(self, request: Request, match: re.Match[str]) -> Response:
        return Response(201, dict(order_ops.note_create(self.store, int(match["id"]),
                                                        request.body or {})))

    def refunds(self, request: Request, match: re.Match[str]) -> Response:
        order_ops.order_get(self.store, int(match["id"]))
        with self.store.lock:
            items = [self.store.view(r) for r in self.store.refunds[int(match["id"])]]
        return paginate(request, items[::-1])

    def refund_create(self, request: Request, match: re.Match[str]) -> Response:
        refund = order_ops.refund_create(self.store, int(match["id"]), request.body or {})
        return Response(201, self.store.view(refund))

    # --- webhooks ---------------------------------------------------------------------

    def _webhook_view(self, hook: Json) -> Json:
        resource, event = hook["topic"].split(".", 1)
        return {k: hook[k] for k in ("id", "name", "status", "topic", "delivery_url",
                                     "date_created", "date_created_gmt", "date_modified",
                                     "date_modified_gmt")} | {
            "resource": resource, "event": event, "hooks": []}

    def webhooks(self, request: Request, match: re.Match[str]) -> Response:
        status = request.query.get("status", "all")
        with self.store.lock:
            items = [self._webhook_view(h) for h in self.store.webhooks.values()
                     if status == "all" or h["status"] == status]
        return paginate(request, sorted(items, key=lambda h: h["id"]))

    def _webhook_get(self, webhook_id: int) -> Json:
        hook = self.store.webhooks.get(webhook_id)
        if hook is None:
            raise StoreError("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
        return hook

    def webhook(self, request: Request, match: re.Match[str]) -> Response:
        return Response(200, self._webhook_view(self._webhook_get(int(match["id"]))))

    def webhook_create(self, request: Request, match: re.Match[str]) -> Response:
        body = request.body or {}
        topic = str(body.get("topic") or "").lower()
        if topic not in WEBHOOK_TOPICS:
            raise StoreError("woocommerce_rest_webhook_invalid_topic",
                             "Webhook topic is required and must be valid.", 400)
        url = str(body.get("delivery_url") or "")
        if not re.match(r"^https?://[^\s/]+", url):
            raise StoreError("woocommerce_rest_webhook_invalid_delivery_url",
                             "Webhook delivery URL must be a valid URL starting with http:// "
                             "or https://.", 400)
        with self.store.lock:
            stamp = self.store.stamp()
            hook = {
                "id": self.store.new_id(), "name": body.get("name") or f"Webhook {stamp}",
                "status": body.get("status", "active"), "topic": topic, "delivery_url": url,
                "secret": body.get("secret") or secrets.token_urlsafe(37),
                "failure_count": 0, "date_created": stamp, "date_created_gmt": stamp,
                "date_modified": stamp, "date_modified_gmt": stamp,
            }
            if hook["status"] not in WEBHOOK_STATUSES:
                raise StoreError("woocommerce_rest_webhook_invalid_status",
                                 "Webhook status must be valid.", 400)
            self.store.webhooks[hook["id"]] = hook
        self.dispatcher.ping(hook)
        return Response(201, self._webhook_view(hook),
                        {"Location": f"{request.base_url}{PREFIX}/webhooks/{hook['id']}"})

    def webhook_update(self, request: Request, match: re.Match[str]) -> Response:
        body = request.body or {}
        with self.store.lock:
            hook = self._webhook_get(int(match["id"]))
            if body.get("status") and body["status"] not in WEBHOOK_STATUSES:
                raise StoreError("woocommerce_rest_webhook_invalid_status",
                                 "Webhook status must be valid.", 400)
            if body.get("topic") and str(body["topic"]).lower() not in WEBHOOK_TOPICS:
                raise StoreError("woocommerce_rest_webhook_invalid_topic",
                                 "Webhook topic must be valid.", 400)
            moved = bool(body.get("delivery_url")) and body["delivery_url"] != hook[
                "delivery_url"]
            for key in ("name", "status", "delivery_url", "secret", "topic"):
                if body.get(key):
                    hook[key] = body[key]
            # The failure count stays: only a successful delivery resets it (core).
            hook["date_modified"] = hook["date_modified_gmt"] = self.store.stamp()
            shown = self._webhook_view(hook)
        if moved and hook["status"] == "active":
            self.dispatcher.ping(hook)  # WC_Webhook_Data_Store::update pings a new URL
        return Response(200, shown)

    def webhook_delete(self, request: Request, match: re.Match[str]) -> Response:
        if request.query.get("force") not in ("true", "1"):
            raise StoreError("woocommerce_rest_trash_not_supported",
                             "Webhooks do not support trashing.", 501)
        with self.store.lock:
            hook = self._webhook_get(int(match["id"]))
            del self.store.webhooks[hook["id"]]
            return Response(200, self._webhook_view(hook))


def _unsupported() -> Json:
    raise StoreError("woocommerce_rest_unsupported", "Not supported by the sandbox.", 400)

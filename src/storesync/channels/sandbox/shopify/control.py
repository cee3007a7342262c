"""The ``/_sandbox/...`` endpoints: shop events and test switches (listed in ``server``).

Each handler returns ``(status, JSON value)``; events change the shop under its lock and then
send the webhooks Shopify would send for them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from storesync.channels.sandbox.shopify import payloads
from storesync.channels.sandbox.shopify import state as st

if TYPE_CHECKING:
    from storesync.channels.sandbox.shopify.server import SandboxServer

Answer = tuple[int, Any]
SHOP_TOPICS = ("app/uninstalled", "customers/data_request", "customers/redact", "shop/redact")
CANCEL_REASONS = ("CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "OTHER", "STAFF")


class BadRequest(Exception):
    pass


def _number(value: Any, kind: str) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    number = st.parse_gid(str(value), kind)
    if number is None:
        raise BadRequest(f"not a {kind} id: {value!r}")
    return number


def _order_view(order: st.Order) -> dict[str, Any]:
    return {"id": st.gid("Order", order.id), "name": order.name,
            "updated_at": order.updated_at.isoformat(),
            "line_items": [{"id": st.gid("LineItem", li.id), "sku": li.sku,
                            "quantity": li.quantity} for li in order.lines],
            "fulfillment_orders": [st.gid("FulfillmentOrder", fo.id)
                                   for fo in order.fulfillment_orders]}


def get(server: SandboxServer, path: str) -> tuple[int, Any]:
    if path == "/_sandbox/state":
        return 200, server.shop.summary()
    if path == "/_sandbox/deliveries":
        with server.shop.lock:
            return 200, {"pending": server.deliverer.pending(), "log": list(server.deliverer.log)}
    if path == "/_sandbox/stats":
        with server.shop.lock:
            return 200, dict(server.stats)
    match = re.fullmatch(r"/_sandbox/bulk/(\d+)\.jsonl", path)
    if match:
        op = server.shop.bulk_operations.get(int(match.group(1)))
        if op is None or op.status != "COMPLETED":
            return 404, {"errors": "Not Found"}
        return 200, op.result
    return 404, {"errors": "Not Found"}


def delete(server: SandboxServer, path: str) -> Answer:
    shop = server.shop
    match = re.fullmatch(r"/_sandbox/(subscriptions|products)/([\w:/]+)", path)
    if not match:
        return 404, {"errors": "Not Found"}
    kind = "WebhookSubscription" if match.group(1) == "subscriptions" else "Product"
    try:
        number = _number(match.group(2), kind)
    except BadRequest as exc:
        return 400, {"errors": str(exc)}
    with shop.lock:
        table: dict[int, Any] = shop.subscriptions if kind == "WebhookSubscription" \
            else shop.products
        removed = table.pop(number, None)
        if removed is None:
            return 404, {"errors": "Not Found"}
        if kind == "Product":
            for vid in removed.variant_ids:
                variant = shop.variants.pop(vid)
                shop.items.pop(variant.inventory_item_id, None)
                for key in [k for k in shop.levels if k[0] == variant.inventory_item_id]:
                    del shop.levels[key]
    if kind == "Product":
        server.emit("products/delete", payloads.product_deleted(number))
    return 200, {"deleted": st.gid(kind, number)}


def post(server: SandboxServer, path: str, body: Any) -> Answer:
    if not isinstance(body, dict):
        return 400, {"errors": "send a JSON object"}
    routes: list[tuple[str, Callable[..., Answer]]] = [
        (r"/_sandbox/seed", _seed), (r"/_sandbox/orders", _sale),
        (r"/_sandbox/orders/([\w:/]+)/cancel", _cancel),
        (r"/_sandbox/orders/([\w:/]+)/refund", _refund),
        (r"/_sandbox/products/([\w:/]+)", _update_product), (r"/_sandbox/levels", _set_level),
        (r"/_sandbox/webhooks/trigger", _trigger), (r"/_sandbox/faults", _faults),
    ]
    for pattern, handler in routes:
        match = re.fullmatch(pattern, path)
        if match:
            try:
                return handler(server, body, *match.groups())
            except (BadRequest, KeyError, TypeError, ValueError, InvalidOperation) as exc:
                return 400, {"errors": f"{type(exc).__name__}: {exc}"}
    return 404, {"errors": "Not Found"}


def _seed(server: SandboxServer, body: dict[str, Any]) -> Answer:
    count = int(body.get("products", 10))
    if not 0 < count <= 50_000:
        raise BadRequest("products must be between 1 and 50000")
    created = server.shop.seed_catalog(
        products=count, variants_per_product=int(body.get("variants_per_product", 3)),
        seed=int(body.get("seed", server.config.seed)), stock=int(body.get("stock", 10)))
    return 201, {"products": [st.gid("Product", p.id) for p in created]}


def _sale(server: SandboxServer, body: dict[str, Any]) -> Answer:
    shop = server.shop
    lines: list[tuple[st.Variant, int]] = []
    with shop.lock:
        for line in body["lines"]:
            variant = (shop.variant_by_sku(line["sku"]) if "sku" in line else
                       shop.variants.get(_number(line["variant_id"], "ProductVariant")))
            if variant is None or int(line["quantity"]) <= 0:
                raise BadRequest(f"unknown variant or bad quantity: {line}")
            lines.append((variant, int(line["quantity"])))
        address = {"name": "Asha Rao", "firstName": "Asha", "lastName": "Rao",
                   "address1": "12 MG Road", "address2": None, "city": "Bengaluru",
                   "zip": "560001", "provinceCode": "KA", "countryCodeV2": "IN",
                   "phone": "+919800000000", **(body.get("shipping_address") or {})}
        order = shop.create_order(lines=lines, email=body.get("email", "buyer@example.com"),
                                  address=address,
                                  shipping=Decimal(str(body.get("shipping", "0.00"))),
                                  accepts_email=bool(body.get("buyer_accepts_marketing")),
                                  accepts_sms=bool(body.get("buyer_accepts_sms_marketing")))
        order_payload = payloads.order(order, shop)
        level_payloads = [payloads.level(shop, v.inventory_item_id, shop.default_location.id)
                          for v, _ in lines]
    server.emit("orders/create", order_payload)
    for level in level_payloads:
        server.emit("inventory_levels/update", level)
    return 201, _order_view(order)


def _order(server: SandboxServer, ref: str) -> st.Order:
    order = server.shop.orders.get(_number(ref, "Order"))
    if order is None:
        raise BadRequest(f"no order {ref}")
    return order


def _cancel(server: SandboxServer, body: dict[str, Any], ref: str) -> Answer:
    shop = server.shop
    reason = body.get("reason", "CUSTOMER")
    if reason not in CANCEL_REASONS:
        raise BadRequest(f"reason must be one of {', '.join(CANCEL_REASONS)}")
    with shop.lock:
        order = _order(server, ref)
        if order.cancelled_at is not None:
            raise BadRequest("order already cancelled")
        order.cancelled_at = order.updated_at = st.now()
        order.cancel_reason = reason
        order.financial_status = "REFUNDED"
        for fo in order.fulfillment_orders:
            for fol in fo.lines:
                line = shop.line_items[fol.line_item_id]
                variant = shop.variants.get(line.variant_id or 0)
                if variant is not None:
                    key = (variant.inventory_item_id, fo.location_id)
                    shop.levels[key] = shop.levels.get(key, 0) + fol.remaining_quantity
                fol.remaining_quantity = 0
            fo.status = "CANCELLED"
        body_json = payloads.order(order, shop)
    server.emit("orders/cancelled", body_json)
    server.emit("orders/updated", body_json)
    return 200, _order_view(order)


def _refund(server: SandboxServer, body: dict[str, Any], ref: str) -> Answer:
    shop = server.shop
    restock = bool(body.get("restock", True))
    with shop.lock:
        order = _order(server, ref)
        lines, amount = [], Decimal("0")
        for line in body["lines"]:
            item = shop.line_items.get(_number(line["line_item_id"], "LineItem"))
            if item is None or item not in order.lines or not 0 < line["quantity"] <= item.quantity:
                raise BadRequest(f"bad refund line: {line}")
            lines.append(st.RefundLine(item.id, int(line["quantity"]),
                                       "RETURN" if restock else "NO_RESTOCK"))
            amount += item.price * int(line["quantity"])
            variant = shop.variants.get(item.variant_id or 0)
            if restock and variant is not None:
                key = (variant.inventory_item_id, shop.default_location.id)
                shop.levels[key] = shop.levels.get(key, 0) + int(line["quantity"])
        refund = st.Refund(shop.new_id(), order.id, st.now(), amount, lines)
        order.refunds.append(refund)
        order.transactions.append(st.Transaction(shop.new_id(), "REFUND", amount, "bogus"))
        order.financial_status = "PARTIALLY_REFUNDED"
        order.updated_at = st.now()
        refund_json, order_json = payloads.refund(refund, shop), payloads.order(order, shop)
    server.emit("refunds/create", refund_json)
    server.emit("orders/updated", order_json)
    return 201, {"id": st.gid("Refund", refund.id), "amount": f"{amount:.2f}"}


def _update_product(server: SandboxServer, body: dict[str, Any], ref: str) -> Answer:
    shop = server.shop
    with shop.lock:
        product = shop.products.get(_number(ref, "Product"))
        if product is None:
            raise BadRequest(f"no product {ref}")
        product.title = str(body.get("title", product.title))
        product.status = str(body.get("status", product.status)).upper()
        product.updated_at = st.now()
        product_json = payloads.product(product, shop)
    server.emit("products/update", product_json)
    return 200, {"id": st.gid("Product", product.id), "title": product.title}


def _set_level(server: SandboxServer, body: dict[str, Any]) -> Answer:
    shop = server.shop
    item = _number(body["inventory_item_id"], "InventoryItem")
    location = _number(body.get("location_id", shop.default_location.id), "Location")
    with shop.lock:
        if (item, location) not in shop.levels:
            raise BadRequest("item not stocked at that location")
        shop.levels[(item, location)] = int(body["available"])
        shop.level_updated[(item, location)] = st.now()
        level_json = payloads.level(shop, item, location)
    server.emit("inventory_levels/update", level_json)
    return 200, level_json


def _trigger(server: SandboxServer, body: dict[str, Any]) -> Answer:
    topic = body["topic"]
    if topic not in SHOP_TOPICS:
        raise BadRequest(f"topic must be one of {', '.join(SHOP_TOPICS)}")
    shop = server.shop
    with shop.lock:
        payload = (payloads.shop_resource(shop) if topic == "app/uninstalled" else
                   payloads.compliance(topic, shop, order_ids=sorted(shop.orders)[:3]))
    # Compliance topics go to the URIs in the app's configuration, not to API subscriptions.
    address = body.get("address")
    if topic != "app/uninstalled" and not address:
        raise BadRequest("compliance topics need the app's configured address")
    sent = server.deliverer.publish(topic, payload, uri=address)
    return 202, {"topic": topic, "deliveries": sent}


def _faults(server: SandboxServer, body: dict[str, Any]) -> Answer:
    try:
        return 200, server.faults.update(body)
    except KeyError as exc:
        raise BadRequest(f"unknown fault switch {exc}") from None
    except ValueError as exc:
        raise BadRequest(str(exc)) from None

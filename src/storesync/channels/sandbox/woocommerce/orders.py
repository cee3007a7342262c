"""Orders, refunds and order notes of the simulated store, as WooCommerce core handles them.

- A sale (``order_create``) reduces stock once, when the order is paid or on hold, the way
  ``wc_maybe_reduce_stock_levels`` does, and remembers per line what it reduced
  (``_reduced_stock``, hidden from the API like every meta key starting with ``_``).
- A refund (``POST /orders/<id>/refunds``, v3 body: ``amount``, ``reason``, ``api_refund``,
  ``api_restock``, ``line_items[] = {id, quantity, refund_total}``) creates a
  ``shop_order_refund`` whose lines carry negative quantities and the ``_refunded_item_id``
  meta, as in the v3 reference's example. With ``api_restock`` (default true) the stock comes
  back and, like ``wc_restock_refunded_items``, an order note says
  ``Item #<product id> stock increased from <old> to <new>.`` — the only place the REST API
  shows a restock, since ``api_restock`` is write-only.
- Refunding the whole total moves the order to ``refunded`` (``wc_order_fully_refunded``);
  cancelling a paid order gives its reduced stock back (``wc_maybe_increase_stock_levels``).
- Notes (``/orders/<id>/notes``) are comments on the order: adding one does not change the
  order's ``date_modified``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from storesync.channels.sandbox.woocommerce.state import (
    ORDER_STATUSES,
    Json,
    Store,
    StoreError,
    money,
)

_REDUCES_STOCK = ("processing", "completed", "on-hold")


def _decimal(value: Any, field: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise StoreError("rest_invalid_param", f"Invalid parameter(s): {field}", 400) from None


def _line(store: Store, spec: Json) -> Json:
    product_id = int(spec.get("product_id") or 0)
    variation_id = int(spec.get("variation_id") or 0)
    if not product_id and spec.get("sku"):
        product_id, variation_id = _by_sku(store, str(spec["sku"]))
    item = store.item(product_id, variation_id)
    quantity = int(spec.get("quantity") or 1)
    if quantity < 1:
        raise StoreError("rest_invalid_param", "Invalid parameter(s): line_items", 400)
    price = _decimal(item["price"] or "0", "price")
    subtotal = price * quantity
    parent = store.products[product_id]
    return {
        "id": store.new_id(), "name": parent["name"], "product_id": product_id,
        "variation_id": variation_id, "quantity": quantity, "tax_class": "",
        "subtotal": money(subtotal), "subtotal_tax": "0.00", "total": money(subtotal),
        "total_tax": "0.00", "taxes": [], "meta_data": [], "sku": item["sku"],
        # v3 gives the unit price as a JSON number; storesync never reads it.
        "price": float(price),
        "_reduced_stock": 0,
    }


def _by_sku(store: Store, sku: str) -> tuple[int, int]:
    for product in store.products.values():
        if product["sku"] == sku and product["type"] == "simple":
            return product["id"], 0
    for variation in store.variations.values():
        if variation["sku"] == sku:
            return variation["parent_id"], variation["id"]
    raise StoreError("woocommerce_rest_invalid_sku", f"No product with SKU {sku}.", 400)


def _reduce_stock(store: Store, order: Json) -> None:
    notes = []
    for line in order["line_items"]:
        item = store.item(line["product_id"], line["variation_id"])
        moved = store.change_stock(item, -line["quantity"])
        if moved is not None:
            line["_reduced_stock"] = line["quantity"]
            notes.append(f"{line['name']} ({item['sku']}) {moved[0]}&rarr;{moved[1]}")
    if notes:
        _note(store, order["id"], "Stock levels reduced: " + ", ".join(notes), False)


def order_create(store: Store, data: Json) -> Json:
    """A buyer's checkout: price the lines, reduce stock if paid, fire ``order.created``."""
    status = data.get("status", "processing")
    if status not in ORDER_STATUSES:
        raise StoreError("rest_invalid_param", "Invalid parameter(s): status", 400)
    if not data.get("line_items"):
        raise StoreError("rest_invalid_param", "Invalid parameter(s): line_items", 400)
    with store.lock:
        oid = store.new_id()
        lines = [_line(store, spec) for spec in data["line_items"]]
        shipping = [{
            "id": store.new_id(), "method_title": spec.get("method_title", "Flat rate"),
            "method_id": spec.get("method_id", "flat_rate"),
            "total": money(_decimal(spec.get("total", "0"), "shipping_lines")),
            "total_tax": "0.00", "taxes": [], "meta_data": [],
        } for spec in data.get("shipping_lines", [])]
        total = sum((Decimal(x["total"]) for x in lines + shipping), Decimal(0))
        stamp = store.stamp()
        paid = status in ("processing", "completed")
        order: Json = {
            "id": oid, "parent_id": 0, "number": str(oid), "order_key": f"wc_order_{oid}",
            "created_via": "checkout", "version": "9.4.0", "status": status,
            "currency": store.currency, "date_created": stamp, "date_created_gmt": stamp,
            "date_modified": stamp, "date_modified_gmt": stamp,
            "discount_total": "0.00", "discount_tax": "0.00",
            "shipping_total": money(sum((Decimal(x["total"]) for x in shipping), Decimal(0))),
            "shipping_tax": "0.00", "cart_tax": "0.00", "total": money(total),
            "total_tax": "0.00", "prices_include_tax": False,
            "customer_id": int(data.get("customer_id", 0)), "customer_note": "",
            "billing": data.get("billing", {}), "shipping": data.get("shipping", {}),
            "payment_method": data.get("payment_method", "sandbox_card"),
            "payment_method_title": data.get("payment_method_title", "Card (sandbox)"),
            "transaction_id": f"txn_{oid}" if paid else "",
            "date_paid": stamp if paid else None, "date_paid_gmt": stamp if paid else None,
            "date_completed": stamp if status == "completed" else None,
            "date_completed_gmt": stamp if status == "completed" else None,
            "meta_data": [], "line_items": lines, "tax_lines": [], "shipping_lines": shipping,
            "fee_lines": [], "coupon_lines": [], "refunds": [],
        }
        store.orders[oid] = order
        store.refunds[oid] = []
        store.notes[oid] = []
        store.emit("order.created", oid)  # woocommerce_new_order, when the order is saved
        if status in _REDUCES_STOCK:  # then payment: wc_maybe_reduce_stock_levels
            _reduce_stock(store, order)
        return order


def order_get(store: Store, order_id: int) -> Json:
    order = store.orders.get(order_id)
    if order is None:
        raise StoreError("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
    return order


def order_update(store: Store, order_id: int, changes: Json) -> Json:
    """``PUT /orders/<id>``: the status (stock follows it), the customer note, billing,
    shipping (merged key by key, as ``WC_Order::set_props`` does), ``customer_id`` and
    ``meta_data`` (by key)."""
    with store.lock:
        order = order_get(store, order_id)
        status = changes.get("status")
        if status is not None and status not in ORDER_STATUSES:
            raise StoreError("rest_invalid_param", "Invalid parameter(s): status", 400)
        if status and status != order["status"]:
            old = order["status"]
            order["status"] = status
            stamp = store.stamp()
            if status == "completed":
                order["date_completed"] = order["date_completed_gmt"] = stamp
            if status in ("processing", "completed") and not order["date_paid"]:
                order["date_paid"] = order["date_paid_gmt"] = stamp
            if status in ("cancelled", "pending") and old in _REDUCES_STOCK:
                _increase_stock(store, order)
            elif status in _REDUCES_STOCK and not any(
                    line["_reduced_stock"] for line in order["line_items"]):
                _reduce_stock(store, order)
            _note(store, order_id, f"Order status changed from {old} to {status}.", False)
        if "customer_note" in changes:
            order["customer_note"] = str(changes["customer_note"])
        for part in ("billing", "shipping"):
            if isinstance(changes.get(part), dict):
                order[part] = {**order[part], **{k: str(v) for k, v in changes[part].items()}}
        if "customer_id" in changes:
            order["customer_id"] = int(changes["customer_id"] or 0)
        for meta in changes.get("meta_data") or []:
            order["meta_data"] = [m for m in order["meta_data"] if m["key"] != meta["key"]]
            order["meta_data"].append({"id": store.new_id(), "key": str(meta["key"]),
                                       "value": meta.get("value")})
        order["date_modified"] = order["date_modified_gmt"] = store.stamp()
        store.emit("order.updated", order_id)
        return order


def order_delete(store: Store, order_id: int) -> Json:
    """``DELETE /orders/<id>?force=true``: gone for good, ``order.deleted`` carries its id."""
    with store.lock:
        order = order_get(store, order_id)
        del store.orders[order_id]
        store.emit("order.deleted", order_id)
        return order


def _increase_stock(store: Store, order: Json) -> None:
    changes = []
    for line in order["line_items"]:
        if line["_reduced_stock"]:
            item = store.item(line["product_id"], line["variation_id"])
            moved = store.change_stock(item, line["_reduced_stock"])
            line["_reduced_stock"] = 0
            if moved is not None:
                changes.append(f"{line['name']} ({item['sku']}) {moved[0]}&rarr;{moved[1]}")
    if changes:
        _note(store, order["id"], "Stock levels increased: " + ", ".join(changes), False)


def _note(store: Store, order_id: int, text: str, customer_note: bool,
          author: str = "system") -> Json:
    stamp = store.stamp()
    note = {"id": store.new_id(), "author": author, "date_created": stamp,
            "date_created_gmt": stamp, "note": text, "customer_note": customer_note}
    store.notes[order_id].append(note)
    return note


def note_create(store: Store, order_id: int, data: Json) -> Json:
    """``POST /orders/<id>/notes``: ``note`` is required (``woocommerce_rest_missing_note``)."""
    with store.lock:
        order_get(store, order_id)
        text = str(data.get("note") or "").strip()
        if not text:
            raise StoreError("woocommerce_rest_missing_note",
                             "Missing note.", 400)
        author = "system" if not data.get("added_by_user") else "admin"
        return _note(store, order_id, text, bool(data.get("customer_note")), author)


def refund_create(store: Store, order_id: int, data: Json) -> Json:
    """``POST /orders/<id>/refunds``; see the module docstring for the rules followed."""
    with store.lock:
        order = order_get(store, order_id)
        by_id = {line["id"]: line for line in order["line_items"]}
        lines, lines_total = [], Decimal(0)
        for spec in data.get("line_items", []):
            line = by_id.get(int(spec.get("id") or 0))
            quantity = int(spec.get("quantity") or 0)
            if line is None or quantity < 0 or quantity > line["quantity"]:
                raise StoreError("woocommerce_rest_invalid_order_refund",
                                 "Invalid refund line item.", 400)
            amount = _decimal(spec.get("refund_total", "0"), "refund_total")
            lines_total += amount
            lines.append((line, quantity, amount))
        amount = (_decimal(data["amount"], "amount") if data.get("amount") is not None
                  else lines_total)
        if amount <= 0:
            raise StoreError("woocommerce_rest_invalid_order_refund",
                             "Refund amount must be greater than zero.", 400)
        refunded = sum((Decimal(r["amount"]) for r in store.refunds[order_id]), Decimal(0))
        if amount > Decimal(order["total"]) - refunded:
            raise StoreError("woocommerce_rest_cannot_create_order_refund",
                             "Invalid refund amount.", 500)
        refund = _refund_record(store, data, amount, lines)
        store.refunds[order_id].append(refund)
        order["refunds"].append({"id": refund["id"], "reason": refund["reason"],
                                 "total": money(-amount)})
        if data.get("api_restock", True):
            _restock(store, order, lines)
        if refunded + amount >= Decimal(order["total"]):
            order["status"] = "refunded"
        order["date_modified"] = order["date_modified_gmt"] = store.stamp()
        store.emit("order.updated", order_id)
        return refund


def _refund_record(store: Store, data: Json, amount: Decimal,
                   lines: list[tuple[Json, int, Decimal]]) -> Json:
    stamp = store.stamp()
    return {
        "id": store.new_id(), "date_created": stamp, "date_created_gmt": stamp,
        "amount": money(amount), "reason": str(data.get("reason", "")), "refunded_by": 1,
        "refunded_payment": bool(data.get("api_refund", True)), "meta_data": [],
        "line_items": [{
            "id": store.new_id(), "name": line["name"], "product_id": line["product_id"],
            "variation_id": line["variation_id"], "quantity": -quantity, "tax_class": "",
            "subtotal": money(-total), "subtotal_tax": "0.00", "total": money(-total),
            "total_tax": "0.00", "taxes": [], "sku": line["sku"],
            "meta_data": [{"id": store.new_id(), "key": "_refunded_item_id",
                           "value": str(line["id"])}],
            "price": float(-total / quantity) if quantity else 0.0,
        } for line, quantity, total in lines],
        "tax_lines": [], "shipping_lines": [], "fee_lines": [],
    }


def _restock(store: Store, order: Json, lines: list[tuple[Json, int, Decimal]]) -> None:
    for line, quantity, _ in lines:
        # wc_restock_refunded_items: only lines whose stock was reduced, only managed stock.
        if not quantity or not line["_reduced_stock"]:
            continue
        item = store.item(line["product_id"], line["variation_id"])
        moved = store.change_stock(item, quantity)
        if moved is None:
            continue
        line["_reduced_stock"] -= quantity
        _note(store, order["id"],
              f"Item #{item['id']} stock increased from {moved[0]} to {moved[1]}.", False)


def order_view(order: Json) -> Json:
    """Drop the hidden (``_``-prefixed) keys, as the REST API hides protected meta."""
    shown = dict(order)
    shown["line_items"] = [{k: v for k, v in line.items() if not k.startswith("_")}
                           for line in order["line_items"]]
    return shown

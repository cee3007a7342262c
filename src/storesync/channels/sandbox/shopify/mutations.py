"""Mutation resolvers of the simulated GraphQL Admin API.

- ``inventorySetQuantities``: absolute quantities with compare-and-set. As of 2026-04 every
  quantity must carry ``changeFromQuantity`` (null opts out) and a mismatch fails with
  ``CHANGE_FROM_QUANTITY_STALE``; the ``@idempotent(key:)`` directive is mandatory; an input
  array may hold at most 250 items (shopify.dev "Shopify API limits", input limits). Nothing
  is applied when any quantity is refused, so a retry of the rest is safe.
- ``inventoryAdjustQuantities``: deltas, same rules for the directive.
- ``fulfillmentCreate``: fulfils fulfillment-order line items (all remaining when none are
  listed), records tracking, closes the fulfillment order when nothing remains.
- ``bulkOperationRunQuery``: one running bulk query per shop ("Apps can run one bulk query
  ... at a time per shop").
- ``webhookSubscriptionCreate`` / ``webhookSubscriptionDelete``.
- ``customerUpdate`` (``CustomerInput`` with ``id``) and ``customerRequestDataErasure``
  (``DOES_NOT_EXIST`` for an unknown or already erased customer). Shopify enqueues an erasure
  and carries it out after a waiting period; the sandbox carries it out at once, so tests see
  the customer gone and their orders without contact details. The ``privacy_refuse`` fault
  answers ``FAILED_TO_REQUEST`` (or a ``customerUpdate`` userError) instead.
- Marketing consent and tags: see ``consent``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo, parse, validate
from graphql.execution.values import get_directive_values

from storesync.channels.sandbox.shopify import consent, payloads
from storesync.channels.sandbox.shopify import state as st
from storesync.channels.sandbox.shopify.resolvers import MAX_PAGE, Context

# The documented reasons for inventory quantity changes ("quantities-states" guide).
REASONS = frozenset({
    "correction", "cycle_count_available", "damaged", "movement_canceled", "movement_created",
    "movement_received", "movement_updated", "other", "promotion", "quality_control",
    "received", "reservation_created", "reservation_deleted", "reservation_updated",
    "restock", "safety_stock", "shrinkage"})
MAX_QUANTITY = 1_000_000_000


def _ctx(info: GraphQLResolveInfo) -> Context:
    ctx: Context = info.context
    return ctx


def _idempotency_key(info: GraphQLResolveInfo) -> str:
    directive: Any = info.schema.get_directive("idempotent")
    values = get_directive_values(directive, info.field_nodes[0], info.variable_values)
    if not values or not values.get("key"):
        raise GraphQLError(f"The @idempotent directive is required for {info.field_name}.",
                           extensions={"code": "BAD_REQUEST"})
    key: str = values["key"]
    return key


def _check_size(name: str, items: list[Any]) -> None:
    if len(items) > MAX_PAGE:
        raise GraphQLError(f"The input array size of {len(items)} is greater than the maximum "
                           f"allowed of {MAX_PAGE}.",
                           extensions={"code": "MAX_INPUT_SIZE_EXCEEDED", "argument": name})


def _replayed(ctx: Context, key: str, fingerprint: str) -> Any:
    """The stored result of an earlier request with this key; a userError payload when the
    key comes back with other parameters ("Implementing idempotency")."""
    seen = ctx.idempotency.get(key)
    if seen is None:
        return None
    if seen[0] != fingerprint:
        return {"inventoryAdjustmentGroup": None, "userErrors": [{
            "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH", "field": None,
            "message": "The same idempotency key cannot be used with different operation "
                       "parameters."}]}
    return seen[1]


def _quantity_errors(shop: st.Shop, quantities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for n, q in enumerate(quantities):
        path = ["input", "quantities", str(n)]
        item = st.parse_gid(q["inventoryItemId"], "InventoryItem")
        location = st.parse_gid(q["locationId"], "Location")

        def refuse(code: str, message: str, leaf: str, _path: list[str] = path) -> None:
            errors.append({"code": code, "field": [*_path, leaf], "message": message})
        if item is None or item not in shop.items:
            refuse("INVALID_INVENTORY_ITEM", "The specified inventory item could not be found.",
                   "inventoryItemId")
        elif location is None or location not in shop.locations:
            refuse("INVALID_LOCATION", "The specified location could not be found.",
                   "locationId")
        elif (item, location) not in shop.levels:
            refuse("ITEM_NOT_STOCKED_AT_LOCATION",
                   "The specified inventory item is not stocked at the location.", "locationId")
        elif (q["inventoryItemId"], q["locationId"]) in seen:
            refuse("NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                   "The combination of inventoryItemId and locationId must be unique.",
                   "inventoryItemId")
        elif "changeFromQuantity" not in q:
            refuse("COMPARE_QUANTITY_REQUIRED",
                   "changeFromQuantity must be given for each quantity (null opts out).",
                   "changeFromQuantity")
        elif q["quantity"] < 0:
            refuse("INVALID_QUANTITY_NEGATIVE", "The quantity can't be negative.", "quantity")
        elif q["quantity"] > MAX_QUANTITY:
            refuse("INVALID_QUANTITY_TOO_HIGH",
                   "The total quantity can't be higher than 1,000,000,000.", "quantity")
        elif (q["changeFromQuantity"] is not None
              and shop.levels[(item, location)] != q["changeFromQuantity"]):
            refuse("CHANGE_FROM_QUANTITY_STALE",
                   "The changeFromQuantity value does not match persisted value.",
                   "changeFromQuantity")
        seen.add((q["inventoryItemId"], q["locationId"]))
    return errors


def _adjustment_group(ctx: Context, reason: str, uri: str | None,
                      changes: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": st.gid("InventoryAdjustmentGroup", ctx.shop.new_id()), "createdAt": st.now(),
            "reason": reason, "referenceDocumentUri": uri, "changes": changes}


def _apply(ctx: Context, name: str, item: int, location: int, after: int) -> dict[str, Any]:
    shop = ctx.shop
    before = shop.levels[(item, location)]
    shop.levels[(item, location)] = after
    shop.level_updated[(item, location)] = st.now()
    if after != before:
        ctx.emit("inventory_levels/update", payloads.level(shop, item, location))
    return {"name": name, "delta": after - before, "quantityAfterChange": after,
            "item": shop.items[item], "location": shop.locations[location]}


def inventory_set_quantities(_: None, info: GraphQLResolveInfo,
                             input: dict[str, Any]) -> Any:
    ctx = _ctx(info)
    key = _idempotency_key(info)
    _check_size("quantities", input["quantities"])
    fingerprint = json.dumps(input, sort_keys=True, default=str)
    with ctx.shop.lock:
        replay = _replayed(ctx, key, fingerprint)
        if replay is not None:
            return replay
        errors: list[dict[str, Any]] = []
        if input["name"] not in ("available", "on_hand"):
            errors.append({"code": "INVALID_NAME", "field": ["input", "name"],
                           "message": "The quantity name must be either 'available' or "
                                      "'on_hand'."})
        if input["reason"] not in REASONS:
            errors.append({"code": "INVALID_REASON", "field": ["input", "reason"],
                           "message": "The specified reason is invalid."})
        errors += _quantity_errors(ctx.shop, input["quantities"])
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        changes = [_apply(ctx, input["name"], st.parse_gid(q["inventoryItemId"], "InventoryItem")
                          or 0, st.parse_gid(q["locationId"], "Location") or 0, q["quantity"])
                   for q in input["quantities"]]
        result = {"inventoryAdjustmentGroup": _adjustment_group(
            ctx, input["reason"], input.get("referenceDocumentUri"), changes), "userErrors": []}
        ctx.idempotency[key] = (fingerprint, result)
        return result


def inventory_adjust_quantities(_: None, info: GraphQLResolveInfo,
                                input: dict[str, Any]) -> Any:
    ctx = _ctx(info)
    key = _idempotency_key(info)
    _check_size("changes", input["changes"])
    fingerprint = json.dumps(input, sort_keys=True, default=str)
    with ctx.shop.lock:
        replay = _replayed(ctx, key, fingerprint)
        if replay is not None:
            return replay
        as_set = [{"inventoryItemId": c["inventoryItemId"], "locationId": c["locationId"],
                   "quantity": 0, "changeFromQuantity": c.get("changeFromQuantity")}
                  for c in input["changes"]]
        errors = [e for e in _quantity_errors(ctx.shop, as_set)
                  if e["code"] != "INVALID_QUANTITY_NEGATIVE"]
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        changes = []
        for c in input["changes"]:
            item = st.parse_gid(c["inventoryItemId"], "InventoryItem") or 0
            location = st.parse_gid(c["locationId"], "Location") or 0
            after = ctx.shop.levels[(item, location)] + c["delta"]
            changes.append(_apply(ctx, input["name"], item, location, after))
        result = {"inventoryAdjustmentGroup": _adjustment_group(
            ctx, input["reason"], input.get("referenceDocumentUri"), changes), "userErrors": []}
        ctx.idempotency[key] = (fingerprint, result)
        return result


def _fulfil_lines(fo: st.FulfillmentOrder, requested: list[dict[str, Any]] | None,
                  n: int) -> tuple[list[tuple[st.FulfillmentOrderLine, int]], list[Any]]:
    if not requested:
        return [(fol, fol.remaining_quantity) for fol in fo.lines
                if fol.remaining_quantity > 0], []
    chosen, errors = [], []
    by_id = {st.gid("FulfillmentOrderLineItem", fol.id): fol for fol in fo.lines}
    for m, line in enumerate(requested):
        fol = by_id.get(line["id"])
        field = ["fulfillment", "lineItemsByFulfillmentOrder", str(n),
                 "fulfillmentOrderLineItems", str(m)]
        if fol is None:
            errors.append({"field": field, "message": "Fulfillment order line item not found."})
        elif not 0 < line["quantity"] <= fol.remaining_quantity:
            errors.append({"field": field, "message": "Invalid fulfillment order line item "
                           f"quantity requested: {line['quantity']}."})
        else:
            chosen.append((fol, line["quantity"]))
    return chosen, errors


def fulfillment_create(_: None, info: GraphQLResolveInfo, fulfillment: dict[str, Any],
                       message: str | None = None) -> Any:
    ctx = _ctx(info)
    shop = ctx.shop
    with shop.lock:
        picked: list[tuple[st.FulfillmentOrder, st.FulfillmentOrderLine, int]] = []
        errors: list[dict[str, Any]] = []
        orders: set[int] = set()
        for n, group in enumerate(fulfillment["lineItemsByFulfillmentOrder"]):
            fo_id = st.parse_gid(group["fulfillmentOrderId"], "FulfillmentOrder")
            fo = shop.fulfillment_orders.get(fo_id or 0)
            if fo is None:
                errors.append({"field": ["fulfillment", "lineItemsByFulfillmentOrder", str(n)],
                               "message": "Fulfillment order does not exist."})
                continue
            if fo.status not in ("OPEN", "IN_PROGRESS"):
                errors.append({"field": ["fulfillment", "lineItemsByFulfillmentOrder", str(n)],
                               "message": "Fulfillment order has an unfulfillable status= "
                                          f"{fo.status.lower()}."})
                continue
            orders.add(fo.order_id)
            chosen, line_errors = _fulfil_lines(fo, group.get("fulfillmentOrderLineItems"), n)
            errors += line_errors
            picked += [(fo, fol, q) for fol, q in chosen]
        if len(orders) > 1:
            errors.append({"field": ["fulfillment"], "message": "All fulfillment orders must "
                           "belong to the same order."})
        if not errors and not picked:
            errors.append({"field": ["fulfillment"], "message": "Nothing left to fulfill."})
        if errors:
            return {"fulfillment": None, "userErrors": errors}
        order = shop.orders[picked[0][0].order_id]
        tracking = fulfillment.get("trackingInfo") or {}
        created = st.Fulfillment(shop.new_id(), order.id, st.now(),
                                 [(fol.line_item_id, q) for _, fol, q in picked],
                                 tracking.get("company"), tracking.get("number"),
                                 tracking.get("url"), bool(fulfillment.get("notifyCustomer")),
                                 picked[0][0].location_id)
        for fo, fol, quantity in picked:
            fol.remaining_quantity -= quantity
            fo.status = ("CLOSED" if all(x.remaining_quantity == 0 for x in fo.lines)
                         else "IN_PROGRESS")
        order.fulfillments.append(created)
        order.updated_at = st.now()
        ctx.emit("orders/updated", payloads.order(order, shop))
        return {"fulfillment": created, "userErrors": []}


def bulk_operation_run_query(_: None, info: GraphQLResolveInfo, query: str) -> Any:
    ctx = _ctx(info)
    shop = ctx.shop
    with shop.lock:
        running = [op for op in shop.bulk_operations.values()
                   if op.type == "QUERY" and op.status in ("CREATED", "RUNNING")]
        if running:
            return {"bulkOperation": None, "userErrors": [{
                "code": "OPERATION_IN_PROGRESS", "field": ["query"],
                "message": "A bulk query operation for this app and shop is already in "
                           f"progress: {st.gid('BulkOperation', running[0].id)}."}]}
        try:
            errors = validate(info.schema, parse(query))
        except GraphQLError as exc:
            errors = [exc]
        if errors or not re.search(r"\b(edges|nodes)\b", query):
            reason = errors[0].message if errors else "Bulk queries must contain at least one "\
                "connection."
            return {"bulkOperation": None, "userErrors": [{
                "code": "INVALID", "field": ["query"], "message": f"Invalid bulk query: {reason}"}]}
        op = st.BulkOperation(shop.new_id(), query, st.now())
        shop.bulk_operations[op.id] = op
    ctx.start_bulk(op)
    return {"bulkOperation": op, "userErrors": []}


def _valid_uri(uri: str | None) -> bool:
    # Shopify requires HTTPS; the sandbox also accepts plain HTTP on loopback for local runs.
    return bool(uri) and bool(re.match(r"https://[^\s/]+|http://(127\.0\.0\.1|localhost)[:/]",
                                       uri or ""))


def webhook_subscription_create(_: None, info: GraphQLResolveInfo, topic: str,
                                webhookSubscription: dict[str, Any]) -> Any:
    shop = _ctx(info).shop
    uri = webhookSubscription.get("uri")
    if not _valid_uri(uri):
        return {"webhookSubscription": None, "userErrors": [{
            "field": ["webhookSubscription", "callbackUrl"], "message": "Address is invalid"}]}
    with shop.lock:
        if any(s.topic == topic and s.uri == uri for s in shop.subscriptions.values()):
            return {"webhookSubscription": None, "userErrors": [{
                "field": ["webhookSubscription", "callbackUrl"],
                "message": "Address for this topic has already been taken"}]}
        stamp = st.now()
        subscription = st.WebhookSubscription(shop.new_id(), topic, uri or "", stamp, stamp,
                                              webhookSubscription.get("format") or "JSON")
        shop.subscriptions[subscription.id] = subscription
    return {"webhookSubscription": subscription, "userErrors": []}


def webhook_subscription_delete(_: None, info: GraphQLResolveInfo, id: str) -> Any:
    shop = _ctx(info).shop
    number = st.parse_gid(id, "WebhookSubscription")
    with shop.lock:
        if number is None or shop.subscriptions.pop(number, None) is None:
            return {"deletedWebhookSubscriptionId": None,
                    "userErrors": [{"field": ["id"], "message": "Webhook subscription does "
                                    "not exist"}]}
    return {"deletedWebhookSubscriptionId": id, "userErrors": []}


def customer_update(_: None, info: GraphQLResolveInfo, input: dict[str, Any]) -> Any:
    ctx = _ctx(info)
    number = st.parse_gid(input.get("id") or "", "Customer")
    if ctx.refuse_privacy():
        return {"customer": None, "userErrors": [{
            "field": ["id"], "message": "Customer could not be updated, try again later"}]}
    email = input.get("email")
    if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        return {"customer": None, "userErrors": [{"field": ["email"],
                                                  "message": "Email is invalid"}]}
    with ctx.shop.lock:
        customer = ctx.shop.customers.get(number) if number is not None else None
        if customer is None:
            return {"customer": None, "userErrors": [{"field": ["id"],
                                                      "message": "Customer does not exist"}]}
        taken = email is not None and any(
            (c.email or "").lower() == email.lower() and c.id != customer.id
            for c in ctx.shop.customers.values())
        if taken:
            return {"customer": None, "userErrors": [{"field": ["email"],
                                                      "message": "Email has already been "
                                                                 "taken"}]}
        for key, attr in (("firstName", "first_name"), ("lastName", "last_name"),
                          ("email", "email"), ("phone", "phone")):
            if key in input:
                setattr(customer, attr, input[key])
        customer.updated_at = st.now()
    return {"customer": customer, "userErrors": []}


def customer_request_data_erasure(_: None, info: GraphQLResolveInfo, customerId: str) -> Any:
    ctx = _ctx(info)
    number = st.parse_gid(customerId, "Customer")
    if ctx.refuse_privacy():
        return {"customerId": None, "userErrors": [{
            "code": "FAILED_TO_REQUEST", "field": ["customerId"],
            "message": "Failed to request customer data erasure."}]}
    if number is None or not ctx.shop.erase_customer(number):
        return {"customerId": None, "userErrors": [{
            "code": "DOES_NOT_EXIST", "field": ["customerId"],
            "message": "Customer does not exist."}]}
    return {"customerId": customerId, "userErrors": []}


MUTATIONS: dict[str, Callable[..., Any]] = {
    "inventorySetQuantities": inventory_set_quantities,
    "inventoryAdjustQuantities": inventory_adjust_quantities,
    "fulfillmentCreate": fulfillment_create,
    "bulkOperationRunQuery": bulk_operation_run_query,
    "webhookSubscriptionCreate": webhook_subscription_create,
    "webhookSubscriptionDelete": webhook_subscription_delete,
    "customerUpdate": customer_update,
    "customerRequestDataErasure": customer_request_data_erasure,
    **consent.MUTATIONS,
}

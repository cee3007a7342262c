"""Orders in (polling) and fulfillments out.

Polling: ``orders(query: "updated_at:>='...'", sortKey: UPDATED_AT)`` pages through orders
changed since a time (Shopify search syntax). The connector's cursor is its own opaque token
that carries Shopify's ``endCursor`` together with the filter it belongs to, since a Shopify
cursor is only valid for the query that produced it.

Fulfillments: ``fulfillmentCreate`` works on fulfillment orders ("Manage fulfillments"): the
order's open fulfillment orders are read, the requested order lines are matched to their
fulfillment-order line items, and one fulfillment is created per assigned location.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from storesync.channels.connectors.base import FulfillmentPush, OrderPage, Rejected
from storesync.channels.connectors.shopify import mapping, queries
from storesync.channels.connectors.shopify.client import GraphQLClient

FULFILLABLE = ("OPEN", "IN_PROGRESS")


def _encode(after: str, since: str | None) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after, "since": since}).encode()).decode()


def _decode(cursor: str) -> tuple[str | None, str | None]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return value.get("after"), value.get("since")
    except (ValueError, AttributeError):
        raise Rejected(f"not a Shopify order cursor: {cursor!r}") from None


def _since(updated_since: datetime | None) -> str | None:
    if updated_since is None:
        return None
    stamp = updated_since.astimezone(UTC).replace(microsecond=0).isoformat()
    return stamp.replace("+00:00", "Z")


def _lines(client: GraphQLClient, node: dict[str, Any]) -> list[Any]:
    currency = node["currencyCode"]
    connection = node["lineItems"]
    lines = [mapping.order_line(li, currency) for li in connection["nodes"]]
    while connection["pageInfo"]["hasNextPage"]:
        data = client.execute("OrderLines", queries.ORDER_LINES, {
            "id": node["id"], "first": queries.LINES_PER_PAGE,
            "after": connection["pageInfo"]["endCursor"]})
        connection = (data.get("order") or {}).get("lineItems")
        if connection is None:
            break
        lines += [mapping.order_line(li, currency) for li in connection["nodes"]]
    return lines


def import_page(client: GraphQLClient, *, updated_since: datetime | None,
                cursor: str | None) -> OrderPage:
    """One page of orders updated at or after ``updated_since`` (oldest change first)."""
    after, since = _decode(cursor) if cursor else (None, _since(updated_since))
    data = client.execute("Orders", queries.ORDERS, {
        "first": queries.ORDERS_PER_PAGE, "after": after,
        "query": f"updated_at:>='{since}'" if since else None,
        "lines": queries.LINES_PER_ORDER_PAGE})
    connection = data["orders"]
    try:
        orders = tuple(mapping.order(node, _lines(client, node))
                       for node in connection["nodes"])
    except (mapping.MappingError, KeyError) as exc:
        raise Rejected(f"Shopify sent an order storesync cannot read: {exc}") from None
    page_info = connection["pageInfo"]
    next_cursor = _encode(page_info["endCursor"], since) if page_info["hasNextPage"] else None
    return OrderPage(orders=orders, next_cursor=next_cursor)


def _groups(fulfillment: FulfillmentPush,
            fulfillment_orders: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """location id -> ``FulfillmentOrderLineItemsInput`` list."""
    open_orders = [fo for fo in fulfillment_orders if fo["status"] in FULFILLABLE and (
        not fulfillment.location_id
        or fo["assignedLocation"]["location"]["id"] == fulfillment.location_id)]
    groups: dict[str, list[dict[str, Any]]] = {}
    if not fulfillment.lines:
        for fo in open_orders:
            location = fo["assignedLocation"]["location"]["id"]
            groups.setdefault(location, []).append({"fulfillmentOrderId": fo["id"]})
        return groups
    for line_id, quantity in fulfillment.lines:
        wanted = quantity
        for fo in open_orders:
            for item in fo["lineItems"]["nodes"]:
                if item["lineItem"]["id"] != line_id or item["remainingQuantity"] <= 0:
                    continue
                take = min(wanted, item["remainingQuantity"])
                item["remainingQuantity"] -= take
                wanted -= take
                location = fo["assignedLocation"]["location"]["id"]
                entries = groups.setdefault(location, [])
                entry = next((e for e in entries if e["fulfillmentOrderId"] == fo["id"]), None)
                if entry is None:
                    entry = {"fulfillmentOrderId": fo["id"], "fulfillmentOrderLineItems": []}
                    entries.append(entry)
                entry["fulfillmentOrderLineItems"].append({"id": item["id"], "quantity": take})
                if wanted == 0:
                    break
            if wanted == 0:
                break
        if wanted:
            raise Rejected(f"order line {line_id} has fewer than {quantity} units left to "
                           "fulfil on Shopify")
    return groups


def push_fulfillment(client: GraphQLClient, fulfillment: FulfillmentPush) -> str:
    """Create the fulfillment(s); the id, or the ids joined by commas when the lines ship
    from more than one location."""
    data = client.execute("FulfillmentOrders", queries.FULFILLMENT_ORDERS,
                          {"id": fulfillment.order_external_id})
    order = data.get("order")
    if order is None:
        raise Rejected(f"Shopify has no order {fulfillment.order_external_id}")
    groups = _groups(fulfillment, order["fulfillmentOrders"]["nodes"])
    if not groups:
        raise Rejected(f"order {fulfillment.order_external_id} has nothing left to fulfil")
    tracking = {k: v for k, v in (("company", fulfillment.carrier),
                                  ("number", fulfillment.tracking_number),
                                  ("url", fulfillment.tracking_url)) if v}
    created = []
    for line_items in groups.values():
        result = client.execute("FulfillmentCreate", queries.FULFILLMENT_CREATE, {
            "fulfillment": {"lineItemsByFulfillmentOrder": line_items,
                            "notifyCustomer": fulfillment.notify_customer,
                            **({"trackingInfo": tracking} if tracking else {})}})
        payload = result["fulfillmentCreate"]
        if payload["userErrors"]:
            raise Rejected("Shopify refused the fulfillment: " + "; ".join(
                e["message"] for e in payload["userErrors"]))
        created.append(payload["fulfillment"]["id"])
    return ",".join(created)

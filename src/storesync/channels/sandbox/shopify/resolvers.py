"""Query and object resolvers of the simulated GraphQL Admin API, over ``state.Shop``.

Connections follow Shopify's cursor pagination (``first``/``after``, ``edges { cursor node }``,
``nodes``, ``pageInfo { hasNextPage endCursor }``; at most 250 per page, and ``first`` is
required outside bulk operations), as documented under "Paginating results with GraphQL".
Bulk operations run the same resolvers with ``Context.bulk`` set: connections then return
every node, as ``bulkOperationRunQuery`` does.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    build_schema,
)

from storesync.channels.sandbox.shopify import state as st
from storesync.channels.sandbox.shopify.sdl import SDL

MAX_PAGE = 250


@dataclass
class Context:
    """What one request's resolvers share: the shop, the mode and the side-effect hooks."""

    shop: st.Shop
    emit: Callable[[str, dict[str, Any]], None]
    start_bulk: Callable[[st.BulkOperation], None]
    idempotency: dict[str, tuple[str, Any]] = field(default_factory=dict)
    bulk: bool = False
    # True when the fault switch says to refuse this customer erasure or update.
    refuse_privacy: Callable[[], bool] = lambda: False


@dataclass(frozen=True)
class Level:
    """One inventory level (item at location); Shopify has no numeric id for it."""

    item_id: int
    location_id: int
    kind: str = "InventoryLevel"


def _ctx(info: GraphQLResolveInfo) -> Context:
    ctx: Context = info.context
    return ctx


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def default_resolver(source: Any, info: GraphQLResolveInfo, **_: Any) -> Any:
    """Dict keys by field name; dataclass attributes by snake_case name; ids as global ids
    of the GraphQL type (``gid://shopify/<Type>/<n>``)."""
    name = info.field_name
    if isinstance(source, dict):
        return _plain(source.get(name))
    if name == "id":
        return st.gid(info.parent_type.name, source.id)
    if name == "legacyResourceId":
        return str(source.id)
    return _plain(getattr(source, _snake(name), None))


def _plain(value: Any) -> Any:
    """DateTime and Money as the API writes them (ISO 8601 UTC, decimal string)."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


# --- helpers ---------------------------------------------------------------------------------

def encode_cursor(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_cursor(cursor: str) -> list[Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from None
    if not isinstance(value, list):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}")
    return value


def connection(ctx: Context, items: Iterable[Any], first: int | None, after: str | None,
               key: Callable[[Any], list[Any]] = lambda o: [o.id],
               reverse: bool = False) -> dict[str, Any]:
    """One page of a Relay connection, ordered by ``key``."""
    if not ctx.bulk:
        if first is None:
            raise GraphQLError("you must provide one of first or last")
        if not 0 <= first <= MAX_PAGE:
            raise GraphQLError(f"The first argument must be between 0 and {MAX_PAGE}.")
    ordered = sorted(items, key=key, reverse=reverse)
    if after:
        mark = decode_cursor(after)
        ordered = [o for o in ordered if (key(o) < mark if reverse else key(o) > mark)]
    page = ordered if first is None or ctx.bulk else ordered[:first]
    edges = [{"cursor": encode_cursor(key(o)), "node": o} for o in page]
    return {
        "edges": edges,
        "nodes": page,
        "pageInfo": {
            "hasNextPage": len(page) < len(ordered),
            "hasPreviousPage": bool(after),
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }


def money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": amount, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": money}


def lookup(shop: st.Shop, global_id: str) -> Any:
    """The object a global id names, or None."""
    match = re.fullmatch(r"gid://shopify/(\w+)/(\d+)", global_id)
    if not match:
        return None
    kind, number = match.group(1), int(match.group(2))
    tables: dict[str, dict[int, Any]] = {
        "Product": shop.products, "ProductVariant": shop.variants,
        "InventoryItem": shop.items, "Location": shop.locations, "Order": shop.orders,
        "Customer": shop.customers, "WebhookSubscription": shop.subscriptions,
        "BulkOperation": shop.bulk_operations,
    }
    table = tables.get(kind)
    return table.get(number) if table is not None else None


def _search_term(query: str | None, name: str) -> str | None:
    """The value of ``name:value`` in Shopify search syntax, if present."""
    if not query:
        return None
    match = re.search(rf"\b{name}:'?([^'\s]+)'?", query)
    return match.group(1) if match else None


def _updated_filter(query: str | None) -> Callable[[datetime], bool]:
    """``updated_at:>'2026-01-01T00:00:00Z'`` (also ``>=``, ``<``, ``<=``) from search syntax."""
    tests = []
    for op, raw in re.findall(r"updated_at:(>=|<=|>|<)'?([^'\s]+)'?", query or ""):
        try:
            mark = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise GraphQLError(f"Invalid updated_at value in query: {raw}") from None
        tests.append((op, mark))

    def accept(value: datetime) -> bool:
        return all({">": value > m, ">=": value >= m, "<": value < m, "<=": value <= m}[op]
                   for op, m in tests)
    return accept


# --- root query ------------------------------------------------------------------------------

def _shop(_: None, info: GraphQLResolveInfo) -> dict[str, Any]:
    shop = _ctx(info).shop
    display = {"standard": "Basic", "advanced": "Advanced", "plus": "Shopify Plus",
               "enterprise": "Shopify Plus"}.get(shop.plan, "Basic")
    return {"id": st.gid("Shop", shop.shop_id), "name": shop.name,
            "myshopifyDomain": shop.domain, "currencyCode": shop.currency,
            "plan": {"publicDisplayName": display, "partnerDevelopment": False,
                     "shopifyPlus": shop.plan in ("plus", "enterprise")}}


def _products(_: None, info: GraphQLResolveInfo, first: int | None = None,
              after: str | None = None, query: str | None = None) -> dict[str, Any]:
    shop = _ctx(info).shop
    accept = _updated_filter(query)
    items = [p for p in shop.products.values() if accept(p.updated_at)]
    return connection(_ctx(info), items, first, after)


def _variants(_: None, info: GraphQLResolveInfo, first: int | None = None,
              after: str | None = None, query: str | None = None) -> dict[str, Any]:
    shop = _ctx(info).shop
    sku = _search_term(query, "sku")
    items = [v for v in shop.variants.values() if sku is None or v.sku == sku]
    return connection(_ctx(info), items, first, after)


def _items(_: None, info: GraphQLResolveInfo, first: int | None = None,
           after: str | None = None, query: str | None = None) -> dict[str, Any]:
    shop = _ctx(info).shop
    sku = _search_term(query, "sku")
    items = [i for i in shop.items.values() if sku is None or i.sku == sku]
    return connection(_ctx(info), items, first, after)


def _orders(_: None, info: GraphQLResolveInfo, first: int | None = None,
            after: str | None = None, query: str | None = None, sortKey: str = "ID",
            reverse: bool = False) -> dict[str, Any]:
    shop = _ctx(info).shop
    accept = _updated_filter(query)
    items = [o for o in shop.orders.values() if accept(o.updated_at)]
    sort_attr = {"UPDATED_AT": "updated_at", "CREATED_AT": "created_at",
                 "PROCESSED_AT": "created_at"}.get(sortKey)

    def key(order: st.Order) -> list[Any]:
        if sort_attr is None:
            return [order.id]
        return [getattr(order, sort_attr).isoformat(), order.id]
    return connection(_ctx(info), items, first, after, key=key, reverse=reverse)


def _customers(_: None, info: GraphQLResolveInfo, first: int | None = None,
               after: str | None = None, query: str | None = None) -> dict[str, Any]:
    """``email:`` (quoted or not) filters, case-insensitively, as customer search does."""
    shop = _ctx(info).shop
    match = re.search(r'\bemail:(?:"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|(\S+))', query or "")
    wanted = None
    if match:
        raw = next(g for g in match.groups() if g is not None)
        wanted = re.sub(r"\\(.)", r"\1", raw).lower()
    items = [c for c in shop.customers.values()
             if wanted is None or (c.email or "").lower() == wanted]
    return connection(_ctx(info), items, first, after)


def _subscriptions(_: None, info: GraphQLResolveInfo, first: int | None = None,
                   after: str | None = None,
                   topics: list[str] | None = None) -> dict[str, Any]:
    shop = _ctx(info).shop
    items = [s for s in shop.subscriptions.values() if not topics or s.topic in topics]
    return connection(_ctx(info), items, first, after)


def _current_bulk(_: None, info: GraphQLResolveInfo, type: str = "QUERY") -> Any:
    ops = [op for op in _ctx(info).shop.bulk_operations.values() if op.type == type]
    return max(ops, key=lambda op: op.id) if ops else None


def _typed(kind: str) -> Callable[..., Any]:
    def resolve(_: None, info: GraphQLResolveInfo, id: str) -> Any:
        found = lookup(_ctx(info).shop, id)
        return found if getattr(found, "kind", None) == kind else None
    return resolve


def _node(_: None, info: GraphQLResolveInfo, id: str) -> Any:
    return lookup(_ctx(info).shop, id)


def _nodes(_: None, info: GraphQLResolveInfo, ids: list[str]) -> list[Any]:
    if len(ids) > MAX_PAGE:
        raise GraphQLError(f"The input array size of {len(ids)} is greater than the maximum "
                           f"allowed of {MAX_PAGE}.",
                           extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"})
    shop = _ctx(info).shop
    return [lookup(shop, i) for i in ids]


# --- object fields -----------------------------------------------------------------------------

def _product_fields(
        shop_of: Callable[[GraphQLResolveInfo], st.Shop]) -> dict[str, Callable[..., Any]]:
    def options(p: st.Product, info: GraphQLResolveInfo) -> list[dict[str, Any]]:
        shop = shop_of(info)
        result = []
        for position, name in enumerate(p.option_names, start=1):
            values: list[str] = []
            for vid in p.variant_ids:
                value = dict(shop.variants[vid].options).get(name)
                if value is not None and value not in values:
                    values.append(value)
            result.append({"name": name, "position": position,
                           "optionValues": [{"name": v} for v in values]})
        return result

    def variants(p: st.Product, info: GraphQLResolveInfo, first: int | None = None,
                 after: str | None = None) -> dict[str, Any]:
        shop = shop_of(info)
        return connection(_ctx(info), [shop.variants[v] for v in p.variant_ids], first, after)
    return {"options": options, "variants": variants}


def _committed(shop: st.Shop, level: Level) -> int:
    """Units sold but not yet shipped from this location."""
    variant_id = shop.items[level.item_id].variant_id
    return sum(fol.remaining_quantity for fo in shop.fulfillment_orders.values()
               if fo.location_id == level.location_id and fo.status != "CLOSED"
               for fol in fo.lines
               if shop.line_items[fol.line_item_id].variant_id == variant_id)


def _level_quantities(level: Level, info: GraphQLResolveInfo,
                      names: list[str]) -> list[dict[str, Any]]:
    shop = _ctx(info).shop
    key = (level.item_id, level.location_id)
    available = shop.levels.get(key, 0)
    committed = _committed(shop, level) if {"committed", "on_hand"} & set(names) else 0
    values = {"available": available, "committed": committed, "on_hand": available + committed}
    return [{"name": n, "quantity": values.get(n, 0), "updatedAt": shop.level_updated.get(key)}
            for n in names]


def _item_levels(item: st.InventoryItem, info: GraphQLResolveInfo, first: int | None = None,
                 after: str | None = None) -> dict[str, Any]:
    shop = _ctx(info).shop
    levels = [Level(item.id, loc) for (i, loc) in shop.levels if i == item.id]
    return connection(_ctx(info), levels, first, after, key=lambda lv: [lv.location_id])


def _item_level(item: st.InventoryItem, info: GraphQLResolveInfo, locationId: str) -> Any:
    location = st.parse_gid(locationId, "Location")
    if location is None or (item.id, location) not in _ctx(info).shop.levels:
        return None
    return Level(item.id, location)


def _order_lines(order: st.Order, info: GraphQLResolveInfo, first: int | None = None,
                 after: str | None = None) -> dict[str, Any]:
    return connection(_ctx(info), order.lines, first, after)


def _fulfillment_orders(order: st.Order, info: GraphQLResolveInfo, first: int | None = None,
                        after: str | None = None) -> dict[str, Any]:
    return connection(_ctx(info), order.fulfillment_orders, first, after)


def _order_total(order: st.Order, _: GraphQLResolveInfo) -> dict[str, Any]:
    total = order.shipping_price + sum((li.price * li.quantity - li.discount
                                        for li in order.lines), Decimal("0"))
    return money_bag(total, order.currency)


def _refund_lines(refund: st.Refund, info: GraphQLResolveInfo, first: int | None = None,
                  after: str | None = None) -> dict[str, Any]:
    shop = _ctx(info).shop
    rows = [{"id": rl.line_item_id, "lineItem": shop.line_items[rl.line_item_id],
             "quantity": rl.quantity, "restockType": rl.restock_type} for rl in refund.lines]
    return connection(_ctx(info), rows, first, after, key=lambda r: [r["id"]])


def _line_quantity(line: st.LineItem, info: GraphQLResolveInfo) -> int:
    shop = _ctx(info).shop
    removed = sum(rl.quantity for o in shop.orders.values() for r in o.refunds
                  for rl in r.lines if rl.line_item_id == line.id)
    return line.quantity - removed


def _consent_view(key: str, value: str, consent: st.MarketingConsent) -> dict[str, Any]:
    """``CustomerEmailAddress`` / ``CustomerPhoneNumber``: the address and its consent."""
    return {key: value, "marketingState": consent.state,
            "marketingOptInLevel": consent.opt_in_level,
            "marketingUpdatedAt": consent.updated_at}


RESOLVERS: dict[str, dict[str, Callable[..., Any]]] = {
    "Query": {
        "shop": _shop, "node": _node, "nodes": _nodes,
        "locations": lambda _, info, first=None, after=None: connection(
            _ctx(info), _ctx(info).shop.locations.values(), first, after),
        "products": _products, "product": _typed("Product"),
        "productsCount": lambda _, info, query=None: {
            "count": len(_ctx(info).shop.products), "precision": "EXACT"},
        "productVariants": _variants, "inventoryItems": _items,
        "inventoryItem": _typed("InventoryItem"), "orders": _orders, "order": _typed("Order"),
        "customers": _customers, "customer": _typed("Customer"),
        "webhookSubscriptions": _subscriptions, "currentBulkOperation": _current_bulk,
        "bulkOperation": _typed("BulkOperation"),
    },
    "Product": _product_fields(lambda info: _ctx(info).shop),
    "ProductVariant": {
        "selectedOptions": lambda v, _: [{"name": n, "value": x} for n, x in v.options],
        "inventoryItem": lambda v, info: _ctx(info).shop.items[v.inventory_item_id],
        "product": lambda v, info: _ctx(info).shop.products[v.product_id],
    },
    "InventoryItem": {
        "measurement": lambda i, _: {"weight": None if i.weight_grams is None else
                                     {"unit": "GRAMS", "value": float(i.weight_grams)}},
        "variant": lambda i, info: _ctx(info).shop.variants[i.variant_id],
        "inventoryLevels": _item_levels, "inventoryLevel": _item_level,
    },
    "InventoryLevel": {
        "id": lambda lv, _: (f"gid://shopify/InventoryLevel/{lv.location_id}"
                             f"?inventory_item_id={lv.item_id}"),
        "item": lambda lv, info: _ctx(info).shop.items[lv.item_id],
        "location": lambda lv, info: _ctx(info).shop.locations[lv.location_id],
        "quantities": _level_quantities,
        "updatedAt": lambda lv, info: _plain(_ctx(info).shop.level_updated.get(
            (lv.item_id, lv.location_id))),
    },
    "Order": {
        "displayFinancialStatus": lambda o, _: o.financial_status,
        "currencyCode": lambda o, _: o.currency,
        "customer": lambda o, _: None if o.customer_id is None else {
            "id": st.gid("Customer", o.customer_id)},
        "totalShippingPriceSet": lambda o, _: money_bag(o.shipping_price, o.currency),
        "totalPriceSet": _order_total,
        "lineItems": _order_lines, "fulfillmentOrders": _fulfillment_orders,
        "refunds": lambda o, _, first=None: o.refunds[:first],
        "transactions": lambda o, _, first=None: o.transactions[:first],
        "fulfillments": lambda o, _, first=None: o.fulfillments[:first],
    },
    "LineItem": {
        "variant": lambda li, info: _ctx(info).shop.variants.get(li.variant_id),
        "currentQuantity": _line_quantity,
        "originalUnitPriceSet": lambda li, info: money_bag(li.price, _ctx(info).shop.currency),
        "totalDiscountSet": lambda li, info: money_bag(li.discount, _ctx(info).shop.currency),
    },
    "Refund": {
        "totalRefundedSet": lambda r, info: money_bag(r.amount, _ctx(info).shop.currency),
        "refundLineItems": _refund_lines,
    },
    "OrderTransaction": {
        "amountSet": lambda t, info: money_bag(t.amount, _ctx(info).shop.currency),
        "paymentDetails": lambda t, _: None if t.card_company is None else {
            "company": t.card_company, "number": t.card_number},
    },
    "FulfillmentOrder": {
        "assignedLocation": lambda fo, info: {
            "name": _ctx(info).shop.locations[fo.location_id].name,
            "location": _ctx(info).shop.locations[fo.location_id]},
        "lineItems": lambda fo, info, first=None, after=None: connection(
            _ctx(info), fo.lines, first, after),
    },
    "FulfillmentOrderLineItem": {
        "lineItem": lambda fol, info: _ctx(info).shop.line_items[fol.line_item_id],
    },
    "Fulfillment": {
        "trackingInfo": lambda f, _, first=None: [] if not (f.tracking_number or f.tracking_url)
        else [{"company": f.tracking_company, "number": f.tracking_number,
               "url": f.tracking_url}][:first],
        "location": lambda f, info: _ctx(info).shop.locations.get(f.location_id),
    },
    "Customer": {
        "tags": lambda c, _: sorted(c.tags, key=str.lower),
        "defaultEmailAddress": lambda c, _: None if not c.email else _consent_view(
            "emailAddress", c.email, c.email_marketing),
        "defaultPhoneNumber": lambda c, _: None if not c.phone else _consent_view(
            "phoneNumber", c.phone, c.sms_marketing),
    },
    "WebhookSubscription": {"includeFields": lambda s, _: []},
    # UnsignedInt64 travels as a string in Shopify's answers.
    "BulkOperation": {
        "objectCount": lambda op, _: str(op.object_count),
        "rootObjectCount": lambda op, _: str(op.root_object_count),
        "fileSize": lambda op, _: None if op.file_size is None else str(op.file_size),
    },
}


def build(mutations: dict[str, Callable[..., Any]]) -> GraphQLSchema:
    """The executable schema: SDL plus these resolvers plus the mutation resolvers."""
    schema = build_schema(SDL)
    for named in schema.type_map.values():
        if isinstance(named, GraphQLObjectType) and not named.name.startswith("__"):
            for graphql_field in named.fields.values():
                graphql_field.resolve = default_resolver
    for type_name, fields in {**RESOLVERS, "Mutation": mutations}.items():
        object_type: Any = schema.get_type(type_name)
        for field_name, resolve in fields.items():
            object_type.fields[field_name].resolve = resolve
    node_type: Any = schema.get_type("Node")
    node_type.resolve_type = lambda obj, *_: getattr(obj, "kind", None)
    union: Any = schema.get_type("PaymentDetails")
    union.resolve_type = lambda *_: "CardPaymentDetails"
    return schema

"""Webhook bodies, shaped like Shopify's: the REST resource of the topic, as JSON.

"Every delivery includes a JSON body containing the full REST resource for the subscribed
topic" (shopify.dev, Webhooks delivery structure). Field names follow the webhook reference
examples for orders/create, refunds/create, products/update, inventory_levels/update,
app/uninstalled and the mandatory compliance topics (customers/data_request,
customers/redact, shop/redact).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from storesync.channels.sandbox.shopify import state as st


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _money_set(value: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": _money(value), "currency_code": currency}
    return {"shop_money": money, "presentment_money": money}


def _line(line: st.LineItem, shop: st.Shop) -> dict[str, Any]:
    variant = shop.variants.get(line.variant_id) if line.variant_id else None
    return {
        "id": line.id,
        "admin_graphql_api_id": st.gid("LineItem", line.id),
        "variant_id": line.variant_id,
        "product_id": variant.product_id if variant else None,
        "sku": line.sku,
        "title": line.title,
        "variant_title": variant.title if variant else None,
        "quantity": line.quantity,
        "price": _money(line.price),
        "price_set": _money_set(line.price, shop.currency),
        "total_discount": _money(line.discount),
        "fulfillable_quantity": line.quantity,
        "requires_shipping": True,
    }


def refund(refund: st.Refund, shop: st.Shop) -> dict[str, Any]:
    """refunds/create."""
    return {
        "id": refund.id,
        "admin_graphql_api_id": st.gid("Refund", refund.id),
        "order_id": refund.order_id,
        "created_at": _time(refund.created_at),
        "note": refund.note,
        "refund_line_items": [
            {"id": n + 1, "line_item_id": rl.line_item_id, "quantity": rl.quantity,
             "restock_type": rl.restock_type.lower(),
             "line_item": _line(shop.line_items[rl.line_item_id], shop)}
            for n, rl in enumerate(refund.lines)],
        "transactions": [{"kind": "refund", "status": "success", "gateway": "bogus",
                          "amount": _money(refund.amount)}],
    }


def order(order: st.Order, shop: st.Shop) -> dict[str, Any]:
    """orders/create, orders/updated, orders/cancelled (the same Order resource)."""
    address = dict(order.shipping_address)
    total = order.shipping_price + sum((li.price * li.quantity for li in order.lines),
                                       Decimal("0"))
    refunded = sum((r.amount for r in order.refunds), Decimal("0"))
    return {
        "id": order.id,
        "admin_graphql_api_id": st.gid("Order", order.id),
        "name": order.name,
        "order_number": order.number,
        "email": order.email,
        "contact_email": order.email,
        "created_at": _time(order.created_at),
        "updated_at": _time(order.updated_at),
        "processed_at": _time(order.created_at),
        "cancelled_at": _time(order.cancelled_at),
        "cancel_reason": order.cancel_reason.lower() if order.cancel_reason else None,
        "currency": order.currency,
        "financial_status": order.financial_status.lower(),
        "fulfillment_status": None,
        "total_price": _money(total),
        "current_total_price": _money(total - refunded),
        "customer": {"id": order.customer_id, "email": order.email},
        "shipping_address": {
            "name": address.get("name"), "first_name": address.get("firstName"),
            "last_name": address.get("lastName"), "address1": address.get("address1"),
            "address2": address.get("address2"), "city": address.get("city"),
            "zip": address.get("zip"), "province_code": address.get("provinceCode"),
            "country_code": address.get("countryCodeV2"), "phone": address.get("phone")},
        "shipping_lines": [{"title": "Standard", "price": _money(order.shipping_price),
                            "price_set": _money_set(order.shipping_price, order.currency)}],
        "line_items": [_line(li, shop) for li in order.lines],
        "refunds": [refund(r, shop) for r in order.refunds],
        "payment_gateway_names": sorted({t.gateway for t in order.transactions}),
        "location_id": None,
    }


def product(product: st.Product, shop: st.Shop) -> dict[str, Any]:
    """products/update (and products/create)."""
    variants = [shop.variants[v] for v in product.variant_ids]
    return {
        "id": product.id,
        "admin_graphql_api_id": st.gid("Product", product.id),
        "title": product.title,
        "handle": product.handle,
        "body_html": product.description_html,
        "vendor": product.vendor,
        "product_type": product.product_type,
        "status": product.status.lower(),
        "tags": ", ".join(product.tags),
        "created_at": _time(product.created_at),
        "updated_at": _time(product.updated_at),
        "options": [{"name": name, "position": n + 1,
                     "values": sorted({dict(v.options)[name] for v in variants})}
                    for n, name in enumerate(product.option_names)],
        "variants": [{
            "id": v.id, "admin_graphql_api_id": st.gid("ProductVariant", v.id),
            "product_id": product.id, "title": v.title, "sku": v.sku, "barcode": v.barcode,
            "price": _money(v.price),
            "compare_at_price": None if v.compare_at_price is None
            else _money(v.compare_at_price),
            "option1": v.options[0][1] if v.options else None,
            "option2": v.options[1][1] if len(v.options) > 1 else None,
            "option3": v.options[2][1] if len(v.options) > 2 else None,
            "inventory_item_id": v.inventory_item_id,
            "inventory_quantity": sum(q for (i, _), q in shop.levels.items()
                                      if i == v.inventory_item_id),
            "updated_at": _time(v.updated_at),
        } for v in variants],
    }


def product_deleted(product_id: int) -> dict[str, Any]:
    """products/delete carries only the id."""
    return {"id": product_id}


def level(shop: st.Shop, item_id: int, location_id: int) -> dict[str, Any]:
    """inventory_levels/update."""
    return {
        "inventory_item_id": item_id,
        "location_id": location_id,
        "available": shop.levels.get((item_id, location_id), 0),
        "updated_at": _time(shop.level_updated.get((item_id, location_id))),
        "admin_graphql_api_id": (f"gid://shopify/InventoryLevel/{location_id}"
                                 f"?inventory_item_id={item_id}"),
    }


def shop_resource(shop: st.Shop) -> dict[str, Any]:
    """app/uninstalled carries the Shop resource."""
    return {"id": shop.shop_id, "name": shop.name, "domain": shop.domain,
            "myshopify_domain": shop.domain, "currency": shop.currency,
            "plan_name": shop.plan, "email": "owner@example.com"}


def compliance(topic: str, shop: st.Shop, *, customer_email: str = "buyer@example.com",
               order_ids: list[int] | None = None) -> dict[str, Any]:
    """customers/data_request, customers/redact and shop/redact, as documented under
    "Privacy law compliance" (mandatory compliance webhooks)."""
    base: dict[str, Any] = {"shop_id": shop.shop_id, "shop_domain": shop.domain}
    if topic == "shop/redact":
        return base
    customer = {"id": 1001, "email": customer_email, "phone": None}
    if topic == "customers/redact":
        return {**base, "customer": customer, "orders_to_redact": order_ids or []}
    return {**base, "customer": customer, "orders_requested": order_ids or [],
            "data_request": {"id": 9999}}

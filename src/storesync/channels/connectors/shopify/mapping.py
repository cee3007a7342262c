"""Shopify's shapes -> storesync's platform-neutral records.

Two sources: GraphQL Admin API nodes (camelCase, global ids) and webhook bodies (REST
resources, snake_case, numeric ids plus ``admin_graphql_api_id``). Both map to the same
records with the same ids: every external id is Shopify's global id
(``gid://shopify/Order/1``), so an order seen first by webhook and later by polling is one
order. Money strings become integer minor units of the order's (or shop's) currency.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from storesync.channels.connectors.base import (
    ChannelAddress,
    ChannelLevel,
    ChannelOrder,
    ChannelOrderLine,
    ChannelPayment,
    ChannelProduct,
    ChannelRefund,
    ChannelRefundLine,
    ChannelVariant,
)
from storesync.core.errors import ValidationError
from storesync.core.money import to_minor

GRAMS_PER_UNIT = {"GRAMS": Decimal(1), "KILOGRAMS": Decimal(1000),
                  "OUNCES": Decimal("28.349523125"), "POUNDS": Decimal("453.59237")}


class MappingError(ValueError):
    """Shopify sent something storesync cannot read (a missing field, a bad amount)."""


def gid(kind: str, value: Any) -> str:
    """A global id from a REST numeric id (or the gid itself)."""
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def minor(amount: Any, currency: str, field: str) -> int:
    if amount in (None, ""):
        return 0
    try:
        return to_minor(str(amount), currency, field=field)
    except ValidationError as exc:
        raise MappingError(f"{field}: {exc.message}") from None


def when(value: Any, field: str) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(f"{field}: not a time: {value!r}") from None


def maybe_when(value: Any, field: str) -> datetime | None:
    return None if value in (None, "") else when(value, field)


def _amount(money_bag: Any) -> Any:
    return ((money_bag or {}).get("shopMoney") or {}).get("amount")


def _weight_grams(measurement: Any) -> int | None:
    weight = (measurement or {}).get("weight")
    if not weight or weight.get("value") is None:
        return None
    grams = Decimal(str(weight["value"])) * GRAMS_PER_UNIT.get(weight.get("unit"), Decimal(1))
    return int(grams.to_integral_value())


# --- GraphQL ----------------------------------------------------------------------------------

def variant(node: dict[str, Any], currency: str) -> ChannelVariant:
    item = node.get("inventoryItem") or {}
    compare_at = node.get("compareAtPrice")
    return ChannelVariant(
        external_id=node["id"], inventory_item_id=item.get("id", ""), sku=node.get("sku") or "",
        title=node.get("title") or "",
        options=tuple(o["value"] for o in node.get("selectedOptions") or ()),
        barcode=node.get("barcode") or "",
        price_minor=minor(node.get("price"), currency, "price"),
        compare_at_minor=None if compare_at in (None, "") else minor(compare_at, currency,
                                                                     "compareAtPrice"),
        weight_grams=_weight_grams(item.get("measurement")),
        hsn_code=item.get("harmonizedSystemCode") or "", tracked=bool(item.get("tracked", True)))


def product(node: dict[str, Any], variants: list[ChannelVariant]) -> ChannelProduct:
    return ChannelProduct(
        external_id=node["id"], title=node.get("title") or "", handle=node.get("handle") or "",
        description=node.get("descriptionHtml") or "", vendor=node.get("vendor") or "",
        product_type=node.get("productType") or "",
        status=str(node.get("status") or "ACTIVE").lower(),
        tags=tuple(node.get("tags") or ()),
        option_names=tuple(o["name"] for o in node.get("options") or ()),
        variants=tuple(variants), updated_at=maybe_when(node.get("updatedAt"), "updatedAt"))


def _address(raw: Any, *, rest: bool) -> ChannelAddress:
    raw = raw or {}
    if rest:
        return ChannelAddress(
            name=raw.get("name") or " ".join(filter(None, (raw.get("first_name"),
                                                           raw.get("last_name")))),
            line1=raw.get("address1") or "", line2=raw.get("address2") or "",
            city=raw.get("city") or "", postcode=raw.get("zip") or "",
            province_code=raw.get("province_code") or "",
            country_code=raw.get("country_code") or "", phone=raw.get("phone") or "")
    return ChannelAddress(
        name=raw.get("name") or "", line1=raw.get("address1") or "",
        line2=raw.get("address2") or "", city=raw.get("city") or "",
        postcode=raw.get("zip") or "", province_code=raw.get("provinceCode") or "",
        country_code=raw.get("countryCodeV2") or "", phone=raw.get("phone") or "")


def _payment(node: dict[str, Any], currency: str) -> ChannelPayment:
    card = node.get("paymentDetails") or {}
    number = str(card.get("number") or "")
    digits = "".join(ch for ch in number if ch.isdigit())
    return ChannelPayment(
        kind=str(node.get("kind") or "").lower(),
        amount_minor=minor(_amount(node.get("amountSet")), currency, "amountSet"),
        gateway=node.get("gateway") or "", card_brand=card.get("company") or "",
        card_last4=digits[-4:], external_id=node.get("id") or "")


def _refund(node: dict[str, Any], currency: str) -> ChannelRefund:
    lines = ((node.get("refundLineItems") or {}).get("nodes")) or []
    return ChannelRefund(
        external_id=node["id"], created_at=when(node.get("createdAt"), "createdAt"),
        amount_minor=minor(_amount(node.get("totalRefundedSet")), currency, "totalRefundedSet"),
        lines=tuple(ChannelRefundLine(line_external_id=rl["lineItem"]["id"],
                                      quantity=int(rl["quantity"]),
                                      restock=rl.get("restockType") in ("RETURN", "CANCEL",
                                                                        "LEGACY_RESTOCK"))
                    for rl in lines))


def order_line(node: dict[str, Any], currency: str) -> ChannelOrderLine:
    return ChannelOrderLine(
        external_id=node["id"], sku=node.get("sku") or "", quantity=int(node["quantity"]),
        unit_price_minor=minor(_amount(node.get("originalUnitPriceSet")), currency,
                               "originalUnitPriceSet"),
        title=node.get("title") or "",
        variant_external_id=(node.get("variant") or {}).get("id") or "",
        discount_minor=minor(_amount(node.get("totalDiscountSet")), currency,
                             "totalDiscountSet"))


def order(node: dict[str, Any], lines: list[ChannelOrderLine]) -> ChannelOrder:
    currency = node["currencyCode"]
    locations = [fo["assignedLocation"]["location"]["id"]
                 for fo in (node.get("fulfillmentOrders") or {}).get("nodes") or ()
                 if (fo.get("assignedLocation") or {}).get("location")]
    reason = node.get("cancelReason")
    return ChannelOrder(
        external_id=node["id"], name=node["name"],
        created_at=when(node["createdAt"], "createdAt"),
        updated_at=when(node["updatedAt"], "updatedAt"), currency=currency,
        lines=tuple(lines), email=node.get("email") or "",
        customer_external_id=(node.get("customer") or {}).get("id") or "",
        shipping_address=_address(node.get("shippingAddress"), rest=False),
        shipping_minor=minor(_amount(node.get("totalShippingPriceSet")), currency,
                             "totalShippingPriceSet"),
        financial_status=str(node.get("displayFinancialStatus") or "pending").lower(),
        cancelled_at=maybe_when(node.get("cancelledAt"), "cancelledAt"),
        cancel_reason=reason.lower() if reason else "",
        refunds=tuple(_refund(r, currency) for r in node.get("refunds") or ()),
        payments=tuple(_payment(t, currency) for t in node.get("transactions") or ()),
        location_id=locations[0] if locations else "")


# --- webhook bodies (REST resources) -----------------------------------------------------------

def rest_refund(raw: dict[str, Any], currency: str) -> ChannelRefund:
    """refunds/create, and each refund inside an order body."""
    amount = sum((minor(t.get("amount"), currency, "transactions.amount")
                  for t in raw.get("transactions") or () if t.get("kind") == "refund"), 0)
    return ChannelRefund(
        external_id=raw.get("admin_graphql_api_id") or gid("Refund", raw["id"]),
        created_at=when(raw.get("created_at"), "created_at"), amount_minor=amount,
        lines=tuple(ChannelRefundLine(line_external_id=gid("LineItem", rl["line_item_id"]),
                                      quantity=int(rl["quantity"]),
                                      restock=rl.get("restock_type") in ("return", "cancel",
                                                                         "legacy_restock"))
                    for rl in raw.get("refund_line_items") or ()),
        order_external_id=gid("Order", raw["order_id"]) if raw.get("order_id") else "")


def rest_order(raw: dict[str, Any]) -> ChannelOrder:
    """orders/create, orders/updated, orders/cancelled."""
    currency = raw["currency"]
    lines = tuple(ChannelOrderLine(
        external_id=li.get("admin_graphql_api_id") or gid("LineItem", li["id"]),
        sku=li.get("sku") or "", quantity=int(li["quantity"]),
        unit_price_minor=minor(li.get("price"), currency, "line_items.price"),
        title=li.get("title") or "",
        variant_external_id=gid("ProductVariant", li["variant_id"]) if li.get("variant_id")
        else "",
        discount_minor=minor(li.get("total_discount"), currency, "line_items.total_discount"))
        for li in raw.get("line_items") or ())
    shipping = sum((minor(s.get("price"), currency, "shipping_lines.price")
                    for s in raw.get("shipping_lines") or ()), 0)
    customer = raw.get("customer") or {}
    return ChannelOrder(
        external_id=raw.get("admin_graphql_api_id") or gid("Order", raw["id"]),
        name=raw.get("name") or "", created_at=when(raw.get("created_at"), "created_at"),
        updated_at=when(raw.get("updated_at"), "updated_at"), currency=currency, lines=lines,
        email=raw.get("email") or "",
        customer_external_id=gid("Customer", customer["id"]) if customer.get("id") else "",
        shipping_address=_address(raw.get("shipping_address"), rest=True),
        shipping_minor=shipping, financial_status=raw.get("financial_status") or "pending",
        cancelled_at=maybe_when(raw.get("cancelled_at"), "cancelled_at"),
        cancel_reason=raw.get("cancel_reason") or "",
        refunds=tuple(rest_refund(r, currency) for r in raw.get("refunds") or ()),
        location_id=gid("Location", raw["location_id"]) if raw.get("location_id") else "")


def rest_product(raw: dict[str, Any], currency: str) -> ChannelProduct:
    """products/update (and products/create)."""
    variants = []
    for v in raw.get("variants") or ():
        compare_at = v.get("compare_at_price")
        variants.append(ChannelVariant(
            external_id=v.get("admin_graphql_api_id") or gid("ProductVariant", v["id"]),
            inventory_item_id=gid("InventoryItem", v["inventory_item_id"]),
            sku=v.get("sku") or "", title=v.get("title") or "",
            options=tuple(v[k] for k in ("option1", "option2", "option3") if v.get(k)),
            barcode=v.get("barcode") or "", price_minor=minor(v.get("price"), currency, "price"),
            compare_at_minor=None if compare_at in (None, "") else minor(
                compare_at, currency, "compare_at_price")))
    tags = tuple(t.strip() for t in str(raw.get("tags") or "").split(",") if t.strip())
    return ChannelProduct(
        external_id=raw.get("admin_graphql_api_id") or gid("Product", raw["id"]),
        title=raw.get("title") or "", handle=raw.get("handle") or "",
        description=raw.get("body_html") or "", vendor=raw.get("vendor") or "",
        product_type=raw.get("product_type") or "", status=raw.get("status") or "active",
        tags=tags, option_names=tuple(o["name"] for o in raw.get("options") or ()),
        variants=tuple(variants), updated_at=maybe_when(raw.get("updated_at"), "updated_at"))


def rest_level(raw: dict[str, Any]) -> ChannelLevel:
    """inventory_levels/update."""
    return ChannelLevel(inventory_item_id=gid("InventoryItem", raw["inventory_item_id"]),
                        location_id=gid("Location", raw["location_id"]),
                        available=int(raw.get("available") or 0))

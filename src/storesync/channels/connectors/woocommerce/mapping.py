"""WooCommerce REST API v3 objects -> storesync's platform-neutral records.

Field names and types follow the v3 reference: money as decimal strings in the order's
currency (``core.money`` turns them into minor units), dates ``*_gmt`` without an offset
(UTC), product ``type`` ``simple``/``variable``, variations with ``attributes[].option``.

Inventory item ids: a simple product's stock is addressed by its id (``"123"``), a
variation's by its parent and its own id (``"123/456"``), because the stock endpoints of a
variation live under its parent (``/products/<id>/variations/batch``); a variation whose
stock the parent manages (``manage_stock: "parent"``) is addressed as its parent.

Refunds: the v3 refund object lists its lines with negative quantities and the original
order line in the ``_refunded_item_id`` meta (reference example); whether items went back to
stock is write-only (``api_restock``), so it is read from the order note core writes when it
restocks (``wc_restock_refunded_items``: "Item #<product> stock increased from A to B.").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
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
    Rejected,
)
from storesync.core.errors import ValidationError
from storesync.core.money import exponent, to_minor

Json = Mapping[str, Any]
_RESTOCK_NOTE = re.compile(r"^Item #(\d+) stock increased from (-?\d+) to (-?\d+)\.$")
# post_status -> storesync status
_PRODUCT_STATUS = {"publish": "active", "draft": "draft", "pending": "draft",
                   "private": "draft", "future": "draft", "trash": "archived"}
# order status -> financial status (names as Shopify's, which the engine already reads)
_FINANCIAL = {"pending": "pending", "on-hold": "pending", "failed": "pending",
              "processing": "paid", "completed": "paid", "refunded": "refunded",
              "cancelled": "voided"}


def item_id(product_id: Any, variation_id: Any = 0) -> str:
    return f"{product_id}/{variation_id}" if variation_id else str(product_id)


def when(value: Any) -> datetime | None:
    """A ``*_gmt`` date (``2017-03-22T16:28:02``, UTC) as an aware datetime."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Rejected(f"WooCommerce sent an unreadable date {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def minor(amount: Any, currency: str, field: str) -> int:
    """A money string in minor units; the platform sending nonsense is not retryable."""
    if amount in (None, ""):
        return 0
    try:
        return to_minor(str(amount), currency, field=field)
    except ValidationError as error:
        raise Rejected(f"WooCommerce sent {field}={amount!r}: {error.message}") from None


def _decimal(amount: Any, field: str) -> Decimal:
    try:
        return Decimal(str(amount or "0"))
    except InvalidOperation:
        raise Rejected(f"WooCommerce sent {field}={amount!r}") from None


def _variant(item: Json, currency: str, *, inventory_item_id: str, title: str,
             options: tuple[str, ...] = (), dated: bool = False) -> ChannelVariant:
    regular = item.get("regular_price") or item.get("price") or "0"
    sale = item.get("sale_price") or ""
    return ChannelVariant(
        external_id=str(item["id"]), inventory_item_id=inventory_item_id,
        sku=str(item.get("sku") or ""), title=title, options=options,
        price_minor=minor(sale or regular, currency, "price"),
        compare_at_minor=minor(regular, currency, "regular_price") if sale else None,
        tracked=bool(item.get("manage_stock")),
        updated_at=when(item.get("date_modified_gmt")) if dated else None)


def _variation(parent_id: Any, variation: Json, currency: str,
               title: str | None = None) -> ChannelVariant:
    # A variation whose stock the parent manages (manage_stock "parent") shares the parent's
    # quantity: its inventory item is the parent product.
    options = tuple(str(a.get("option", "")) for a in variation.get("attributes") or [])
    return _variant(variation, currency, inventory_item_id=(
        item_id(parent_id) if variation.get("manage_stock") == "parent"
        else item_id(parent_id, variation["id"])),
        title=" / ".join(options) if title is None else title, options=options, dated=True)


def level_of(item: Json, inventory_item_id: str, location_id: str) -> ChannelLevel | None:
    """The quantity a product or variation object shows, when it manages its own stock (an
    item without a quantity has only a stock status on WooCommerce)."""
    if item.get("manage_stock") is not True or item.get("stock_quantity") is None:
        return None
    return ChannelLevel(inventory_item_id, location_id, int(item["stock_quantity"]),
                        sku=str(item.get("sku") or ""))


def product_from(product: Json, variations: Sequence[Json], currency: str) -> ChannelProduct:
    """One product; a variable product carries one variant per variation."""
    attributes = product.get("attributes") or []
    if product.get("type") == "variable":
        variants = tuple(_variation(product["id"], v, currency) for v in variations)
    else:
        variants = (_variant(product, currency, inventory_item_id=item_id(product["id"]),
                             title=str(product.get("name", ""))),)
    return ChannelProduct(
        external_id=str(product["id"]), title=str(product.get("name", "")),
        handle=str(product.get("slug", "")), description=str(product.get("description", "")),
        status=_PRODUCT_STATUS.get(str(product.get("status")), "draft"),
        tags=tuple(str(t.get("name", "")) for t in product.get("tags") or []),
        option_names=tuple(str(a.get("name", "")) for a in attributes if a.get("variation")),
        variants=variants, updated_at=when(product.get("date_modified_gmt")))


def variation_product(variation: Json, currency: str) -> ChannelProduct:
    """A variation body (``type: variation``, what a webhook carries when one variation is
    created or saved) as its parent product naming only that variant: ``complete`` is
    False, so the parent's other variations are left as they are."""
    parent_id = variation["parent_id"]
    # Core names a variation "<parent> - <options>": that name alone says which one it is.
    return ChannelProduct(external_id=str(parent_id), title=str(variation.get("name", "")),
                          variants=(_variation(parent_id, variation, currency, title=""),),
                          complete=False)


def _line(line: Json, currency: str) -> ChannelOrderLine:
    quantity = int(line.get("quantity") or 0)
    subtotal = _decimal(line.get("subtotal"), "subtotal")
    total = _decimal(line.get("total"), "total")
    places = exponent(currency)
    # subtotal is before coupons, total after; the unit price is subtotal / quantity,
    # rounded to the currency (the rounding lands in the discount, never lost).
    unit = (subtotal / quantity if quantity else Decimal(0)).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    unit_minor = minor(str(unit), currency, "line_items.price")
    return ChannelOrderLine(
        external_id=str(line["id"]), sku=str(line.get("sku") or ""), quantity=quantity,
        unit_price_minor=unit_minor, title=str(line.get("name", "")),
        variant_external_id=str(line.get("variation_id") or line.get("product_id") or ""),
        discount_minor=unit_minor * quantity - minor(str(total), currency, "line_items.total"))


def _address(order: Json) -> ChannelAddress:
    billing = order.get("billing") or {}
    shipping = order.get("shipping") or {}
    source = shipping if shipping.get("address_1") else billing
    name = " ".join(p for p in (source.get("first_name"), source.get("last_name")) if p)
    return ChannelAddress(
        name=name, line1=str(source.get("address_1") or ""),
        line2=str(source.get("address_2") or ""), city=str(source.get("city") or ""),
        postcode=str(source.get("postcode") or ""),
        province_code=str(source.get("state") or ""),
        country_code=str(source.get("country") or ""),
        phone=str(shipping.get("phone") or billing.get("phone") or ""))


def restocks(notes: Sequence[Json]) -> list[tuple[datetime, str, int]]:
    """(when, stock item id, quantity) of each restock note, oldest first."""
    found = []
    for note in notes:
        match = _RESTOCK_NOTE.match(str(note.get("note", "")).strip())
        at = when(note.get("date_created_gmt"))
        if match and at is not None:
            found.append((at, match.group(1), int(match.group(3)) - int(match.group(2))))
    return sorted(found)


def refunds_from(refunds: Sequence[Json], notes: Sequence[Json],
                 currency: str) -> tuple[ChannelRefund, ...]:
    """Refunds oldest first; a line is ``restock`` when a restock note of its quantity for
    its product came at or after the refund (each note used once)."""
    unused = restocks(notes)
    result = []
    for refund in sorted(refunds, key=lambda r: (str(r.get("date_created_gmt")), r["id"])):
        created = when(refund.get("date_created_gmt")) or datetime.now(UTC)
        lines = []
        for line in refund.get("line_items") or []:
            quantity = abs(int(line.get("quantity") or 0))
            meta = {m.get("key"): m.get("value") for m in line.get("meta_data") or []}
            original = meta.get("_refunded_item_id")
            if not quantity or original is None:
                continue  # an amount-only refund of a line: nothing comes back
            stock_id = str(line.get("variation_id") or line.get("product_id"))
            note = next((n for n in unused if n[1] == stock_id and n[2] == quantity
                         and n[0] >= created), None)
            if note is not None:
                unused.remove(note)
            lines.append(ChannelRefundLine(str(original), quantity, restock=note is not None))
        result.append(ChannelRefund(
            external_id=str(refund["id"]), created_at=created,
            amount_minor=minor(refund.get("amount"), currency, "refund.amount"),
            lines=tuple(lines)))
    return tuple(result)


def _financial_status(order: Json, refunds: tuple[ChannelRefund, ...]) -> str:
    status = _FINANCIAL.get(str(order.get("status")), "pending")
    if refunds and status == "paid":
        return "partially_refunded"
    return status


def order_from(order: Json, refund_objects: Sequence[Json], notes: Sequence[Json]) -> ChannelOrder:
    """An order with its refunds (the ``/refunds`` objects and the order's notes)."""
    currency = str(order.get("currency") or "INR")
    created = when(order.get("date_created_gmt")) or datetime.now(UTC)
    updated = when(order.get("date_modified_gmt")) or created
    refunds = refunds_from(refund_objects, notes, currency)
    payments = []
    if order.get("date_paid_gmt"):
        payments.append(ChannelPayment(
            kind="sale", amount_minor=minor(order.get("total"), currency, "total"),
            gateway=str(order.get("payment_method") or ""),
            external_id=str(order.get("transaction_id") or "")))
    payments.extend(ChannelPayment(kind="refund", amount_minor=r.amount_minor,
                                   gateway=str(order.get("payment_method") or ""),
                                   external_id=r.external_id)
                    for r, raw in zip(refunds, sorted(
                        refund_objects, key=lambda r: (str(r.get("date_created_gmt")),
                                                       r["id"])), strict=True)
                    if raw.get("refunded_payment"))
    cancelled = order.get("status") == "cancelled"
    customer = int(order.get("customer_id") or 0)
    return ChannelOrder(
        external_id=str(order["id"]), name=f"#{order.get('number') or order['id']}",
        created_at=created, updated_at=updated, currency=currency,
        lines=tuple(_line(line, currency) for line in order.get("line_items") or []),
        email=str((order.get("billing") or {}).get("email") or ""),
        customer_external_id=str(customer) if customer else "",
        shipping_address=_address(order),
        shipping_minor=minor(order.get("shipping_total"), currency, "shipping_total"),
        financial_status=_financial_status(order, refunds),
        # Core keeps no cancellation date; the change that cancelled it is the latest one.
        cancelled_at=updated if cancelled else None,
        cancel_reason="cancelled on WooCommerce" if cancelled else "",
        refunds=refunds, payments=tuple(payments))

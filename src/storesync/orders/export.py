"""Orders as CSV for accounting and GST returns: one row per order line, streamed.

No personal data, ever: no buyer name, email, phone, street address or GSTIN. Only the
place of supply (the destination state code), which decides the tax split, is included.
Whoever needs a buyer's details reads them through the audited personal-data scope, one
order at a time, not in a bulk file that leaves the system unaudited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import Prefetch

from storesync.core.csvio import csv_chunks
from storesync.core.money import from_minor
from storesync.core.pagination import keyset_batches
from storesync.orders.models import Order, OrderLine

HEADER = ("order_number", "placed_at", "cancelled_at", "source", "external_id",
          "financial_status", "fulfillment_status", "currency", "prices_include_tax",
          "place_of_supply", "line", "sku", "title", "hsn_code", "quantity",
          "fulfilled_quantity", "unit_price", "discount", "taxable_value", "tax_rate", "cgst",
          "sgst", "igst", "line_total", "order_shipping", "order_total")


def orders_csv(*, workspace_id: uuid.UUID, placed_from: datetime | None = None,
               placed_to: datetime | None = None, batch_size: int = 200) -> Iterator[str]:
    """Every line of every order (optionally placed in ``[placed_from, placed_to)``), oldest
    order first, as CSV chunks; memory stays constant (keyset batches of orders)."""

    def orders() -> Any:
        queryset = Order.objects.prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("position", "id"))
        ).defer("email", "email_bidx", "ship_name", "ship_line1", "ship_line2", "ship_city",
                "ship_postcode", "ship_phone", "buyer_gstin")
        if placed_from:
            queryset = queryset.filter(placed_at__gte=placed_from)
        if placed_to:
            queryset = queryset.filter(placed_at__lt=placed_to)
        return queryset

    def rows() -> Iterator[list[Any]]:
        for batch in keyset_batches(orders, workspace_id=workspace_id, batch_size=batch_size):
            for order in batch:
                for line in order.lines.all():
                    yield _line_row(order, line)

    return csv_chunks(HEADER, rows())


def _line_row(order: Order, line: OrderLine) -> list[Any]:
    def money(minor: int) -> str:
        return from_minor(minor, order.currency)

    tax = line.cgst_minor + line.sgst_minor + line.igst_minor
    return [order.number, order.placed_at.isoformat(),
            order.cancelled_at.isoformat() if order.cancelled_at else "", order.source,
            order.external_id, order.financial_status, order.fulfillment_status, order.currency,
            "yes" if order.prices_include_tax else "no", order.ship_province_code,
            line.position, line.sku, line.title, line.hsn_code, line.quantity,
            line.fulfilled_quantity, money(line.unit_price_minor), money(line.discount_minor),
            money(line.taxable_minor), f"{line.tax_rate_bp / 100:g}", money(line.cgst_minor),
            money(line.sgst_minor), money(line.igst_minor), money(line.taxable_minor + tax),
            money(order.shipping_minor), money(order.total_minor)]

"""Reads for orders."""

from __future__ import annotations

import uuid
from datetime import datetime

from storesync.core.errors import NotFound
from storesync.core.ids import parse_id
from storesync.core.pagination import Page, keyset_page
from storesync.core.tenancy import workspace_scope
from storesync.orders.models import Order


def order_get(*, workspace_id: uuid.UUID, order_id: uuid.UUID | str) -> Order:
    oid = parse_id(order_id, what="order")
    with workspace_scope(workspace_id):
        order = Order.objects.filter(id=oid).prefetch_related("lines", "transactions").first()
    if order is None:
        raise NotFound("no such order")
    return order


def order_list(*, workspace_id: uuid.UUID, cursor: str | None = None, limit: int = 50,
               source: str | None = None, fulfillment_status: str | None = None,
               financial_status: str | None = None, placed_from: datetime | None = None,
               placed_to: datetime | None = None,
               customer_id: uuid.UUID | None = None) -> Page[Order]:
    """Newest first; every filter is optional (``customer_id``: one customer's history)."""
    with workspace_scope(workspace_id):
        queryset = Order.objects.prefetch_related("lines")
        if customer_id is not None:
            queryset = queryset.filter(customer_id=customer_id)
        if source:
            queryset = queryset.filter(source=source)
        if fulfillment_status:
            queryset = queryset.filter(fulfillment_status=fulfillment_status)
        if financial_status:
            queryset = queryset.filter(financial_status=financial_status)
        if placed_from:
            queryset = queryset.filter(placed_at__gte=placed_from)
        if placed_to:
            queryset = queryset.filter(placed_at__lt=placed_to)
        return keyset_page(queryset, cursor=cursor, limit=limit)

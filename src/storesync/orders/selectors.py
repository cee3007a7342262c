"""Reads for orders, draft orders and abandoned checkouts."""

from __future__ import annotations

import uuid
from datetime import datetime

from storesync.core.errors import NotFound
from storesync.core.ids import parse_id
from storesync.core.pagination import Page, keyset_page
from storesync.core.tenancy import workspace_scope
from storesync.orders.models import AbandonedCheckout, DraftOrder, Order, Return

ORDER_RELATIONS = ("lines", "transactions", "fulfillment_orders", "fulfillments__lines",
                   "refunds__lines", "returns__lines")


def order_get(*, workspace_id: uuid.UUID, order_id: uuid.UUID | str) -> Order:
    """The order with its lines, payments, fulfillment orders, fulfillments, refunds and
    returns; NotFound for another workspace's or a malformed id."""
    oid = parse_id(order_id, what="order")
    with workspace_scope(workspace_id):
        order = Order.objects.filter(id=oid).prefetch_related(*ORDER_RELATIONS).first()
    if order is None:
        raise NotFound("no such order")
    return order


def order_list(*, workspace_id: uuid.UUID, cursor: str | None = None, limit: int = 50,
               source: str | None = None, fulfillment_status: str | None = None,
               financial_status: str | None = None, placed_from: datetime | None = None,
               placed_to: datetime | None = None,
               attention: bool | None = None) -> Page[Order]:
    """Newest first; every filter is optional (``attention``: flagged orders only, or none)."""
    with workspace_scope(workspace_id):
        queryset = Order.objects.prefetch_related(*ORDER_RELATIONS)
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
        if attention is not None:
            queryset = queryset.filter(needs_attention=attention)
        return keyset_page(queryset, cursor=cursor, limit=limit)


def return_get(*, workspace_id: uuid.UUID, order_id: uuid.UUID | str,
               return_id: uuid.UUID | str) -> Return:
    """A return of this order, or NotFound."""
    oid, rid = parse_id(order_id, what="order"), parse_id(return_id, what="return")
    with workspace_scope(workspace_id):
        found = Return.objects.filter(id=rid, order_id=oid).prefetch_related("lines").first()
    if found is None:
        raise NotFound("no such return")
    return found


def draft_order_get(*, workspace_id: uuid.UUID, draft_id: uuid.UUID | str) -> DraftOrder:
    did = parse_id(draft_id, what="draft order")
    with workspace_scope(workspace_id):
        draft = DraftOrder.objects.filter(id=did).prefetch_related("lines").first()
    if draft is None:
        raise NotFound("no such draft order")
    return draft


def draft_order_list(*, workspace_id: uuid.UUID, cursor: str | None = None, limit: int = 50,
                     status: str | None = None) -> Page[DraftOrder]:
    with workspace_scope(workspace_id):
        queryset = DraftOrder.objects.prefetch_related("lines")
        if status:
            queryset = queryset.filter(status=status)
        return keyset_page(queryset, cursor=cursor, limit=limit)


def abandoned_checkout_get(*, workspace_id: uuid.UUID,
                           checkout_id: uuid.UUID | str) -> AbandonedCheckout:
    cid = parse_id(checkout_id, what="checkout")
    with workspace_scope(workspace_id):
        checkout = AbandonedCheckout.objects.filter(id=cid).first()
    if checkout is None:
        raise NotFound("no such checkout")
    return checkout


def abandoned_checkout_list(*, workspace_id: uuid.UUID, cursor: str | None = None,
                            limit: int = 50,
                            recovered: bool | None = None) -> Page[AbandonedCheckout]:
    """Newest first; ``recovered`` keeps only recovered (True) or open (False) ones."""
    with workspace_scope(workspace_id):
        queryset = AbandonedCheckout.objects.all()
        if recovered is not None:
            queryset = queryset.filter(recovered_order__isnull=not recovered)
        return keyset_page(queryset, cursor=cursor, limit=limit)

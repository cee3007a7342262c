"""Reads for orders, draft orders and abandoned checkouts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django.db.models import Count, OuterRef, Subquery, Sum
from django.db.models.functions import TruncDate

from storesync.core.errors import NotFound
from storesync.core.ids import parse_id
from storesync.core.pagination import Page, keyset_page
from storesync.core.tenancy import workspace_scope
from storesync.inventory.selectors import movements_by_reference
from storesync.orders.models import (
    AbandonedCheckout,
    DraftOrder,
    FulfillmentStatus,
    Order,
    OrderLine,
    Return,
)
from storesync.security.access import personal_data_access
from storesync.security.audit import Actor, chain_of
from storesync.security.models import AuditEvent

ORDER_RELATIONS = ("lines", "transactions", "fulfillment_orders", "fulfillments__lines",
                   "refunds__lines", "returns__lines")
# The buyer's personal fields on an order, in the order a page shows them.
BUYER_FIELDS = ("email", "ship_name", "ship_line1", "ship_line2", "ship_city", "ship_postcode",
                "ship_phone")


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
               placed_to: datetime | None = None, cancelled: bool | None = None,
               number: int | None = None, attention: bool | None = None,
               customer_id: uuid.UUID | None = None,
               relations: Sequence[str] = ORDER_RELATIONS,
               count_lines: bool = False) -> Page[Order]:
    """Newest first; every filter is optional. ``number`` is an exact order number;
    ``attention``: flagged orders only (True) or unflagged ones (False); ``customer_id``: one
    customer's history.

    ``relations``: what to load with each order (each is one more query per page; the API
    shows them all, a list page may need none). ``count_lines`` sets ``line_count`` on each
    order, counted by the database instead of loading the lines."""
    with workspace_scope(workspace_id):
        queryset = Order.objects.prefetch_related(*relations)
        if count_lines:
            queryset = queryset.annotate(line_count=Subquery(
                OrderLine.objects.filter(order=OuterRef("pk")).order_by()
                .values("order").annotate(n=Count("id")).values("n")))
        if number is not None:
            queryset = queryset.filter(number=number)
        if customer_id is not None:
            queryset = queryset.filter(customer_id=customer_id)
        if source:
            queryset = queryset.filter(source=source)
        if fulfillment_status:
            queryset = queryset.filter(fulfillment_status=fulfillment_status)
        if financial_status:
            queryset = queryset.filter(financial_status=financial_status)
        if cancelled is not None:
            queryset = queryset.filter(cancelled_at__isnull=not cancelled)
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


def open_order_count(*, workspace_id: uuid.UUID) -> int:
    """Orders waiting to ship: not cancelled and not (fully) fulfilled."""
    with workspace_scope(workspace_id):
        return Order.objects.filter(cancelled_at__isnull=True).exclude(
            fulfillment_status=FulfillmentStatus.FULFILLED).count()


def order_sources(*, workspace_id: uuid.UUID) -> list[str]:
    """The sources (``manual`` or a platform) the workspace's orders came from."""
    with workspace_scope(workspace_id):
        return sorted(set(Order.objects.values_list("source", flat=True).distinct()))


def order_reveal(*, order: Order, actor: Actor, purpose: str) -> dict[str, Any]:
    """Decrypt the buyer's contact and shipping address; one audited ``personal_data.read``."""
    with personal_data_access(actor=actor, workspace_id=order.workspace_id, purpose=purpose):
        return {name: getattr(order, name) for name in BUYER_FIELDS}


@dataclass(frozen=True)
class DaySales:
    day: date
    orders: int
    revenue_minor: int


def sales_by_day(*, workspace_id: uuid.UUID, first_day: date, days: int,
                 tz: tzinfo) -> list[DaySales]:
    """Orders and revenue (order totals) per calendar day in ``tz``, one entry for each of
    ``days`` days from ``first_day`` (zero on quiet days). Cancelled orders do not count."""
    start = datetime.combine(first_day, time.min, tzinfo=tz)
    end = datetime.combine(first_day + timedelta(days=days), time.min, tzinfo=tz)
    with workspace_scope(workspace_id):
        rows = (Order.objects.filter(placed_at__gte=start, placed_at__lt=end,
                                     cancelled_at__isnull=True)
                .annotate(day=TruncDate("placed_at", tzinfo=tz)).values("day")
                .annotate(n=Count("id"), revenue=Sum("total_minor")).order_by())
        by_day = {row["day"]: (row["n"], row["revenue"] or 0) for row in rows}
    return [DaySales(d, *by_day.get(d, (0, 0)))
            for d in (first_day + timedelta(days=i) for i in range(days))]


@dataclass(frozen=True)
class SourceSales:
    source: str
    orders: int
    revenue_minor: int


def sales_by_source(*, workspace_id: uuid.UUID, since: datetime) -> list[SourceSales]:
    """Orders and revenue per source (channel) since ``since``, busiest first; no cancelled."""
    with workspace_scope(workspace_id):
        rows = (Order.objects.filter(placed_at__gte=since, cancelled_at__isnull=True)
                .values("source").annotate(n=Count("id"), revenue=Sum("total_minor"))
                .order_by("-n", "source"))
        return [SourceSales(row["source"], row["n"], row["revenue"] or 0) for row in rows]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    summary: str


def _movement_entries(order: Order) -> list[TimelineEntry]:
    words = {"reserve": "Reserved", "release": "Released", "sale": "Shipped (sold)"}
    out = []
    for m in movements_by_reference(workspace_id=order.workspace_id, reference=f"order:{order.id}"):
        quantity = abs(m.reserved_delta or m.on_hand_delta)
        out.append(TimelineEntry(m.created_at, f"stock.{m.kind}",
                                 f"{words.get(m.kind, m.kind)} {quantity} of "
                                 f"{m.level.variant.sku} at {m.level.location.name}"))
    return out


def order_timeline(*, order: Order) -> list[TimelineEntry]:
    """What happened to an order, oldest first: placed, payments, stock reserved, released
    or sold, fulfilled, cancelled, and every audited reveal of the buyer's data."""
    entries = [TimelineEntry(order.placed_at, "order.placed",
                             f"Order #{order.number} placed ({order.source})")]
    entries += [TimelineEntry(t.processed_at, f"payment.{t.kind}",
                              f"Payment {t.kind} {t.status}"
                              + (f" via {t.gateway}" if t.gateway else "")
                              + (f" ({t.card_brand} •••• {t.card_last4})" if t.card_last4 else ""))
                for t in order.transactions.all()]
    entries += _movement_entries(order)
    if order.cancelled_at:
        entries.append(TimelineEntry(order.cancelled_at, "order.cancelled",
                                     f"Cancelled: {order.cancel_reason}"))
    if order.customer_id is None:
        # With a customer, reads are filed under the customer (the data subject) and do not
        # say which of their orders was read; the customer's audit trail shows them.
        reads = AuditEvent.objects.filter(chain=chain_of(order.workspace_id),
                                          action="personal_data.read", subject_type="order",
                                          subject_id=str(order.id))
        entries += [TimelineEntry(e.occurred_at, "personal_data.read",
                                  f"Buyer details revealed ({e.purpose.replace('_', ' ')})")
                    for e in reads.order_by("-seq")[:50]]
    return sorted(entries, key=lambda e: e.at)

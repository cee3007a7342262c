"""Fulfillment orders and fulfillments (Shopify's FulfillmentOrder and Fulfillment).

An order gets one fulfillment order per location its lines ship from: merchant-managed, or
managed by a third party when the location is a 3PL warehouse. A fulfillment ships some or all
remaining units of one fulfillment order's lines, with carrier and tracking; only the shipped
units of the reservation become sales in the stock ledger.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlparse

from django.db import transaction
from django.db.models import F

from storesync.core.bulkwrite import tenant_bulk_insert
from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.inventory import services as inventory
from storesync.inventory.models import Location, LocationKind
from storesync.orders.models import (
    Fulfillment,
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentStatus,
    Order,
    OrderLine,
)
from storesync.orders.signals import send_fulfillment_created
from storesync.security import audit


@dataclass(frozen=True)
class FulfillmentLineInput:
    line_id: uuid.UUID
    quantity: int


@dataclass(frozen=True)
class TrackingInput:
    company: str = ""
    number: str = ""
    url: str = ""


def order_locked(order_id: uuid.UUID) -> Order:
    """The order, row-locked until the transaction ends: every change of an order's lines,
    fulfillments, refunds or returns takes this lock first, so they serialise per order."""
    order = Order.objects.select_for_update().filter(id=order_id).first()
    if order is None:
        raise NotFound("no such order")
    return order


def fulfillment_orders_open(order: Order, lines: Sequence[OrderLine]) -> list[FulfillmentOrder]:
    """Create the missing fulfillment orders of ``order``: one per location of its lines."""
    created = fulfillment_orders_missing(order, lines)
    tenant_bulk_insert(created)
    return created


def fulfillment_orders_missing(order: Order, lines: Sequence[OrderLine], *,
                               new_order: bool = False) -> list[FulfillmentOrder]:
    """The fulfillment orders ``order`` lacks, one per location of its lines, not saved yet.

    ``new_order``: the order is being stored in this transaction, so it has none yet (saves a
    query). A line's location already loaded on it is not read again."""
    location_ids = {line.location_id for line in lines if line.location_id}
    existing = set() if new_order else set(
        FulfillmentOrder.objects.filter(order=order).values_list("location_id", flat=True))
    kinds = {line.location_id: line.location.kind for line in lines
             if line.location_id and OrderLine.location.is_cached(line)
             and line.location is not None}
    missing = location_ids - existing - set(kinds)
    if missing:
        kinds.update(Location.objects.filter(id__in=missing).values_list("id", "kind"))
    return [FulfillmentOrder(
        workspace_id=order.workspace_id, order=order, location_id=location_id,
        managed_by=FulfillmentOrder.ManagedBy.THIRD_PARTY
        if kinds[location_id] == LocationKind.THIRD_PARTY else FulfillmentOrder.ManagedBy.MERCHANT,
    ) for location_id in sorted(location_ids - existing)]


def fulfillment_orders_with_work(order: Order) -> list[FulfillmentOrder]:
    """The order's fulfillment orders that still have units to ship."""
    lines = list(OrderLine.objects.filter(order=order))
    fulfillment_orders_open(order, lines)  # orders stored before fulfillment orders existed
    pending = {line.location_id for line in lines if line.fulfillable_quantity > 0}
    return list(FulfillmentOrder.objects.filter(order=order, location_id__in=pending)
                .order_by("id"))


def _check_tracking(tracking: TrackingInput) -> None:
    if len(tracking.company) > 100:
        raise ValidationError("at most 100 characters", field="tracking_company")
    if len(tracking.number) > 100:
        raise ValidationError("at most 100 characters", field="tracking_number")
    if tracking.url:
        parsed = urlparse(tracking.url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or len(tracking.url) > 500:
            raise ValidationError("an http(s) address of at most 500 characters",
                                  field="tracking_url")


def _wanted(fo: FulfillmentOrder | None, lines: Sequence[FulfillmentLineInput] | None,
            order_lines: dict[uuid.UUID, OrderLine]) -> list[tuple[OrderLine, int]]:
    """Which units to ship: the given lines (checked), or everything left in ``fo``."""
    if lines is None:
        assert fo is not None
        return [(line, line.fulfillable_quantity) for line in order_lines.values()
                if line.location_id == fo.location_id and line.fulfillable_quantity > 0]
    if not lines:
        raise ValidationError("name at least one line to fulfil", field="lines")
    wanted: list[tuple[OrderLine, int]] = []
    for i, item in enumerate(lines):
        line = order_lines.get(item.line_id)
        if line is None:
            raise ValidationError("not a line of this order", field=f"lines.{i}.line_id")
        if any(seen.id == line.id for seen, _ in wanted):
            raise ValidationError("this line is listed twice", field=f"lines.{i}.line_id")
        if not isinstance(item.quantity, int) or item.quantity <= 0:
            raise ValidationError("a positive whole number", field=f"lines.{i}.quantity")
        if item.quantity > line.fulfillable_quantity:
            raise ValidationError(f"only {line.fulfillable_quantity} unit(s) of this line are "
                                  "left to fulfil", field=f"lines.{i}.quantity")
        if fo is not None and line.location_id != fo.location_id:
            raise ValidationError("this line ships from another location",
                                  field=f"lines.{i}.line_id")
        wanted.append((line, item.quantity))
    return wanted


def _fulfillment_order_for(order: Order, fulfillment_order_id: uuid.UUID | None,
                           lines: Sequence[FulfillmentLineInput] | None,
                           order_lines: dict[uuid.UUID, OrderLine]) -> FulfillmentOrder:
    fulfillment_orders_open(order, list(order_lines.values()))
    if fulfillment_order_id is not None:
        fo = FulfillmentOrder.objects.filter(order=order, id=fulfillment_order_id).first()
        if fo is None:
            raise NotFound("no such fulfillment order")
        return fo
    if lines is None:
        raise ValidationError("name the fulfillment order or the lines to ship",
                              field="fulfillment_order_id")
    if not lines:
        raise ValidationError("name at least one line to fulfil", field="lines")
    locations = {order_lines[item.line_id].location_id for item in lines
                 if item.line_id in order_lines}
    if None in locations:
        raise ValidationError("this line has no location to ship from (the order was imported "
                              "without one); set up a location first", field="lines")
    if len(locations) > 1:
        raise ValidationError("these lines ship from different locations: one fulfillment "
                              "per fulfillment order", field="lines")
    fo = FulfillmentOrder.objects.filter(order=order, location_id__in=locations).first()
    if fo is None:
        raise ValidationError("not a line of this order", field="lines.0.line_id")
    return fo


def fulfillment_create(*, workspace_id: uuid.UUID, order_id: uuid.UUID,
                       fulfillment_order_id: uuid.UUID | None = None,
                       lines: Sequence[FulfillmentLineInput] | None = None,
                       tracking: TrackingInput = TrackingInput(),
                       actor: audit.Actor) -> Fulfillment:
    """Ship units of one fulfillment order: the named ``lines`` (partial quantities allowed),
    or, without ``lines``, everything it still has to ship.

    The shipped units' reservations become sales; the order's fulfillment status turns
    ``partial`` or ``fulfilled``. Shipping more than is left is a ``ValidationError`` naming
    the line; a cancelled order or one with nothing left is a ``Conflict``."""
    _check_tracking(tracking)
    with workspace_scope(workspace_id), transaction.atomic():
        order = order_locked(order_id)
        if order.cancelled_at:
            raise Conflict("the order is cancelled", field="order")
        order_lines = {line.id: line for line in OrderLine.objects.filter(order=order)}
        fo = _fulfillment_order_for(order, fulfillment_order_id, lines, order_lines)
        wanted = _wanted(fo, lines, order_lines)
        if not wanted:
            raise Conflict("nothing is left to fulfil here", field="fulfillment_order_id")
        number = Fulfillment.objects.filter(order=order).count() + 1
        shipment = Fulfillment.objects.create(
            workspace_id=workspace_id, order=order, fulfillment_order=fo, number=number,
            tracking_company=tracking.company.strip(), tracking_number=tracking.number.strip(),
            tracking_url=tracking.url.strip())
        FulfillmentLine.objects.bulk_create([
            FulfillmentLine(workspace_id=workspace_id, fulfillment=shipment, line=line,
                            quantity=quantity) for line, quantity in wanted])
        for line, quantity in wanted:
            changed = OrderLine.objects.filter(
                id=line.id,
                fulfilled_quantity__lte=F("quantity") - F("removed_quantity") - quantity,
            ).update(fulfilled_quantity=F("fulfilled_quantity") + quantity)
            if not changed:  # the order lock makes this unreachable; the guard keeps it so
                raise Conflict("the line changed meanwhile", field="lines")
        sold = [inventory.StockLine(line.variant_id, line.location_id, quantity)
                for line, quantity in wanted
                if line.reserves and line.variant_id and line.location_id]
        if sold:
            inventory.reservation_fulfil_lines(workspace_id=workspace_id,
                                               reference=f"order:{order.id}", lines=sold,
                                               actor=actor)
        order_refresh_statuses(order)
        if order.connection_id is not None:  # a channel's order: the channel is told
            send_fulfillment_created(workspace_id=workspace_id, order_id=order.id,
                                     fulfillment_id=shipment.id,
                                     connection_id=order.connection_id)
    return shipment


def order_refresh_statuses(order: Order) -> None:
    """Recompute the locked order's fulfillment status and its fulfillment orders' statuses
    from its lines, and bump the order's version."""
    lines = list(OrderLine.objects.filter(order=order))
    for fo in FulfillmentOrder.objects.filter(order=order).exclude(
            status=FulfillmentOrder.Status.CANCELLED):
        mine = [line for line in lines if line.location_id == fo.location_id]
        if all(line.fulfillable_quantity == 0 for line in mine):
            status = FulfillmentOrder.Status.CLOSED
        elif any(line.fulfilled_quantity for line in mine):
            status = FulfillmentOrder.Status.IN_PROGRESS
        else:
            status = FulfillmentOrder.Status.OPEN
        if status != fo.status:
            FulfillmentOrder.objects.filter(id=fo.id).update(status=status)
    shipped = any(line.fulfilled_quantity for line in lines)
    if shipped and all(line.fulfillable_quantity == 0 for line in lines):
        order.fulfillment_status = FulfillmentStatus.FULFILLED
    elif shipped:
        order.fulfillment_status = FulfillmentStatus.PARTIAL
    else:
        order.fulfillment_status = FulfillmentStatus.UNFULFILLED
    order.version += 1
    order.save(update_fields=["fulfillment_status", "version", "updated_at"])

"""Refunds and returns (Shopify's Refund and Return).

A refund gives money back (never more than was paid) and may take units off the order: units
not shipped yet are removed (their reservation is released), shipped units may be restocked (a
``return`` movement puts them back on hand). A return follows shipped units back: requested,
then received, restocked or not. Card numbers are never stored, on refunds as on payments.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.inventory import services as inventory
from storesync.orders import fulfillment
from storesync.orders.models import (
    FinancialStatus,
    Order,
    OrderLine,
    Refund,
    RefundLine,
    Return,
    ReturnLine,
    Transaction,
)
from storesync.security import audit


@dataclass(frozen=True)
class RefundLineInput:
    line_id: uuid.UUID
    quantity: int
    restock: bool = False


@dataclass(frozen=True)
class ReturnLineInput:
    line_id: uuid.UUID
    quantity: int
    reason: str = ""


@dataclass
class RefundOutcome:
    refund: Refund
    stock_changed_variant_ids: set[uuid.UUID] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)  # lenient mode: what could not apply


def _paid(order: Order) -> int:
    return sum(Transaction.objects.filter(order=order, kind__in=("sale", "capture"),
                                          status="success").values_list("amount_minor",
                                                                         flat=True))


def _line_checks(order: Order, lines: Sequence[RefundLineInput], *, strict: bool,
                 skipped: list[str]) -> list[tuple[OrderLine, int, bool]]:
    by_id = {line.id: line for line in OrderLine.objects.filter(order=order)}
    checked: list[tuple[OrderLine, int, bool]] = []
    for i, item in enumerate(lines):
        line = by_id.get(item.line_id)
        if line is None:
            raise ValidationError("not a line of this order", field=f"lines.{i}.line_id")
        if any(seen.id == line.id for seen, _, _ in checked):
            raise ValidationError("this line is listed twice", field=f"lines.{i}.line_id")
        if not isinstance(item.quantity, int) or item.quantity <= 0:
            raise ValidationError("a positive whole number", field=f"lines.{i}.quantity")
        left = line.quantity - line.refunded_quantity
        quantity = item.quantity
        if quantity > left:
            if strict:
                raise ValidationError(f"only {left} unit(s) of this line can still be refunded",
                                      field=f"lines.{i}.quantity")
            skipped.append(f"refund of {quantity} x {line.sku or line.title}: only {left} left")
            quantity = left
        if quantity:
            checked.append((line, quantity, item.restock))
    return checked


def _take_units(order: Order, line: OrderLine, quantity: int, restock: bool,
                actor: audit.Actor) -> tuple[int, int]:
    """Refund ``quantity`` units of a line: unshipped ones first (released), then shipped
    ones (restocked if asked). Returns (removed, restocked)."""
    removed = min(quantity, line.fulfillable_quantity)
    restockable = line.fulfilled_quantity - line.restocked_quantity
    restocked = min(quantity - removed, restockable) if restock and line.variant_id else 0
    changed = OrderLine.objects.filter(
        id=line.id, refunded_quantity__lte=F("quantity") - quantity,
    ).update(refunded_quantity=F("refunded_quantity") + quantity,
             removed_quantity=F("removed_quantity") + removed,
             restocked_quantity=F("restocked_quantity") + restocked)
    if not changed:
        raise Conflict("the line changed meanwhile", field="lines")
    reference = f"order:{order.id}"
    held = line.reserves and order.cancelled_at is None  # cancelling released it all
    if removed and held and line.variant_id and line.location_id:
        inventory.reservation_release_lines(
            workspace_id=order.workspace_id, reference=reference, actor=actor,
            lines=[inventory.StockLine(line.variant_id, line.location_id, removed)])
    if restocked and line.variant_id and line.location_id:
        inventory.stock_return(workspace_id=order.workspace_id, variant_id=line.variant_id,
                               location_id=line.location_id, quantity=restocked,
                               reference=reference, actor=actor, reason="refund restock")
    return removed, restocked


def refund_apply(order: Order, *, lines: Sequence[RefundLineInput], amount_minor: int,
                 actor: audit.Actor, note: str = "", gateway: str = "", external_id: str = "",
                 processed_at: datetime | None = None, strict: bool = True) -> RefundOutcome:
    """Inside the caller's transaction, on a locked order: record a refund and its effects.

    ``strict`` (staff refunds) refuses amounts beyond what was paid and quantities beyond
    what is left; lenient mode (a channel's refund, which already happened) applies what it
    can and lists the rest in ``skipped``."""
    if not isinstance(amount_minor, int) or amount_minor < 0:
        raise ValidationError("cannot be negative", field="amount")
    if len(note) > 255:
        raise ValidationError("at most 255 characters", field="note")
    skipped: list[str] = []
    checked = _line_checks(order, lines, strict=strict, skipped=skipped)
    refundable = _paid(order) - order.refunded_minor
    if strict and amount_minor > refundable:
        raise ValidationError(f"only {max(refundable, 0)} (minor units) can still be refunded",
                              field="amount")
    if strict and not checked and not amount_minor:
        raise ValidationError("refund an amount, some lines, or both", field="amount")
    refund = Refund.objects.create(workspace_id=order.workspace_id, order=order, note=note,
                                   amount_minor=amount_minor, external_id=external_id,
                                   processed_at=processed_at or timezone.now())
    outcome = RefundOutcome(refund=refund, skipped=skipped)
    for line, quantity, restock in checked:
        removed, restocked = _take_units(order, line, quantity, restock, actor)
        RefundLine.objects.create(workspace_id=order.workspace_id, refund=refund, line=line,
                                  quantity=quantity, restock=restock, removed_quantity=removed,
                                  restocked_quantity=restocked)
        if (removed and line.reserves and not order.cancelled_at) or restocked:
            outcome.stock_changed_variant_ids.add(line.variant_id)  # type: ignore[arg-type]
    if amount_minor:
        Transaction.objects.create(workspace_id=order.workspace_id, order=order, refund=refund,
                                   kind=Transaction.Kind.REFUND, gateway=gateway[:50],
                                   amount_minor=amount_minor, external_id=external_id,
                                   processed_at=refund.processed_at)
    order.refunded_minor += amount_minor
    paid = _paid(order)
    if order.refunded_minor and order.refunded_minor >= paid:
        order.financial_status = FinancialStatus.REFUNDED
    elif order.refunded_minor:
        order.financial_status = FinancialStatus.PARTIALLY_REFUNDED
    order.save(update_fields=["refunded_minor", "financial_status", "updated_at"])
    fulfillment.order_refresh_statuses(order)
    return outcome


def refund_create(*, workspace_id: uuid.UUID, order_id: uuid.UUID, amount_minor: int,
                  lines: Sequence[RefundLineInput] = (), note: str = "", gateway: str = "",
                  actor: audit.Actor) -> Refund:
    """Refund money and/or units of an order (see ``refund_apply``, strict mode)."""
    with workspace_scope(workspace_id), transaction.atomic():
        order = fulfillment.order_locked(order_id)
        return refund_apply(order, lines=lines, amount_minor=amount_minor, note=note,
                            gateway=gateway, actor=actor).refund


def _returnable(order: Order) -> dict[uuid.UUID, int]:
    """Shipped units per line not already in a requested or received return."""
    on_way = dict(ReturnLine.objects.filter(return_request__order=order).exclude(
        return_request__status=Return.Status.CANCELLED).values("line_id")
        .annotate(total=Sum("quantity")).values_list("line_id", "total"))
    return {line.id: line.fulfilled_quantity - on_way.get(line.id, 0)
            for line in OrderLine.objects.filter(order=order)}


def return_request(*, workspace_id: uuid.UUID, order_id: uuid.UUID,
                   lines: Sequence[ReturnLineInput], note: str = "",
                   actor: audit.Actor) -> Return:
    """Open a return for shipped units (at most what shipped and is not already returning)."""
    if not lines:
        raise ValidationError("name at least one line to return", field="lines")
    if len(note) > 255:
        raise ValidationError("at most 255 characters", field="note")
    with workspace_scope(workspace_id), transaction.atomic():
        order = fulfillment.order_locked(order_id)
        returnable = _returnable(order)
        seen: set[uuid.UUID] = set()
        for i, item in enumerate(lines):
            if item.line_id not in returnable:
                raise ValidationError("not a line of this order", field=f"lines.{i}.line_id")
            if item.line_id in seen:
                raise ValidationError("this line is listed twice", field=f"lines.{i}.line_id")
            seen.add(item.line_id)
            if not isinstance(item.quantity, int) or item.quantity <= 0:
                raise ValidationError("a positive whole number", field=f"lines.{i}.quantity")
            if item.quantity > returnable[item.line_id]:
                raise ValidationError(f"only {returnable[item.line_id]} shipped unit(s) of this "
                                      "line can be returned", field=f"lines.{i}.quantity")
            if len(item.reason) > 100:
                raise ValidationError("at most 100 characters", field=f"lines.{i}.reason")
        request = Return.objects.create(workspace_id=workspace_id, order=order, note=note)
        ReturnLine.objects.bulk_create([
            ReturnLine(workspace_id=workspace_id, return_request=request, line_id=item.line_id,
                       quantity=item.quantity, reason=item.reason) for item in lines])
        order.version += 1
        order.save(update_fields=["version", "updated_at"])
    return request


def return_receive(*, workspace_id: uuid.UUID, return_id: uuid.UUID, restock: bool,
                   actor: audit.Actor) -> Return:
    """The parcel arrived: mark the return received and, if ``restock``, put its units back on
    hand (a ``return`` movement each). Receiving twice is a ``Conflict``."""
    with workspace_scope(workspace_id), transaction.atomic():
        found = Return.objects.filter(id=return_id).values_list("order_id", flat=True).first()
        if found is None:
            raise NotFound("no such return")
        order = fulfillment.order_locked(found)
        request = Return.objects.get(id=return_id)
        if request.status != Return.Status.REQUESTED:
            raise Conflict(f"this return is {request.status} already", field="status")
        if restock:
            for item in ReturnLine.objects.filter(return_request=request).select_related("line"):
                line = item.line
                quantity = min(item.quantity, line.fulfilled_quantity - line.restocked_quantity)
                if quantity <= 0 or not (line.variant_id and line.location_id):
                    continue
                OrderLine.objects.filter(id=line.id).update(
                    restocked_quantity=F("restocked_quantity") + quantity)
                inventory.stock_return(workspace_id=workspace_id, variant_id=line.variant_id,
                                       location_id=line.location_id, quantity=quantity,
                                       reference=f"order:{order.id}", actor=actor,
                                       reason="return received")
        request.status = Return.Status.RECEIVED
        request.received_at = timezone.now()
        request.restocked = restock
        request.save(update_fields=["status", "received_at", "restocked"])
        order.version += 1
        order.save(update_fields=["version", "updated_at"])
    return request


def return_cancel(*, workspace_id: uuid.UUID, return_id: uuid.UUID,
                  actor: audit.Actor) -> Return:
    """Withdraw a requested return (the buyer kept the goods); its units may be returned
    later by a new request. A received return cannot be cancelled (``Conflict``)."""
    with workspace_scope(workspace_id), transaction.atomic():
        found = Return.objects.filter(id=return_id).values_list("order_id", flat=True).first()
        if found is None:
            raise NotFound("no such return")
        order = fulfillment.order_locked(found)
        request = Return.objects.get(id=return_id)
        if request.status == Return.Status.CANCELLED:
            return request
        if request.status != Return.Status.REQUESTED:
            raise Conflict(f"this return is {request.status} already", field="status")
        request.status = Return.Status.CANCELLED
        request.save(update_fields=["status"])
        order.version += 1
        order.save(update_fields=["version", "updated_at"])
    return request

"""Writes for orders: one transaction numbers the order, prices and taxes its lines, opens
its fulfillment orders and reserves its stock; cancelling releases the stock, fulfilling
turns it into a sale (``orders.fulfillment``), refunds and returns live in ``orders.refunds``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from storesync.catalog.models import Variant
from storesync.core.bulkwrite import insert_statements
from storesync.core.compiled_sql import Selection, select
from storesync.core.errors import Conflict, ValidationError
from storesync.core.ids import uuid7
from storesync.core.models import Workspace
from storesync.core.statement_batch import Statement, run_statements
from storesync.core.tenancy import current_workspace_id, workspace_scope
from storesync.core.validation import validate_email_address, validate_phone_number
from storesync.customers.services import AddressInput
from storesync.inventory import services as inventory
from storesync.inventory.models import Location, Reservation, ReservationState
from storesync.orders import checkouts, fulfillment, gst
from storesync.orders.models import (
    FinancialStatus,
    FulfillmentOrder,
    FulfillmentStatus,
    Order,
    OrderCounter,
    OrderLine,
    Transaction,
)
from storesync.security import audit

MAX_LINES = 500


@dataclass
class LineInput:
    sku: str
    quantity: int
    unit_price_minor: int | None = None  # default: the variant's price
    discount_minor: int = 0


@dataclass
class PaymentInput:
    kind: str
    amount_minor: int
    gateway: str = ""
    card_brand: str = ""
    card_last4: str = ""
    external_id: str = ""


@dataclass
class OrderInput:
    lines: list[LineInput]
    shipping_address: AddressInput
    email: str = ""
    customer_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    shipping_minor: int = 0
    buyer_gstin: str = ""
    source: str = "manual"
    external_id: str = ""
    placed_at: datetime | None = None
    payments: list[PaymentInput] = field(default_factory=list)


def _check_lines(lines: list[LineInput]) -> None:
    if not lines:
        raise ValidationError("an order has at least one line", field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationError(f"at most {MAX_LINES} lines", field="lines")
    for i, line in enumerate(lines):
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            raise ValidationError("a positive whole number", field=f"lines.{i}.quantity")
        if line.unit_price_minor is not None and line.unit_price_minor < 0:
            raise ValidationError("cannot be negative", field=f"lines.{i}.unit_price")
        if line.discount_minor < 0:
            raise ValidationError("cannot be negative", field=f"lines.{i}.discount")


def _check_payment(index: int, payment: PaymentInput) -> None:
    where = f"payments.{index}."
    if payment.kind not in Transaction.Kind.values:
        raise ValidationError(f"kind is one of {', '.join(Transaction.Kind.values)}",
                              field=where + "kind")
    if payment.amount_minor < 0:
        raise ValidationError("cannot be negative", field=where + "amount")
    if payment.card_last4 and not (payment.card_last4.isdigit() and len(payment.card_last4) == 4):
        # Refuses a full card number sent by mistake: storesync never stores one.
        raise ValidationError("only the last four digits of a card", field=where + "card_last4")


def check_payments(payments: list[PaymentInput]) -> None:
    for i, payment in enumerate(payments):
        _check_payment(i, payment)


def address_fields(address: AddressInput, *, field: str = "shipping_address") -> dict[str, Any]:
    """The model fields of a validated shipping address (phone in E.164, state normalised)."""
    if not (address.name.strip() and address.line1.strip() and address.city.strip()
            and address.province_code.strip()):
        raise ValidationError("name, line1, city and province_code are required", field=field)
    for name in ("name", "line1", "line2", "city"):
        if len(getattr(address, name)) > 255:
            raise ValidationError("at most 255 characters", field=f"{field}.{name}")
    phone = (validate_phone_number(address.phone, field=f"{field}.phone",
                                   region=address.country_code or "IN")
             if address.phone.strip() else None)
    return {
        "ship_name": address.name.strip(), "ship_line1": address.line1.strip(),
        "ship_line2": address.line2.strip() or None, "ship_city": address.city.strip(),
        "ship_postcode": address.postcode.strip()[:16] or None, "ship_phone": phone,
        "ship_province_code": gst.normalise_state(address.province_code),
        "ship_country_code": (address.country_code or "IN").upper()[:2],
    }


def paid_minor(payments: list[PaymentInput] | list[Transaction]) -> int:
    """What was taken from the buyer: sales and captures (refunds are counted apart)."""
    return sum(p.amount_minor for p in payments if p.kind in ("sale", "capture")
               and getattr(p, "status", "success") == "success")


def _location_query(location_id: uuid.UUID | None) -> Selection[Location]:
    """The active location named, or the oldest active one, with its workspace's currency
    joined in (``location.workspace``)."""
    where: dict[str, object] = {"is_active": True}
    if location_id:
        where["id"] = location_id
    return select(Location, where=where, related={"workspace": ("currency",)},
                  order_by=() if location_id else ("created_at",), limit=1)


def _location_found(found: list[Location], location_id: uuid.UUID | None) -> Location:
    if not found:
        if not Workspace.objects.filter(id=current_workspace_id()).exists():
            raise Workspace.DoesNotExist("Workspace matching query does not exist.")
        raise ValidationError("no such active location" if location_id else
                              "create a location to fulfil orders from", field="location_id")
    return found[0]


def _variants_query(skus: list[str]) -> Selection[Variant]:
    """The variants of these SKUs with their product's title (an order line's title)."""
    return select(Variant, where={"sku__in": sorted(set(skus))},
                  related={"product": ("title",)})


def _order_inputs(workspace_id: uuid.UUID, data: OrderInput
                  ) -> tuple[Location, int, dict[str, Variant]]:
    """The order's location (with the workspace's currency), its number and its variants by
    SKU: three statements sent together, one round trip on PostgreSQL (ADR 0027). The
    number is taken even if the location or a SKU then turns out wrong: the caller's
    transaction rolls it back."""
    location_query = _location_query(data.location_id)
    variants_query = _variants_query([line.sku.strip() for line in data.lines])
    # Neither is ever empty (an order has lines), so both have a statement to send.
    assert location_query.statement is not None
    assert variants_query.statement is not None
    location_rows, number_rows, variant_rows = run_statements([
        location_query.statement, next_number_statement(workspace_id),
        variants_query.statement])
    location = _location_found(location_query.instances(location_rows), data.location_id)
    assert number_rows is not None
    return (location, int(number_rows[0][0]),
            {v.sku: v for v in variants_query.instances(variant_rows)})


def next_number(workspace_id: uuid.UUID, *, draft: bool = False) -> int:
    """The next order (or draft order) number of the workspace, in one statement
    (``next_number_statement``)."""
    rows = run_statements([next_number_statement(workspace_id, draft=draft)])[0]
    assert rows is not None
    return int(rows[0][0])


def next_number_statement(workspace_id: uuid.UUID, *, draft: bool = False) -> Statement:
    """The statement that takes the next order (or draft order) number; its one row holds it.

    ``INSERT … ON CONFLICT (workspace_id) DO UPDATE SET n = n + 1 RETURNING n - 1`` creates
    the counter on first use and otherwise increments it under the row lock the statement
    takes, so two concurrent orders never get the same number, and the number is never read
    apart from its increment (ADR 0021). PostgreSQL and SQLite (3.35 and later) both run it.
    The workspace is named in the statement: raw SQL does not go through the scoped manager."""
    meta = OrderCounter._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    column = quote("next_draft_number" if draft else "next_number")
    pk, workspace = meta.pk, meta.get_field("workspace")
    assert pk is not None
    assert pk.column
    assert workspace.column
    first_order = meta.get_field("next_number").get_default()
    first_draft = meta.get_field("next_draft_number").get_default()
    # Identifiers from the model only; every value is a parameter.
    sql = (f"INSERT INTO {table} ({quote(pk.column)}, {quote(workspace.column)}, "  # noqa: S608
           f"{quote('next_number')}, {quote('next_draft_number')}) VALUES (%s, %s, %s, %s) "
           f"ON CONFLICT ({quote(workspace.column)}) DO UPDATE SET {column} = {table}.{column} + 1 "
           f"RETURNING {column} - 1")
    return Statement(sql, [pk.get_db_prep_value(uuid7(), connection),
                           workspace.get_db_prep_value(workspace_id, connection),
                           first_order + (0 if draft else 1), first_draft + (1 if draft else 0)])


def _build_lines(order: Order, data: OrderInput, location: Location, supplier_state: str,
                 *, known: Mapping[str, Variant] | None = None) -> list[OrderLine]:
    """Priced and taxed lines; ``known`` (variants with their product, by SKU) saves the
    lookup when the caller already holds the catalogue (the demo prices 10,000 orders)."""
    skus = [line.sku.strip() for line in data.lines]
    variants = {sku: known[sku] for sku in skus if sku in known} if known is not None else \
        {v.sku: v for v in _variants_query(skus).run()}
    built = []
    for i, line in enumerate(data.lines):
        variant = variants.get(line.sku.strip())
        if variant is None:
            raise ValidationError(f"no variant with SKU {line.sku!r}", field=f"lines.{i}.sku")
        unit = variant.price_minor if line.unit_price_minor is None else line.unit_price_minor
        gross = unit * line.quantity - line.discount_minor
        if gross < 0:
            raise ValidationError("the discount is larger than the line",
                                  field=f"lines.{i}.discount")
        tax = gst.split(gross_minor=gross, rate_bp=variant.tax_rate_bp,
                        supplier_state=supplier_state,
                        destination_state=data.shipping_address.province_code,
                        destination_country=data.shipping_address.country_code)
        built.append(OrderLine(
            workspace_id=order.workspace_id, order=order, variant=variant, location=location,
            sku=variant.sku, title=str(variant.product.title) + (
                f" ({variant.title})" if variant.title else ""),
            quantity=line.quantity, unit_price_minor=unit, discount_minor=line.discount_minor,
            hsn_code=variant.hsn_code, tax_rate_bp=variant.tax_rate_bp,
            taxable_minor=tax.taxable_minor, cgst_minor=tax.cgst_minor,
            sgst_minor=tax.sgst_minor, igst_minor=tax.igst_minor, position=i + 1,
        ))
    return built


def order_totals(order: Order, lines: list[OrderLine]) -> None:
    """Sum the lines into the order's subtotal, discount, tax and total."""
    order.subtotal_minor = sum(line.unit_price_minor * line.quantity for line in lines)
    order.discount_minor = sum(line.discount_minor for line in lines)
    order.tax_minor = sum(ln.cgst_minor + ln.sgst_minor + ln.igst_minor for ln in lines)
    order.total_minor = order.subtotal_minor - order.discount_minor + order.shipping_minor


def order_insert(order: Order, lines: list[OrderLine], payments: list[PaymentInput], *,
                 email: str | None, actor: audit.Actor,
                 allow_oversell: bool = False) -> set[uuid.UUID]:
    """Store a priced order inside the caller's transaction: lines, payments, one
    fulfillment order per location, stock held for every line that ``reserves``; an
    abandoned checkout with the same email is marked recovered.

    Returns the ids of the variants whose stock was reserved."""
    shipping = fulfillment.fulfillment_orders_missing(order, lines, new_order=True)
    # The order's model signals are still sent, as ``save()`` sent them; its lines, payments
    # and fulfillment orders never had any (``bulk_create``).
    pre_save.send(sender=Order, instance=order, raw=False, using=connection.alias,
                  update_fields=None)
    # One compiled INSERT per table, all sent together: one round trip on PostgreSQL
    # (ADR 0027).
    run_statements([
        *insert_statements([order]), *insert_statements(lines),
        *insert_statements([
            Transaction(workspace_id=order.workspace_id, order=order, kind=p.kind,
                        gateway=p.gateway, amount_minor=p.amount_minor,
                        card_brand=p.card_brand, card_last4=p.card_last4,
                        external_id=p.external_id, processed_at=order.placed_at)
            for p in payments]),
        *insert_statements(shipping),
    ])
    post_save.send(sender=Order, instance=order, created=True, raw=False,
                   using=connection.alias, update_fields=None)
    if email:
        # Before the stock: the reservation locks stock rows until the commit, and every
        # statement after it is a round trip the next buyer of those SKUs waits for.
        checkouts.checkouts_recover(order=order, email=email)
    held = [inventory.StockLine(ln.variant_id, ln.location_id, ln.quantity)
            for ln in lines if ln.reserves and ln.variant_id and ln.location_id]
    if held:
        # No savepoint: a failed reservation rolls back the caller's whole transaction,
        # the order with it.
        inventory.stock_reserve(workspace_id=order.workspace_id, reference=f"order:{order.id}",
                                actor=actor, lines=held, allow_oversell=allow_oversell,
                                savepoint=False)
    return {line.variant_id for line in held}


def order_create(*, workspace_id: uuid.UUID, data: OrderInput, actor: audit.Actor) -> Order:
    """Validate, number, price, tax and store an order, and reserve its stock — or do nothing.

    Raises ``InsufficientStock`` (409) when a line cannot be reserved.
    """
    _check_lines(data.lines)
    check_payments(data.payments)
    address = address_fields(data.shipping_address)
    email = validate_email_address(data.email, field="email") if data.email.strip() else None
    buyer_gstin = gst.validate_gstin(data.buyer_gstin, field="buyer_gstin") \
        if data.buyer_gstin.strip() else ""
    try:
        with workspace_scope(workspace_id), transaction.atomic():
            location, number, variants = _order_inputs(workspace_id, data)
            supplier_state = (gst.gstin_state(location.gstin) if location.gstin
                              else location.province_code)
            order = Order(
                workspace_id=workspace_id, number=number, source=data.source,
                external_id=data.external_id, customer_id=data.customer_id, email=email,
                buyer_gstin=buyer_gstin, currency=location.workspace.currency,
                shipping_minor=data.shipping_minor, placed_at=data.placed_at or timezone.now(),
                **address,
            )
            lines = _build_lines(order, data, location, supplier_state, known=variants)
            order_totals(order, lines)
            if paid_minor(data.payments) >= order.total_minor and order.total_minor > 0:
                order.financial_status = FinancialStatus.PAID
            order_insert(order, lines, data.payments, email=email, actor=actor)
    except IntegrityError:
        raise Conflict("this order was imported already", field="external_id") from None
    return order


def order_cancel(*, workspace_id: uuid.UUID, order_id: uuid.UUID, reason: str,
                 actor: audit.Actor) -> Order:
    """Cancel an order none of whose units shipped, and give its reserved stock back.

    Once anything shipped, the order is refunded or returned instead (``Conflict``)."""
    with workspace_scope(workspace_id), transaction.atomic():
        order = fulfillment.order_locked(order_id)
        if order.cancelled_at:
            return order
        if order.fulfillment_status != FulfillmentStatus.UNFULFILLED:
            shipped = sum(OrderLine.objects.filter(order=order)
                          .values_list("fulfilled_quantity", flat=True))
            raise Conflict(f"{shipped} unit(s) of this order already shipped: refund or return "
                           "them instead of cancelling", field="order")
        order_cancel_locked(order, reason=reason, actor=actor)
    return order


def order_cancel_locked(order: Order, *, reason: str, actor: audit.Actor,
                        cancelled_at: datetime | None = None) -> set[uuid.UUID]:
    """Cancel a locked order: release what it still holds, close its fulfillment orders.

    Returns the ids of the variants whose reservation was released."""
    reference = f"order:{order.id}"
    released = set(Reservation.objects.filter(reference=reference,
                                              state=ReservationState.ACTIVE)
                   .values_list("level__variant_id", flat=True))
    inventory.reservation_release(workspace_id=order.workspace_id, reference=reference,
                                  actor=actor)
    FulfillmentOrder.objects.filter(order=order).exclude(
        status=FulfillmentOrder.Status.CLOSED).update(status=FulfillmentOrder.Status.CANCELLED)
    order.cancelled_at = cancelled_at or timezone.now()
    order.cancel_reason = reason[:100] or "other"
    order.version += 1
    order.save(update_fields=["cancelled_at", "cancel_reason", "version", "updated_at"])
    return released


def order_fulfil(*, workspace_id: uuid.UUID, order_id: uuid.UUID, actor: audit.Actor) -> Order:
    """Ship everything still to ship, one fulfillment per open fulfillment order.

    A convenience over ``fulfillment.fulfillment_create``; an order with nothing left to ship
    is returned as it is."""
    with workspace_scope(workspace_id), transaction.atomic():
        order = fulfillment.order_locked(order_id)
        if order.cancelled_at:
            raise Conflict("the order is cancelled", field="order")
        for fo in fulfillment.fulfillment_orders_with_work(order):
            fulfillment.fulfillment_create(workspace_id=workspace_id, order_id=order.id,
                                           fulfillment_order_id=fo.id, actor=actor)
        return Order.objects.get(id=order.id)

"""Writes for orders: one transaction numbers the order, prices and taxes its lines, and
reserves its stock; cancelling releases the stock, fulfilling turns it into a sale."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from storesync.catalog.models import Variant
from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.core.validation import validate_email_address, validate_phone_number
from storesync.customers.services import AddressInput
from storesync.inventory import services as inventory
from storesync.inventory.models import Location
from storesync.orders import gst
from storesync.orders.models import (
    FinancialStatus,
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


def _location(location_id: uuid.UUID | None) -> Location:
    queryset = Location.objects.filter(is_active=True)
    location = (queryset.filter(id=location_id) if location_id else
                queryset.order_by("created_at")).first()
    if location is None:
        raise ValidationError("no such active location" if location_id else
                              "create a location to fulfil orders from", field="location_id")
    return location


def _next_number(workspace_id: uuid.UUID) -> int:
    OrderCounter.objects.get_or_create(workspace_id=workspace_id)
    counter = OrderCounter.objects.select_for_update().get()
    number = counter.next_number
    OrderCounter.objects.filter(id=counter.id).update(next_number=number + 1)
    return number


def _build_lines(order: Order, data: OrderInput, location: Location,
                 supplier_state: str) -> list[OrderLine]:
    skus = [line.sku.strip() for line in data.lines]
    variants = {v.sku: v for v in Variant.objects.filter(sku__in=skus).select_related("product")}
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


def order_create(*, workspace_id: uuid.UUID, data: OrderInput, actor: audit.Actor) -> Order:
    """Validate, number, price, tax and store an order, and reserve its stock — or do nothing.

    Raises ``InsufficientStock`` (409) when a line cannot be reserved.
    """
    _check_lines(data.lines)
    for i, payment in enumerate(data.payments):
        _check_payment(i, payment)
    address = data.shipping_address
    if not (address.name.strip() and address.line1.strip() and address.city.strip()
            and address.province_code.strip()):
        raise ValidationError("name, line1, city and province_code are required",
                              field="shipping_address")
    email = validate_email_address(data.email, field="email") if data.email.strip() else None
    phone = (validate_phone_number(address.phone, field="shipping_address.phone",
                                   region=address.country_code or "IN")
             if address.phone.strip() else None)
    buyer_gstin = gst.validate_gstin(data.buyer_gstin, field="buyer_gstin") \
        if data.buyer_gstin.strip() else ""
    workspace = Workspace.objects.get(id=workspace_id)
    try:
        with workspace_scope(workspace_id), transaction.atomic():
            location = _location(data.location_id)
            supplier_state = (gst.gstin_state(location.gstin) if location.gstin
                              else location.province_code)
            order = Order(
                workspace_id=workspace_id, number=_next_number(workspace_id), source=data.source,
                external_id=data.external_id, customer_id=data.customer_id, email=email,
                ship_name=address.name.strip(), ship_line1=address.line1.strip(),
                ship_line2=address.line2.strip() or None, ship_city=address.city.strip(),
                ship_postcode=address.postcode.strip() or None, ship_phone=phone,
                ship_province_code=gst.normalise_state(address.province_code),
                ship_country_code=address.country_code.upper(), buyer_gstin=buyer_gstin,
                currency=workspace.currency, shipping_minor=data.shipping_minor,
                placed_at=data.placed_at or timezone.now(),
            )
            lines = _build_lines(order, data, location, supplier_state)
            order.subtotal_minor = sum(line.unit_price_minor * line.quantity for line in lines)
            order.discount_minor = sum(line.discount_minor for line in lines)
            order.tax_minor = sum(ln.cgst_minor + ln.sgst_minor + ln.igst_minor for ln in lines)
            order.total_minor = order.subtotal_minor - order.discount_minor + order.shipping_minor
            paid = sum(p.amount_minor for p in data.payments
                       if p.kind in ("sale", "capture"))
            if paid >= order.total_minor and order.total_minor > 0:
                order.financial_status = FinancialStatus.PAID
            order.save(force_insert=True)
            OrderLine.objects.bulk_create(lines)
            Transaction.objects.bulk_create([
                Transaction(workspace_id=workspace_id, order=order, kind=p.kind,
                            gateway=p.gateway, amount_minor=p.amount_minor,
                            card_brand=p.card_brand, card_last4=p.card_last4,
                            external_id=p.external_id, processed_at=order.placed_at)
                for p in data.payments
            ])
            inventory.stock_reserve(
                workspace_id=workspace_id, reference=f"order:{order.id}", actor=actor,
                lines=[inventory.StockLine(ln.variant_id, location.id, ln.quantity)
                       for ln in lines if ln.variant_id],
            )
    except IntegrityError:
        raise Conflict("this order was imported already", field="external_id") from None
    return order


def order_cancel(*, workspace_id: uuid.UUID, order_id: uuid.UUID, reason: str,
                 actor: audit.Actor) -> Order:
    """Cancel an unfulfilled order and give its reserved stock back."""
    with workspace_scope(workspace_id), transaction.atomic():
        order = Order.objects.select_for_update().filter(id=order_id).first()
        if order is None:
            raise NotFound("no such order")
        if order.cancelled_at:
            return order
        if order.fulfillment_status != FulfillmentStatus.UNFULFILLED:
            raise Conflict("a shipped order is returned, not cancelled", field="order")
        inventory.reservation_release(workspace_id=workspace_id,
                                      reference=f"order:{order.id}", actor=actor)
        order.cancelled_at = timezone.now()
        order.cancel_reason = reason[:100] or "other"
        order.version += 1
        order.save(update_fields=["cancelled_at", "cancel_reason", "version", "updated_at"])
    return order


def order_fulfil(*, workspace_id: uuid.UUID, order_id: uuid.UUID, actor: audit.Actor) -> Order:
    """Ship every line: the reservations become sales in the stock ledger."""
    with workspace_scope(workspace_id), transaction.atomic():
        order = Order.objects.select_for_update().filter(id=order_id).first()
        if order is None:
            raise NotFound("no such order")
        if order.cancelled_at:
            raise Conflict("the order is cancelled", field="order")
        inventory.reservation_fulfil(workspace_id=workspace_id,
                                     reference=f"order:{order.id}", actor=actor)
        for line in OrderLine.objects.filter(order=order):
            OrderLine.objects.filter(id=line.id).update(fulfilled_quantity=line.quantity)
        order.fulfillment_status = FulfillmentStatus.FULFILLED
        order.version += 1
        order.save(update_fields=["fulfillment_status", "version", "updated_at"])
    return order

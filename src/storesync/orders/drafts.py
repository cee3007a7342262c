"""Draft orders (Shopify's DraftOrder): an order put together by staff — lines, customer,
shipping address, discounts, shipping — that holds no stock until it is completed. Completing
turns it into an ``Order`` through ``order_create`` (which reserves the stock) exactly once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from storesync.catalog.models import Variant
from storesync.core.errors import Conflict, NotFound, ValidationError
from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.core.validation import validate_email_address
from storesync.customers.models import Customer
from storesync.customers.services import AddressInput
from storesync.inventory.models import Location
from storesync.orders import gst
from storesync.orders.models import DraftOrder, DraftOrderLine, Order
from storesync.orders.services import (
    MAX_LINES,
    LineInput,
    OrderInput,
    PaymentInput,
    address_fields,
    next_number,
    order_create,
)
from storesync.security import audit
from storesync.security.access import Purpose, personal_data_access

ADDRESS_FIELDS = ("ship_name", "ship_line1", "ship_line2", "ship_city", "ship_postcode",
                  "ship_phone", "ship_province_code", "ship_country_code")
CHANGEABLE = {"lines", "shipping_address", "email", "customer_id", "location_id",
              "shipping_minor", "discount_minor", "buyer_gstin", "note"}


@dataclass
class DraftInput:
    lines: list[LineInput]
    shipping_address: AddressInput | None = None
    email: str = ""
    customer_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    shipping_minor: int = 0
    discount_minor: int = 0  # an order-level discount, spread over the lines on completion
    buyer_gstin: str = ""
    note: str = ""


def _priced_lines(draft: DraftOrder, lines: list[LineInput]) -> list[DraftOrderLine]:
    if not lines:
        raise ValidationError("a draft order has at least one line", field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationError(f"at most {MAX_LINES} lines", field="lines")
    variants = {v.sku: v for v in Variant.objects.filter(
        sku__in=[line.sku.strip() for line in lines]).select_related("product")}
    built = []
    for i, line in enumerate(lines):
        where = f"lines.{i}."
        variant = variants.get(line.sku.strip())
        if variant is None:
            raise ValidationError(f"no variant with SKU {line.sku!r}", field=where + "sku")
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            raise ValidationError("a positive whole number", field=where + "quantity")
        unit = variant.price_minor if line.unit_price_minor is None else line.unit_price_minor
        if unit < 0:
            raise ValidationError("cannot be negative", field=where + "unit_price")
        if line.discount_minor < 0:
            raise ValidationError("cannot be negative", field=where + "discount")
        if line.discount_minor > unit * line.quantity:
            raise ValidationError("the discount is larger than the line", field=where + "discount")
        built.append(DraftOrderLine(
            workspace_id=draft.workspace_id, draft=draft, variant=variant, sku=variant.sku,
            title=str(variant.product.title) + (f" ({variant.title})" if variant.title else ""),
            quantity=line.quantity, unit_price_minor=unit, discount_minor=line.discount_minor,
            position=i + 1))
    return built


def _set_fields(draft: DraftOrder, changes: dict[str, Any]) -> None:
    """Validate and set every changed field except the lines."""
    if "shipping_address" in changes:
        address = changes["shipping_address"]
        values = (address_fields(address) if address is not None
                  else dict.fromkeys(ADDRESS_FIELDS, None))
        values["ship_province_code"] = values["ship_province_code"] or ""
        values["ship_country_code"] = values["ship_country_code"] or ""
        for name, value in values.items():
            setattr(draft, name, value)
    if "email" in changes:
        email = changes["email"].strip()
        draft.email = validate_email_address(email, field="email") if email else None
    if "customer_id" in changes:
        customer_id = changes["customer_id"]
        if customer_id is not None and not Customer.objects.filter(id=customer_id).exists():
            raise NotFound("no such customer")
        draft.customer_id = customer_id
    if "location_id" in changes:
        location_id = changes["location_id"]
        if location_id is not None and not Location.objects.filter(
                id=location_id, is_active=True).exists():
            raise ValidationError("no such active location", field="location_id")
        draft.location_id = location_id
    for name, attname in (("shipping_minor", "shipping_minor"),
                          ("discount_minor", "applied_discount_minor")):
        if name in changes:
            if not isinstance(changes[name], int) or changes[name] < 0:
                raise ValidationError("cannot be negative", field=name.removesuffix("_minor"))
            setattr(draft, attname, changes[name])
    if "buyer_gstin" in changes:
        gstin = changes["buyer_gstin"].strip()
        draft.buyer_gstin = gst.validate_gstin(gstin, field="buyer_gstin") if gstin else ""
    if "note" in changes:
        if len(changes["note"]) > 5000:
            raise ValidationError("at most 5000 characters", field="note")
        draft.note = changes["note"]


def _reprice(draft: DraftOrder, lines: list[DraftOrderLine]) -> None:
    net = sum(line.unit_price_minor * line.quantity - line.discount_minor for line in lines)
    if draft.applied_discount_minor > net:
        raise ValidationError("the discount is larger than the lines", field="discount")
    draft.subtotal_minor = sum(line.unit_price_minor * line.quantity for line in lines)
    draft.total_minor = net - draft.applied_discount_minor + draft.shipping_minor


def draft_order_create(*, workspace_id: uuid.UUID, data: DraftInput,
                       actor: audit.Actor) -> DraftOrder:
    """Store a draft order, priced from the catalogue (or the given prices); no stock held."""
    workspace = Workspace.objects.get(id=workspace_id)
    with workspace_scope(workspace_id), transaction.atomic():
        draft = DraftOrder(workspace_id=workspace_id, currency=workspace.currency,
                           number=next_number(workspace_id, draft=True))
        _set_fields(draft, {name: getattr(data, name) for name in CHANGEABLE - {"lines"}})
        lines = _priced_lines(draft, data.lines)
        _reprice(draft, lines)
        draft.save(force_insert=True)
        DraftOrderLine.objects.bulk_create(lines)
    return draft


def draft_order_update(*, workspace_id: uuid.UUID, draft_id: uuid.UUID,
                       changes: dict[str, Any], expected_version: int | None,
                       actor: audit.Actor) -> DraftOrder:
    """Change an open draft; ``lines``, when given, replace all its lines.

    ``expected_version`` (from If-Match) refuses a stale write with ``Conflict``; a completed
    draft cannot change."""
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValidationError("cannot be changed", field=sorted(unknown)[0])
    with workspace_scope(workspace_id), transaction.atomic():
        draft = DraftOrder.objects.select_for_update().filter(id=draft_id).first()
        if draft is None:
            raise NotFound("no such draft order")
        if expected_version is not None and draft.version != expected_version:
            raise Conflict("the draft order changed since you read it", field="If-Match")
        if draft.status != DraftOrder.Status.OPEN:
            raise Conflict("a completed draft order cannot change", field="status")
        _set_fields(draft, changes)
        if "lines" in changes:
            lines = _priced_lines(draft, changes["lines"])
        else:
            lines = list(DraftOrderLine.objects.filter(draft=draft).order_by("position"))
        _reprice(draft, lines)
        if "lines" in changes:
            DraftOrderLine.objects.filter(draft=draft).delete()
            DraftOrderLine.objects.bulk_create(lines)
        draft.version += 1
        draft.save()
    return draft


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` over ``weights`` proportionally, in whole minor units that add up
    exactly (largest remainder first; ties go to the earlier line)."""
    whole = sum(weights)
    if not total or not whole:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _order_input(draft: DraftOrder, lines: list[DraftOrderLine],
                 payments: list[PaymentInput]) -> OrderInput:
    shares = allocate(draft.applied_discount_minor,
                      [ln.unit_price_minor * ln.quantity - ln.discount_minor for ln in lines])
    address = AddressInput(
        name=draft.ship_name or "", line1=draft.ship_line1 or "", line2=draft.ship_line2 or "",
        city=draft.ship_city or "", postcode=draft.ship_postcode or "",
        phone=draft.ship_phone or "", province_code=draft.ship_province_code,
        country_code=draft.ship_country_code or "IN")
    return OrderInput(
        lines=[LineInput(sku=ln.sku, quantity=ln.quantity, unit_price_minor=ln.unit_price_minor,
                         discount_minor=ln.discount_minor + share)
               for ln, share in zip(lines, shares, strict=True)],
        shipping_address=address, email=draft.email or "", customer_id=draft.customer_id,
        location_id=draft.location_id, shipping_minor=draft.shipping_minor,
        buyer_gstin=draft.buyer_gstin, source="draft_order", payments=payments)


def draft_order_complete(*, workspace_id: uuid.UUID, draft_id: uuid.UUID,
                         payments: list[PaymentInput] | None = None,
                         actor: audit.Actor) -> tuple[Order, bool]:
    """Turn the draft into an order (reserving its stock), once.

    Returns ``(order, created)``: completing again returns the same order with
    ``created=False``. A draft that cannot become an order (no address, not enough stock)
    raises the order's error and stays open."""
    with workspace_scope(workspace_id), transaction.atomic():
        draft = DraftOrder.objects.select_for_update().filter(id=draft_id).first()
        if draft is None:
            raise NotFound("no such draft order")
        if draft.order_id is not None:
            return Order.objects.get(id=draft.order_id), False
        if draft.status == DraftOrder.Status.COMPLETED:
            raise Conflict("this draft's order was deleted", field="status")
        lines = list(DraftOrderLine.objects.filter(draft=draft).order_by("position"))
        # Copying the buyer's contact onto the order reads it: audited like any other read.
        with personal_data_access(actor=actor, workspace_id=workspace_id,
                                  purpose=Purpose.ORDER_FULFILMENT):
            data = _order_input(draft, lines, payments or [])
        order = order_create(workspace_id=workspace_id, data=data, actor=actor)
        draft.order = order
        draft.status = DraftOrder.Status.COMPLETED
        draft.completed_at = timezone.now()
        draft.version += 1
        draft.save(update_fields=["order", "status", "completed_at", "version", "updated_at"])
    return order, True

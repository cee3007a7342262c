"""Abandoned checkouts (Shopify's AbandonedCheckout): carts left at checkout, kept so that the
shop can win them back, and marked recovered when an order with the same email arrives.

The buyer's email and phone are personal data (encrypted; the email has a blind index so that
recovery matches without decrypting anything). Retention is the privacy engine's job.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from storesync.core.compiled_sql import tenant_update
from storesync.core.errors import Conflict, ValidationError
from storesync.core.models import Workspace
from storesync.core.tenancy import workspace_scope
from storesync.core.validation import validate_email_address, validate_phone_number
from storesync.orders.models import AbandonedCheckout, Order
from storesync.security import audit

MAX_LINES = 250


@dataclass(frozen=True)
class CheckoutLineInput:
    sku: str
    quantity: int
    unit_price_minor: int
    title: str = ""


@dataclass
class CheckoutInput:
    lines: list[CheckoutLineInput]
    abandoned_at: datetime
    email: str = ""
    phone: str = ""
    source: str = "manual"
    external_id: str = ""
    shipping_minor: int = 0
    discount_minor: int = 0
    currency: str = ""  # default: the workspace's


def _clean_lines(lines: list[CheckoutLineInput]) -> list[dict[str, object]]:
    if not lines:
        raise ValidationError("a checkout has at least one line", field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationError(f"at most {MAX_LINES} lines", field="lines")
    cleaned = []
    for i, line in enumerate(lines):
        if not line.sku.strip() or len(line.sku) > 64:
            raise ValidationError("a SKU of 1 to 64 characters", field=f"lines.{i}.sku")
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            raise ValidationError("a positive whole number", field=f"lines.{i}.quantity")
        if line.unit_price_minor < 0:
            raise ValidationError("cannot be negative", field=f"lines.{i}.unit_price")
        cleaned.append({"sku": line.sku.strip(), "title": line.title.strip()[:255],
                        "quantity": line.quantity, "unit_price_minor": line.unit_price_minor})
    return cleaned


def abandoned_checkout_create(*, workspace_id: uuid.UUID, data: CheckoutInput,
                              actor: audit.Actor) -> AbandonedCheckout:
    """Store an abandoned checkout (once per source and external id).

    If an order with the same email was placed after it was abandoned, it is stored as
    recovered by that order straight away."""
    lines = _clean_lines(data.lines)
    email = validate_email_address(data.email, field="email") if data.email.strip() else None
    phone = validate_phone_number(data.phone, field="phone") if data.phone.strip() else None
    if data.shipping_minor < 0:
        raise ValidationError("cannot be negative", field="shipping")
    if data.discount_minor < 0:
        raise ValidationError("cannot be negative", field="discount")
    if data.abandoned_at > timezone.now():
        raise ValidationError("cannot be in the future", field="abandoned_at")
    subtotal = sum(int(str(ln["unit_price_minor"])) * int(str(ln["quantity"])) for ln in lines)
    if data.discount_minor > subtotal:
        raise ValidationError("the discount is larger than the cart", field="discount")
    currency = data.currency.upper() or Workspace.objects.get(id=workspace_id).currency
    try:
        with workspace_scope(workspace_id), transaction.atomic():
            checkout = AbandonedCheckout(
                workspace_id=workspace_id, source=data.source, external_id=data.external_id,
                email=email, phone=phone, currency=currency, lines=lines,
                subtotal_minor=subtotal,
                total_minor=subtotal - data.discount_minor + data.shipping_minor,
                abandoned_at=data.abandoned_at)
            if email:
                later = _orders_by_email(workspace_id, email).filter(
                    placed_at__gte=data.abandoned_at).order_by("placed_at").first()
                if later is not None:
                    checkout.recovered_order = later
                    checkout.recovered_at = timezone.now()
            checkout.save(force_insert=True)
    except IntegrityError:
        raise Conflict("this checkout was stored already", field="external_id") from None
    return checkout


def _orders_by_email(workspace_id: uuid.UUID, email: str) -> QuerySet[Order]:
    index = Order._meta.get_field("email_bidx")
    return Order.objects.filter(
        email_bidx__in=index.candidates(Order, workspace_id, email),
        cancelled_at=None)


def checkouts_recover(*, order: Order, email: str) -> int:
    """Inside the order's transaction: mark the buyer's earlier, unrecovered abandoned
    checkouts as recovered by ``order`` (matched on the email's blind index)."""
    index = AbandonedCheckout._meta.get_field("email_bidx")
    digests = index.candidates(AbandonedCheckout, order.workspace_id, email)
    # A compiled UPDATE (ADR 0027): it runs for every order with an email.
    return tenant_update(AbandonedCheckout, where={
        "email_bidx__in": digests, "recovered_order": None, "abandoned_at__lte": order.placed_at,
    }, values={"recovered_order": order.id, "recovered_at": timezone.now()})

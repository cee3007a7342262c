"""Orders from sales channels, applied by the channel-sync engine.

``order_sync_external`` stores a channel's order once per (workspace, source, external id) and
applies later versions of it: a version not newer than the stored one is ignored, a cancel
releases the reservation, a refund seen for the first time applies once. A channel's sale has
already happened, so nothing in it is refused for want of stock or mapping: a line whose SKU
is unknown, ambiguous or lacks an HSN code is imported without a reservation, an oversold line
is still reserved (available goes below zero, so every channel hears of it), and the order is
flagged ``needs_attention`` with reasons a person can act on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from storesync.catalog.models import Variant
from storesync.core.errors import NotFound, ValidationError
from storesync.core.tenancy import workspace_scope
from storesync.core.validation import validate_email_address, validate_phone_number
from storesync.customers.services import AddressInput
from storesync.inventory.models import Level, Location
from storesync.orders import gst, refunds
from storesync.orders.models import FinancialStatus, Order, OrderLine, Refund, Transaction
from storesync.orders.services import (
    MAX_LINES,
    PaymentInput,
    check_payments,
    next_number,
    order_cancel_locked,
    order_insert,
    order_totals,
)
from storesync.security import audit


@dataclass(frozen=True)
class ExternalLine:
    external_id: str
    sku: str
    quantity: int
    unit_price_minor: int
    title: str = ""
    discount_minor: int = 0
    hsn_code: str = ""


@dataclass(frozen=True)
class ExternalRefundLine:
    line_external_id: str
    quantity: int
    restock: bool


@dataclass(frozen=True)
class ExternalRefund:
    external_id: str
    created_at: datetime
    amount_minor: int
    lines: tuple[ExternalRefundLine, ...] = ()


@dataclass(frozen=True)
class ExternalOrderInput:
    external_id: str
    name: str
    created_at: datetime
    updated_at: datetime
    currency: str
    lines: tuple[ExternalLine, ...]
    shipping_address: AddressInput
    email: str = ""
    shipping_minor: int = 0
    financial_status: str = "pending"
    cancelled_at: datetime | None = None
    cancel_reason: str = ""
    refunds: tuple[ExternalRefund, ...] = ()
    payments: tuple[PaymentInput, ...] = ()
    buyer_gstin: str = ""


@dataclass(frozen=True)
class ExternalSyncResult:
    order: Order
    created: bool  # stored for the first time by this call
    applied: bool  # False when this version was not newer than the stored one
    stock_changed_variant_ids: frozenset[uuid.UUID]  # available-to-sell changed: push these


def _check(source: str, data: ExternalOrderInput) -> None:
    """Refuse input no channel sends: the connector mapped it wrong."""
    if not source.strip() or len(source) > 20:
        raise ValidationError("a source of 1 to 20 characters", field="source")
    if not data.external_id.strip() or len(data.external_id) > 100:
        raise ValidationError("an id of 1 to 100 characters", field="external_id")
    if len(data.name) > 40:
        raise ValidationError("at most 40 characters", field="name")
    if len(data.currency) != 3 or not data.currency.isalpha():
        raise ValidationError("an ISO 4217 code", field="currency")
    if data.financial_status not in FinancialStatus.values:
        raise ValidationError(f"one of {', '.join(FinancialStatus.values)}",
                              field="financial_status")
    if data.shipping_minor < 0:
        raise ValidationError("cannot be negative", field="shipping")
    if not data.lines or len(data.lines) > MAX_LINES:
        raise ValidationError(f"1 to {MAX_LINES} lines", field="lines")
    seen: set[str] = set()
    for i, line in enumerate(data.lines):
        where = f"lines.{i}."
        if not line.external_id or line.external_id in seen or len(line.external_id) > 100:
            raise ValidationError("a unique id of at most 100 characters", field=where + "id")
        seen.add(line.external_id)
        if not isinstance(line.quantity, int) or line.quantity <= 0:
            raise ValidationError("a positive whole number", field=where + "quantity")
        if line.unit_price_minor < 0:
            raise ValidationError("cannot be negative", field=where + "unit_price")
        if not 0 <= line.discount_minor <= line.unit_price_minor * line.quantity:
            raise ValidationError("between zero and the line's amount", field=where + "discount")
    for i, refund in enumerate(data.refunds):
        if not refund.external_id or len(refund.external_id) > 100:
            raise ValidationError("an id of 1 to 100 characters", field=f"refunds.{i}.id")
        if refund.amount_minor < 0:
            raise ValidationError("cannot be negative", field=f"refunds.{i}.amount")
        for j, item in enumerate(refund.lines):
            if not isinstance(item.quantity, int) or item.quantity <= 0:
                raise ValidationError("a positive whole number",
                                      field=f"refunds.{i}.lines.{j}.quantity")
    check_payments(list(data.payments))


def _contact(data: ExternalOrderInput, reasons: list[str]) -> dict[str, Any]:
    """The buyer's contact as the channel sent it: normalised where it parses, kept as sent
    where it does not (the channel accepted it; losing it would lose the shipment)."""
    address = data.shipping_address
    try:
        email = validate_email_address(data.email, field="email") if data.email.strip() else None
    except ValidationError:
        email = data.email.strip().lower()[:254]
    try:
        phone = (validate_phone_number(address.phone, field="phone",
                                       region=address.country_code or "IN")
                 if address.phone.strip() else None)
    except ValidationError:
        phone = address.phone.strip()[:32]
    gstin = ""
    if data.buyer_gstin.strip():
        try:
            gstin = gst.validate_gstin(data.buyer_gstin, field="buyer_gstin")
        except ValidationError:
            reasons.append("The buyer's GSTIN is not valid; it was not stored.")
    return {
        "email": email, "buyer_gstin": gstin,
        "ship_name": address.name.strip()[:255] or None,
        "ship_line1": address.line1.strip()[:255] or None,
        "ship_line2": address.line2.strip()[:255] or None,
        "ship_city": address.city.strip()[:255] or None,
        "ship_postcode": address.postcode.strip()[:16] or None, "ship_phone": phone,
        "ship_province_code": gst.normalise_state(address.province_code)[:8],
        "ship_country_code": (address.country_code or "IN").strip().upper()[:2],
    }


def _match_variants(lines: tuple[ExternalLine, ...],
                    reasons: list[str]) -> list[Variant | None]:
    """The variant of each line by SKU: exact, else the single case-insensitive match."""
    skus = {line.sku.strip() for line in lines if line.sku.strip()}
    exact = {v.sku: v for v in Variant.objects.filter(sku__in=skus).select_related("product")}
    folded: dict[str, list[Variant]] = {}
    missing = skus - exact.keys()
    if missing:
        condition = Q()
        for sku in missing:
            condition |= Q(sku__iexact=sku)
        for variant in Variant.objects.filter(condition).select_related("product"):
            folded.setdefault(variant.sku.lower(), []).append(variant)
    matched: list[Variant | None] = []
    for line in lines:
        sku, label = line.sku.strip(), f"Line {line.title or line.external_id!r}"
        candidates = [exact[sku]] if sku in exact else folded.get(sku.lower(), [])
        if not sku:
            reasons.append(f"{label} has no SKU; stock was not reserved.")
        elif not candidates:
            reasons.append(f"{label}: no variant has SKU {sku!r}; stock was not reserved.")
        elif len(candidates) > 1:
            names = ", ".join(sorted(v.sku for v in candidates))
            reasons.append(f"{label}: SKU {sku!r} matches several variants ({names}); "
                           "stock was not reserved.")
        matched.append(candidates[0] if len(candidates) == 1 else None)
    return matched


def _build_lines(order: Order, data: ExternalOrderInput, location: Location | None,
                 reasons: list[str]) -> list[OrderLine]:
    supplier_state = ""
    if location is not None:
        supplier_state = gst.gstin_state(location.gstin) if location.gstin \
            else location.province_code
    built = []
    for i, (line, variant) in enumerate(zip(data.lines, _match_variants(data.lines, reasons),
                                            strict=True)):
        hsn = (line.hsn_code.strip() or (variant.hsn_code if variant else ""))[:8]
        if variant is not None and not hsn:
            reasons.append(f"SKU {variant.sku!r} has no HSN code; stock was not reserved.")
        rate = variant.tax_rate_bp if variant else 0
        tax = gst.split(gross_minor=line.unit_price_minor * line.quantity - line.discount_minor,
                        rate_bp=rate, supplier_state=supplier_state,
                        destination_state=order.ship_province_code,
                        destination_country=order.ship_country_code or "IN")
        title = line.title.strip() or (str(variant.product.title) if variant else line.sku)
        built.append(OrderLine(
            workspace_id=order.workspace_id, order=order, variant=variant, location=location,
            external_id=line.external_id, sku=line.sku.strip()[:64], title=title[:255],
            quantity=line.quantity, unit_price_minor=line.unit_price_minor,
            discount_minor=line.discount_minor, hsn_code=hsn, tax_rate_bp=rate,
            taxable_minor=tax.taxable_minor, cgst_minor=tax.cgst_minor,
            sgst_minor=tax.sgst_minor, igst_minor=tax.igst_minor, position=i + 1,
            holds_stock=bool(variant and hsn and location and not data.cancelled_at),
        ))
    return built


def _oversold(order: Order, lines: list[OrderLine], reasons: list[str]) -> None:
    for line in lines:
        if not line.reserves:
            continue
        level = Level.objects.select_related("location").get(
            variant_id=line.variant_id, location_id=line.location_id)
        short = level.reserved - level.on_hand
        if short > 0:
            reasons.append(f"SKU {line.sku!r} is oversold at {level.location.name}: "
                           f"{short} unit(s) short.")


def _create(workspace_id: uuid.UUID, connection_id: uuid.UUID | None, source: str,
            data: ExternalOrderInput, actor: audit.Actor) -> tuple[Order, set[uuid.UUID]]:
    reasons: list[str] = []
    location = Location.objects.filter(is_active=True).order_by("created_at").first()
    if location is None:
        reasons.append("No active location: stock was not reserved.")
    contact = _contact(data, reasons)
    order = Order(
        workspace_id=workspace_id, number=next_number(workspace_id), name=data.name.strip(),
        source=source, connection_id=connection_id, external_id=data.external_id,
        external_updated_at=data.updated_at, currency=data.currency.upper(),
        shipping_minor=data.shipping_minor, placed_at=data.created_at,
        financial_status=data.financial_status, **contact)
    lines = _build_lines(order, data, location, reasons)
    order_totals(order, lines)
    changed = order_insert(order, lines, list(data.payments), email=contact["email"],
                           actor=actor, allow_oversell=True)
    _oversold(order, lines, reasons)
    if data.cancelled_at:
        changed |= order_cancel_locked(order, reason=data.cancel_reason or "other",
                                       actor=actor, cancelled_at=data.cancelled_at)
    changed |= _apply_refunds(order, data, actor, reasons)
    _finish(order, data, reasons)
    return order, changed


def _apply_refunds(order: Order, data: ExternalOrderInput, actor: audit.Actor,
                   reasons: list[str]) -> set[uuid.UUID]:
    """Apply each refund not seen before (by external id), leniently: it already happened."""
    return _apply_refund_list(order, data.refunds, actor, reasons)


def _apply_refund_list(order: Order, given: Iterable[ExternalRefund], actor: audit.Actor,
                       reasons: list[str]) -> set[uuid.UUID]:
    seen = set(Refund.objects.filter(order=order).values_list("external_id", flat=True))
    by_external = dict(OrderLine.objects.filter(order=order).values_list("external_id", "id"))
    changed: set[uuid.UUID] = set()
    for refund in sorted(given, key=lambda r: r.created_at):
        if refund.external_id in seen:
            continue
        lines = []
        for item in refund.lines:
            line_id = by_external.get(item.line_external_id)
            if line_id is None:
                reasons.append(f"Refund {refund.external_id!r} names unknown line "
                               f"{item.line_external_id!r}; that part was not applied.")
                continue
            lines.append(refunds.RefundLineInput(line_id, item.quantity, item.restock))
        outcome = refunds.refund_apply(
            order, lines=lines, amount_minor=refund.amount_minor, actor=actor,
            external_id=refund.external_id, processed_at=refund.created_at, strict=False)
        reasons.extend(f"Refund {refund.external_id!r}: {text}." for text in outcome.skipped)
        changed |= outcome.stock_changed_variant_ids
    return changed


def _add_payments(order: Order, data: ExternalOrderInput) -> None:
    known = set(Transaction.objects.filter(order=order).exclude(external_id="")
                .values_list("external_id", flat=True))
    Transaction.objects.bulk_create([
        Transaction(workspace_id=order.workspace_id, order=order, kind=p.kind,
                    gateway=p.gateway, amount_minor=p.amount_minor, card_brand=p.card_brand,
                    card_last4=p.card_last4, external_id=p.external_id,
                    processed_at=data.updated_at)
        for p in data.payments if p.external_id and p.external_id not in known])


def _finish(order: Order, data: ExternalOrderInput, reasons: list[str], *,
            keep_status: bool = False) -> None:
    """The channel's word on money stands (unless ``keep_status``: a same-second version may
    be the older one); attention reasons accumulate, without repeats."""
    if not keep_status:
        order.financial_status = data.financial_status
    order.external_updated_at = data.updated_at
    merged = list(dict.fromkeys([*order.attention_reasons, *reasons]))
    order.attention_reasons = merged
    order.needs_attention = order.needs_attention or bool(reasons)
    order.version += 1
    order.save()


def _has_one_way_news(order: Order, data: ExternalOrderInput) -> bool:
    """Whether a version stamped in the same second as the stored one brings a change that
    can only go one way: a cancellation, or a refund or payment not seen before."""
    if data.cancelled_at and not order.cancelled_at:
        return True
    refunds = {r.external_id for r in data.refunds}
    if refunds - set(Refund.objects.filter(order=order).values_list("external_id", flat=True)):
        return True
    payments = {p.external_id for p in data.payments if p.external_id}
    return bool(payments - set(Transaction.objects.filter(order=order)
                               .values_list("external_id", flat=True)))


def _update(order: Order, data: ExternalOrderInput, actor: audit.Actor, *,
            one_way_only: bool = False) -> set[uuid.UUID]:
    """Apply a newer version. ``one_way_only`` (a version of the same second, which may be
    older): only cancellation, new refunds and new payments; contact and status stay."""
    reasons: list[str] = []
    if not one_way_only:
        stored = dict(OrderLine.objects.filter(order=order)
                      .values_list("external_id", "quantity"))
        if stored != {line.external_id: line.quantity for line in data.lines}:
            reasons.append("The channel changed the order's lines; edits are not applied here.")
        for name, value in _contact(data, reasons).items():
            setattr(order, name, value)
        order.name = data.name.strip()
    _add_payments(order, data)
    changed: set[uuid.UUID] = set()
    if data.cancelled_at and not order.cancelled_at:
        changed |= order_cancel_locked(order, reason=data.cancel_reason or "other",
                                       actor=actor, cancelled_at=data.cancelled_at)
    changed |= _apply_refunds(order, data, actor, reasons)
    _finish(order, data, reasons, keep_status=one_way_only)
    return changed


def order_sync_external(*, workspace_id: uuid.UUID, connection_id: uuid.UUID | None,
                        source: str, data: ExternalOrderInput,
                        actor: audit.Actor) -> ExternalSyncResult:
    """Create or update a channel's order, in one transaction (see the module docstring).

    Concurrent calls for the same order store it once: the loser of the insert race applies
    its version to the winner's row (usually a no-op, being the same version)."""
    _check(source, data)
    with workspace_scope(workspace_id), transaction.atomic():
        # Connections live in a higher layer (channels): reached through the relation, not
        # imported. Checked here because the foreign key is only enforced at commit.
        connections = Order._meta.get_field("connection").related_model
        if connection_id is not None and not connections._default_manager.filter(
                id=connection_id).exists():
            raise NotFound("no such connection")
        lookup = Order.objects.select_for_update().filter(source=source,
                                                          external_id=data.external_id)
        order = lookup.first()
        if order is None:
            try:
                with transaction.atomic():  # a savepoint: a concurrent call may insert first
                    order, changed = _create(workspace_id, connection_id, source, data, actor)
                return ExternalSyncResult(order, True, True, frozenset(changed))
            except IntegrityError:
                order = lookup.first()
                if order is None:
                    raise
        stored_at = order.external_updated_at
        if stored_at and data.updated_at < stored_at:
            return ExternalSyncResult(order, False, False, frozenset())
        # Platforms stamp updated_at to the second: a cancellation in the sale's own second
        # carries the same stamp. Such a version is applied only for its one-way changes.
        same_second = stored_at is not None and data.updated_at == stored_at
        if same_second and not _has_one_way_news(order, data):
            return ExternalSyncResult(order, False, False, frozenset())
        changed = _update(order, data, actor, one_way_only=same_second)
        return ExternalSyncResult(order, False, True, frozenset(changed))


def order_refund_external(*, workspace_id: uuid.UUID, source: str, order_external_id: str,
                          refund: ExternalRefund,
                          actor: audit.Actor) -> ExternalSyncResult | None:
    """Apply one refund the channel announced on its own (Shopify's ``refunds/create``) to
    the stored order: restock or release per line as ``refunds.refund_apply`` does, once per
    refund id, so the same refund arriving again inside the order changes nothing. None when
    the order is not stored yet (the caller fetches the whole order instead)."""
    if not refund.external_id or len(refund.external_id) > 100:
        raise ValidationError("an id of 1 to 100 characters", field="refund.id")
    if refund.amount_minor < 0:
        raise ValidationError("cannot be negative", field="refund.amount")
    with workspace_scope(workspace_id), transaction.atomic():
        order = (Order.objects.select_for_update()
                 .filter(source=source, external_id=order_external_id).first())
        if order is None:
            return None
        fresh = not Refund.objects.filter(order=order, external_id=refund.external_id).exists()
        reasons: list[str] = []
        changed = _apply_refund_list(order, [refund], actor, reasons)
        if reasons:
            order.attention_reasons = list(dict.fromkeys([*order.attention_reasons, *reasons]))
            order.needs_attention = True
            order.version += 1
            order.save(update_fields=["attention_reasons", "needs_attention", "version"])
        return ExternalSyncResult(order, False, fresh, frozenset(changed))

"""``/api/v1/draft-orders``: orders being put together by staff. No stock is held until
``complete``, which turns the draft into an order exactly once. ETag / If-Match on updates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from storesync.api.auth import Principal, require
from storesync.api.catalog import etag
from storesync.api.errors import json_error
from storesync.api.orders import AddressIn, LineIn, OrderOut, PaymentIn, order_views
from storesync.api.schemas import Amount, Strict
from storesync.core.errors import ValidationError
from storesync.core.money import from_minor, to_minor
from storesync.core.permissions import Perm
from storesync.core.selectors import workspace_get
from storesync.customers.services import AddressInput
from storesync.orders import drafts, selectors
from storesync.orders.models import DraftOrder
from storesync.orders.services import LineInput, PaymentInput
from storesync.security.access import Purpose, personal_data_access

router = Router(tags=["draft orders"])


class DraftIn(Strict):
    lines: list[LineIn] = Field(max_length=500)
    shipping_address: AddressIn | None = None
    email: str = Field("", max_length=254)
    customer_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    shipping: Amount = Field("0", max_length=20)
    discount: Amount = Field("0", max_length=20, description="order-level, spread over lines")
    buyer_gstin: str = Field("", max_length=15)
    note: str = Field("", max_length=5000)


class DraftPatch(Strict):
    lines: list[LineIn] | None = Field(None, max_length=500)
    shipping_address: AddressIn | None = None
    email: str | None = Field(None, max_length=254)
    customer_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    shipping: Amount | None = Field(None, max_length=20)
    discount: Amount | None = Field(None, max_length=20)
    buyer_gstin: str | None = Field(None, max_length=15)
    note: str | None = Field(None, max_length=5000)


class CompleteIn(Strict):
    payments: list[PaymentIn] = Field(default_factory=list, max_length=20)


class DraftLineOut(Schema):
    sku: str
    title: str
    quantity: int
    unit_price: str
    discount: str


class DraftOut(Schema):
    id: uuid.UUID
    name: str
    status: str
    currency: str
    customer_id: uuid.UUID | None
    location_id: uuid.UUID | None
    subtotal: str
    discount: str
    shipping: str
    total: str
    note: str
    order_id: uuid.UUID | None
    completed_at: datetime | None
    version: int
    created_at: datetime
    lines: list[DraftLineOut]
    personal_data: str
    email: str | None = None
    shipping_address: dict[str, str | None] | None = None


class DraftPage(Schema):
    items: list[DraftOut]
    next_cursor: str | None


def _views(items: list[DraftOrder], who: Principal) -> list[dict[str, Any]]:
    out = []
    with personal_data_access(actor=who.actor, workspace_id=who.workspace_id,
                              purpose=Purpose.ORDER_FULFILMENT):
        for draft in items:
            cur = draft.currency
            view: dict[str, Any] = {
                "id": draft.id, "name": f"#D{draft.number}", "status": draft.status,
                "currency": cur, "customer_id": draft.customer_id,
                "location_id": draft.location_id,
                "subtotal": from_minor(draft.subtotal_minor, cur),
                "discount": from_minor(draft.applied_discount_minor, cur),
                "shipping": from_minor(draft.shipping_minor, cur),
                "total": from_minor(draft.total_minor, cur), "note": draft.note,
                "order_id": draft.order_id, "completed_at": draft.completed_at,
                "version": draft.version, "created_at": draft.created_at,
                "lines": [{"sku": ln.sku, "title": ln.title, "quantity": ln.quantity,
                           "unit_price": from_minor(ln.unit_price_minor, cur),
                           "discount": from_minor(ln.discount_minor, cur)}
                          for ln in sorted(draft.lines.all(), key=lambda ln: ln.position)],
                "personal_data": "withheld",
            }
            if Perm.VIEW_PERSONAL_DATA in who.permissions:
                view.update(personal_data="included", email=draft.email, shipping_address={
                    "name": draft.ship_name, "line1": draft.ship_line1,
                    "line2": draft.ship_line2, "city": draft.ship_city,
                    "postcode": draft.ship_postcode, "phone": draft.ship_phone,
                    "province_code": draft.ship_province_code,
                    "country_code": draft.ship_country_code} if draft.ship_line1 else None)
            out.append(view)
    return out


def _lines(lines: list[LineIn], currency: str) -> list[LineInput]:
    return [LineInput(
        sku=ln.sku, quantity=ln.quantity,
        unit_price_minor=None if ln.unit_price is None
        else to_minor(ln.unit_price, currency, field=f"lines.{i}.unit_price"),
        discount_minor=to_minor(ln.discount, currency, field=f"lines.{i}.discount"))
        for i, ln in enumerate(lines)]


def _changes(payload: DraftPatch, currency: str) -> dict[str, Any]:
    """The PATCH body as service changes: amounts in minor units, lines and address typed."""
    sent = payload.model_dump(exclude_unset=True)
    nullable = {"shipping_address", "customer_id", "location_id"}
    for name, value in sent.items():
        if value is None and name not in nullable:
            raise ValidationError("send a value (an empty string clears text)", field=name)
    changes: dict[str, Any] = {k: v for k, v in sent.items()
                               if k not in ("lines", "shipping_address", "shipping", "discount")}
    if "lines" in sent:
        changes["lines"] = _lines(payload.lines or [], currency)
    if "shipping_address" in sent:
        address = payload.shipping_address
        changes["shipping_address"] = AddressInput(**address.model_dump()) if address else None
    for name in ("shipping", "discount"):
        if name in sent:
            changes[f"{name}_minor"] = to_minor(sent[name], currency, field=name)
    return changes


@router.post("", response={201: DraftOut}, summary="Create a draft order (no stock held)")
def create_draft(request: HttpRequest, response: HttpResponse, payload: DraftIn) -> Status:
    who = require(request, Perm.MANAGE_ORDERS)
    cur = workspace_get(workspace_id=who.workspace_id).currency
    address = payload.shipping_address
    draft = drafts.draft_order_create(workspace_id=who.workspace_id, actor=who.actor,
                                      data=drafts.DraftInput(
        lines=_lines(payload.lines, cur),
        shipping_address=AddressInput(**address.model_dump()) if address else None,
        email=payload.email, customer_id=payload.customer_id, location_id=payload.location_id,
        shipping_minor=to_minor(payload.shipping, cur, field="shipping"),
        discount_minor=to_minor(payload.discount, cur, field="discount"),
        buyer_gstin=payload.buyer_gstin, note=payload.note))
    response["ETag"] = etag(draft.version)
    fresh = selectors.draft_order_get(workspace_id=who.workspace_id, draft_id=draft.id)
    return Status(201, _views([fresh], who)[0])


@router.get("", response=DraftPage, summary="List draft orders, newest first")
def list_drafts(request: HttpRequest, cursor: str | None = Query(None, max_length=64),
                limit: int = Query(50, ge=1, le=200),
                status: str | None = Query(None, max_length=10)) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    page = selectors.draft_order_list(workspace_id=who.workspace_id, cursor=cursor,
                                      limit=limit, status=status)
    return {"items": _views(page.items, who), "next_cursor": page.next_cursor}


@router.get("/{draft_id}", response=DraftOut, summary="Read a draft order (with an ETag)")
def get_draft(request: HttpRequest, response: HttpResponse, draft_id: str) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    draft = selectors.draft_order_get(workspace_id=who.workspace_id, draft_id=draft_id)
    response["ETag"] = etag(draft.version)
    return _views([draft], who)[0]


@router.patch("/{draft_id}", response={200: DraftOut, 412: dict},
              summary="Change an open draft; lines, when sent, replace all lines; "
                      "send If-Match with the ETag to refuse stale writes")
def update_draft(request: HttpRequest, response: HttpResponse, draft_id: str,
                 payload: DraftPatch) -> Any:
    who = require(request, Perm.MANAGE_ORDERS)
    draft = selectors.draft_order_get(workspace_id=who.workspace_id, draft_id=draft_id)
    changes = _changes(payload, draft.currency)
    if not changes:
        raise ValidationError("send the fields to change", field="body")
    expected = None
    if_match = request.headers.get("If-Match")
    if if_match:
        if if_match.strip() != etag(draft.version):
            return json_error(412, "precondition_failed",
                              "the draft changed since you read it (ETag mismatch)", "If-Match")
        expected = draft.version
    drafts.draft_order_update(workspace_id=who.workspace_id, draft_id=draft.id,
                              changes=changes, expected_version=expected, actor=who.actor)
    fresh = selectors.draft_order_get(workspace_id=who.workspace_id, draft_id=draft.id)
    response["ETag"] = etag(fresh.version)
    return _views([fresh], who)[0]


@router.post("/{draft_id}/complete", response={200: OrderOut, 201: OrderOut},
             summary="Turn the draft into an order (stock reserved); again: the same order")
def complete_draft(request: HttpRequest, draft_id: str, payload: CompleteIn) -> Status:
    who = require(request, Perm.MANAGE_ORDERS)
    draft = selectors.draft_order_get(workspace_id=who.workspace_id, draft_id=draft_id)
    payments = [PaymentInput(
        kind=p.kind, amount_minor=to_minor(p.amount, draft.currency, field=f"payments.{i}.amount"),
        gateway=p.gateway, card_brand=p.card_brand, card_last4=p.card_last4)
        for i, p in enumerate(payload.payments)]
    order, created = drafts.draft_order_complete(workspace_id=who.workspace_id,
                                                 draft_id=draft.id, payments=payments,
                                                 actor=who.actor)
    fresh = selectors.order_get(workspace_id=who.workspace_id, order_id=order.id)
    return Status(201 if created else 200, order_views([fresh], who, Purpose.ORDER_FULFILMENT)[0])

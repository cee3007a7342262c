"""``/api/v1/abandoned-checkouts``: carts left at checkout; recovered by a later order with
the same email. The buyer's email and phone are shown only to roles that may see personal
data, and every such read is audited."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from storesync.api.auth import Principal, require
from storesync.api.schemas import Amount, Strict
from storesync.core.money import from_minor, to_minor
from storesync.core.permissions import Perm
from storesync.core.selectors import workspace_get
from storesync.orders import checkouts, selectors
from storesync.orders.models import AbandonedCheckout
from storesync.security.access import Purpose, personal_data_access

router = Router(tags=["abandoned checkouts"])


class CheckoutLineIn(Strict):
    sku: str = Field(max_length=64)
    title: str = Field("", max_length=255)
    quantity: int = Field(gt=0, le=100_000)
    unit_price: Amount = Field(max_length=20)


class CheckoutIn(Strict):
    lines: list[CheckoutLineIn] = Field(max_length=250)
    abandoned_at: datetime
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=32)
    source: str = Field("manual", max_length=20)
    external_id: str = Field("", max_length=100)
    shipping: Amount = Field("0", max_length=20)
    discount: Amount = Field("0", max_length=20)


class CheckoutLineOut(Schema):
    sku: str
    title: str
    quantity: int
    unit_price: str


class CheckoutOut(Schema):
    id: uuid.UUID
    source: str
    external_id: str
    currency: str
    subtotal: str
    total: str
    abandoned_at: datetime
    recovered_order_id: uuid.UUID | None
    recovered_at: datetime | None
    lines: list[CheckoutLineOut]
    personal_data: str
    email: str | None = None
    phone: str | None = None


class CheckoutPage(Schema):
    items: list[CheckoutOut]
    next_cursor: str | None


def _views(items: list[AbandonedCheckout], who: Principal,
           purpose: Purpose) -> list[dict[str, Any]]:
    out = []
    with personal_data_access(actor=who.actor, workspace_id=who.workspace_id, purpose=purpose):
        for checkout in items:
            cur = checkout.currency
            view: dict[str, Any] = {
                "id": checkout.id, "source": checkout.source,
                "external_id": checkout.external_id, "currency": cur,
                "subtotal": from_minor(checkout.subtotal_minor, cur),
                "total": from_minor(checkout.total_minor, cur),
                "abandoned_at": checkout.abandoned_at,
                "recovered_order_id": checkout.recovered_order_id,
                "recovered_at": checkout.recovered_at,
                "lines": [{"sku": ln["sku"], "title": ln["title"], "quantity": ln["quantity"],
                           "unit_price": from_minor(int(ln["unit_price_minor"]), cur)}
                          for ln in checkout.lines],
                "personal_data": "withheld",
            }
            if Perm.VIEW_PERSONAL_DATA in who.permissions:
                view.update(personal_data="included", email=checkout.email,
                            phone=checkout.phone)
            out.append(view)
    return out


@router.post("", response={201: CheckoutOut}, summary="Record an abandoned checkout")
def create_checkout(request: HttpRequest, payload: CheckoutIn) -> Status:
    who = require(request, Perm.MANAGE_ORDERS)
    cur = workspace_get(workspace_id=who.workspace_id).currency
    checkout = checkouts.abandoned_checkout_create(
        workspace_id=who.workspace_id, actor=who.actor, data=checkouts.CheckoutInput(
            lines=[checkouts.CheckoutLineInput(
                sku=ln.sku, title=ln.title, quantity=ln.quantity,
                unit_price_minor=to_minor(ln.unit_price, cur, field=f"lines.{i}.unit_price"))
                for i, ln in enumerate(payload.lines)],
            abandoned_at=payload.abandoned_at, email=payload.email, phone=payload.phone,
            source=payload.source, external_id=payload.external_id, currency=cur,
            shipping_minor=to_minor(payload.shipping, cur, field="shipping"),
            discount_minor=to_minor(payload.discount, cur, field="discount")))
    fresh = selectors.abandoned_checkout_get(workspace_id=who.workspace_id,
                                             checkout_id=checkout.id)
    return Status(201, _views([fresh], who, Purpose.CUSTOMER_SUPPORT)[0])


@router.get("", response=CheckoutPage, summary="List abandoned checkouts, newest first")
def list_checkouts(request: HttpRequest, cursor: str | None = Query(None, max_length=64),
                   limit: int = Query(50, ge=1, le=200),
                   recovered: bool | None = Query(
                       None, description="true: recovered only; false: still open"),
                   purpose: Purpose = Query(Purpose.CUSTOMER_SUPPORT)) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    page = selectors.abandoned_checkout_list(workspace_id=who.workspace_id, cursor=cursor,
                                             limit=limit, recovered=recovered)
    return {"items": _views(page.items, who, purpose), "next_cursor": page.next_cursor}


@router.get("/{checkout_id}", response=CheckoutOut, summary="Read an abandoned checkout")
def get_checkout(request: HttpRequest, checkout_id: str,
                 purpose: Purpose = Query(Purpose.CUSTOMER_SUPPORT)) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    checkout = selectors.abandoned_checkout_get(workspace_id=who.workspace_id,
                                                checkout_id=checkout_id)
    return _views([checkout], who, purpose)[0]

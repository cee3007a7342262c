"""``/api/v1/orders``: create (stock is reserved), list with filters, cancel, fulfil."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Status
from pydantic import BaseModel

from storesync.api.auth import Principal, require
from storesync.api.catalog import etag
from storesync.api.schemas import Amount, Strict
from storesync.core.money import from_minor, to_minor
from storesync.core.permissions import Perm
from storesync.core.selectors import workspace_get
from storesync.orders import selectors, services
from storesync.orders.models import Order
from storesync.security.access import Purpose, personal_data_access

router = Router(tags=["orders"])


class LineIn(Strict):
    sku: str = Field(max_length=64)
    quantity: int = Field(gt=0, le=100_000)
    unit_price: Amount | None = Field(None, max_length=20)
    discount: Amount = Field("0", max_length=20)


class AddressIn(Strict):
    name: str = Field(max_length=255)
    line1: str = Field(max_length=255)
    line2: str = Field("", max_length=255)
    city: str = Field(max_length=255)
    postcode: str = Field("", max_length=16)
    province_code: str = Field(max_length=8)
    country_code: str = Field("IN", min_length=2, max_length=2)
    phone: str = Field("", max_length=32)


class PaymentIn(Strict):
    kind: str = "sale"
    amount: Amount = Field(max_length=20)
    gateway: str = Field("", max_length=50)
    card_brand: str = Field("", max_length=20)
    card_last4: str = Field("", max_length=4)


class OrderIn(Strict):
    lines: list[LineIn] = Field(max_length=500)
    shipping_address: AddressIn
    email: str = Field("", max_length=254)
    location_id: uuid.UUID | None = None
    shipping: Amount = Field("0", max_length=20)
    buyer_gstin: str = Field("", max_length=15)
    payments: list[PaymentIn] = Field(default_factory=list, max_length=20)


class CancelIn(Strict):
    reason: str = Field("other", max_length=100)


class LineOut(BaseModel):
    sku: str
    title: str
    quantity: int
    fulfilled_quantity: int
    unit_price: str
    discount: str
    hsn_code: str
    tax_rate: str
    taxable: str
    cgst: str
    sgst: str
    igst: str


class OrderOut(BaseModel):
    id: uuid.UUID
    number: int
    source: str
    currency: str
    financial_status: str
    fulfillment_status: str
    cancelled_at: datetime | None
    placed_at: datetime
    subtotal: str
    discount: str
    shipping: str
    tax: str
    total: str
    ship_province_code: str
    ship_country_code: str
    version: int
    lines: list[LineOut]
    personal_data: str
    email: str | None = None
    shipping_address: dict[str, str | None] | None = None


# Responses are plain pydantic models, not ninja ``Schema``s: handlers return dicts, and
# ``Schema``'s root validator wraps every nested value in a Django-attribute resolver, which
# was half the CPU of listing 50 orders (bench/orderlist.py). Plain models validate the dicts
# in pydantic-core.
class OrderPage(BaseModel):
    items: list[OrderOut]
    next_cursor: str | None


def _out(orders: list[Order], who: Principal, purpose: Purpose) -> list[dict[str, Any]]:
    out = []
    with personal_data_access(actor=who.actor, workspace_id=who.workspace_id, purpose=purpose):
        for order in orders:
            cur = order.currency

            def money(value: int, cur: str = cur) -> str:
                return from_minor(value, cur)

            view: dict[str, Any] = {
                "id": order.id, "number": order.number, "source": order.source, "currency": cur,
                "financial_status": order.financial_status,
                "fulfillment_status": order.fulfillment_status,
                "cancelled_at": order.cancelled_at, "placed_at": order.placed_at,
                "subtotal": money(order.subtotal_minor), "discount": money(order.discount_minor),
                "shipping": money(order.shipping_minor), "tax": money(order.tax_minor),
                "total": money(order.total_minor), "version": order.version,
                "ship_province_code": order.ship_province_code,
                "ship_country_code": order.ship_country_code,
                "lines": [{
                    "sku": ln.sku, "title": ln.title, "quantity": ln.quantity,
                    "fulfilled_quantity": ln.fulfilled_quantity,
                    "unit_price": money(ln.unit_price_minor), "discount": money(ln.discount_minor),
                    "hsn_code": ln.hsn_code, "tax_rate": f"{ln.tax_rate_bp / 100:g}",
                    "taxable": money(ln.taxable_minor), "cgst": money(ln.cgst_minor),
                    "sgst": money(ln.sgst_minor), "igst": money(ln.igst_minor),
                } for ln in sorted(order.lines.all(), key=lambda ln: ln.position)],
                "personal_data": "withheld",
            }
            if Perm.VIEW_PERSONAL_DATA in who.permissions:
                view.update(personal_data="included", email=order.email, shipping_address={
                    "name": order.ship_name, "line1": order.ship_line1,
                    "line2": order.ship_line2, "city": order.ship_city,
                    "postcode": order.ship_postcode, "phone": order.ship_phone,
                    "province_code": order.ship_province_code,
                    "country_code": order.ship_country_code})
            out.append(view)
    return out


@router.post("", response={201: OrderOut}, summary="Create an order; its stock is reserved")
def create_order(request: HttpRequest, payload: OrderIn) -> Status:
    who = require(request, Perm.MANAGE_ORDERS)
    cur = workspace_get(workspace_id=who.workspace_id).currency
    data = services.OrderInput(
        lines=[services.LineInput(
            sku=ln.sku, quantity=ln.quantity,
            unit_price_minor=None if ln.unit_price is None
            else to_minor(ln.unit_price, cur, field=f"lines.{i}.unit_price"),
            discount_minor=to_minor(ln.discount, cur, field=f"lines.{i}.discount"))
            for i, ln in enumerate(payload.lines)],
        shipping_address=services.AddressInput(**payload.shipping_address.model_dump()),
        email=payload.email, location_id=payload.location_id,
        shipping_minor=to_minor(payload.shipping, cur, field="shipping"),
        buyer_gstin=payload.buyer_gstin,
        payments=[services.PaymentInput(
            kind=p.kind, amount_minor=to_minor(p.amount, cur, field=f"payments.{i}.amount"),
            gateway=p.gateway, card_brand=p.card_brand, card_last4=p.card_last4)
            for i, p in enumerate(payload.payments)],
    )
    order = services.order_create(workspace_id=who.workspace_id, data=data, actor=who.actor)
    fresh = selectors.order_get(workspace_id=who.workspace_id, order_id=order.id)
    return Status(201, _out([fresh], who, Purpose.ORDER_FULFILMENT)[0])


@router.get("", response=OrderPage, summary="List orders (filter by channel, status, date)")
def list_orders(request: HttpRequest, cursor: str | None = Query(None, max_length=64),
                limit: int = Query(50, ge=1, le=200),
                source: str | None = Query(None, max_length=20),
                fulfillment_status: str | None = Query(None, max_length=12),
                financial_status: str | None = Query(None, max_length=20),
                placed_from: datetime | None = None, placed_to: datetime | None = None,
                purpose: Purpose = Query(Purpose.ORDER_FULFILMENT)) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    page = selectors.order_list(
        workspace_id=who.workspace_id, cursor=cursor, limit=limit, source=source,
        fulfillment_status=fulfillment_status, financial_status=financial_status,
        placed_from=placed_from, placed_to=placed_to)
    return {"items": _out(page.items, who, purpose), "next_cursor": page.next_cursor}


@router.get("/{order_id}", response=OrderOut, summary="Read an order (with an ETag)")
def get_order(request: HttpRequest, response: HttpResponse, order_id: str,
              purpose: Purpose = Query(Purpose.ORDER_FULFILMENT)) -> dict[str, Any]:
    who = require(request, Perm.VIEW_ORDERS)
    order = selectors.order_get(workspace_id=who.workspace_id, order_id=order_id)
    response["ETag"] = etag(order.version)
    return _out([order], who, purpose)[0]


@router.post("/{order_id}/cancel", response=OrderOut, summary="Cancel; reserved stock returns")
def cancel_order(request: HttpRequest, order_id: str, payload: CancelIn) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_ORDERS)
    order = selectors.order_get(workspace_id=who.workspace_id, order_id=order_id)
    services.order_cancel(workspace_id=who.workspace_id, order_id=order.id,
                          reason=payload.reason, actor=who.actor)
    fresh = selectors.order_get(workspace_id=who.workspace_id, order_id=order.id)
    return _out([fresh], who, Purpose.ORDER_FULFILMENT)[0]


@router.post("/{order_id}/fulfil", response=OrderOut, summary="Ship every line")
def fulfil_order(request: HttpRequest, order_id: str) -> dict[str, Any]:
    who = require(request, Perm.MANAGE_ORDERS)
    order = selectors.order_get(workspace_id=who.workspace_id, order_id=order_id)
    services.order_fulfil(workspace_id=who.workspace_id, order_id=order.id, actor=who.actor)
    fresh = selectors.order_get(workspace_id=who.workspace_id, order_id=order.id)
    return _out([fresh], who, Purpose.ORDER_FULFILMENT)[0]
